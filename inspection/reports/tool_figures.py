"""A period's figures per tool, read from the covering index ``tool_results_scores``.

That index holds (tool_id, inspection, verdict, score, threshold, tool_type) for every tool
result, so one tool's slice of a period is read in order without touching the wide
tool_results rows (which carry each result's JSON). Usually a period's parts are one unbroken run
of row ids; then a tool's rows are the index range ``tool_id = ? AND inspection BETWEEN lo AND
hi``. When they are not (several stations interleaved, a calendar change), each part of the
period is joined to its tool result through the same index.

The parts CSV uses ``period_tools`` too, so its tool columns are the report's tools, in order.
"""

from __future__ import annotations

import itertools
import sqlite3
from dataclasses import dataclass
from typing import Any

import numpy as np

from inspection.reports.figures import ChangeRow, ToolFigures

_CHUNK = 100_000


@dataclass(frozen=True, slots=True)
class ToolRows:
    """How to select one tool's results of the period: ``FROM ... WHERE ...`` taking the tool
    id as its first parameter, then ``params``; ``parts_where`` (on ``inspections i``, with
    the same ``params``) selects the period's parts."""

    from_where: str
    params: tuple[Any, ...]
    parts_where: str

    def sql(self, select: str, extra: str = "") -> str:
        return f"SELECT {select} {self.from_where}{extra}"


def tool_rows(
    conn: sqlite3.Connection, where: str, params: list[Any], id_span: tuple[int, int], n: int
) -> ToolRows:
    """The period's tool-result source (see the module's note). ``id_span``: the lowest and
    highest row id of the period's ``n`` parts."""
    lo, hi = id_span
    if n:
        in_range = conn.execute(
            "SELECT COUNT(*) FROM inspections WHERE id BETWEEN ? AND ?", (lo, hi)
        ).fetchone()[0]
        if in_range == n:
            return ToolRows(
                "FROM tool_results t WHERE t.tool_id = ? AND t.inspection BETWEEN ? AND ?",
                (lo, hi),
                "i.id BETWEEN ? AND ?",
            )
    return ToolRows(
        f"FROM inspections i JOIN tool_results t ON t.tool_id = ? AND t.inspection = i.id "
        f"WHERE {where}",
        tuple(params),
        where,
    )


def all_tool_ids(conn: sqlite3.Connection) -> list[str]:
    """Every tool id in the database, by skipping along the index (a few lookups, no scan)."""
    found: list[str] = []
    row = conn.execute("SELECT MIN(tool_id) FROM tool_results").fetchone()
    while row is not None and row[0] is not None:
        found.append(str(row[0]))
        row = conn.execute(
            "SELECT MIN(tool_id) FROM tool_results WHERE tool_id > ?", (row[0],)
        ).fetchone()
    return found


def period_tools(conn: sqlite3.Connection, rows: ToolRows) -> list[str]:
    """The tools that ran on the period's parts, in the order they first did (and, on one
    part, in the order their results were recorded)."""
    first: list[tuple[int, int, str]] = []
    for tool_id in all_tool_ids(conn):
        part = conn.execute(rows.sql("MIN(t.inspection)"), (tool_id, *rows.params)).fetchone()[0]
        if part is None:
            continue
        result = conn.execute(
            "SELECT MIN(id) FROM tool_results WHERE tool_id = ? AND inspection = ?",
            (tool_id, part),
        ).fetchone()[0]
        first.append((int(part), int(result), tool_id))
    return [tool_id for _, _, tool_id in sorted(first)]


def _numbers(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> np.ndarray:
    """A query's numeric columns as one flat float64 array, row after row, converted in C
    (no Python loop per row)."""
    cursor = conn.execute(sql, params)
    chunks = []
    while rows := cursor.fetchmany(_CHUNK):
        chunks.append(np.fromiter(itertools.chain.from_iterable(rows), np.float64))
    return np.concatenate(chunks) if chunks else np.empty(0, np.float64)


def _quantile(scores: np.ndarray, q: float) -> float | None:
    return float(np.quantile(scores, q)) if len(scores) else None


def tool_figures(conn: sqlite3.Connection, rows: ToolRows) -> tuple[ToolFigures, ...]:
    """Per tool (and tool type, should one tool id have changed type): verdict counts, score
    median/p95/max, thresholds in force, quality figures."""
    out: list[ToolFigures] = []
    for tool_id in period_tools(conn, rows):
        kinds: dict[str, set[float]] = {}
        for tool_type, threshold in conn.execute(
            rows.sql("DISTINCT t.tool_type, t.threshold"), (tool_id, *rows.params)
        ):
            found = kinds.setdefault(str(tool_type), set())
            if threshold is not None:
                found.add(float(threshold))
        for tool_type, thresholds in kinds.items():
            out.append(_one_tool(conn, rows, tool_id, tool_type, thresholds))
    return tuple(out)


def _one_tool(
    conn: sqlite3.Connection, rows: ToolRows, tool_id: str, tool_type: str, thresholds: set[float]
) -> ToolFigures:
    params = (tool_id, *rows.params, tool_type)
    n, failed, errors, top = conn.execute(
        rows.sql(
            "COUNT(*), SUM(t.verdict = 'FAIL'), SUM(t.verdict = 'ERROR'), MAX(t.score)",
            " AND t.tool_type = ?",
        ),
        params,
    ).fetchone()
    scores = _numbers(
        conn, rows.sql("t.score", " AND t.tool_type = ? AND t.score IS NOT NULL"), params
    )
    median = _quantile(scores, 0.5)
    quality: tuple[tuple[str, float], ...] = ()
    # The code tool's headline score is its weakest symbol's quality; the label tool's is its
    # weakest OCR confidence (schema.headline_score).
    what = {"codes": "code quality", "label": "OCR confidence"}.get(tool_type)
    if what and median is not None:
        quality = ((f"{what} median", median), (f"{what} min", float(scores.min())))
    failed, errors = int(failed or 0), int(errors or 0)
    return ToolFigures(
        tool_id=tool_id,
        tool_type=tool_type,
        passed=int(n) - failed - errors,
        failed=failed,
        errors=errors,
        score_median=median,
        score_p95=_quantile(scores, 0.95),
        score_max=None if top is None else float(top),
        thresholds=tuple(sorted(thresholds)),
        quality=quality,
    )


def threshold_changes(
    conn: sqlite3.Connection, rows: ToolRows, tool_id: str, stations: list[str]
) -> list[ChangeRow]:
    """Where ``tool_id``'s threshold in force changed from one part to the next on a station.

    A result without a threshold (the tool could not run: ERROR) is no change. With one
    station the thresholds come straight from the index; with several, per station through
    the parts.
    """
    out: list[ChangeRow] = []
    for station in stations:
        if len(stations) == 1:
            sql = rows.sql("t.inspection, t.threshold", " AND t.threshold IS NOT NULL")
            params: tuple[Any, ...] = (tool_id, *rows.params)
        else:
            sql = (
                f"SELECT i.id, t.threshold FROM inspections i JOIN tool_results t "
                f"ON t.tool_id = ? AND t.inspection = i.id "
                f"WHERE {rows.parts_where} AND +i.station = ? AND t.threshold IS NOT NULL"
            )
            params = (tool_id, *rows.params, station)
        pairs = _numbers(conn, sql + " ORDER BY 1", params).reshape(-1, 2)
        if len(pairs) < 2:
            continue
        changed = np.flatnonzero(pairs[1:, 1] != pairs[:-1, 1]) + 1
        for k in changed:
            part = int(pairs[k, 0])
            row = conn.execute(
                "SELECT station, wall_time FROM inspections WHERE id = ?", (part,)
            ).fetchone()
            out.append(
                ChangeRow(
                    float(row[1]),
                    "threshold",
                    f"{row[0]}: {tool_id} threshold {pairs[k - 1, 1]:g} → {pairs[k, 1]:g}",
                )
            )
    return out
