"""What changed during a report's period (recorded events, and recipe, lot, model and threshold
changes the parts show) and the alarms active in it with their downtime.

Used by ``aggregate.build_report`` inside its read transaction; events are bounded by the newest
event id taken at its start, like the parts by their newest row id.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from inspection.reports.figures import AlarmRow, ChangeRow, ToolFigures
from inspection.reports.tool_figures import ToolRows, threshold_changes


@dataclass(frozen=True, slots=True)
class EventWindow:
    """Which events a report reads: ``start <= wall_time < end``, up to an id, of a station
    (None: every station)."""

    start: float
    end: float
    last_event_id: int
    station: str | None

    def where(self) -> tuple[str, list[Any]]:
        sql = "id <= ?"
        params: list[Any] = [self.last_event_id]
        if self.station is not None:
            sql += " AND station = ?"
            params.append(self.station)
        return sql, params


@dataclass(frozen=True, slots=True)
class PartRun:
    """Parts of one station with the same line, recipe version, lot and models, as the period's
    GROUP BY found them: the ids they span, the first one's time and how many there are."""

    station: str
    line: str
    recipe_name: str
    recipe_version: str
    lot: str
    model_hashes: str
    first_id: int
    last_id: int
    first_time: float
    parts: int

    def merged(self, first_id: int, last_id: int, first_time: float, parts: int) -> PartRun:
        return PartRun(
            self.station,
            self.line,
            self.recipe_name,
            self.recipe_version,
            self.lot,
            self.model_hashes,
            min(self.first_id, first_id),
            max(self.last_id, last_id),
            min(self.first_time, first_time),
            self.parts + parts,
        )


_CHUNK = 20_000


def changes_in(
    conn: sqlite3.Connection,
    where: str,
    params: list[Any],
    events: EventWindow,
    tools: tuple[ToolFigures, ...],
    runs: Sequence[PartRun],
    tool_source: ToolRows,
) -> tuple[ChangeRow, ...]:
    """Recorded events of the period, plus what the parts show changed (in the order they were
    recorded): recipe version, lot, a tool's model (teaching) and a tool's threshold."""
    ev_sql, ev_params = events.where()
    found = [
        ChangeRow(float(t), str(kind), str(text))
        for t, kind, text in conn.execute(
            f"SELECT wall_time, kind, text FROM events "
            f"WHERE wall_time >= ? AND wall_time < ? AND {ev_sql}",
            [events.start, events.end, *ev_params],
        )
    ]
    by_station: dict[str, list[PartRun]] = {}
    for run in sorted(runs, key=lambda r: r.first_id):
        by_station.setdefault(run.station, []).append(run)
    for station, station_runs in by_station.items():
        if all(b.first_id > a.last_id for a, b in itertools.pairwise(station_runs)):
            # Each run is unbroken: the changes are where one run follows another.
            for a, b in itertools.pairwise(station_runs):
                found.extend(_run_changes(a, b, b.first_time))
        else:
            # A value came back (lot A, B, then A again): walk the station's parts in order.
            found.extend(_walk_changes(conn, where, params, station))
    stations = list(by_station)
    for tool_id in dict.fromkeys(t.tool_id for t in tools if len(t.thresholds) > 1):
        found.extend(threshold_changes(conn, tool_source, tool_id, stations))
    return tuple(sorted(found, key=lambda c: c.wall_time))


def _run_changes(a: PartRun, b: PartRun, t: float) -> list[ChangeRow]:
    out: list[ChangeRow] = []
    if (a.recipe_name, a.recipe_version) != (b.recipe_name, b.recipe_version):
        out.append(
            ChangeRow(
                t,
                "recipe",
                f"{b.station}: parts from here on with {b.recipe_name} v{b.recipe_version} "
                f"(before: {a.recipe_name} v{a.recipe_version})",
            )
        )
    if a.lot != b.lot:
        out.append(ChangeRow(t, "batch", f"{b.station}: lot {a.lot or '-'} → {b.lot or '-'}"))
    if a.model_hashes != b.model_hashes:
        out.extend(_teaching(t, b.station, a.model_hashes, b.model_hashes))
    return out


def _walk_changes(
    conn: sqlite3.Connection, where: str, params: list[Any], station: str
) -> list[ChangeRow]:
    cursor = conn.execute(
        f"SELECT i.id, i.wall_time, i.line, i.recipe_name, i.recipe_version, i.lot, "
        f"i.model_hashes FROM inspections i WHERE {where} AND +i.station = ? ORDER BY i.id",
        [*params, station],
    )
    out: list[ChangeRow] = []
    before: PartRun | None = None
    while rows := cursor.fetchmany(_CHUNK):
        for part_id, t, line, name, version, lot, hashes in rows:
            run = PartRun(station, line, name, version, lot, hashes, part_id, part_id, t, 1)
            if before is not None:
                out.extend(_run_changes(before, run, float(t)))
            before = run
    return out


def _teaching(t: float, station: str, before_json: str, after_json: str) -> list[ChangeRow]:
    try:
        before, after = json.loads(before_json or "{}"), json.loads(after_json or "{}")
    except ValueError:
        return [ChangeRow(t, "teaching", f"{station}: model hashes changed")]
    return [
        ChangeRow(
            t,
            "teaching",
            f"{station}: model of {tool} changed ({str(before.get(tool) or '-')[:12]} → "
            f"{str(after.get(tool) or '-')[:12]})",
        )
        for tool in sorted(set(before) | set(after))
        if before.get(tool) != after.get(tool)
    ]


_ALARM_LOOKBACK_S = 31 * 86400.0  # an alarm raised this long before the period still counts


def alarms_in(conn: sqlite3.Connection, events: EventWindow) -> tuple[AlarmRow, ...]:
    """Alarms that were active during the period; downtime is the part inside the period (an
    alarm still open at its end counts up to the end)."""
    ev_sql, ev_params = events.where()
    rows = conn.execute(
        f"SELECT station, wall_time, kind, text, details FROM events "
        f"WHERE kind IN ('alarm', 'alarm_cleared') AND wall_time >= ? AND wall_time < ? "
        f"AND {ev_sql} ORDER BY wall_time, id",
        [events.start - _ALARM_LOOKBACK_S, events.end, *ev_params],
    ).fetchall()
    open_: dict[tuple[str, str], tuple[str, str, float]] = {}
    episodes: list[tuple[str, str, float, float | None]] = []
    for station, t, kind, text, details_json in rows:
        try:
            details = json.loads(details_json or "{}")
        except ValueError:
            details = {}
        source = str(details.get("source") or str(text).partition(":")[0])
        key = (str(station), str(details.get("episode") or source))
        if kind == "alarm":
            message = str(text).removeprefix(f"{source}: ")
            open_.setdefault(key, (source, message, float(t)))
            continue
        raised = open_.pop(key, None)
        raised_at = float(details.get("raised_at") or (raised[2] if raised else t))
        message = raised[1] if raised else str(text).removeprefix(f"{source}: ")
        episodes.append((source, message, raised_at, float(t)))
    episodes.extend((s, m, r, None) for s, m, r in open_.values())
    out = []
    for source, message, raised_at, cleared_at in episodes:
        until = events.end if cleared_at is None else min(cleared_at, events.end)
        if until <= events.start or raised_at >= events.end:
            continue  # over before the period, or after it
        downtime = max(until - max(raised_at, events.start), 0.0)
        out.append(AlarmRow(source, message, raised_at, cleared_at, downtime))
    return tuple(sorted(out, key=lambda a: a.raised_at))
