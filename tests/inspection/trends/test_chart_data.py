"""What a trend chart of one series holds: points, limits in force and the rules tripped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support.trend_parts import PARTS, T0, good_score, score

from inspection.trends.baseline import version_baseline
from inspection.trends.chart_data import chart_data
from inspection.trends.limits import save_limits
from inspection.trends.measures import parse_series

END = T0 + 10 * PARTS


def test_points_computed_limits_and_we1_marks(trend_db: Path) -> None:
    data = chart_data(trend_db, parse_series("surface.score"), T0, END)
    assert not data.shown.aggregated and data.parts == PARTS
    np.testing.assert_allclose(data.shown.value, [score(i) for i in range(PARTS)])
    good = [good_score(i) for i in range(PARTS) if i % 10 != 9]
    assert data.limits is not None and not data.limits_stored
    assert data.limits.centre == pytest.approx(np.mean(good))
    we1 = [v for v in data.violations if v.rule == "WE1"]
    assert [v.at for v in we1] == [T0 + 10 * i for i in (9, 19, 29, 39)]
    # every defect is marked at its own time and value
    defects = T0 + 10 * np.array([9, 19, 29, 39], dtype=float)
    assert set(defects.tolist()) <= set(data.marked_t.tolist())
    at = np.isin(data.marked_t, defects)
    np.testing.assert_allclose(data.marked_value[at], 0.9)


def test_stored_limits_win(trend_db: Path) -> None:
    name = parse_series("surface.score")
    limits = version_baseline(trend_db, name, ("demo", "2"), END, n=5)
    save_limits(trend_db, limits)
    data = chart_data(trend_db, name, T0, END)
    assert data.limits_stored
    assert data.limits is not None and data.limits.centre == pytest.approx(limits.centre)


def test_aggregated_to_max_points_and_rules_on_every_part(trend_db: Path) -> None:
    data = chart_data(trend_db, parse_series("surface.score"), T0, END, max_points=8)
    assert data.shown.aggregated and len(data.shown) == 8
    assert data.parts == PARTS
    # the rules still see single parts: the four defects trip WE1 one by one
    assert len([v for v in data.violations if v.rule == "WE1"]) == 4


def test_empty_range_has_no_limits(trend_db: Path) -> None:
    data = chart_data(trend_db, parse_series("surface.score"), END + 100, END + 200)
    assert len(data.shown) == 0 and data.limits is None and data.violations == ()
    assert data.parts == 0


def test_unknown_tool_is_a_value_error(trend_db: Path) -> None:
    with pytest.raises(ValueError, match="no tool 'nothing'"):
        chart_data(trend_db, parse_series("nothing.score"), T0, END)
