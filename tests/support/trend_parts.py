"""A small results database of known parts, written by the results store's own batch writer.

40 parts of station st1, 10 s apart from T0: recipe demo version 1 for parts 0-29, version 2
from part 30. Every 10th part (9, 19, 29, 39) is a surface defect (FAIL, score 0.9); part 15 is
an ERROR with no code read (its code tool has no attempts). Part i's cycle is 4 + i ms.
"""

from __future__ import annotations

from pathlib import Path

from inspection.storage.batch import Pending, write_batch
from inspection.storage.schema import open_writer
from inspection.types import Inspection, Timing, ToolResult, Verdict

T0 = 1_780_000_000.0
PARTS = 40
DEFECT_REASON = "surface: defect found (score 0.90 > 0.50, 1 region)"
NO_CODE_REASON = "serial: no code read"


def good_score(i: int) -> float:
    return 0.1 + 0.01 * ((i * 7) % 5)


def score(i: int) -> float:
    return 0.9 if i % 10 == 9 else good_score(i)


def verdict(i: int) -> Verdict:
    return Verdict.FAIL if i % 10 == 9 else Verdict.ERROR if i == 15 else Verdict.PASS


def _tools(i: int) -> tuple[ToolResult, ...]:
    defect = i % 10 == 9
    surface = ToolResult(
        tool_id="surface",
        tool_type="anomaly",
        verdict=Verdict.FAIL if defect else Verdict.PASS,
        reason="defect found" if defect else "",
        measurements={
            "score": score(i),
            "threshold": 0.5,
            "regions": 1.0 if defect else 0.0,
            "max_region_px": 60.0 + i if defect else 0.0,
        },
    )
    no_code = i == 15
    serial = ToolResult(
        tool_id="serial",
        tool_type="codes",
        verdict=Verdict.ERROR if no_code else Verdict.PASS,
        reason="no code read" if no_code else "",
        measurements={"codes_read": 0.0}
        if no_code
        else {"codes_read": 1.0, "attempts": 1.0 + i % 3, "quality_min": 0.9 - i / 1000},
    )
    label = ToolResult(
        tool_id="label",
        tool_type="label",
        verdict=Verdict.PASS,
        measurements={
            "lot_contrast": 0.7 - i / 100,
            "lot_sharpness": 30.0 + i,
            "lot_confidence": 0.95,
        },
        details={"offset_px": i / 10, "rotation_deg": 0.5, "match": 0.9, "fields": []},
    )
    return (surface, serial, label)


def write_trend_parts(db: Path, first: int = 0, count: int = PARTS, *, version: str = "") -> None:
    """Parts ``first`` .. ``first + count - 1`` as described above (``version`` overrides the
    recipe version of every part)."""
    pending = []
    for i in range(first, first + count):
        v = verdict(i)
        captured = 10**12 + i * 10**10
        inspection = Inspection(
            inspection_id=f"run1-{i:05d}",
            station="st1",
            part_seq=i,
            verdict=v,
            reason=DEFECT_REASON if v is Verdict.FAIL else NO_CODE_REASON if i == 15 else "",
            tool_results=_tools(i),
            frames=(),
            recipe_name="demo",
            recipe_version=version or ("1" if i < 30 else "2"),
            timing=Timing(
                captured_ns=captured,
                queued_ns=captured + 1_000_000,
                decided_ns=captured + (5 + i) * 1_000_000,
            ),
            wall_time=T0 + 10 * i,
        )
        pending.append(Pending(inspection, None, None))
    record_early_shift(db, pending)


def record_early_shift(db: Path, pending: list[Pending]) -> None:
    """Write ``pending`` into ``db`` as one run, all in the Early shift of 2026-05-28 (what the
    tests that read them back choose); any record the store rejects fails the test."""
    conn = open_writer(db)
    try:
        rejected = write_batch(conn, pending, "run1", attribute=lambda t: ("2026-05-28", "Early"))
        assert not rejected, rejected
    finally:
        conn.close()
