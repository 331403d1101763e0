"""Suggested thresholds on a hand-built labelled set: exact thresholds and consequences."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from support.tuning_parts import T0, Part, write_parts

from inspection.tuning.labels import set_label
from inspection.tuning.scores import load_tool_scores
from inspection.tuning.suggest import BEST_YIELD, NO_ESCAPES, suggest
from inspection.tuning.whatif import ThresholdView

LABELLED = [
    (0.1, "good"), (0.2, "good"), (0.3, "good"), (0.45, "good"), (0.55, "good"),
    (0.4, "defect"), (0.6, "defect"), (0.7, "defect"), (0.9, "defect"), (0.35, "escape"),
]  # fmt: skip
UNLABELLED = [Part(0.05), Part(0.15), Part(0.25), Part(0.52), Part(0.1, label_fails=True)]


@pytest.fixture
def view(db: Path) -> ThresholdView:
    parts = [Part(s) for s, _ in LABELLED] + UNLABELLED + [Part(math.nan)]
    write_parts(db, parts)
    for i, (_, label) in enumerate(LABELLED, start=1):
        set_label(db, i, label)
    return ThresholdView(load_tool_scores(db, "surface", T0, T0 + 10 * len(parts)))


def test_the_highest_threshold_with_no_escapes(view: ThresholdView) -> None:
    first = suggest(view)[0]
    assert first.kind == NO_ESCAPES and first.threshold == 0.35
    assert (first.false_rejects, first.escapes) == (2, 0)
    assert first.yield_ == pytest.approx(6 / 16)
    assert "all 5 parts labelled defect or escape" in first.why
    assert "scored 0.35" in first.why and "2 of the 5 parts labelled good" in first.why


def test_the_best_yield_at_n_escapes(view: ThresholdView) -> None:
    one = suggest(view, max_escapes=1)[1]
    assert one.kind == BEST_YIELD and one.threshold == 0.4
    assert (one.false_rejects, one.escapes) == (2, 1)
    assert one.yield_ == pytest.approx(7 / 16)
    two = suggest(view, max_escapes=2)[1]
    assert two.threshold == 0.6 and (two.false_rejects, two.escapes) == (0, 2)
    # 0.45, 0.55 (good), 0.52 (unlabelled), 0.35, 0.4 (bad) pass too
    assert two.yield_ == pytest.approx(11 / 16)
    assert "at most 2 of the 5" in two.why


def test_no_best_yield_suggestion_when_every_bad_part_may_pass(view: ThresholdView) -> None:
    assert [s.kind for s in suggest(view, max_escapes=5)] == [NO_ESCAPES]
    assert [s.kind for s in suggest(view, max_escapes=0)] == [NO_ESCAPES]


def test_nothing_to_suggest_without_bad_labels(db: Path) -> None:
    write_parts(db, [Part(0.1), Part(0.7)])
    set_label(db, 1, "good")
    assert suggest(ThresholdView(load_tool_scores(db, "surface", T0, T0 + 20))) == []
