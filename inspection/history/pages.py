"""Pages of the parts a filter finds, newest first, fast on millions of parts.

Keyset paging: each page is ``... AND id < :before ORDER BY id DESC LIMIT n``, so the tenth page
costs what the first does, and rows the writer adds meanwhile never shift a page. Each query is
short and holds no transaction beyond itself, so the storage writer is never kept waiting.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from inspection.errors import StorageError
from inspection.history.filters import PartFilter, conditions
from inspection.types import Verdict

PAGE_SIZE = 200
COUNT_CAP = 10_000
WIDE_TIME_RANGE = 20_000
"""A time range holding more parts than this is walked by id (see ``time_bound``), not sorted."""

ROW_COLUMNS = (
    "id, inspection_id, part_seq, wall_time, station, verdict, reason, recipe_version, lot, "
    "production_day, shift, image_path"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PartRow:
    """One part as the history lists it. ``part_number`` = part_seq + 1, as operators count."""

    id: int
    inspection_id: str
    part_number: int
    wall_time: float
    station: str
    verdict: Verdict
    reason: str
    recipe_version: str
    lot: str
    production_day: str
    shift: str
    codes: tuple[str, ...]
    image_path: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PartPage:
    """A page of matches, newest first; ``next_before`` is the key of the next page (None: last)."""

    rows: tuple[PartRow, ...]
    next_before: int | None


def _branches(f: PartFilter) -> list[tuple[list[str], dict[str, Any]]]:
    """One (terms, params) per verdict asked for: an index holds one verdict's rows in id order,
    so asking them one by one and merging keeps every branch a short walk, never a big sort."""
    terms, params = conditions(f)
    verdicts = sorted(f.verdicts)
    if not verdicts or len(verdicts) == len(Verdict):
        return [(terms, params)]
    out = []
    for i, v in enumerate(verdicts):
        p = dict(params)
        p[f"verdict{i}"] = v.value
        out.append(([*terms, f"verdict = :verdict{i}"], p))
    return out


def time_bound(conn: sqlite3.Connection, f: PartFilter) -> int | None:
    """For a wide time range, the highest id inside it; None for none or a narrow one.

    The wall_time index finds a range's parts, but in time order: a day's 864,000 parts would
    be sorted into id order for every page. A wide range is instead walked down by id from its
    newest part, checking the time of each row, which stops after one page. The bound is
    exact (the largest id in the range), so a clock that stepped back never hides a part.
    """
    if f.start is None and f.end is None:
        return None
    terms, params = conditions(PartFilter(start=f.start, end=f.end))
    where = " AND ".join(terms)
    probe = f"SELECT COUNT(*) FROM (SELECT 1 FROM inspections WHERE {where} LIMIT :cap)"
    if int(conn.execute(probe, {**params, "cap": WIDE_TIME_RANGE}).fetchone()[0]) < (
        WIDE_TIME_RANGE
    ):
        return None
    top = conn.execute(f"SELECT MAX(id) FROM inspections WHERE {where}", params).fetchone()[0]
    return None if top is None else int(top)


def page_sql(
    f: PartFilter,
    before: int | None,
    limit: int,
    columns: str = ROW_COLUMNS,
    *,
    time_top: int | None = None,
) -> tuple[str, dict[str, Any]]:
    """The SQL and parameters of one page of ``f`` (public so ``explain`` shows what runs).

    ``time_top``: from ``time_bound``: walk ids down from there instead of the time index."""
    selects = []
    params: dict[str, Any] = {"limit": int(limit)}
    for terms, p in _branches(f):
        if time_top is not None:
            # unary +: the time terms only check rows; the id range drives the walk
            terms = [f"+{t}" if t.startswith("wall_time") else t for t in terms]
            terms = [*terms, "id <= :time_top"]
            params["time_top"] = time_top
        if before is not None:
            terms = [*terms, "id < :before"]
            params["before"] = int(before)
        where = f"WHERE {' AND '.join(terms)} " if terms else ""
        selects.append(
            f"SELECT * FROM (SELECT {columns} FROM inspections {where}"
            "ORDER BY id DESC LIMIT :limit)"
        )
        params.update(p)
    if len(selects) == 1:
        return selects[0], params
    return f"{' UNION ALL '.join(selects)} ORDER BY id DESC LIMIT :limit", params


def find_parts(
    conn: sqlite3.Connection, f: PartFilter, *, before: int | None = None, limit: int = PAGE_SIZE
) -> PartPage:
    """The newest ``limit`` parts matching ``f`` with ``id < before`` (all when None)."""
    if limit < 1:
        raise StorageError(f"find_parts(): limit must be >= 1, got {limit}")
    # one more tells whether a next page exists
    sql, params = page_sql(f, before, limit + 1, time_top=time_bound(conn, f))
    rows = conn.execute(sql, params).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    codes = codes_of(conn, [int(r[0]) for r in rows])
    parts = tuple(part_row(r, codes.get(int(r[0]), ())) for r in rows)
    return PartPage(rows=parts, next_before=parts[-1].id if more and parts else None)


def codes_of(conn: sqlite3.Connection, ids: list[int]) -> dict[int, tuple[str, ...]]:
    """The codes read on each of ``ids`` (from the part_codes index), in the order recorded."""
    out: dict[int, list[str]] = defaultdict(list)
    for chunk in range(0, len(ids), 500):  # under SQLite's host parameter limit
        part = ids[chunk : chunk + 500]
        marks = ",".join("?" * len(part))
        for inspection, code in conn.execute(
            f"SELECT inspection, code FROM part_codes WHERE inspection IN ({marks}) "
            "ORDER BY inspection, rowid",
            part,
        ):
            out[int(inspection)].append(str(code))
    return {k: tuple(v) for k, v in out.items()}


def part_row(r: Any, codes: tuple[str, ...]) -> PartRow:
    return PartRow(
        id=int(r[0]),
        inspection_id=str(r[1]),
        part_number=int(r[2]) + 1,
        wall_time=float(r[3]),
        station=str(r[4]),
        verdict=Verdict(r[5]),
        reason=str(r[6] or ""),
        recipe_version=str(r[7]),
        lot=str(r[8] or ""),
        production_day=str(r[9] or ""),
        shift=str(r[10] or ""),
        codes=codes,
        image_path=r[11],
    )


def count_matches(
    conn: sqlite3.Connection, f: PartFilter, limit: int | None = COUNT_CAP
) -> tuple[int, bool]:
    """How many parts match, counting no further than ``limit`` (None: count all).

    Returns (count, capped): capped means "at least ``limit``" ("10,000+" on screen), because an
    exact count of a broad filter over millions of parts takes seconds.
    """
    total = 0
    for terms, params in _branches(f):
        where = f"WHERE {' AND '.join(terms)}" if terms else ""
        if limit is None:
            sql = f"SELECT COUNT(*) FROM inspections {where}"
            total += int(conn.execute(sql, params).fetchone()[0])
            continue
        sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM inspections {where} LIMIT :cap)"
        total += int(conn.execute(sql, {**params, "cap": limit - total + 1}).fetchone()[0])
        if total > limit:
            return limit, True
    return total, False


def explain(
    conn: sqlite3.Connection, f: PartFilter, *, before: int | None = None, limit: int = PAGE_SIZE
) -> str:
    """SQLite's query plan for a page of ``f``, one step a line (``EXPLAIN QUERY PLAN``)."""
    sql, params = page_sql(f, before, limit + 1, time_top=time_bound(conn, f))
    rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    return "\n".join(str(r[3]) for r in rows)


def full_scans(plan: str) -> list[str]:
    """The plan's steps that walk all of inspections (its rows or a whole index of it)."""
    return [
        line.strip() for line in plan.splitlines() if line.strip().startswith("SCAN inspections")
    ]
