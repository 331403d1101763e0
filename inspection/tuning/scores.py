"""One tool's recorded scores over a range, loaded into numpy once for the what-if.

The range's first and last part ids come from the time index; the parts are the ones recorded
between them (record order, which is time order on a station's clock). Their columns come from
``score_columns`` (the live read) through ``scores_cache`` (closed blocks of parts kept on disk),
so a week at the station's full rate loads in about a second; the labels are always read live.

How a tool decides, and so how the what-if decides: a part is rejected when its score is **at or
above** the threshold (``score >= threshold``), as the defect tools do (inspection/tools/anomaly.py
and anomalib_tool.py). Only tools that record a threshold with their score can be tuned here. The
defect tool's minimum region area is not modelled: the recorded score is the image's, the regions
at another threshold are not recorded, so the what-if treats every score at or above the
threshold as a reject.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from inspection.errors import LinesideError
from inspection.evaluation.truth import COVERED_BY_TOOL_TYPE
from inspection.storage.queries import open_reader
from inspection.tuning.labels import LABEL_CODES, Label, label_codes_in_range
from inspection.tuning.score_columns import (
    COLUMN_DTYPES,
    OTHERS_SQL,
    REJECTED_SQL,
    SCORES_SQL,
    read_columns,
)
from inspection.tuning.scores_cache import ScoresCache

__all__ = [  # the SQL stays importable from here, where the tests and callers met it first
    "NEWEST_THRESHOLD_SQL",
    "OTHERS_SQL",
    "REJECTED_SQL",
    "SCORES_SQL",
    "TOOL_ERROR",
    "TOOL_FAIL",
    "TOOL_PASS",
    "LabelSource",
    "ToolScores",
    "TunableTool",
    "TuningError",
    "load_tool_scores",
    "range_ids",
    "tools_recorded",
    "truth_label_codes",
    "tunable_tools",
]

TOOL_PASS, TOOL_FAIL, TOOL_ERROR = 0, 1, 2
LabelSource = Literal["db", "truth"]


class TuningError(LinesideError):
    """A tuning request that cannot be answered: unknown tool, no parts, no threshold."""


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ToolScores:
    """One tool's recorded results over a range; every array has shape (n,), part order.

    ``part_id`` int64 ascending (inspections.id); ``score`` float64 (NaN: none recorded, e.g. the
    tool's ERROR); ``threshold`` float64, the threshold in force for that part (NaN: none);
    ``tool_verdict`` int8 (TOOL_PASS / TOOL_FAIL / TOOL_ERROR); ``others_pass`` bool: the part
    passes when this tool passes it (False when another tool rejected it or the part was an
    ERROR); ``part_passed`` bool: the part's recorded verdict was PASS; ``label`` int8 label
    codes (``labels.LABEL_CODES``, 0 = unlabelled). ``threshold_in_force``: the newest part's.
    """

    tool_id: str
    tool_type: str
    start: float
    end: float
    part_id: np.ndarray
    score: np.ndarray
    threshold: np.ndarray
    tool_verdict: np.ndarray
    others_pass: np.ndarray
    part_passed: np.ndarray
    label: np.ndarray
    threshold_in_force: float | None
    labels_from: LabelSource = "db"

    @property
    def n(self) -> int:
        return int(self.part_id.shape[0])


def range_ids(conn: sqlite3.Connection, start: float, end: float) -> tuple[int, int] | None:
    """The first and last part id recorded in [start, end); None when none (two index seeks)."""
    lo = conn.execute(
        "SELECT id FROM inspections WHERE wall_time >= ? AND wall_time < ? "
        "ORDER BY wall_time LIMIT 1",
        (start, end),
    ).fetchone()
    if lo is None:
        return None
    hi = conn.execute(
        "SELECT id FROM inspections WHERE wall_time >= ? AND wall_time < ? "
        "ORDER BY wall_time DESC LIMIT 1",
        (start, end),
    ).fetchone()
    a, b = int(lo[0]), int(hi[0])
    return (min(a, b), max(a, b))


@contextmanager
def range_reader(
    db: Path, start: float, end: float, *, what: str = "range"
) -> Iterator[tuple[sqlite3.Connection, int, int]]:
    """A read-only connection to ``db`` (plain tuples: numpy reads them straight) with the first
    and last part id recorded in [start, end); closed after. TuningError "the {what} has no
    recorded parts" when there are none."""
    conn = open_reader(db)
    conn.row_factory = None
    try:
        ids = range_ids(conn, start, end)
        if ids is None:
            raise TuningError(f"the {what} has no recorded parts")
        yield conn, ids[0], ids[1]
    finally:
        conn.close()


def tools_recorded(conn: sqlite3.Connection, lo: int, hi: int) -> list[str]:
    """The tools of the range's first and last part (the recipe's tools), sorted."""
    rows = conn.execute(
        "SELECT DISTINCT tool_id FROM tool_results WHERE inspection IN (?, ?)", (lo, hi)
    )
    return sorted(str(r[0]) for r in rows)


@dataclass(frozen=True, slots=True, kw_only=True)
class TunableTool:
    """A tool of the range that records a threshold with its score: it can be tuned here.
    ``threshold``: the newest one it recorded."""

    tool_id: str
    tool_type: str
    threshold: float


TUNING_COLUMNS = tuple(name for name in COLUMN_DTYPES if name != "wall_time")
"""What a tuning load reads of the score cache: everything but the parts' times."""
NEWEST_THRESHOLD_SQL = (
    "SELECT threshold, tool_type FROM (SELECT threshold, tool_type, inspection FROM tool_results "
    "WHERE tool_id = ? AND inspection BETWEEN ? AND ? ORDER BY inspection DESC LIMIT 100) "
    "WHERE threshold IS NOT NULL LIMIT 1"
)
"""A tool's newest threshold among its last 100 results of a part range (a seek into the covering
index). A tool that decides by a threshold records it with every score, so only a run of 100
ERRORs could hide one; reading further would scan the whole slice of a tool that records none."""


def tunable_tools(db: Path, start: float, end: float) -> list[TunableTool]:
    """The tools of the parts recorded in [start, end) that record a threshold, by id.

    TuningError when the range has no parts.
    """
    with range_reader(db, start, end) as (conn, lo, hi):
        out = []
        for tool in tools_recorded(conn, lo, hi):
            row = conn.execute(NEWEST_THRESHOLD_SQL, (tool, lo, hi)).fetchone()
            if row is not None:
                out.append(TunableTool(tool_id=tool, tool_type=str(row[1]), threshold=row[0]))
    return out


def load_tool_scores(
    db: Path,
    tool_id: str,
    start: float,
    end: float,
    *,
    labels: LabelSource = "db",
    cache: ScoresCache | bool = True,
) -> ToolScores:
    """Read ``tool_id``'s results of the parts recorded in [start, end) (UNIX s) into arrays.

    ``labels``: "db" = the engineers' labels (``part_labels``); "truth" = the simulated line's
    ground truth (``truth_label_codes``). ``cache``: True = the score columns of closed part
    blocks kept beside ``db`` (``ScoresCache.beside``), False = every row from the database,
    or a cache of the caller's; the result is the same. TuningError when the range has no parts
    or the tool has no results in it.
    """
    if cache is True:
        cache = ScoresCache.beside(Path(db))
    with range_reader(db, start, end) as (conn, lo, hi):
        if cache is False:
            columns = read_columns(conn, tool_id, lo, hi)
        else:
            columns = cache.columns(conn, tool_id, lo, hi, names=TUNING_COLUMNS)
        if not columns.n:
            known = ", ".join(tools_recorded(conn, lo, hi)) or "none"
            raise TuningError(f"no results of tool {tool_id!r} in the range; tools: {known}")
        part_id = columns.part_id
        tool_type = str(
            conn.execute(
                "SELECT tool_type FROM tool_results WHERE tool_id = ? AND inspection = ?",
                (tool_id, int(part_id[-1])),
            ).fetchone()[0]
        )
        if labels == "truth":
            label = truth_label_codes(conn, part_id, lo, hi, tool_type)
        else:
            label = label_codes_in_range(conn, part_id, lo, hi, tool_id)
    part_passed, tool_verdict = columns.part_passed, columns.tool_verdict
    # A rejected part passes with this tool's say-so only when this tool alone rejected it
    others_pass = part_passed | (
        (tool_verdict == TOOL_FAIL) & ~columns.part_error & ~columns.other_failed
    )
    threshold = columns.threshold
    finite = threshold[np.isfinite(threshold)]
    return ToolScores(
        tool_id=tool_id,
        tool_type=tool_type,
        start=start,
        end=end,
        part_id=part_id,
        score=columns.score,
        threshold=threshold,
        tool_verdict=tool_verdict,
        others_pass=others_pass,
        part_passed=part_passed,
        label=label,
        threshold_in_force=float(finite[-1]) if len(finite) else None,
        labels_from=labels,
    )


def truth_label_codes(
    conn: sqlite3.Connection, part_ids: np.ndarray, lo: int, hi: int, tool_type: str
) -> np.ndarray:
    """Labels from the simulated line's ground truth (``inspections.truth``, a PartTruth).

    A part whose truth lists a defect this kind of tool is meant to catch is "defect", any other
    part with a truth is "good" (its defects are other tools' to catch); no truth: unlabelled.
    Which defects a tool type is meant to catch is ``COVERED_BY_TOOL_TYPE`` in
    inspection/evaluation/truth.py, the mapping `lineside run` compares verdicts with.
    """
    caught = COVERED_BY_TOOL_TYPE.get(tool_type)
    if caught is None:
        kinds = ", ".join(sorted(COVERED_BY_TOOL_TYPE))
        raise TuningError(
            f"--labels truth: the simulated line has no defects for a {tool_type!r} tool to "
            f"catch (tool types with simulated defects: {kinds})"
        )
    codes = np.zeros(part_ids.shape, dtype=np.int8)
    rows = conn.execute(
        "SELECT id, truth FROM inspections WHERE id BETWEEN ? AND ? AND truth IS NOT NULL",
        (lo, hi),
    ).fetchall()
    good, defect = LABEL_CODES[Label.GOOD], LABEL_CODES[Label.DEFECT]
    for rowid, text in rows:
        at = int(np.searchsorted(part_ids, rowid))
        if at >= len(part_ids) or part_ids[at] != rowid:
            continue
        defects = json.loads(text).get("defects") or ()
        codes[at] = defect if caught.intersection(defects) else good
    return codes
