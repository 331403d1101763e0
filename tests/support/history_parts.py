"""A results database of hand-described parts for the history's tests (core and GUI).

Rows are written by the results store's own batch writer, so they look exactly like its rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from inspection.storage.batch import Pending, write_batch
from inspection.storage.schema import open_writer
from inspection.types import Inspection, ToolResult, Verdict

T0 = 1_780_000_000.0  # a UNIX time; parts are 10 s apart from here


@dataclass(frozen=True)
class Part:
    """What a test says about one part; the rest is filled in plainly."""

    verdict: Verdict = Verdict.PASS
    reason: str = ""
    shift: tuple[str, str] = ("2026-06-01", "Early")
    lot: str = "L1"
    recipe_version: str = "1"
    code: str = ""
    tools: tuple[ToolResult, ...] = ()
    image: bool = False
    station: str = "st1"
    extra: dict[str, Any] = field(default_factory=dict)


def code_tool(code: str, verdict: Verdict = Verdict.PASS, reason: str = "") -> ToolResult:
    corners = [[10.0, 10.0], [40.0, 10.0], [40.0, 40.0], [10.0, 40.0]]
    return ToolResult(
        tool_id="serial",
        tool_type="codes",
        verdict=verdict,
        reason=reason,
        measurements={"codes_read": 1.0 if code else 0.0, "quality_min": 80.0},
        details={
            "codes": [{"text": code, "format": "DataMatrix", "position": corners, "quality": 80}]
            if code
            else []
        },
    )


def defect_tool(verdict: Verdict, score: float) -> ToolResult:
    regions = [{"x": 50, "y": 20, "w": 12, "h": 8, "area_px": 60, "peak": 0.9}]
    return ToolResult(
        tool_id="surface",
        tool_type="anomaly",
        verdict=verdict,
        reason="defect found (score 0.90 > 0.50, 1 region, 60 px²)" if verdict != "PASS" else "",
        measurements={"score": score, "threshold": 0.5, "regions": 1.0},
        details={"regions": regions if verdict != Verdict.PASS else [], "regions_total": 1},
    )


def write_parts(
    db: Path, parts: list[Part], archive: Path | None = None, *, first_seq: int = 0
) -> list[str]:
    """Write ``parts`` (oldest first, numbered from ``first_seq``) to ``db``; returns their
    inspection ids in that order."""
    pending: list[Pending] = []
    stamps: dict[float, tuple[str, str]] = {}  # each part's (day, shift), as the test says
    for seq, p in enumerate(parts, start=first_seq):
        inspection = Inspection(
            inspection_id=f"run1-{seq:05d}",
            station=p.station,
            part_seq=seq,
            verdict=p.verdict,
            reason=p.reason,
            tool_results=p.tools or (code_tool(p.code),),
            frames=(),
            recipe_name="demo",
            recipe_version=p.recipe_version,
            model_hashes={"surface": "ab" * 32},
            wall_time=T0 + 10 * seq,
            lot=p.lot,
        )
        stamps[inspection.wall_time] = p.shift
        image_path = None
        if p.image and archive is not None:
            image_path = f"2026-06-01/{inspection.inspection_id}__cam1.png"
            target = archive / image_path
            target.parent.mkdir(parents=True, exist_ok=True)
            image = np.full((96, 128), 90, dtype=np.uint8)
            cv2.imwrite(str(target), image)
        pending.append(Pending(inspection, image_path, None))
    conn = open_writer(db)
    try:
        # the results store's own writer: the rows are exactly the ones it writes
        rejected = write_batch(conn, pending, "run1", attribute=stamps.__getitem__, line="line1")
        assert not rejected, rejected
    finally:
        conn.close()
    return [item.inspection.inspection_id for item in pending]
