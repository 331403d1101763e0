"""The review queue: recorded parts for an engineer to label, a page at a time, newest first.

Four kinds of queue over a range (a shift, or start/end):

* ``rejects``: the parts the line rejected (FAIL or ERROR) — were they right?
* ``tool_findings``: the parts one tool did not pass;
* ``near_threshold``: parts one tool passed with a score within ``band`` below the threshold in
  force for that part — the ones a lower threshold would reject first;
* ``sample_passes``: a seeded random sample of passed parts, to find escapes. The same seed
  gives the same sample, so paging and coming back later show the same parts.

Rejects and a tool's findings are the History room's own queries (``find_parts``); each item
carries the chosen tool's score and threshold and the part's label in force.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from inspection.history.filters import PartFilter, conditions
from inspection.history.pages import find_parts
from inspection.storage.queries import open_reader
from inspection.tuning.labels import Label, newest_labels
from inspection.tuning.scores import TuningError, range_ids
from inspection.types import Verdict

QueueKind = Literal["rejects", "tool_findings", "near_threshold", "sample_passes"]
QUEUE_KINDS: tuple[QueueKind, ...] = ("rejects", "tool_findings", "near_threshold", "sample_passes")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewFilter:
    """Which parts to review. The range: ``start``/``end`` (UNIX s, end excluded) and/or a
    ``production_day`` with its ``shift``; ``tool`` is needed by tool_findings and
    near_threshold and, for the others, says whose score each item shows. ``band``: score units.
    """

    kind: QueueKind
    start: float | None = None
    end: float | None = None
    production_day: str | None = None
    shift: str | None = None
    tool: str = ""
    band: float = 0.1
    sample: int = 200
    seed: int = 0
    part_filter: PartFilter = field(init=False)

    def __post_init__(self) -> None:
        if self.kind not in QUEUE_KINDS:
            raise TuningError(f"queue {self.kind!r}: choose one of {', '.join(QUEUE_KINDS)}")
        if self.kind in ("tool_findings", "near_threshold") and not self.tool.strip():
            raise TuningError(f"queue {self.kind}: choose the tool")
        if not self.band > 0 or self.sample < 1:
            raise TuningError("queue: band must be > 0 and sample >= 1")
        verdicts = frozenset({Verdict.FAIL, Verdict.ERROR}) if self.kind == "rejects" else None
        base = PartFilter(
            start=self.start,
            end=self.end,
            production_day=self.production_day,
            shift=self.shift,
            verdicts=verdicts or frozenset(),
            tool=self.tool if self.kind == "tool_findings" else "",
        )
        object.__setattr__(self, "part_filter", base)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewItem:
    """One part to review. ``score``/``threshold``/``tool_verdict``: the filter's tool on this
    part (None without a tool or a result); ``label``: the label in force (None: unlabelled)."""

    part_id: int
    inspection_id: str
    part_number: int  # part_seq + 1, as operators count (as History shows it)
    wall_time: float
    verdict: Verdict
    image_path: str | None
    tool: str
    score: float | None
    threshold: float | None
    tool_verdict: Verdict | None
    label: Label | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewPage:
    """Items newest first; ``next_before`` is the key of the next page (None: last page)."""

    items: tuple[ReviewItem, ...]
    next_before: int | None


def review_page(
    db: Path, f: ReviewFilter, *, before: int | None = None, limit: int = 50
) -> ReviewPage:
    """One page of ``f``'s parts with ``id < before`` (all when None)."""
    if limit < 1:
        raise TuningError(f"review_page(): limit must be >= 1, got {limit}")
    conn = open_reader(db)
    try:
        if f.kind in ("rejects", "tool_findings"):
            page = find_parts(conn, f.part_filter, before=before, limit=limit)
            ids = [r.id for r in page.rows]
            more = page.next_before is not None
        elif f.kind == "near_threshold":
            ids = _near_threshold(conn, f, before, limit + 1)
            more, ids = len(ids) > limit, ids[:limit]
        else:
            sample = [i for i in _sample_of_passes(conn, f) if before is None or i < before]
            more, ids = len(sample) > limit, sample[:limit]
        items = _items(conn, ids, f.tool.strip())
    finally:
        conn.close()
    return ReviewPage(items=items, next_before=items[-1].part_id if more and items else None)


def _id_bounds(conn: sqlite3.Connection, f: ReviewFilter) -> tuple[int, int] | None:
    """The range's lowest and highest part id (from the time or the shift index)."""
    if f.production_day:
        terms, params = conditions(PartFilter(production_day=f.production_day, shift=f.shift))
        lo, hi = conn.execute(
            f"SELECT MIN(id), MAX(id) FROM inspections WHERE {' AND '.join(terms)}", params
        ).fetchone()
        return None if lo is None else (int(lo), int(hi))
    if f.start is not None or f.end is not None:
        start = -np.inf if f.start is None else f.start
        end = np.inf if f.end is None else f.end
        return range_ids(conn, float(start), float(end))
    lo, hi = conn.execute("SELECT MIN(id), MAX(id) FROM inspections").fetchone()
    return None if lo is None else (int(lo), int(hi))


def near_threshold_sql(
    f: ReviewFilter, bounds: tuple[int, int], before: int | None
) -> tuple[str, dict[str, Any]]:
    """The SQL and parameters of a near-threshold page (public for EXPLAIN QUERY PLAN)."""
    terms, params = conditions(
        PartFilter(start=f.start, end=f.end, production_day=f.production_day, shift=f.shift)
    )
    params.update(tool=f.tool.strip(), lo=bounds[0], hi=bounds[1], band=float(f.band))
    where = [
        "t.tool_id = :tool",
        "t.inspection BETWEEN :lo AND :hi",
        "t.verdict = 'PASS'",
        "t.score >= t.threshold - :band",
        "t.score < t.threshold",
        *terms,
    ]
    if before is not None:
        where.append("t.inspection < :before")
        params["before"] = int(before)
    sql = (
        "SELECT t.inspection FROM tool_results t JOIN inspections i ON i.id = t.inspection "
        f"WHERE {' AND '.join(where)} ORDER BY t.inspection DESC LIMIT :limit"
    )
    return sql, params


def _near_threshold(
    conn: sqlite3.Connection, f: ReviewFilter, before: int | None, limit: int
) -> list[int]:
    bounds = _id_bounds(conn, f)
    if bounds is None:
        return []
    sql, params = near_threshold_sql(f, bounds, before)
    return [int(r[0]) for r in conn.execute(sql, {**params, "limit": int(limit)})]


def _sample_of_passes(conn: sqlite3.Connection, f: ReviewFilter) -> list[int]:
    """``f.sample`` passed parts of the range drawn with ``f.seed``, newest first."""
    bounds = _id_bounds(conn, f)
    if bounds is None:
        return []
    lo, hi = bounds
    rng = np.random.default_rng(f.seed)
    population = hi - lo + 1
    # draw more than asked: some drawn ids are rejects or gaps; the draw order is the sample's
    drawn = rng.choice(population, size=min(population, 3 * f.sample + 100), replace=False) + lo
    terms, params = conditions(
        PartFilter(start=f.start, end=f.end, production_day=f.production_day, shift=f.shift)
    )
    passed: set[int] = set()
    for chunk in range(0, len(drawn), 500):
        part = [int(i) for i in drawn[chunk : chunk + 500]]
        marks = ",".join(f":p{k}" for k in range(len(part)))
        sql = f"SELECT id FROM inspections WHERE id IN ({marks}) AND verdict = 'PASS'" + "".join(
            f" AND {t}" for t in terms
        )
        passed.update(
            int(r[0])
            for r in conn.execute(sql, {**params, **{f"p{k}": v for k, v in enumerate(part)}})
        )
    chosen = [int(i) for i in drawn if int(i) in passed][: f.sample]
    return sorted(chosen, reverse=True)


def _items(conn: sqlite3.Connection, ids: list[int], tool: str) -> tuple[ReviewItem, ...]:
    if not ids:
        return ()
    marks = ",".join("?" * len(ids))
    parts = {
        int(r[0]): r
        for r in conn.execute(
            f"SELECT id, inspection_id, wall_time, verdict, image_path, part_seq FROM inspections "
            f"WHERE id IN ({marks})",
            ids,
        )
    }
    results: dict[int, Any] = {}
    if tool:
        results = {
            int(r[0]): r
            for r in conn.execute(
                f"SELECT inspection, score, threshold, verdict FROM tool_results "
                f"WHERE tool_id = ? AND inspection IN ({marks})",
                (tool, *ids),
            )
        }
    labels = newest_labels(conn, ids, tool=tool or None)
    items = []
    for i in ids:
        p, t = parts[i], results.get(i)
        items.append(
            ReviewItem(
                part_id=i,
                inspection_id=str(p[1]),
                part_number=int(p[5]) + 1,
                wall_time=float(p[2]),
                verdict=Verdict(p[3]),
                image_path=p[4],
                tool=tool,
                score=None if t is None or t[1] is None else float(t[1]),
                threshold=None if t is None or t[2] is None else float(t[2]),
                tool_verdict=None if t is None else Verdict(t[3]),
                label=labels[i].label if i in labels else None,
            )
        )
    return tuple(items)
