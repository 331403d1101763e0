"""Control limits from a baseline, against values worked out by hand; storing them."""

from __future__ import annotations

import dataclasses
import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from inspection.trends.limits import (
    individuals_limits,
    limits_history,
    load_limits,
    p_limits,
    p_sigmas,
    save_limits,
    subgroup_means,
    xbar_r_limits,
)


def test_individuals_limits_from_the_moving_range():
    # mean 11; moving ranges 2, 1, 2, 4 -> MR-bar 2.25; sigma 2.25 / 1.128 = 1.994681
    limits = individuals_limits(
        np.array([10.0, 12.0, 11.0, 13.0, 9.0]), np.array([100.0, 110, 120, 130, 140]), series="s.x"
    )
    assert limits.chart == "individuals"
    assert limits.centre == pytest.approx(11.0)
    assert limits.sigma == pytest.approx(1.994681, abs=1e-6)
    assert limits.ucl == pytest.approx(16.984043, abs=1e-6)
    assert limits.lcl == pytest.approx(5.015957, abs=1e-6)
    assert limits.range_centre == pytest.approx(2.25)
    assert limits.range_ucl == pytest.approx(7.35075)  # D4 = 3.267
    assert (limits.baseline_from, limits.baseline_to, limits.baseline_n) == (100.0, 140.0, 5)


def test_xbar_r_limits_over_subgroups_of_three():
    # subgroups (1,2,3) (2,4,6) (3,3,3); the 10th value makes no full subgroup and is left out.
    # means 2, 4, 3 -> X-double-bar 3; ranges 2, 4, 0 -> R-bar 2; A2 = 1.023, D3 = 0, D4 = 2.574
    values = np.array([1, 2, 3, 2, 4, 6, 3, 3, 3, 9], dtype=float)
    limits = xbar_r_limits(values, 3, np.arange(10.0))
    assert limits.chart == "xbar" and limits.subgroup == 3
    assert limits.centre == pytest.approx(3.0)
    assert limits.ucl == pytest.approx(3 + 1.023 * 2)
    assert limits.lcl == pytest.approx(3 - 1.023 * 2)
    assert limits.sigma == pytest.approx(1.023 * 2 / 3)
    assert (limits.range_centre, limits.range_lcl) == (pytest.approx(2.0), 0.0)
    assert limits.range_ucl == pytest.approx(5.148)
    assert (limits.baseline_n, limits.baseline_to) == (9, 8.0)
    t, means, ranges = subgroup_means(values, 3, np.arange(10.0))
    assert t.tolist() == [2.0, 5.0, 8.0] and means.tolist() == [2.0, 4.0, 3.0]
    assert ranges.tolist() == [2.0, 4.0, 0.0]


def test_p_limits_at_the_mean_interval_size():
    # 373 of 400 -> p-bar 0.9325; n-bar 133.33; sigma sqrt(0.9325 * 0.0675 / 133.33) = 0.021727
    limits = p_limits(np.array([95, 90, 188]), np.array([100, 100, 200]), np.array([0.0, 60, 120]))
    assert limits.chart == "p"
    assert limits.centre == pytest.approx(0.9325)
    assert limits.sigma == pytest.approx(0.0217274, abs=1e-6)
    assert limits.ucl == pytest.approx(0.9325 + 3 * 0.0217274, abs=1e-5)
    assert limits.lcl == pytest.approx(0.9325 - 3 * 0.0217274, abs=1e-5)
    # each interval has its own sigma: sqrt(p(1-p)/n)
    assert p_sigmas(limits, np.array([100, 400])) == pytest.approx(
        [math.sqrt(0.9325 * 0.0675 / 100), math.sqrt(0.9325 * 0.0675 / 400)]
    )


def test_p_limits_stay_between_0_and_1():
    limits = p_limits(np.array([10, 10]), np.array([10, 10]), np.array([0.0, 1.0]))
    assert (limits.centre, limits.ucl, limits.lcl) == (1.0, 1.0, 1.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: individuals_limits(np.array([1.0])), "at least 2"),
        (lambda: xbar_r_limits(np.arange(5.0), 3), "at least 2 subgroups"),
        (lambda: xbar_r_limits(np.arange(50.0), 11), "subgroup size"),
        (lambda: p_limits(np.array([5, 12]), np.array([10, 10])), "count <= parts"),
    ],
)
def test_too_little_or_wrong_baseline_is_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_saving_again_adds_a_row_and_the_newest_wins(tmp_path: Path):
    db = tmp_path / "results.sqlite"
    first = dataclasses.replace(
        individuals_limits(
            np.array([1.0, 2.0, 3.0]), np.array([0.0, 1, 2]), series="surface.score"
        ),
        recipe_name="demo",
        recipe_version="3",
        baseline="first 3 good parts",
    )
    second = dataclasses.replace(
        first, centre=5.0, ucl=8.0, lcl=2.0, created_at=first.created_at + 1
    )
    assert load_limits(_empty(db), "surface.score", "demo", "3") is None
    save_limits(db, first)
    assert load_limits(db, "surface.score", "demo", "3") == first
    save_limits(db, second)
    assert load_limits(db, "surface.score", "demo", "3") == second
    assert limits_history(db, "surface.score", "demo", "3") == [second, first]
    assert load_limits(db, "surface.score", "demo", "4") is None  # another version: none
    assert load_limits(db, "label.match", "demo", "3") is None
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM control_limits").fetchone()[0] == 2
    conn.close()


def test_limits_without_recipe_version_are_not_stored(tmp_path: Path):
    limits = individuals_limits(np.array([1.0, 2.0]), np.array([0.0, 1.0]), series="a.b")
    with pytest.raises(ValueError, match="recipe"):
        save_limits(tmp_path / "r.sqlite", limits)


def _empty(db: Path) -> Path:
    from inspection.storage.schema import open_writer

    open_writer(db).close()
    return db


def test_limits_from_a_short_baseline_are_widened_to_the_textbook_false_alarm_rate():
    """Individuals limits from 20 points misjudge sigma and the centre: a point beyond them comes
    about four times as often as beyond known 3-sigma limits. Widened for the baseline's own error, the
    chance is back near 0.135 % on one side (averaged over many baselines)."""
    from math import erfc, sqrt

    from inspection.trends.limits import _t_at_3_sigma, baseline_widening, widened_for_baseline

    # Student's t at the 3-sigma tail, against a numerical integration of its density
    assert _t_at_3_sigma(12) == pytest.approx(3.764, abs=0.005)
    assert _t_at_3_sigma(20) == pytest.approx(3.422, abs=0.003)
    assert baseline_widening(20) == pytest.approx(1.291, abs=0.002)
    assert baseline_widening(10) > baseline_widening(20) > baseline_widening(100) > 1.0
    rng = np.random.default_rng(5)
    raw, wide = [], []
    for _ in range(4000):
        limits = individuals_limits(rng.normal(0.0, 1.0, 20))
        widened = widened_for_baseline(limits)
        assert widened.centre == limits.centre and "widened ×1.29" in widened.baseline
        # chance that a new point of the same steady process lands above the UCL
        raw.append(0.5 * erfc(limits.ucl / sqrt(2)))
        wide.append(0.5 * erfc(widened.ucl / sqrt(2)))
    assert np.mean(raw) > 0.0025  # the short baseline's limits cry wolf
    assert np.mean(wide) == pytest.approx(0.00135, rel=0.35)
