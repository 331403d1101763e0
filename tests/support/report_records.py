"""Write a small, known results database for report and history tests.

Parts go through the storage writer's own code (``write_batch`` with real Inspections), so they
get the same rows, scores, codes and shift stamps as on a running station.

    write_records(db, [PartSpec(wall_time=t, verdict="FAIL", reason="scratch")], calendar=cal)
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspection.recipe.station import ShiftCalendar
from inspection.storage.batch import Pending, StationEvent, write_batch
from inspection.storage.schema import open_writer
from inspection.types import Inspection, ToolResult, Verdict

__all__ = ["PartSpec", "StationEvent", "ToolSpec", "default_tools", "write_records"]


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """One tool's result on a part. ``score`` lands in the measurement the tool type reports
    its headline in (codes: quality_min, label: an OCR confidence, others: score)."""

    tool_id: str
    tool_type: str
    verdict: str = "PASS"
    reason: str = ""
    score: float | None = None
    threshold: float | None = None
    codes: tuple[str, ...] = ()


def default_tools(
    verdict: str = "PASS", reason: str = "", score: float = 0.2
) -> tuple[ToolSpec, ...]:
    """A defect, a code and a label tool; the defect tool carries the part's verdict."""
    return (
        ToolSpec("surface", "anomaly", verdict, reason, score, threshold=0.5),
        ToolSpec("code", "codes", "PASS", "", 0.9),
        ToolSpec("label", "label", "PASS", "", 0.8),
    )


@dataclass(frozen=True, slots=True)
class PartSpec:
    wall_time: float
    verdict: str = "PASS"
    reason: str = ""
    tools: tuple[ToolSpec, ...] = ()
    station: str = "st1"
    recipe_name: str = "demo"
    recipe_version: str = "1"
    lot: str = ""
    image_path: str | None = None
    model_hashes: Mapping[str, str] = field(default_factory=dict)


def _measurements(tool: ToolSpec) -> dict[str, float]:
    m: dict[str, float] = {}
    if tool.score is not None:
        key = {"codes": "quality_min", "label": "lot_confidence"}.get(tool.tool_type, "score")
        m[key] = tool.score
    if tool.threshold is not None:
        m["threshold"] = tool.threshold
    return m


def _tool_result(tool: ToolSpec) -> ToolResult:
    details: dict[str, Any] = {}
    if tool.codes:
        details["codes"] = [
            {"text": c, "format": "DataMatrix", "quality": tool.score} for c in tool.codes
        ]
    return ToolResult(
        tool_id=tool.tool_id,
        tool_type=tool.tool_type,
        verdict=Verdict(tool.verdict),
        reason=tool.reason,
        measurements=_measurements(tool),
        details=details,
        duration_ns=1_000_000,
    )


def _next_seq(db_path: Path) -> dict[str, int]:
    if not db_path.exists():
        return {}
    conn = sqlite3.connect(db_path)
    try:
        rows = conn.execute("SELECT station, MAX(part_seq) FROM inspections GROUP BY station")
        return {str(s): int(n) + 1 for s, n in rows}
    except sqlite3.OperationalError:  # no tables yet
        return {}
    finally:
        conn.close()


def write_records(
    db_path: Path,
    parts: Sequence[PartSpec],
    *,
    calendar: ShiftCalendar | None = None,
    line: str = "L1",
    events: Sequence[StationEvent] = (),
    batch: int = 500,
) -> int:
    """Append ``parts`` (part numbers go on per station) and ``events``; returns parts written.

    Each part is stamped with its production day and shift by ``calendar`` (default: the
    shipped three shifts in UTC), exactly as the results store does.
    """
    calendar = calendar or ShiftCalendar(timezone="UTC")
    seq = _next_seq(db_path)
    pending: list[Pending] = []
    for part in parts:
        n = seq.get(part.station, 0)
        seq[part.station] = n + 1
        inspection = Inspection(
            inspection_id=f"{part.station}-{n:07d}-{uuid.uuid4().hex[:8]}",
            station=part.station,
            part_seq=n,
            verdict=Verdict(part.verdict),
            reason=part.reason,
            tool_results=tuple(_tool_result(t) for t in part.tools),
            frames=(),
            recipe_name=part.recipe_name,
            recipe_version=part.recipe_version,
            model_hashes=dict(part.model_hashes),
            wall_time=part.wall_time,
            lot=part.lot,
        )
        pending.append(Pending(inspection, part.image_path, None))
    conn = open_writer(db_path)
    try:
        todo_events = list(events)
        for start in range(0, max(len(pending), 1), batch):
            chunk = pending[start : start + batch]
            write_batch(
                conn, chunk, "test-run", attribute=calendar.attribute, line=line, events=todo_events
            )
            todo_events = []
    finally:
        conn.close()
    return len(pending)


# ---- a known day, for report tests --------------------------------------------------------

BERLIN = "Europe/Berlin"
ACCENTED_REASON = "Étiquette décollée"
COMMA_REASON = 'code unreadable, "damaged"'


def berlin_calendar() -> ShiftCalendar:
    return ShiftCalendar(timezone=BERLIN)


def sample_shift_parts(calendar: ShiftCalendar) -> list[PartSpec]:
    """2026-12-04: 200 Early parts (two recipe versions, a lot change, FAIL and ERROR with
    several reasons, codes on each part) and 100 Night parts across midnight; Late is empty."""
    import datetime as dt

    early = calendar.local_time(dt.datetime(2026, 12, 4, 6, 0, 30))
    night = calendar.local_time(dt.datetime(2026, 12, 4, 22, 0, 10))
    parts: list[PartSpec] = []
    for k in range(200):
        verdict, reason = "PASS", ""
        if k % 25 == 7:
            verdict, reason = "ERROR", "camera timeout"
        elif k % 10 == 3:
            verdict, reason = "FAIL", "scratch"
        elif k % 15 == 4:
            verdict, reason = "FAIL", ACCENTED_REASON
        elif k % 40 == 9:
            verdict, reason = "FAIL", COMMA_REASON
        tools = (
            ToolSpec(
                "surface",
                "anomaly",
                "FAIL" if reason == "scratch" else "PASS",
                reason if reason == "scratch" else "",
                0.1 + (k % 10) * 0.08,
                threshold=0.5 if k < 150 else 0.6,
            ),
            ToolSpec(
                "code",
                "codes",
                "FAIL" if reason == COMMA_REASON else "PASS",
                "",
                0.5 + (k % 5) * 0.1,
                codes=(f"SN{k:05d}",),
            ),
            ToolSpec(
                "label",
                "label",
                "FAIL" if reason == ACCENTED_REASON else "PASS",
                "",
                0.6 + (k % 4) * 0.1,
            ),
        )
        if verdict == "ERROR":
            tools = (
                ToolSpec("surface", "anomaly", "ERROR", "camera timeout", None, tools[0].threshold),
            )
        parts.append(
            PartSpec(
                wall_time=early + 120.0 * k,
                verdict=verdict,
                reason=reason,
                tools=tools,
                recipe_version="1" if k < 100 else "2",
                lot="L-A" if k < 120 else "L-B",
                image_path=None if verdict == "PASS" else f"images/part-{k}.png",
                model_hashes={"surface": "aaa111" if k < 60 else "bbb222"},
            )
        )
    for k in range(100):
        parts.append(
            PartSpec(
                wall_time=night + 280.0 * k,
                verdict="FAIL" if k % 20 == 0 else "PASS",
                reason="scratch" if k % 20 == 0 else "",
                tools=default_tools(
                    "FAIL" if k % 20 == 0 else "PASS", "scratch" if k % 20 == 0 else "", 0.3
                ),
                recipe_version="2",
                lot="L-B",
                model_hashes={"surface": "bbb222"},
            )
        )
    return parts


def sample_alarm_events(calendar: ShiftCalendar) -> list[StationEvent]:
    """On 2026-12-04 Early: a camera alarm 08:00-08:10 (600 s) and one raised at 13:30 that is
    still open when the shift ends at 14:00 (1800 s counted)."""
    import datetime as dt

    def at(h: int, m: int) -> float:
        return calendar.local_time(dt.datetime(2026, 12, 4, h, m))

    return [
        StationEvent(
            station="st1",
            wall_time=at(8, 0),
            kind="alarm",
            text="top: camera lost",
            details={"source": "top", "episode": "e1"},
        ),
        StationEvent(
            station="st1",
            wall_time=at(8, 10),
            kind="alarm_cleared",
            text="top: cleared after 600 s (camera lost)",
            details={"source": "top", "episode": "e1", "raised_at": at(8, 0), "downtime_s": 600.0},
        ),
        StationEvent(
            station="st1",
            wall_time=at(13, 30),
            kind="alarm",
            text="plc: link down",
            details={"source": "plc", "episode": "e2"},
        ),
    ]


def write_sample_day(db_path: Path, calendar: ShiftCalendar | None = None) -> ShiftCalendar:
    """The sample day and its alarms in ``db_path``; returns the calendar used (Berlin)."""
    calendar = calendar or berlin_calendar()
    write_records(
        db_path,
        sample_shift_parts(calendar),
        calendar=calendar,
        events=sample_alarm_events(calendar),
    )
    return calendar
