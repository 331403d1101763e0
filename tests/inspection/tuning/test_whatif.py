"""What-if on recorded scores: equal to a plain numpy computation on the same database."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from support.tuning_parts import T0, THRESHOLD, Part, write_parts

from inspection.storage.queries import open_reader
from inspection.tuning.labels import set_label
from inspection.tuning.scores import (
    OTHERS_SQL,
    REJECTED_SQL,
    SCORES_SQL,
    TuningError,
    load_tool_scores,
)
from inspection.tuning.whatif import ThresholdView, change

N = 300
END = T0 + 10 * N


@pytest.fixture
def history(db: Path) -> Path:
    rng = np.random.default_rng(7)
    scores = rng.uniform(0.0, 1.0, N)
    scores[rng.choice(N, 6, replace=False)] = math.nan  # the tool's ERRORs
    label_fails = rng.random(N) < 0.05
    write_parts(
        db, [Part(float(s), label_fails=bool(f)) for s, f in zip(scores, label_fails, strict=True)]
    )
    for part in rng.choice(np.arange(1, N + 1), 80, replace=False):
        set_label(db, int(part), str(rng.choice(["good", "defect", "escape", "unsure"])))
    return db


def plain(db: Path, t: float) -> dict[str, float]:
    """The counts at ``t`` straight from the rows, one part at a time."""
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT inspection, tool_id, verdict, score FROM tool_results").fetchall()
    labels = dict(
        conn.execute(
            "SELECT inspection, label FROM part_labels WHERE id IN "
            "(SELECT MAX(id) FROM part_labels GROUP BY inspection)"
        ).fetchall()
    )
    conn.close()
    parts: dict[int, dict] = {}
    for part, tool, verdict, score in rows:
        parts.setdefault(part, {})[tool] = (verdict, score)
    fr = esc = passed = 0
    for part, tools in parts.items():
        verdict, score = tools["surface"]
        scored = verdict != "ERROR" and score is not None
        label = labels.get(part)
        if scored and label == "good" and score >= t:
            fr += 1
        if scored and label in ("defect", "escape") and score < t:
            esc += 1
        others_ok = all(v == "PASS" for name, (v, _) in tools.items() if name != "surface")
        passed += int(scored and score < t and others_ok)
    return {"false_rejects": fr, "escapes": esc, "yield": passed / len(parts)}


@pytest.mark.parametrize("t", [0.0, 0.2, THRESHOLD, 0.5000001, 0.73, 1.5])
def test_counts_at_a_threshold_equal_numpy_on_the_database(history: Path, t: float) -> None:
    view = ThresholdView(load_tool_scores(history, "surface", T0, END))
    c = view.counts_at(t)
    want = plain(history, t)
    assert (c.false_rejects, c.escapes) == (want["false_rejects"], want["escapes"])
    assert c.yield_ == pytest.approx(want["yield"])
    assert c.parts == N


def test_the_threshold_in_force_predicts_the_recorded_verdicts(history: Path) -> None:
    scores = load_tool_scores(history, "surface", T0, END)
    view = ThresholdView(scores)
    assert view.in_force == THRESHOLD
    c = view.counts_at(THRESHOLD)
    assert c.flips == 0
    assert c.yield_ == pytest.approx(scores.part_passed.mean())


def test_flips_are_the_parts_whose_verdict_changes(db: Path) -> None:
    write_parts(db, [Part(0.3), Part(0.45), Part(0.55), Part(0.6, label_fails=True), Part(0.8)])
    view = ThresholdView(load_tool_scores(db, "surface", T0, T0 + 50))
    assert view.flips_at(0.4).newly_rejected.tolist() == [2]
    # part 4 stays rejected by its label tool
    assert view.flips_at(0.7).newly_passed.tolist() == [3]
    assert view.flips_at(0.9).newly_passed.tolist() == [3, 5]
    c = view.counts_at(0.9)
    assert (c.newly_passed, c.newly_rejected, c.passed) == (2, 0, 4)
    moved = change(view.counts_at(THRESHOLD), c)
    assert moved.yield_ == pytest.approx(2 / 5)


def test_histogram_split_by_label(db: Path) -> None:
    write_parts(db, [Part(0.1), Part(0.2), Part(0.6), Part(0.9), Part(math.nan)])
    set_label(db, 1, "good")
    set_label(db, 3, "defect")
    set_label(db, 4, "unsure")
    h = ThresholdView(load_tool_scores(db, "surface", T0, T0 + 50)).histogram(bins=4)
    assert h.edges.tolist() == pytest.approx([0.1, 0.3, 0.5, 0.7, 0.9])
    assert h.good.tolist() == [1, 0, 0, 0]
    assert h.defect.tolist() == [0, 0, 1, 0]
    assert h.unlabelled.tolist() == [1, 0, 0, 1]


def test_roc_and_pr_points(db: Path) -> None:
    write_parts(db, [Part(0.1), Part(0.3), Part(0.6), Part(0.4), Part(0.8)])
    for part, label in ((1, "good"), (2, "good"), (3, "good"), (4, "defect"), (5, "escape")):
        set_label(db, part, label)
    view = ThresholdView(load_tool_scores(db, "surface", T0, T0 + 50))
    curves = view.curves()
    assert curves.thresholds[0] > 0.8 and curves.tpr[0] == 0 and curves.fpr[0] == 0
    assert curves.tpr[-1] == 1 and curves.fpr[-1] == 1
    fpr, tpr, precision = view.point_at(0.5)
    assert (fpr, tpr, precision) == pytest.approx((1 / 3, 1 / 2, 1 / 2))


def test_a_range_with_no_parts_or_an_unknown_tool(db: Path) -> None:
    write_parts(db, [Part(0.1)])
    with pytest.raises(TuningError, match="no recorded parts"):
        load_tool_scores(db, "surface", T0 + 100, T0 + 200)
    with pytest.raises(TuningError, match=r"no results of tool 'nope'.*tools: label, surface"):
        load_tool_scores(db, "nope", T0, T0 + 10)


def test_the_score_load_reads_indexes_only(history: Path) -> None:
    conn = open_reader(history)
    try:
        plans = {
            name: " | ".join(str(r[3]) for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
            for name, sql, params in (
                ("scores", SCORES_SQL, ("surface", 1, N)),
                ("rejected", REJECTED_SQL, (1, N)),
                ("others", OTHERS_SQL, ("surface", 1, N, "surface")),
            )
        }
    finally:
        conn.close()
    assert (
        "COVERING INDEX tool_results_scores (tool_id=? AND inspection>? AND inspection<?)"
        in (plans["scores"])
    )
    assert "INDEX inspections_verdict (verdict=? AND rowid>? AND rowid<?)" in plans["rejected"]
    assert "INDEX tool_results_inspection (inspection=?)" in plans["others"]
    for plan in plans.values():
        assert "SCAN" not in plan, plan


def test_a_part_passed_by_the_minimum_area_passes_at_and_above_its_threshold() -> None:
    """Its score reached the threshold but its findings were too small: raising the threshold
    only shrinks them, so it never shows as a flip there; below it, it counts as rejected."""
    from inspection.tuning.scores import TOOL_FAIL, TOOL_PASS, ToolScores

    scores = ToolScores(
        tool_id="surface",
        tool_type="anomaly",
        start=0.0,
        end=1.0,
        part_id=np.array([1, 2, 3], dtype=np.int64),
        score=np.array([0.30, 0.70, 0.90]),  # part 2 passed though 0.70 >= 0.50
        threshold=np.array([0.5, 0.5, 0.5]),
        tool_verdict=np.array([TOOL_PASS, TOOL_PASS, TOOL_FAIL], dtype=np.int8),
        others_pass=np.array([True, True, True]),
        part_passed=np.array([True, True, False]),
        label=np.zeros(3, dtype=np.int8),
        threshold_in_force=0.5,
    )
    view = ThresholdView(scores)
    at = view.counts_at(0.5)
    assert (at.newly_rejected, at.newly_passed, at.passed) == (0, 0, 2)  # as recorded
    assert view.counts_at(0.8).newly_rejected == 0  # still passes by its small findings
    assert view.counts_at(0.4).newly_rejected == 1  # its findings below 0.5: not known
    assert view.flips_at(0.5).newly_rejected.tolist() == []
