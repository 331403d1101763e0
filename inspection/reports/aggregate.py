"""A shift report's figures, read from the results database in one read transaction.

Every figure is of the same rows: the newest inspection id is taken first and every query is
bounded by it, inside one BEGIN ... COMMIT on a read-only connection of our own, so a report
made while the line writes is consistent with itself and never blocks the writer (WAL).

Counts are aggregated in SQL (GROUP BY); per-tool figures come from a covering index
(``tool_figures``), and only one tool's score column at a time comes into numpy for its median
and 95th percentile. No query reads JSON per tool row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.metadata
import logging
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspection.jobs import Cancelled, ProgressFn
from inspection.reasons import reason_category
from inspection.recipe.station import ShiftCalendar, StationSettings
from inspection.reports.figures import (
    HourFigures,
    ReasonCount,
    RejectRow,
    ReportPeriod,
    ShiftReport,
    StationFigures,
    ToolFigures,
)
from inspection.reports.report_events import EventWindow, PartRun, alarms_in, changes_in
from inspection.reports.tool_figures import tool_figures, tool_rows
from inspection.storage.queries import open_reader

log = logging.getLogger(__name__)

_STEPS = 6


# ---- choosing a period ----------------------------------------------------------------------


def shift_period(calendar: ShiftCalendar, text: str) -> ReportPeriod:
    """``2026-12-04/Early`` → that shift's period; ValueError saying what is wrong."""
    w = calendar.parse_shift(text)
    return ReportPeriod(label=w.label, start=w.start, end=w.end, day=w.day, shift=w.shift)


def range_period(calendar: ShiftCalendar, start_text: str, end_text: str) -> ReportPeriod:
    """A time range from two ISO 8601 local times (naive = the calendar's zone)."""
    start = calendar.parse_local_time(start_text, "start")
    end = calendar.parse_local_time(end_text, "end")
    if end <= start:
        raise ValueError(f"end {end_text!r} is not after start {start_text!r}")
    zone = calendar.zone

    def show(t: float) -> str:
        return dt.datetime.fromtimestamp(t, tz=zone).strftime("%Y-%m-%d %H:%M")

    return ReportPeriod(label=f"{show(start)} to {show(end)}", start=start, end=end)


def last_shift_period(calendar: ShiftCalendar, now: float) -> ReportPeriod:
    """The latest shift that has ended by ``now``; ValueError when none did in the last 8 days."""
    w = calendar.last_completed(now)
    if w is None:
        raise ValueError("no shift of the calendar has ended in the last 8 days")
    return ReportPeriod(label=w.label, start=w.start, end=w.end, day=w.day, shift=w.shift)


# ---- which rows ---------------------------------------------------------------------------


def period_filter(
    period: ReportPeriod, last_row_id: int, station: str | None = None
) -> tuple[str, list[Any]]:
    """The WHERE clause (on ``inspections i``) selecting the period's parts up to a row id.

    The unary ``+`` keeps SQLite from choosing the primary key or the station index over the
    shift/wall_time index: those would read the whole table.
    """
    if period.is_shift:
        assert period.day is not None
        where = "i.production_day = ? AND i.shift = ?"
        params: list[Any] = [period.day.isoformat(), period.shift]
    else:
        where = "i.wall_time >= ? AND i.wall_time < ?"
        params = [period.start, period.end]
    where += " AND +i.id <= ?"
    params.append(last_row_id)
    if station is not None:
        where += " AND +i.station = ?"
        params.append(station)
    return where, params


def newest_row_id(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM inspections").fetchone()[0])


def stations_in(conn: sqlite3.Connection) -> list[str]:
    """Every station in the database, by skipping along its index (no full scan)."""
    found: list[str] = []
    row = conn.execute("SELECT MIN(station) FROM inspections").fetchone()
    while row is not None and row[0] is not None:
        found.append(str(row[0]))
        row = conn.execute(
            "SELECT MIN(station) FROM inspections WHERE station > ?", (row[0],)
        ).fetchone()
    return found


def floor_local_hour(t: float, zone: Any) -> float:
    """The instant the local clock hour containing ``t`` began."""
    local = dt.datetime.fromtimestamp(t, tz=zone)
    return t - (local.minute * 60 + local.second + local.microsecond / 1e6)


def software_version() -> str:
    try:
        return importlib.metadata.version("lineside")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# ---- the report ---------------------------------------------------------------------------


def build_report(
    db_path: Path,
    period: ReportPeriod,
    *,
    settings: StationSettings,
    station: str | None = None,
    last_row_id: int | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    source: str = "",
    notes: Sequence[str] = (),
) -> ShiftReport:
    """The figures of ``period`` (all stations when ``station`` is None); parts == 0 when empty.

    ``last_row_id`` bounds the parts (so a parts CSV written beside it has exactly these parts;
    None: the newest now). ``source`` and ``notes`` say where the database's records came from
    when not this station (the plant report's copy), and what they lack.

    Raises StorageError when the database cannot be read, Cancelled when ``cancel`` is set.
    """
    started = time.perf_counter()
    conn = open_reader(db_path)
    conn.row_factory = None  # plain tuples: much cheaper for the score columns
    try:
        conn.execute("BEGIN")  # one snapshot of the database for every query below
        try:
            report = _build(conn, period, settings, station, last_row_id, progress, cancel)
            report = dataclasses.replace(report, source=source, notes=tuple(notes))
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")  # read-only: nothing to keep
    finally:
        conn.close()
    log.info(
        "report %s: %d parts, %.2f s", period.label, report.parts, time.perf_counter() - started
    )
    return report


def _build(
    conn: sqlite3.Connection,
    period: ReportPeriod,
    settings: StationSettings,
    station: str | None,
    last_row_id: int | None,
    progress: ProgressFn | None,
    cancel: threading.Event | None,
) -> ShiftReport:
    calendar = settings.calendar

    def step(n: int, message: str) -> None:
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"report {period.label} cancelled")
        if progress is not None:
            progress(n, _STEPS, message)

    step(0, "counting parts")
    if last_row_id is None:
        last_row_id = newest_row_id(conn)
    last_event_id = int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0])
    where, params = period_filter(period, last_row_id, station)
    groups = _part_groups(conn, where, params, period, calendar)
    hourly = groups.hourly
    parts = sum(h.parts for h in hourly)
    failed = sum(h.failed for h in hourly)
    errors = sum(h.errors for h in hourly)
    runs = sorted(groups.runs.values(), key=lambda r: r.first_id)

    step(1, "tools")
    tool_source = tool_rows(conn, where, params, groups.id_span, parts)
    tools = tool_figures(conn, tool_source) if parts else ()
    step(3, "rejects")
    rejects = _rejects(conn, where, params)
    step(4, "changes and alarms")
    # Events have no shift stamp: a shift's are those of its window (widened to any part of it
    # recorded outside the window, after a calendar change).
    ev_start = min(period.start, groups.first_seen) if parts else period.start
    ev_end = max(period.end, groups.last_seen) if parts else period.end
    events = EventWindow(ev_start, ev_end, last_event_id, station)
    changes = changes_in(conn, where, params, events, tools, runs, tool_source)
    alarms = alarms_in(conn, events)
    step(5, "report ready")

    stations = list(dict.fromkeys(r.station for r in runs))
    lines = list(dict.fromkeys(r.line for r in runs if r.line))
    recipes = list(dict.fromkeys(f"{r.recipe_name} v{r.recipe_version}" for r in runs))
    lots = list(dict.fromkeys(r.lot for r in runs if r.lot))
    station_text = ", ".join(stations_in(conn) or stations) if station is None else station
    line_text = settings.line or ", ".join(lines)
    report = ShiftReport(
        station=station_text,
        line=line_text,
        period=period,
        timezone=calendar.timezone,
        generated_at=time.time(),
        software_version=software_version(),
        recipe_versions=tuple(recipes),
        lots=tuple(lots),
        parts=parts,
        passed=parts - failed - errors,
        failed=failed,
        errors=errors,
        tools=tools,
        reasons=_pareto(groups.reasons),
        hourly=hourly,
        changes=changes,
        alarms=alarms,
        rejects=rejects,
        last_row_id=last_row_id,
        per_station=tuple(
            StationFigures(name, *counts) for name, counts in sorted(groups.per_station.items())
        ),
    )
    step(_STEPS, "done")
    return report


_HOUR_BASE = 400 * 24  # hours before the period's first hour, so every bucket index is >= 0


@dataclass(slots=True)
class _PartGroups:
    """What one GROUP BY over the period's parts gives: the hours, the reasons of rejects, and
    the runs of parts with the same recipe, lot and models on each station."""

    hourly: tuple[HourFigures, ...]
    reasons: dict[str, int]
    runs: dict[tuple[str, ...], PartRun]
    first_seen: float
    last_seen: float
    id_span: tuple[int, int]
    per_station: dict[str, list[int]]
    """station → [parts, FAIL, ERROR]"""


def _part_groups(
    conn: sqlite3.Connection,
    where: str,
    params: list[Any],
    period: ReportPeriod,
    calendar: ShiftCalendar,
) -> _PartGroups:
    """One pass over the period's parts (a single sort in SQLite) for every part-level figure.

    Hours are counted from a local hour boundary in steps of 3600 s: since daylight-saving
    switches move the clock by whole hours, each step starts a local clock hour, and a switch
    night has 7 or 9 of them, never a doubled or lost one.
    """
    anchor = floor_local_hour(period.start, calendar.zone)
    base = anchor - _HOUR_BASE * 3600.0
    rows = conn.execute(
        f"SELECT CAST((i.wall_time - ?) / 3600 AS INTEGER), i.station, i.line, i.recipe_name, "
        f"i.recipe_version, i.lot, i.model_hashes, i.verdict, i.reason, COUNT(*), MIN(i.id), "
        f"MAX(i.id), MIN(i.wall_time), MAX(i.wall_time) FROM inspections i WHERE {where} "
        f"GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9",
        [base, *params],
    ).fetchall()
    by_hour: dict[int, list[int]] = {}
    reasons: dict[str, int] = {}
    runs: dict[tuple[str, ...], PartRun] = {}
    per_station: dict[str, list[int]] = {}
    for h, st, line, name, version, lot, hashes, verdict, reason, n, lo, hi, t0, _ in rows:
        for counts in (
            by_hour.setdefault(int(h) - _HOUR_BASE, [0, 0, 0]),
            per_station.setdefault(str(st), [0, 0, 0]),
        ):
            counts[0] += n
            if verdict == "FAIL":
                counts[1] += n
            elif verdict == "ERROR":
                counts[2] += n
        if verdict != "PASS":
            key = reason_category(str(reason))
            reasons[key] = reasons.get(key, 0) + n
        run_key = (st, line, name, version, lot, hashes)
        run = runs.get(run_key)
        if run is None:
            runs[run_key] = PartRun(st, line, name, version, lot, hashes, lo, hi, t0, n)
        else:
            runs[run_key] = run.merged(lo, hi, t0, n)
    first_seen = min((r[12] for r in rows), default=period.start)
    last_seen = max((r[13] for r in rows), default=period.start)
    id_span = (min((r[10] for r in rows), default=0), max((r[11] for r in rows), default=0))
    # Normally the period's own hours; a part recorded outside its shift's window (the calendar
    # changed) widens them, so the hours always add up to the parts.
    first = min([0, *by_hour])
    end_hour = int((period.end - anchor + 3599.999) // 3600)
    last = max([end_hour - 1, *by_hour])
    hourly = tuple(
        HourFigures(anchor + 3600.0 * k, *by_hour.get(k, (0, 0, 0))) for k in range(first, last + 1)
    )
    return _PartGroups(
        hourly, reasons, runs, float(first_seen), float(last_seen), id_span, per_station
    )


def _pareto(counts: dict[str, int]) -> tuple[ReasonCount, ...]:
    """The rejected parts' reasons, most frequent first, with their running share."""
    total = sum(counts.values())
    out: list[ReasonCount] = []
    running = 0
    for reason, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        running += n
        out.append(ReasonCount(reason, n, n / total, running / total))
    return tuple(out)


# ---- rejects -------------------------------------------------------------


def _rejects(conn: sqlite3.Connection, where: str, params: list[Any]) -> tuple[RejectRow, ...]:
    rows = conn.execute(
        f"SELECT i.inspection_id, i.part_seq, i.wall_time, i.verdict, i.reason, "
        f"(SELECT group_concat(c.code, ' ') FROM part_codes c WHERE c.inspection = i.id), "
        f"i.image_path, i.lot, i.recipe_version "
        f"FROM inspections i WHERE {where} AND i.verdict != 'PASS' ORDER BY i.wall_time, i.id",
        params,
    ).fetchall()
    return tuple(
        RejectRow(
            inspection_id=str(r[0]),
            part_number=int(r[1]) + 1,
            wall_time=float(r[2]),
            verdict=str(r[3]),
            reason=str(r[4]),
            codes=str(r[5] or ""),
            image_path=r[6],
            lot=str(r[7]),
            recipe_version=str(r[8]),
        )
        for r in rows
    )


__all__ = [
    "ToolFigures",
    "build_report",
    "last_shift_period",
    "period_filter",
    "range_period",
    "shift_period",
]
