"""What a shift report says, as plain frozen values: the aggregation fills them, the writers
(xlsx, csv, pdf) and the GUI's Reports page only lay them out.

Times are UNIX seconds; ``ShiftReport.timezone`` says how to show them (the shift calendar's
zone). No field names or counts a person: figures aggregate by station, line, shift, recipe and
batch (DESIGN §10).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    """What a report covers: one shift of the calendar (by the production day and shift each
    part was stamped with when recorded), or a time range ``start <= wall_time < end``."""

    label: str
    """``2026-12-04/Early``, or ``2026-12-05 06:00 to 2026-12-05 14:00``."""
    start: float
    end: float
    day: dt.date | None = None
    shift: str | None = None

    @property
    def is_shift(self) -> bool:
        return self.day is not None and self.shift is not None


@dataclass(frozen=True, slots=True)
class ReasonCount:
    """One row of the Pareto of reject reasons (FAIL and ERROR parts), most frequent first."""

    reason: str
    count: int
    share: float
    """Of all rejected parts (0..1)."""
    cumulative: float
    """Running share down the Pareto (0..1)."""


@dataclass(frozen=True, slots=True)
class HourFigures:
    """One clock hour of the period (local time of ``start``)."""

    start: float
    parts: int
    failed: int
    errors: int

    @property
    def yield_(self) -> float | None:
        return (self.parts - self.failed - self.errors) / self.parts if self.parts else None


@dataclass(frozen=True, slots=True)
class StationFigures:
    """One station's parts in the period."""

    station: str
    parts: int
    failed: int
    errors: int

    @property
    def passed(self) -> int:
        return self.parts - self.failed - self.errors

    @property
    def yield_(self) -> float | None:
        return self.passed / self.parts if self.parts else None


@dataclass(frozen=True, slots=True)
class ToolFigures:
    """One tool over the period: its verdicts and the spread of its headline score."""

    tool_id: str
    tool_type: str
    passed: int
    failed: int
    errors: int
    score_median: float | None
    score_p95: float | None
    score_max: float | None
    thresholds: tuple[float, ...]
    """Every threshold in force during the period (more than one when it was changed)."""
    quality: tuple[tuple[str, float], ...] = ()
    """Print/code quality figures where the tool measures them (name, value), e.g.
    ("code quality median", 0.92), ("OCR confidence min", 0.71)."""

    @property
    def parts(self) -> int:
        return self.passed + self.failed + self.errors

    @property
    def first_pass_yield(self) -> float | None:
        return self.passed / self.parts if self.parts else None


@dataclass(frozen=True, slots=True)
class ChangeRow:
    """A change during the period: recipe version, threshold, teaching, batch, alarm, calendar."""

    wall_time: float
    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class AlarmRow:
    """A camera/line alarm during the period and how long it lasted (downtime)."""

    source: str
    message: str
    raised_at: float
    cleared_at: float | None
    """None: still active at the end of the period (downtime counted up to the end)."""
    downtime_s: float


@dataclass(frozen=True, slots=True)
class RejectRow:
    """One FAIL or ERROR part."""

    inspection_id: str
    part_number: int
    """As the operator screen numbers parts (part_seq + 1)."""
    wall_time: float
    verdict: str
    reason: str
    codes: str
    """Codes read on the part, space-separated."""
    image_path: str | None
    lot: str
    recipe_version: str


@dataclass(frozen=True, slots=True)
class ShiftReport:
    """Everything a shift report shows; ``parts == 0`` is a report that says so, not an error."""

    station: str
    line: str
    period: ReportPeriod
    timezone: str
    generated_at: float
    software_version: str
    recipe_versions: tuple[str, ...]
    """``name vVERSION`` of every recipe in force during the period, in first-use order."""
    lots: tuple[str, ...]
    parts: int
    passed: int
    failed: int
    errors: int
    tools: tuple[ToolFigures, ...]
    reasons: tuple[ReasonCount, ...]
    hourly: tuple[HourFigures, ...]
    changes: tuple[ChangeRow, ...]
    alarms: tuple[AlarmRow, ...]
    rejects: tuple[RejectRow, ...]
    last_row_id: int
    """The newest ``inspections.id`` counted: every figure is of rows up to it, so a report made
    while the line writes is consistent with itself."""
    per_station: tuple[StationFigures, ...] = ()
    """Each station's parts, by station name (the writers show them when there are several)."""
    source: str = ""
    """Where the figures were read when not this PC's results database, e.g. ``plant database
    db.plant:5432/quality, schema lineside``."""
    notes: tuple[str, ...] = ()
    """What a reader must know about the figures: what their source does not hold."""

    @property
    def shows_stations(self) -> bool:
        """Whether the writers show the per-station table: several stations, or a plant report."""
        return len(self.per_station) > 1 or bool(self.source)

    @property
    def yield_(self) -> float | None:
        return self.passed / self.parts if self.parts else None

    @property
    def top_reasons(self) -> tuple[ReasonCount, ...]:
        return self.reasons[:5]

    @property
    def downtime_s(self) -> float:
        return sum(a.downtime_s for a in self.alarms)

    def local(self, wall_time: float) -> dt.datetime:
        """A UNIX time as naive local time in the report's zone (what Excel cells hold)."""
        return dt.datetime.fromtimestamp(wall_time, tz=ZoneInfo(self.timezone)).replace(tzinfo=None)
