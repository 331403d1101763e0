"""The review queue's filters and paging."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.tuning_parts import T0, Part, write_parts

from inspection.storage.queries import open_reader
from inspection.tuning.labels import Label, set_label
from inspection.tuning.queue import ReviewFilter, near_threshold_sql, review_page
from inspection.tuning.scores import TuningError
from inspection.types import Verdict

SCORES = [0.1, 0.42, 0.7, 0.3, 0.48, 0.2, 0.9, 0.45, 0.05, 0.15]
# part ids 1..10; rejects: 3 (0.7), 7 (0.9), 9 (label tool); near 0.5 within 0.1: 2, 5, 8


@pytest.fixture
def queue_db(db: Path) -> Path:
    parts = [Part(s, label_fails=(i == 8)) for i, s in enumerate(SCORES)]
    write_parts(db, parts)
    set_label(db, 3, "defect")
    return db


def ids(db: Path, f: ReviewFilter, **kw) -> list[int]:
    return [item.part_id for item in review_page(db, f, **kw).items]


def test_rejects_of_a_shift_with_the_tools_score_and_label(queue_db: Path) -> None:
    f = ReviewFilter(kind="rejects", production_day="2026-05-28", shift="Early", tool="surface")
    page = review_page(queue_db, f)
    assert [i.part_id for i in page.items] == [9, 7, 3]
    third = page.items[2]
    assert third.inspection_id == "run1-00002" and third.verdict is Verdict.FAIL
    assert (third.score, third.threshold, third.tool_verdict) == (0.7, 0.5, Verdict.FAIL)
    assert third.label is Label.DEFECT and page.items[0].label is None
    assert third.wall_time == T0 + 20


def test_one_tools_findings_in_a_range(queue_db: Path) -> None:
    f = ReviewFilter(kind="tool_findings", tool="label", start=T0, end=T0 + 100)
    assert ids(queue_db, f) == [9]
    f = ReviewFilter(kind="tool_findings", tool="surface", start=T0 + 30, end=T0 + 100)
    assert ids(queue_db, f) == [7]


def test_passes_near_the_threshold_paged(queue_db: Path) -> None:
    f = ReviewFilter(kind="near_threshold", tool="surface", start=T0, end=T0 + 100, band=0.1)
    first = review_page(queue_db, f, limit=2)
    assert [i.part_id for i in first.items] == [8, 5] and first.next_before == 5
    rest = review_page(queue_db, f, before=first.next_before, limit=2)
    assert [i.part_id for i in rest.items] == [2] and rest.next_before is None
    narrow = ReviewFilter(kind="near_threshold", tool="surface", band=0.04)
    assert ids(queue_db, narrow) == [5]  # 0.46 <= score < 0.5


def test_near_threshold_reads_the_tools_index(queue_db: Path) -> None:
    f = ReviewFilter(kind="near_threshold", tool="surface", start=T0, end=T0 + 100)
    sql, params = near_threshold_sql(f, (1, 10), None)
    conn = open_reader(queue_db)
    try:
        plan = " | ".join(
            str(r[3]) for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", {**params, "limit": 5})
        )
    finally:
        conn.close()
    assert "tool_results_scores (tool_id=? AND inspection>? AND inspection<?)" in plan, plan
    assert "SCAN" not in plan, plan


def test_a_seeded_sample_of_passes(queue_db: Path) -> None:
    f = ReviewFilter(kind="sample_passes", start=T0, end=T0 + 100, sample=4, seed=3)
    drawn = ids(queue_db, f)
    assert len(drawn) == 4 and drawn == sorted(drawn, reverse=True)
    assert not {3, 7, 9} & set(drawn)  # passes only
    assert ids(queue_db, f) == drawn  # the same seed, the same parts
    others = {tuple(ids(queue_db, ReviewFilter(kind="sample_passes", sample=4, seed=s)))
              for s in range(6)}  # fmt: skip
    assert len(others) > 1
    everything = ReviewFilter(kind="sample_passes", sample=50)
    assert ids(queue_db, everything) == [10, 8, 6, 5, 4, 2, 1]
    assert ids(queue_db, everything, before=5, limit=2) == [4, 2]


def test_a_queue_needs_its_tool(queue_db: Path) -> None:
    with pytest.raises(TuningError, match="queue near_threshold: choose the tool"):
        ReviewFilter(kind="near_threshold")
