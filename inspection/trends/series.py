"""Series over time from the results database: one tool's measure per part, or the station's
yield, error rate, fails and reasons per interval.

Each series is read with one SQL query into numpy (never row by row in Python) and, when it has
more points than a chart can show, aggregated to time buckets in numpy (aggregate.py).
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np

from inspection.reasons import reason_category
from inspection.storage.queries import open_reader
from inspection.trends.aggregate import SeriesData, aggregate, raw_series
from inspection.trends.camera_series import cameras_in_range, fetch_camera
from inspection.trends.measures import (
    DROPS_PREFIX,
    FPS_PREFIX,
    REASON_PREFIX,
    STATION,
    TOOL_MEASURES,
    Measure,
    SeriesName,
    describe,
    label_measures,
    parse_series,
    tool_measure,
)
from inspection.tuning.scores_cache import ScoresCache

__all__ = [
    "STATION",
    "SeriesData",
    "SeriesInfo",
    "SeriesName",
    "available_series",
    "load_raw_series",
    "load_series",
    "parse_series",
]


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    name: SeriesName
    label: str
    unit: str
    per_part: bool
    threshold: float | None


# ---- what a range holds -----------------------------------------------------------------

_SAMPLE_PARTS = 50  # the newest parts of a range tell which tools and label fields it has


def _tools_in_range(
    conn: sqlite3.Connection, start: float, end: float, station: str | None
) -> dict[str, tuple[str, set[str], float | None]]:
    """tool id → (tool type, label field names, threshold) from the newest parts of the range."""
    where, params = _part_filter(start, end, station)
    rows = conn.execute(
        "SELECT t.tool_id, t.tool_type, t.measurements, t.threshold FROM tool_results t "
        f"WHERE t.inspection IN (SELECT i.id FROM inspections i WHERE {where} "
        "ORDER BY i.wall_time DESC LIMIT ?) ORDER BY t.inspection DESC",
        (*params, _SAMPLE_PARTS),
    ).fetchall()
    found: dict[str, tuple[str, set[str], float | None]] = {}
    for tool_id, tool_type, measurements, threshold in rows:
        kind, fields, thr = found.get(tool_id, (tool_type, set(), threshold))
        if tool_type == "label":
            fields |= label_measures(measurements)
        found[tool_id] = (kind, fields, thr if thr is not None else threshold)
    return found


def _reason_categories(
    conn: sqlite3.Connection, start: float, end: float, station: str | None
) -> list[tuple[str, int]]:
    where, params = _part_filter(start, end, station)
    counts: dict[str, int] = {}
    for reason, n in conn.execute(
        f"SELECT i.reason, COUNT(*) FROM inspections i WHERE {where} "
        "AND i.verdict IN ('FAIL', 'ERROR') GROUP BY i.reason",
        params,
    ):
        category = reason_category(str(reason))
        counts[category] = counts.get(category, 0) + int(n)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def available_series(
    db_path: Path, start: float, end: float, *, station: str | None = None
) -> list[SeriesInfo]:
    """Every series the range has: the station's, then each tool's (from its newest parts),
    then one per reject reason (most frequent first)."""
    conn = open_reader(db_path)
    try:
        tools = _tools_in_range(conn, start, end, station)
        reasons = _reason_categories(conn, start, end, station)
        cameras = cameras_in_range(conn, start, end, station)
    finally:
        conn.close()
    out: list[SeriesInfo] = []
    for measure in ("yield", "error_rate", "fails", "cycle_ms"):
        m = describe(measure)
        out.append(SeriesInfo(SeriesName(STATION, measure), m.label, m.unit, m.per_part, None))
    for tool_id, (tool_type, fields, threshold) in sorted(tools.items()):
        names = list(TOOL_MEASURES.get(tool_type, ("score",)))
        if tool_type == "label":
            names += sorted(fields)
        for measure in names:
            m = tool_measure(tool_type, measure)
            thr = threshold if m.source == "column" else None
            out.append(SeriesInfo(SeriesName(tool_id, measure), m.label, m.unit, True, thr))
    for category, _n in reasons:
        m = describe(f"reason:{category}")
        out.append(
            SeriesInfo(SeriesName(STATION, f"reason:{category}"), m.label, m.unit, False, None)
        )
    for camera in cameras:
        for prefix in (FPS_PREFIX, DROPS_PREFIX):
            m = describe(prefix + camera)
            out.append(
                SeriesInfo(SeriesName(STATION, prefix + camera), m.label, m.unit, False, None)
            )
    return out


_EMPTY = (np.empty(0), np.empty(0), np.empty(0, dtype=np.int64))


# ---- reading ------------------------------------------------------------------------------


def _part_filter(
    start: float, end: float, station: str | None, *, alias: str = "i"
) -> tuple[str, tuple[object, ...]]:
    where = f"{alias}.wall_time >= ? AND {alias}.wall_time < ?"
    params: tuple[object, ...] = (float(start), float(end))
    if station is not None:
        where += f" AND {alias}.station = ?"
        params += (station,)
    return where, params


def _check_range(start: float, end: float) -> None:
    if not (math.isfinite(start) and math.isfinite(end)) or end <= start:
        raise ValueError(f"time range: end {end} is not after start {start}")


def _tool_measure(
    conn: sqlite3.Connection, name: SeriesName, start: float, end: float, station: str | None
) -> Measure | None:
    """The tool's measure; None when the range has no parts (nothing to tell it by)."""
    tools = _tools_in_range(conn, start, end, station)
    if not tools:
        return None
    if name.tool_id not in tools:
        known = ", ".join(sorted(tools)) or "none"
        raise ValueError(
            f"series {name}: no tool {name.tool_id!r} in this range (tools: {known}; "
            "station series are station.yield, station.error_rate, station.fails, "
            "station.cycle_ms, station.reason:<reason>)"
        )
    tool_type, fields, _thr = tools[name.tool_id]
    return tool_measure(tool_type, name.measure, fields)


def range_part_ids(conn: sqlite3.Connection, start: float, end: float) -> tuple[int, int] | None:
    """The lowest and highest part id in the range, every station's (one pass over the time
    index, which covers it); None when it has no parts."""
    where, params = _part_filter(start, end, None)
    lo, hi = conn.execute(
        f"SELECT MIN(i.id), MAX(i.id) FROM inspections i WHERE {where}", params
    ).fetchone()
    return None if lo is None else (int(lo), int(hi))


def parts_query(
    name: SeriesName,
    measure: Measure,
    start: float,
    end: float,
    station: str | None,
    *,
    recipe: tuple[str, str] | None = None,
    good_only: bool = False,
    limit: int = -1,
    ids: tuple[int, int] = (0, 2**63 - 1),
) -> tuple[str, tuple[object, ...]]:
    """The SQL and parameters of a per-part series: rows (time, value or 9e999, part id).

    ``ids``: the lowest and highest part id in the range (``range_part_ids``). The tool's rows are
    read from its own index in id order and only in these bounds: SQLite prefers that to
    walking the time index, and without them it would read every day the file holds."""
    # Parameters are collected in the order their '?' appear in the SQL.
    join_params: tuple[object, ...] = ()
    if measure.source == "station":
        # the time from queueing to the verdict, straight from the inspections row
        value, verdict, join = "i.decided_ms - i.queued_ms", "i.verdict", ""
    elif measure.source == "column":
        value, verdict = "t.score", "t.verdict"
        join = (
            "JOIN tool_results t ON t.inspection = i.id AND t.tool_id = ? "
            "AND t.inspection BETWEEN ? AND ? "
        )
        join_params = (name.tool_id, *ids)
    else:
        # One row per part that has the measure (storage keeps finite numbers only), read from
        # the (tool, measure, part, value) key: the JSON is never parsed.
        value, verdict = "m.value", "t.verdict"
        join = "JOIN tool_measures m ON m.tool_id = ? AND m.measure = ? AND m.inspection = i.id "
        join_params = (name.tool_id, measure.key)
        if good_only:
            # the tool's verdict too: its rows bound the range, the measure is a seek per part.
            # "+i.id" stops SQLite carrying the bounds over to m (it then scanned the whole
            # range of m for every part: 4.7 s for 6,000 parts instead of 12 ms)
            join = (
                "JOIN tool_results t ON t.inspection = i.id AND t.tool_id = ? "
                "AND t.inspection BETWEEN ? AND ? "
                "JOIN tool_measures m ON m.tool_id = ? AND m.measure = ? AND m.inspection = +i.id "
            )
            join_params = (name.tool_id, *ids, *join_params)
        else:
            join += "AND m.inspection BETWEEN ? AND ? "
            join_params += ids
    where, where_params = _part_filter(start, end, station)
    if recipe is not None:
        where += " AND i.recipe_name = ? AND i.recipe_version = ?"
        where_params += recipe
    if good_only:
        where += f" AND {verdict} = 'PASS'"
    sql = (
        # A missing score reads as +inf (9e999) and is dropped below, in numpy.
        f"SELECT i.wall_time, IFNULL({value}, 9e999), i.id FROM inspections i {join}WHERE {where}"
    )
    params = (*join_params, *where_params)
    if limit >= 0:
        # The first N points must all have a value, so the missing ones go before the LIMIT.
        # First in record order (the order the station wrote its parts in), by the column of
        # the table SQLite walks: its index gives that order, so it stops after N rows instead
        # of sorting the whole range (0.3-0.9 s on a day).
        first = (
            "t.inspection"
            if "JOIN tool_results t" in join
            else ("m.inspection" if join else "i.id")
        )
        sql += f" AND {value} IS NOT NULL ORDER BY {first} LIMIT ?"
        params += (limit,)
    return sql, params


def _fetch_parts(
    conn: sqlite3.Connection,
    name: SeriesName,
    measure: Measure,
    start: float,
    end: float,
    station: str | None,
    *,
    recipe: tuple[str, str] | None = None,
    good_only: bool = False,
    limit: int = -1,
    cache: ScoresCache | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(time, value, part id) of every part in the range, oldest first: a tool's scores of every
    part from ``cache`` when given, else in one query."""
    ids = range_part_ids(conn, start, end)
    if ids is None:
        return _EMPTY
    if (
        cache is not None
        and measure.source == "column"
        and station is None
        and recipe is None
        and not good_only
        and limit < 0
    ):
        return _cached_scores(conn, cache, name.tool_id, start, end, ids)
    sql, params = parts_query(
        name, measure, start, end, station, recipe=recipe, good_only=good_only, limit=limit, ids=ids
    )
    cursor = conn.cursor()
    # plain tuples, not the reader's sqlite3.Row: half the time of a day's 864,000 rows
    cursor.row_factory = None
    cursor.execute(sql, params)
    # fromiter over the flattened rows: ~10x faster than np.array(rows) on a day's 864,000
    cols = np.fromiter(chain.from_iterable(cursor), dtype=np.float64).reshape(-1, 3)
    # Sorted here, not in SQL: rows come nearly in time order (id order), which a stable sort
    # finishes in milliseconds where SQLite builds a temporary B-tree.
    cols = cols[np.isfinite(cols[:, 1])]
    cols = cols[np.argsort(cols[:, 0], kind="stable")]
    return cols[:, 0].copy(), cols[:, 1].copy(), cols[:, 2].astype(np.int64)


def _cached_scores(
    conn: sqlite3.Connection,
    cache: ScoresCache,
    tool_id: str,
    start: float,
    end: float,
    ids: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the query of a tool's scores answers, from the score cache's columns: a day's
    closed blocks are read from files in milliseconds, where the query makes 864,000 Python
    rows (~1.2 s); only the newest block is read live."""
    conn.row_factory = None  # the cache's reads take plain tuples
    cols = cache.columns(conn, tool_id, *ids, names=("score", "wall_time"))
    # the id bounds of the range may hold parts stamped outside it (a clock set back)
    keep = (cols.wall_time >= start) & (cols.wall_time < end) & np.isfinite(cols.score)
    t, value, part_id = cols.wall_time[keep], cols.score[keep], cols.part_id[keep]
    order = np.argsort(t, kind="stable")
    return t[order], value[order], part_id[order]


def _threshold(
    conn: sqlite3.Connection, tool_id: str, start: float, end: float, station: str | None
) -> float | None:
    where, params = _part_filter(start, end, station)
    row = conn.execute(
        "SELECT t.threshold FROM tool_results t WHERE t.tool_id = ? AND t.inspection = "
        f"(SELECT i.id FROM inspections i WHERE {where} ORDER BY i.wall_time DESC LIMIT 1)",
        (tool_id, *params),
    ).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def _fetch_intervals(
    conn: sqlite3.Connection,
    name: SeriesName,
    start: float,
    end: float,
    station: str | None,
    interval_s: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(interval start, value, parts in the interval) for the station's interval series.

    One GROUP BY over (interval, verdict, reason): a day has a few thousand groups, whatever
    the series. Intervals with no parts (the line stood) have no point."""
    if name.measure in _VERDICT_HIT:
        return _fetch_verdict_counts(conn, name.measure, start, end, station, interval_s)
    where, params = _part_filter(start, end, station)
    # the reason only for a reason series: it is read from the parts' wide rows
    reason = (
        "CASE WHEN i.verdict = 'PASS' THEN '' ELSE i.reason END"
        if name.measure.startswith(REASON_PREFIX)
        else "''"
    )
    rows = conn.execute(
        f"SELECT CAST((i.wall_time - ?) / ? AS INTEGER) AS b, i.verdict, {reason} AS r, "
        f"COUNT(*) FROM inspections i WHERE {where} GROUP BY b, i.verdict, r",
        (float(start), float(interval_s), *params),
    ).fetchall()
    if not rows:
        return _EMPTY
    bucket = np.array([r[0] for r in rows], dtype=np.int64)
    n = np.array([r[3] for r in rows], dtype=np.float64)
    verdict = np.array([r[1] for r in rows])
    measure = name.measure
    if measure == "yield":
        hit = verdict == "PASS"
    elif measure == "error_rate":
        hit = verdict == "ERROR"
    elif measure == "fails":
        hit = verdict == "FAIL"
    else:  # reason:<category>
        wanted = measure.partition(":")[2]
        categories = {r: reason_category(r) for r in {str(row[2]) for row in rows} if r}
        hit = np.array(
            [
                v != "PASS" and categories.get(str(row[2])) == wanted
                for v, row in zip(verdict, rows, strict=True)
            ],
            dtype=bool,
        )
    keys, inverse = np.unique(bucket, return_inverse=True)
    totals = np.bincount(inverse, weights=n)
    hits = np.bincount(inverse, weights=np.where(hit, n, 0.0), minlength=len(keys))
    t = float(start) + keys.astype(np.float64) * float(interval_s)
    value = hits / totals if measure in ("yield", "error_rate") else hits
    return t, value, totals.astype(np.int64)


_VERDICT_HIT = {"yield": "PASS", "error_rate": "ERROR", "fails": "FAIL"}
"""The station series counted straight from the verdicts, and the verdict each one counts."""
_INTERVAL_COUNT = (
    "(SELECT {what} FROM inspections INDEXED BY inspections_time_verdict "
    "WHERE wall_time >= :start + k.b * :width AND wall_time < MIN(:start + (k.b + 1) * :width, "
    ":end){station})"
)
_INTERVALS_SQL = (
    "WITH RECURSIVE k(b) AS (SELECT 0 UNION ALL SELECT b + 1 FROM k WHERE b + 1 < :n) "
    "SELECT k.b, {total}, {hits} FROM k"
)


def _fetch_verdict_counts(
    conn: sqlite3.Connection,
    measure: str,
    start: float,
    end: float,
    station: str | None,
    interval_s: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Yield, error rate or fails per interval: each interval's parts counted in its own slice
    of the (time, verdict, station) index, which answers alone. A GROUP BY over the interval
    number sorts every part of the range first (~1 s of a day's 864,000); these counts step
    through the index in C (~0.3 s)."""
    n = max(math.ceil((end - start) / interval_s), 1)
    on_station = " AND station = :station" if station is not None else ""
    sql = _INTERVALS_SQL.format(
        total=_INTERVAL_COUNT.format(what="COUNT(*)", station=on_station),
        hits=_INTERVAL_COUNT.format(what="SUM(verdict = :hit)", station=on_station),
    )
    params = {
        "n": n,
        "start": float(start),
        "end": float(end),
        "width": float(interval_s),
        "station": station,
        "hit": _VERDICT_HIT[measure],
    }
    rows = np.array([row for row in conn.execute(sql, params) if row[1]], dtype=np.float64).reshape(
        -1, 3
    )
    totals = rows[:, 1]
    t = float(start) + rows[:, 0] * float(interval_s)
    value = rows[:, 2] / totals if measure in ("yield", "error_rate") else rows[:, 2]
    return t, value, totals.astype(np.int64)


# ---- loading --------------------------------------------------------------------------------


def default_interval(start: float, end: float, max_points: int) -> float:
    """The shortest interval of 1, 5, 10, 15, 30 or 60 minutes (then whole hours) that gives at
    most ``max_points`` intervals over the range."""
    needed = (end - start) / max(max_points, 1)
    for minutes in (1, 5, 10, 15, 30, 60):
        if minutes * 60.0 >= needed:
            return minutes * 60.0
    return math.ceil(needed / 3600.0) * 3600.0


def load_raw_series(
    db_path: Path,
    name: SeriesName,
    start: float,
    end: float,
    *,
    station: str | None = None,
    interval_s: float | None = None,
    max_points: int = 2000,
    recipe: tuple[str, str] | None = None,
    good_only: bool = False,
    limit: int | None = None,
    cache: ScoresCache | bool = True,
) -> SeriesData:
    """Every point of the series in the range, not aggregated (rules and limits work on these).

    ``recipe`` (name, version) and ``good_only`` (passed parts only) narrow per-part series,
    for a baseline; ``limit`` keeps the first so many points. A tool's score series of every
    part is read through a score cache: ``cache`` True = the results database's (which the
    station's block keeper fills as the line runs), False = none (every row from the database),
    or a cache of the caller's; the series is the same."""
    _check_range(start, end)
    conn = open_reader(db_path)
    try:
        if name.is_station and not describe(name.measure).per_part:
            width = interval_s or default_interval(start, end, max_points)
            if width <= 0:
                raise ValueError(f"interval must be positive, got {width} s")
            station_measure = describe(name.measure)
            if station_measure.source == "camera":
                t, value, count = fetch_camera(
                    conn, name, station_measure, start, end, station, width
                )
            else:
                t, value, count = _fetch_intervals(conn, name, start, end, station, width)
            if limit is not None:
                t, value, count = t[:limit], value[:limit], count[:limit]
            part_id = np.full(len(t), -1, dtype=np.int64)
            threshold = None
        else:
            measure = (
                describe(name.measure)
                if name.is_station
                else _tool_measure(conn, name, start, end, station)
            )
            if measure is None:  # no parts in the range
                return raw_series(name, *_EMPTY, np.empty(0, dtype=np.int64), None)
            t, value, part_id = _fetch_parts(
                conn,
                name,
                measure,
                start,
                end,
                station,
                recipe=recipe,
                good_only=good_only,
                limit=-1 if limit is None else limit,
                cache=ScoresCache.beside(db_path) if cache is True else (cache or None),
            )
            count = np.ones(len(t), dtype=np.int64)
            threshold = (
                _threshold(conn, name.tool_id, start, end, station)
                if measure.source == "column"
                else None
            )
    finally:
        conn.close()
    return raw_series(name, t, value, part_id, count, threshold)


def load_series(
    db_path: Path,
    name: SeriesName,
    start: float,
    end: float,
    *,
    max_points: int = 2000,
    station: str | None = None,
    interval_s: float | None = None,
    cache: ScoresCache | bool = True,
) -> SeriesData:
    """The series over ``[start, end)``, aggregated to at most ``max_points`` time buckets
    (mean, min and max of each, with the parts at its extremes)."""
    if max_points < 1:
        raise ValueError(f"max_points must be at least 1, got {max_points}")
    raw = load_raw_series(
        db_path,
        name,
        start,
        end,
        station=station,
        interval_s=interval_s,
        max_points=max_points,
        cache=cache,
    )
    return aggregate(raw, start, end, max_points)
