"""One tool's recorded results of a part-id range as columns, read straight from the database.

This is the live read: every row costs Python's sqlite3 a tuple, which is what a week at the
station's full rate spends its time on (~1 s per million parts). ``scores_cache`` keeps the
columns of closed part blocks on disk so only the open end is read this way.

Each query reads an index range, never every part: the tool's (part, verdict, score, threshold)
from its slice of the covering index ``tool_results_scores``, the range's rejected parts from the
verdict index and the parts another tool also rejected from the tool's not-passed index. Every
column depends only on the rows of the range's own parts, so the columns of two adjacent ranges
joined are the columns of the two read as one.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np

SCORES_SQL = (
    "SELECT t.inspection * 4 + (t.verdict <> 'PASS') + (t.verdict = 'ERROR'), t.score, "
    "t.threshold, i.wall_time FROM tool_results t JOIN inspections i ON i.id = t.inspection "
    "WHERE t.tool_id = ? AND t.inspection BETWEEN ? AND ? ORDER BY t.inspection"
)
"""The tool's rows of a part range from the covering index, with each part's time (a seek by
part id). Part id and verdict travel packed in one integer (id * 4 + verdict code): each value a
row carries costs time in Python's sqlite3, and this load is the one an engineer waits for (a
third faster than separate columns). The time is for the Trends page, whose per-part score
series reads these columns too (``inspection/trends/series.py``)."""
REJECTED_SQL = (
    "SELECT id, verdict = 'ERROR' FROM inspections WHERE verdict IN ('FAIL', 'ERROR') "
    "AND id BETWEEN ? AND ?"
)
OTHERS_SQL = (
    "SELECT DISTINCT t.inspection FROM tool_results t JOIN tool_results o "
    "ON o.inspection = t.inspection WHERE t.tool_id = ? AND t.verdict <> 'PASS' "
    "AND t.inspection BETWEEN ? AND ? AND o.tool_id <> ? AND o.verdict <> 'PASS'"
)
# numpy reads SQL NULL as NaN in a float field
_ROW = np.dtype(
    [("key", np.int64), ("score", np.float64), ("threshold", np.float64), ("wall_time", np.float64)]
)

COLUMN_DTYPES: dict[str, np.dtype] = {
    "part_id": np.dtype(np.int64),
    "score": np.dtype(np.float64),
    "threshold": np.dtype(np.float64),
    "wall_time": np.dtype(np.float64),
    "tool_verdict": np.dtype(np.int8),
    "part_passed": np.dtype(np.bool_),
    "part_error": np.dtype(np.bool_),
    "other_failed": np.dtype(np.bool_),
}
"""Every column and its dtype (the cache checks a file against this)."""


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ScoreColumns:
    """One tool's rows of a part range; every array has shape (n,), part order.

    ``part_id`` int64 ascending; ``score`` float64 and ``threshold`` float64 (NaN: none);
    ``wall_time`` float64 epoch seconds the part was recorded at;
    ``tool_verdict`` int8 (0 PASS, 1 FAIL, 2 ERROR); ``part_passed`` bool: the part's verdict was
    PASS; ``part_error`` bool: it was ERROR; ``other_failed`` bool: this tool did not pass the
    part and another tool did not pass it either.
    """

    part_id: np.ndarray
    score: np.ndarray
    threshold: np.ndarray
    wall_time: np.ndarray
    tool_verdict: np.ndarray
    part_passed: np.ndarray
    part_error: np.ndarray
    other_failed: np.ndarray

    @property
    def n(self) -> int:
        return int(self.part_id.shape[0])

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in COLUMN_DTYPES}

    def between(self, lo: int, hi: int) -> ScoreColumns:
        """The rows of parts ``lo``..``hi`` (inclusive); views, no copy."""
        a, b = np.searchsorted(self.part_id, [lo, hi + 1])
        return ScoreColumns(**{k: v[a:b] for k, v in self.arrays().items()})


def empty_columns() -> ScoreColumns:
    return ScoreColumns(**{k: np.empty(0, dtype=d) for k, d in COLUMN_DTYPES.items()})


def read_columns(conn: sqlite3.Connection, tool_id: str, lo: int, hi: int) -> ScoreColumns:
    """``tool_id``'s rows of parts ``lo``..``hi`` (inclusive) from the database.

    ``conn`` must return plain tuples (``row_factory = None``).
    """
    rows = np.fromiter(conn.execute(SCORES_SQL, (tool_id, lo, hi)), dtype=_ROW)
    part_id = rows["key"] >> 2
    tool_verdict = (rows["key"] & 3).astype(np.int8)
    rejected = np.array(conn.execute(REJECTED_SQL, (lo, hi)).fetchall(), dtype=np.int64)
    others = np.fromiter(
        (r[0] for r in conn.execute(OTHERS_SQL, (tool_id, lo, hi, tool_id))), dtype=np.int64
    )
    part_passed = np.ones(part_id.shape, dtype=bool)
    part_error = np.zeros(part_id.shape, dtype=bool)
    if len(rejected) and len(part_id):
        at = np.searchsorted(part_id, rejected[:, 0])
        inside = at < len(part_id)
        inside[inside] = part_id[at[inside]] == rejected[inside, 0]
        part_passed[at[inside]] = False
        part_error[at[inside]] = rejected[inside, 1].astype(bool)
    return ScoreColumns(
        part_id=part_id,
        score=rows["score"].copy(),
        threshold=rows["threshold"].copy(),
        wall_time=rows["wall_time"].copy(),
        tool_verdict=tool_verdict,
        part_passed=part_passed,
        part_error=part_error,
        other_failed=np.isin(part_id, others),
    )
