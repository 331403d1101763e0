"""The trends page's loads: range presets at a given time, several series at once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from support.trend_parts import PARTS, T0

from inspection.recipe.station import ShiftCalendar
from inspection.trends.chart_load import describe_load, load_charts, preset_range

BERLIN = ShiftCalendar(timezone="Europe/Berlin")  # default shifts 06-14, 14-22, 22-06


def _at(text: str) -> float:
    return BERLIN.parse_local_time(text, "test")


def test_presets_at_a_time_in_the_late_shift() -> None:
    now = _at("2026-06-03T15:30")
    assert preset_range(BERLIN, "Last 15 min", now) == (now - 900, now)
    assert preset_range(BERLIN, "Last hour", now) == (now - 3600, now)
    assert preset_range(BERLIN, "Last 24 h", now) == (now - 86400, now)
    assert preset_range(BERLIN, "This shift", now) == (_at("2026-06-03T14:00"), now)
    assert preset_range(BERLIN, "Last shift", now) == (
        _at("2026-06-03T06:00"),
        _at("2026-06-03T14:00"),
    )
    assert preset_range(BERLIN, "Today", now) == (_at("2026-06-03T00:00"), now)


def test_this_shift_outside_every_shift_says_so() -> None:
    days_only = ShiftCalendar(
        timezone="Europe/Berlin",
        shifts=({"name": "Day", "start": dt.time(8), "end": dt.time(16)},),
    )
    with pytest.raises(ValueError, match="no shift is running"):
        preset_range(days_only, "This shift", _at("2026-06-03T20:00"))
    with pytest.raises(ValueError, match="unknown range"):
        preset_range(BERLIN, "Next week", _at("2026-06-03T20:00"))


def test_several_series_a_bad_one_apart(trend_db: Path) -> None:
    end = T0 + 10 * PARTS
    charts = load_charts(trend_db, ["surface.score", "station.yield", "nothing.score"], T0, end)
    assert list(charts.charts) == ["surface.score", "station.yield"]
    assert "no tool 'nothing'" in charts.errors["nothing.score"]
    surface = charts.charts["surface.score"]
    assert [charts.part_names[int(i)] for i in surface.shown.part_id] == [
        f"run1-{i:05d}" for i in range(PARTS)
    ]
    text = describe_load("surface.score", surface, 0.84)
    assert text == f"surface.score: {PARTS} parts in {PARTS} points, 0.8 s"


def test_no_database_is_not_an_error(tmp_path: Path) -> None:
    charts = load_charts(tmp_path / "none.sqlite", ["surface.score"], T0, T0 + 10)
    assert charts.no_database and not charts.charts and not charts.errors
