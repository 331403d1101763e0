"""Threshold from labelled images: in the gap when they separate, never under a good part."""

from __future__ import annotations

import pytest

from inspection.inference.anomaly.calibration import from_labelled


def test_separable_scores_put_the_threshold_mid_gap():
    cal = from_labelled([0.9, 1.0, 1.2], [2.0, 3.0])
    assert cal.threshold == pytest.approx(1.6)
    assert cal.details["f1"] == 1.0


def test_overlap_misses_a_faint_defect_rather_than_rejecting_a_good_part():
    # one faint defect (1.1) scores below the worst good part (1.5)
    cal = from_labelled([1.0, 1.2, 1.5], [1.1, 2.5, 3.0])
    assert cal.threshold > 1.5
    assert cal.threshold == pytest.approx(2.0)  # midway to the next defect above


def test_tight_good_scores_get_the_floor_and_a_wide_tail_gets_room_above_it():
    from inspection.inference.anomaly.calibration import FLOOR, from_good

    tight = from_good([0.95, 1.0, 1.0, 1.05])
    assert tight.threshold == FLOOR == 1.3
    wide = from_good([0.9, 1.0, 1.0, 1.4])
    assert wide.threshold >= 1.1 * 1.4  # never at or below a held-out good part
