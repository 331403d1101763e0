"""The operator's trend strip, live: yield over the last hour and this shift, top reject reasons.

Fed every published part on the dispatcher thread (like the counters), read by the operator
screen's timer through ``snapshot()`` (a frozen copy). The last hour is a ring of fixed intervals
(5 minutes by default) in preallocated numpy arrays, so a part costs a few integer additions and
nothing grows with the rate. Reject reasons are counted by category (the shift report's
Pareto categories), so a reason that carries the part's own score counts as one reason.

The shift is the station's shift calendar's: the first part (or snapshot) after a shift ends
starts the new shift's figures at zero. The last hour is a rolling hour and goes on across a
shift change; the operator's new count ("Reset counts…") zeroes both.
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspection.errors import StorageError
from inspection.reasons import reason_category
from inspection.recipe.station import ShiftCalendar
from inspection.storage.queries import open_reader
from inspection.types import Inspection, Verdict

INTERVAL_S = 300.0  # one point of the strip's line: 5 minutes
WINDOW_S = 3600.0  # the line covers the last hour
TOP_REASONS = 3


@dataclass(frozen=True, slots=True)
class ReasonCount:
    """A reject reason category of this shift and how many parts (FAIL or ERROR) it rejected."""

    reason: str
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftTrendSnapshot:
    """The trend strip's figures at one moment. Yields in %, NaN when there were no parts."""

    shift: str = ""
    """``2026-12-04/Early``; the local date and ``/`` alone outside every shift; "" before any."""
    parts: int = 0
    """Parts of this shift (since the last new count, when one was started in the shift)."""
    passed: int = 0
    yield_shift: float = math.nan
    parts_last_hour: int = 0
    passed_last_hour: int = 0
    yield_last_hour: float = math.nan
    """Over the intervals of ``interval_yields`` (the current one included, so 55–60 minutes)."""
    interval_s: float = INTERVAL_S
    interval_starts: tuple[float, ...] = ()
    """UNIX time (s) each interval of the last hour starts, oldest first."""
    interval_yields: tuple[float, ...] = ()
    """Yield (%) of each interval, NaN for an interval with no parts; same order as the starts."""
    interval_parts: tuple[int, ...] = ()
    top_reasons: tuple[ReasonCount, ...] = ()
    """The (up to) three most frequent reject reasons of this shift, most frequent first."""

    @property
    def rejects(self) -> int:
        return self.parts - self.passed


@dataclass(frozen=True, slots=True, kw_only=True)
class TrendRecord:
    """What ``read_trend_record`` found in the results database for the trend strip."""

    shift: tuple[str, str] | None = None
    """(production day, shift name) the figures belong to (None: nothing recorded)."""
    parts: int = 0
    passed: int = 0
    reasons: tuple[ReasonCount, ...] = ()
    """Every reject reason category of the shift with its count."""
    intervals: tuple[tuple[int, int, int], ...] = ()
    """(interval number = wall_time // interval_s, parts, passed) within the last hour."""


def _pct(passed: int, parts: int) -> float:
    return 100.0 * passed / parts if parts else math.nan


class ShiftTrend:
    """Thread-safe accumulator behind ``ShiftTrendSnapshot``."""

    def __init__(
        self,
        calendar: ShiftCalendar | None = None,
        *,
        interval_s: float = INTERVAL_S,
        window_s: float = WINDOW_S,
    ) -> None:
        if interval_s <= 0 or window_s < interval_s:
            raise ValueError(
                f"trend intervals: interval_s={interval_s} must be > 0 and at most "
                f"window_s={window_s}"
            )
        self._lock = threading.Lock()
        self._calendar = calendar or ShiftCalendar()
        self._interval_s = float(interval_s)
        n = math.ceil(window_s / interval_s)
        # ring of the last n intervals: which interval a slot holds (-1: none), its counts
        self._slot_interval = np.full(n, -1, dtype=np.int64)
        self._slot_parts = np.zeros(n, dtype=np.int64)
        self._slot_passed = np.zeros(n, dtype=np.int64)
        self._shift: tuple[str, str] | None = None
        # the instants the shift in ``_shift`` covers: a part inside needs no calendar look-up
        self._shift_start = math.inf
        self._shift_end = -math.inf
        self._parts = 0
        self._passed = 0
        self._reasons: Counter[str] = Counter()
        self.restored = False
        """Whether figures were taken up from the records (once per station)."""

    @property
    def interval_s(self) -> float:
        return self._interval_s

    @property
    def calendar(self) -> ShiftCalendar:
        return self._calendar

    def use_calendar(self, calendar: ShiftCalendar) -> None:
        """A new shift calendar: the shift is looked up again at the next part or snapshot (and
        its figures start again only if that names another shift)."""
        with self._lock:
            self._calendar = calendar
            self._shift_start, self._shift_end = math.inf, -math.inf

    # ---- written by the dispatcher ---------------------------------------------------------

    def part_done(self, inspection: Inspection) -> None:
        t = float(inspection.wall_time)
        passed = inspection.verdict is Verdict.PASS
        category = "" if passed else reason_category(inspection.reason)
        with self._lock:
            self._roll_shift(t)
            self._parts += 1
            self._passed += passed
            if category:
                self._reasons[category] += 1
            interval = int(t // self._interval_s)
            slot = interval % len(self._slot_interval)
            held = int(self._slot_interval[slot])
            if held < interval:  # the slot held an interval that left the hour: reuse it
                self._slot_interval[slot] = interval
                self._slot_parts[slot] = 0
                self._slot_passed[slot] = 0
            elif held > interval:  # older than the hour the ring holds now
                return
            self._slot_parts[slot] += 1
            self._slot_passed[slot] += passed

    def reset(self) -> None:
        """A new count: every figure starts at zero (the shift stays the same)."""
        with self._lock:
            self._clear_shift()
            self._slot_interval.fill(-1)
            self._slot_parts.fill(0)
            self._slot_passed.fill(0)

    def restore(self, record: TrendRecord) -> None:
        """Take up figures read back from the records (a restart within the shift)."""
        with self._lock:
            self.restored = True
            if record.shift is None:
                return
            self._shift = record.shift
            self._shift_start, self._shift_end = math.inf, -math.inf
            self._parts = record.parts
            self._passed = record.passed
            self._reasons = Counter({r.reason: r.count for r in record.reasons})
            n = len(self._slot_interval)
            for interval, parts, passed in record.intervals:
                slot = interval % n
                if int(self._slot_interval[slot]) > interval:
                    continue
                self._slot_interval[slot] = interval
                self._slot_parts[slot] = parts
                self._slot_passed[slot] = passed

    def _clear_shift(self) -> None:
        self._parts = 0
        self._passed = 0
        self._reasons = Counter()

    def _roll_shift(self, t: float) -> None:
        """Start the figures of a new shift when ``t`` is past the current one (lock held)."""
        if t < self._shift_end:
            # inside the shift, or a late part from before it: it stays in the current figures
            return
        window = self._calendar.shift_at(t)
        if window is not None:
            shift = (window.day.isoformat(), window.shift)
            self._shift_start, self._shift_end = window.start, window.end
        else:  # between shifts: the hours count as the local date's, as the records stamp them
            shift = (self._calendar.local_date(t).isoformat(), "")
            self._shift_start, self._shift_end = t, t  # look again at the next part
        if shift != self._shift:
            if self._shift is not None:
                self._clear_shift()
            self._shift = shift

    # ---- read by anyone --------------------------------------------------------------------

    def snapshot(self, now: float | None = None) -> ShiftTrendSnapshot:
        """The figures at ``now`` (UNIX s, default: the clock): a shift that ended shows zero."""
        t = time.time() if now is None else now
        n = len(self._slot_interval)
        with self._lock:
            if self._shift is not None:
                self._roll_shift(t)
            current = int(t // self._interval_s)
            wanted = np.arange(current - n + 1, current + 1, dtype=np.int64)
            slots = wanted % n
            live = self._slot_interval[slots] == wanted
            parts = np.where(live, self._slot_parts[slots], 0)
            passed = np.where(live, self._slot_passed[slots], 0)
            shift = self._shift
            shift_parts, shift_passed = self._parts, self._passed
            top = self._reasons.most_common(TOP_REASONS)
        with np.errstate(invalid="ignore", divide="ignore"):
            yields = np.where(parts > 0, 100.0 * passed / np.maximum(parts, 1), np.nan)
        hour_parts, hour_passed = int(parts.sum()), int(passed.sum())
        return ShiftTrendSnapshot(
            shift="" if shift is None else f"{shift[0]}/{shift[1]}",
            parts=shift_parts,
            passed=shift_passed,
            yield_shift=_pct(shift_passed, shift_parts),
            parts_last_hour=hour_parts,
            passed_last_hour=hour_passed,
            yield_last_hour=_pct(hour_passed, hour_parts),
            interval_s=self._interval_s,
            interval_starts=tuple(float(i) * self._interval_s for i in wanted.tolist()),
            interval_yields=tuple(float(y) for y in yields.tolist()),
            interval_parts=tuple(int(p) for p in parts.tolist()),
            top_reasons=tuple(ReasonCount(reason, count) for reason, count in top),
        )


def read_trend_record(
    db_path: Path,
    station: str,
    calendar: ShiftCalendar,
    *,
    first_part: int = 0,
    now: float | None = None,
    interval_s: float = INTERVAL_S,
    window_s: float = WINDOW_S,
) -> TrendRecord:
    """The trend strip's figures of the shift running at ``now``, from the results database.

    Only parts from ``first_part`` on (the current count) are taken. Two indexed queries: the
    shift by (production_day, shift, verdict), the last hour by wall_time. An empty record when
    the database does not exist yet; StorageError when it cannot be read.
    """
    t = time.time() if now is None else now
    if not Path(db_path).is_file():
        return TrendRecord()
    window = calendar.shift_at(t)
    shift = (
        (window.day.isoformat(), window.shift)
        if window is not None
        else (calendar.local_date(t).isoformat(), "")
    )
    n = math.ceil(window_s / interval_s)
    first_interval = int(t // interval_s) - n + 1
    conn = open_reader(db_path)
    try:
        verdict_rows = conn.execute(
            "SELECT verdict, reason, COUNT(*) FROM inspections "
            "INDEXED BY inspections_shift_verdict "
            "WHERE production_day = ? AND shift = ? AND station = ? AND part_seq >= ? "
            "GROUP BY verdict, reason",
            (*shift, station, first_part),
        ).fetchall()
        interval_rows = conn.execute(
            "SELECT CAST(wall_time / ? AS INTEGER), COUNT(*), SUM(verdict = 'PASS') "
            "FROM inspections INDEXED BY inspections_wall_time "
            "WHERE wall_time >= ? AND wall_time < ? AND station = ? AND part_seq >= ? GROUP BY 1",
            (
                interval_s,
                first_interval * interval_s,
                (first_interval + n) * interval_s,
                station,
                first_part,
            ),
        ).fetchall()
    except sqlite3.Error as exc:
        raise StorageError(
            f"{db_path}: cannot read station {station!r}'s trend figures: {exc}"
        ) from exc
    finally:
        conn.close()
    parts = passed = 0
    reasons: Counter[str] = Counter()
    for verdict, reason, count in verdict_rows:
        parts += int(count)
        if verdict == Verdict.PASS.value:
            passed += int(count)
        else:
            reasons[reason_category(str(reason))] += int(count)
    return TrendRecord(
        shift=shift,
        parts=parts,
        passed=passed,
        reasons=tuple(ReasonCount(r, c) for r, c in reasons.most_common()),
        intervals=tuple(
            (int(i), int(c), int(p)) for i, c, p in interval_rows if int(i) >= first_interval
        ),
    )
