"""Each rule on a hand-built sequence that trips it and on one that just misses it.

Limits are centre 0, sigma 1, so each value is its own distance from the centre in sigmas."""

from __future__ import annotations

import numpy as np
import pytest

from inspection.trends.limits import ControlLimits
from inspection.trends.rules import ALL_RULES, RULE_NAMES, check_rules

UNIT = ControlLimits(
    series="x.y",
    chart="individuals",
    centre=0.0,
    ucl=3.0,
    lcl=-3.0,
    sigma=1.0,
    baseline_from=0.0,
    baseline_to=1.0,
    baseline_n=100,
    recipe_name="demo",
    recipe_version="1",
    created_at=0.0,
)
# Quiet filler: alternates around the centre within 1 sigma, changes direction every step but
# is too short, and never rises or falls 6 in a row.
QUIET = [0.3, -0.3, -0.2]


def _alternating(n: int, size: float = 0.5) -> list[float]:
    return [size if i % 2 == 0 else -size for i in range(n)]


def tripped(values: list[float], rule: str) -> list[tuple[int, ...]]:
    v = np.asarray(values, dtype=np.float64)
    found = check_rules(np.arange(len(v), dtype=np.float64), v, UNIT, [rule])
    return [x.indices for x in found]


# (rule, a sequence that trips it, the indices of the pattern, a sequence that just misses it)
CASES = [
    ("WE1", [*QUIET, 3.2, *QUIET], (3,), [*QUIET, 2.99, -2.99, *QUIET]),
    ("WE1", [*QUIET, -3.5, *QUIET], (3,), [*QUIET, 3.0, *QUIET]),  # on the limit is inside
    # 2 of 3 beyond 2 sigma on one side; the miss has them on opposite sides
    ("WE2", [*QUIET, 2.5, 0.5, 2.1, *QUIET], (3, 5), [*QUIET, 2.5, 0.5, -2.1, *QUIET]),
    # ... or 3 apart (2 of 4, not 2 of 3)
    ("WE2", [*QUIET, -2.5, -2.2, *QUIET], (3, 4), [*QUIET, 2.5, 0.5, 0.5, 2.1, *QUIET]),
    (
        "WE3",
        [*QUIET, 1.5, 1.2, 0.5, 1.1, 1.8, *QUIET],
        (3, 4, 6, 7),
        [*QUIET, 1.5, 1.2, 0.5, 1.1, 0.9, 1.8, *QUIET],  # 4 beyond, but in 6 not 5
    ),
    ("WE4", [*QUIET, *[0.4] * 8, -0.3], tuple(range(3, 11)), [*QUIET, *[0.4] * 7, -0.3]),
    ("WE4", [-0.2, *[-0.4, -0.1] * 4, 0.5], tuple(range(0, 9)), [*[-0.4] * 7, 0.0, -0.4]),
    (
        "N5",
        [0.0, -0.5, -0.4, -0.2, 0.0, 0.3, 0.6, 0.1],
        (1, 2, 3, 4, 5, 6),
        [0.0, -0.5, -0.4, -0.2, 0.0, 0.3, 0.3, 0.6],  # a flat step breaks the rise
    ),
    ("N5", [1.0, 0.9, 0.7, 0.5, 0.2, -0.1, 0.0], (0, 1, 2, 3, 4, 5), [1.0, 0.9, 0.7, 0.5, 0.2]),
    ("N6", [5.0, *_alternating(14), -1.0], tuple(range(1, 15)), [5.0, *_alternating(13), 5.0]),
    ("N7", [2.0, *QUIET * 5, 2.0], tuple(range(1, 16)), [2.0, *QUIET * 4, 0.5, 0.5, 1.0, 2.0]),
    (
        "N8",
        [0.0, 1.5, -1.5, 1.2, -1.2, 1.5, 1.1, -1.3, 1.4, 0.0],
        tuple(range(1, 9)),
        [0.0, 1.5, -1.5, 1.2, -1.2, 1.5, 1.1, -1.3, 0.9, 1.4, 0.0],
    ),
]


@pytest.mark.parametrize(("rule", "trips", "pattern", "misses"), CASES)
def test_rule_trips_and_just_misses(rule, trips, pattern, misses):
    assert tripped(trips, rule) == [pattern]
    assert tripped(misses, rule) == []


def test_8_in_a_row_on_one_side_needs_one_side():
    # 8 outside 1 sigma but all above: rule 8 wants both sides (that is rule 4's pattern)
    above = [0.0, *[1.5] * 8, 0.0]
    assert tripped(above, "N8") == []
    assert tripped(above, "WE4") == [tuple(range(1, 9))]


def test_overlapping_windows_are_one_violation():
    values = [*QUIET, *[0.5] * 20, -0.3, 0.2, -0.1]
    found = check_rules(np.arange(26.0), np.asarray(values), UNIT, ["WE4"])
    assert len(found) == 1
    assert found[0].indices == tuple(range(3, 23))
    assert found[0].at == 22.0
    assert found[0].name == "8 in a row on one side of the centre line"


def test_violations_name_the_rule_and_time_their_last_point():
    t = 1000.0 + 10 * np.arange(7)
    found = check_rules(t, np.array([*QUIET, 4.0, *QUIET]), UNIT)
    assert [(v.rule, v.name, v.at) for v in found] == [("WE1", "1 point beyond 3 sigma", 1030.0)]
    assert set(RULE_NAMES) == set(ALL_RULES) and len(ALL_RULES) == 8


def test_limits_shift_and_scale_the_zones():
    limits = ControlLimits(
        **{**{f: getattr(UNIT, f) for f in UNIT.__slots__}, "centre": 10.0, "sigma": 0.5}
    )
    # 11.6 is 3.2 sigma above 10 with sigma 0.5
    found = check_rules(np.arange(3.0), np.array([10.1, 11.6, 9.9]), limits, ["WE1"])
    assert [v.indices for v in found] == [(1,)]


def test_per_point_sigma_judges_each_point_by_its_own():
    values = np.array([0.0, 2.0, 0.0])
    assert check_rules(np.arange(3.0), values, UNIT, ["WE1"]) == []
    sigmas = np.array([1.0, 0.5, 1.0])  # a small interval: its point is 4 sigma out
    found = check_rules(np.arange(3.0), values, UNIT, ["WE1"], sigmas=sigmas)
    assert [v.indices for v in found] == [(1,)]


def test_missing_values_break_patterns_and_no_spread_trips_nothing():
    values = [*[0.5] * 4, float("nan"), *[0.5] * 4]
    assert tripped(values, "WE4") == []
    flat = ControlLimits(**{**{f: getattr(UNIT, f) for f in UNIT.__slots__}, "sigma": 0.0})
    assert check_rules(np.arange(3.0), np.array([0.0, 5.0, 0.0]), flat) == []


def test_unknown_rule_is_named():
    with pytest.raises(ValueError, match="WE9"):
        check_rules(np.arange(3.0), np.zeros(3), UNIT, ["WE9"])
