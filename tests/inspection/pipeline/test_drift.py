"""Drift warnings: the recipe's ``drift:`` alerts judged part by part, raised once, acknowledged,
and the limits they judge by set once from a baseline and kept with the recipe version."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from inspection.errors import RecipeError
from inspection.pipeline.drift import DriftWarning, DriftWatch, part_value
from inspection.recipe import Recipe, parse_recipe
from inspection.recipe.drift import RuleCode
from inspection.storage.schema import open_writer
from inspection.trends.limits import individuals_limits, load_limits, save_limits
from inspection.trends.measures import parse_series
from inspection.trends.rules import ALL_RULES
from inspection.types import Inspection, Timing, ToolResult, Verdict

CENTRE, SIGMA = 0.30, 0.02


def recipe_with(*alerts: dict[str, object], version: str = "1") -> Recipe:
    return parse_recipe(
        {
            "name": "packs",
            "version": version,
            "station": "st-1",
            "cameras": [{"id": "cam1", "source": {"type": "synthetic", "parts": 5}}],
            "tools": [
                {"id": "surface", "type": "anomaly", "roi": {"x": 0, "y": 0, "w": 8, "h": 8}},
                {
                    "id": "label",
                    "type": "label",
                    "fields": [{"name": "lot", "rule": "batch"}],
                },
            ],
            "drift": list(alerts),
        },
        "drift-recipe",
    )


def part(seq: int, score: float, *, verdict: Verdict = Verdict.PASS, t0: float = 1e9) -> Inspection:
    result = ToolResult(
        tool_id="surface",
        tool_type="anomaly",
        verdict=verdict,
        measurements={"score": score, "max_region_px": 12.0},
    )
    return Inspection(
        inspection_id=f"P{seq:06d}",
        station="st-1",
        part_seq=seq,
        verdict=verdict,
        reason="",
        tool_results=(result,),
        frames=(),
        recipe_name="packs",
        recipe_version="1",
        timing=Timing(queued_ns=1_000_000, decided_ns=5_000_000),
        wall_time=t0 + seq,
    )


class Heard:
    def __init__(self) -> None:
        self.raised: list[tuple[DriftWarning, bool]] = []

    def __call__(self, warning: DriftWarning, new: bool) -> None:
        self.raised.append((warning, new))

    @property
    def new(self) -> list[DriftWarning]:
        return [w for w, new in self.raised if new]


def known_limits(recipe: Recipe, series: str = "surface.score") -> object:
    # a baseline whose moving ranges give exactly sigma = SIGMA
    values = np.array([baseline(i) for i in range(100)])
    return individuals_limits(
        values,
        np.arange(100.0),
        series=series,
        recipe_name=recipe.name,
        recipe_version=recipe.version,
        baseline="test baseline",
    )


def baseline(i: int) -> float:
    """Good parts whose moving ranges give exactly sigma = SIGMA around CENTRE."""
    return CENTRE + (0.5 if i % 2 else -0.5) * SIGMA * 1.128


def steady(i: int) -> float:
    """Good parts around the centre whose means of 5 stay within half a sigma (of a mean of 5)
    and alternate sides: nothing any rule of WE1-4 should call drift."""
    return CENTRE + (0.004 if (i // 5) % 2 else -0.004) + (0.001 if i % 2 else -0.001)


def test_rule_codes_are_the_trends_rules() -> None:
    assert tuple(RuleCode.__args__) == ALL_RULES  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("alert", "says"),
    [
        ({"series": "surface"}, "expected TOOL_ID.MEASURE"),
        ({"series": "paint.score"}, "no tool 'paint'"),
        ({"series": "surface.colour"}, "has no measure 'colour'"),
        ({"series": "label.batch_contrast"}, "has no measure 'batch_contrast'"),
        ({"series": "station.yield"}, "counted per interval"),
        ({"series": "surface.score", "watch": "up", "rules": ["WE1", "N7"]}, "need watch: both"),
        ({"series": "surface.score", "rules": ["WE1", "WE1"]}, "each rule once"),
        ({"series": "surface.score", "rules": ["WE9"]}, "drift[0].rules[0]"),
        ({"series": "surface.score", "points_of": 0}, "drift[0].points_of"),
    ],
)
def test_a_bad_alert_is_refused_naming_what_is_wrong(alert: dict[str, object], says: str) -> None:
    with pytest.raises(RecipeError) as caught:
        recipe_with(alert)
    assert says in str(caught.value)
    assert "drift-recipe" in str(caught.value)


def test_a_series_watched_twice_is_refused() -> None:
    with pytest.raises(RecipeError, match="watched twice"):
        recipe_with({"series": "surface.score"}, {"series": "surface.score", "watch": "up"})


def test_good_alerts_are_accepted() -> None:
    recipe = recipe_with(
        {"series": "surface.score", "watch": "up", "message": "surface score drifting up"},
        {"series": "label.lot_contrast", "watch": "down", "points_of": 10},
        {"series": "station.cycle_ms"},
    )
    assert [a.series for a in recipe.drift] == [
        "surface.score",
        "label.lot_contrast",
        "station.cycle_ms",
    ]
    assert recipe.drift[2].rules == ["WE1", "WE2", "WE3", "WE4"]


def test_part_values_are_the_series_values_and_goodness_is_the_tools() -> None:
    p = part(1, 0.42, verdict=Verdict.FAIL)
    assert part_value(parse_series("surface.score"), p) == (0.42, False)
    assert part_value(parse_series("surface.max_region_px"), p) == (12.0, False)
    assert part_value(parse_series("station.cycle_ms"), p) == (4.0, False)
    assert part_value(parse_series("serial.score"), p) is None  # no such tool on the part
    nan = part(2, math.nan)
    assert part_value(parse_series("surface.score"), nan) is None


def test_a_drift_up_raises_one_warning_that_the_operator_acknowledges() -> None:
    recipe = recipe_with(
        {"series": "surface.score", "watch": "up", "points_of": 5, "message": "surface drifting"}
    )
    heard = Heard()
    watch = DriftWatch(recipe, on_warning=heard)
    watch.load_limits(None)
    for i in range(100):  # the baseline: limits from these good parts
        watch.part_done(part(i, baseline(i)))
    assert watch.limits_of("surface.score") is not None
    seq = 100
    for _ in range(200):
        watch.part_done(part(seq, steady(seq)))
        seq += 1
    assert heard.raised == []
    assert watch.warnings() == ()
    # the process moves up by 1.5 sigma of a part: means of 5 sit 3.4 sigma above the centre
    for _ in range(5 * 10):
        watch.part_done(part(seq, steady(seq) + 1.5 * SIGMA))
        seq += 1
    assert len(heard.new) == 1
    (warning,) = watch.warnings()
    assert warning.series == "surface.score" and warning.direction == "up"
    assert warning.rule == "WE1" and warning.rule_name == "1 point beyond 3 sigma"
    assert warning.text == "surface drifting (1 point beyond 3 sigma)"
    assert warning.values and all(v > warning.ucl for v in warning.values)
    assert warning.parts[-1].startswith("P") and warning.occurrences > 1  # it grew, not piled up
    assert watch.acknowledge("surface.score")[0].acknowledged_at is not None
    assert watch.warnings() == ()
    for _ in range(5 * 10):
        watch.part_done(part(seq, steady(seq) + 1.5 * SIGMA))  # the same drift goes on
        seq += 1
    assert watch.warnings() == ()  # the drift the operator acknowledged, going on
    for _ in range(5 * 20):
        watch.part_done(part(seq, steady(seq)))
        seq += 1
    for _ in range(5 * 3):  # rejects never feed the series, however far above they are
        watch.part_done(part(seq, 0.9, verdict=Verdict.FAIL))
        seq += 1
    assert watch.warnings() == ()
    for _ in range(5 * 2):  # a new drift, after the acknowledgement
        watch.part_done(part(seq, steady(seq) + 1.5 * SIGMA))
        seq += 1
    assert len(heard.new) == 2 and len(watch.warnings()) == 1


def test_the_other_direction_is_not_trouble() -> None:
    recipe = recipe_with({"series": "surface.score", "watch": "down", "points_of": 5})
    heard = Heard()
    watch = DriftWatch(recipe, on_warning=heard)
    watch.load_limits(None)
    for i in range(100):
        watch.part_done(part(i, baseline(i)))
    for i in range(100, 300):
        watch.part_done(part(i, steady(i) + 1.5 * SIGMA))
    assert heard.raised == []
    for i in range(300, 340):
        watch.part_done(part(i, steady(i) - 1.5 * SIGMA))
    assert [w.direction for w in heard.new] == ["down"]


def test_a_slow_creep_trips_the_run_rule_before_any_point_leaves_the_limits() -> None:
    recipe = recipe_with({"series": "surface.score", "watch": "up", "points_of": 5})
    heard = Heard()
    watch = DriftWatch(recipe, on_warning=heard)
    watch.load_limits(None)
    for i in range(100):
        watch.part_done(part(i, baseline(i)))
    # half a sigma of a part up: means 1.1 sigma above the centre, inside the limits
    for i in range(100, 100 + 5 * 8):
        watch.part_done(part(i, CENTRE + 0.5 * SIGMA + (0.001 if i % 2 else -0.001)))
    rules = [w.rule for w in heard.new]
    assert rules and rules[0] in ("WE3", "WE4")
    assert all(v < heard.new[0].ucl for v in heard.new[0].values)


def test_limits_are_stored_once_and_a_restart_judges_by_them(tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    open_writer(db).close()  # an empty results database of the current schema
    recipe = recipe_with({"series": "surface.score", "watch": "up", "points_of": 5})
    watch = DriftWatch(recipe, on_warning=Heard())
    said = watch.load_limits(db)
    assert said == ["surface.score: limits from the first 100 good parts to come"]
    for i in range(100):
        watch.part_done(part(i, baseline(i)))
    watch.join(10.0)
    stored = load_limits(db, "surface.score", "packs", "1")
    assert stored is not None and stored.baseline_n == 100
    assert "first 100 good parts after recipe packs version 1" in stored.baseline
    assert stored.centre == pytest.approx(CENTRE, abs=1e-3)
    again = DriftWatch(recipe, on_warning=Heard())
    assert again.load_limits(db) == [f"surface.score: stored limits ({stored.baseline})"]
    assert again.limits_of("surface.score") == stored
    # an engineer's re-baseline (a newer row) wins over the one the station set
    newer = known_limits(recipe)
    save_limits(db, newer)  # type: ignore[arg-type]
    third = DriftWatch(recipe, on_warning=Heard())
    third.load_limits(db)
    assert third.limits_of("surface.score") == newer


def test_a_version_with_recorded_parts_takes_its_first_good_parts(tmp_path: Path) -> None:
    from support.trend_parts import write_trend_parts

    db = tmp_path / "results.db"
    write_trend_parts(db, 0, 300)
    conn = open_writer(db)
    name, version = conn.execute(
        "SELECT recipe_name, recipe_version FROM inspections ORDER BY id DESC LIMIT 1"
    ).fetchone()
    tool = conn.execute("SELECT tool_id FROM tool_results WHERE tool_type='anomaly'").fetchone()[0]
    conn.close()
    recipe = parse_recipe(
        {
            "name": name,
            "version": version,
            "station": "st1",
            "cameras": [{"id": "cam1", "source": {"type": "synthetic", "parts": 5}}],
            "tools": [{"id": tool, "type": "anomaly", "roi": {"x": 0, "y": 0, "w": 8, "h": 8}}],
            "drift": [{"series": f"{tool}.score", "baseline_parts": 50}],
        },
        "recorded",
    )
    watch = DriftWatch(recipe, on_warning=Heard())
    (said,) = watch.load_limits(db)
    assert said.startswith(f"{tool}.score: limits set from the first 50 good parts after recipe")
    watch.join(10.0)
    assert load_limits(db, f"{tool}.score", name, version) == watch.limits_of(f"{tool}.score")


def test_a_baseline_with_no_spread_is_collected_again() -> None:
    recipe = recipe_with({"series": "surface.score", "watch": "up", "points_of": 5})
    watch = DriftWatch(recipe, on_warning=Heard())
    watch.load_limits(None)
    for i in range(100):
        watch.part_done(part(i, 0.25))  # a measure that never moved: nothing to judge by
    assert watch.limits_of("surface.score") is None
    for i in range(100, 200):
        watch.part_done(part(i, baseline(i)))
    limits = watch.limits_of("surface.score")
    assert limits is not None and limits.sigma == pytest.approx(SIGMA)


def test_by_default_a_point_is_the_good_parts_of_an_interval_each_judged_by_its_own_count() -> None:
    recipe = recipe_with({"series": "surface.score", "watch": "up", "every_s": 60, "min_parts": 10})
    heard = Heard()
    watch = DriftWatch(recipe, on_warning=heard)
    watch.load_limits(None)
    seq = 0
    for _ in range(100):  # parts one second apart: the baseline takes 100 s
        watch.part_done(part(seq, baseline(seq), t0=0.0))
        seq += 1
    for _ in range(20 * 60):  # twenty steady minutes: twenty points, no warning
        watch.part_done(part(seq, baseline(seq), t0=0.0))
        seq += 1
    assert heard.raised == []
    (series,) = watch._watches
    assert [p[3] for p in list(series.points)[-3:]] == [60, 60, 60]
    # the line stops, then runs 5 parts in a minute: too few to judge, that point is dropped
    seq += 600
    for _ in range(5):
        watch.part_done(part(seq, baseline(seq) + 5 * SIGMA, t0=0.0))
        seq += 12
    # half a sigma of a part up: a minute's mean of 60 parts sits 3.9 of its sigmas above
    for _ in range(2 * 60 + 1):
        watch.part_done(part(seq, baseline(seq) + 0.5 * SIGMA, t0=0.0))
        seq += 1
    (warning,) = heard.new
    n = warning.counts[-1]
    assert warning.rule == "WE1" and n >= 10
    assert warning.ucl == pytest.approx(CENTRE + 3 * SIGMA / math.sqrt(n))
    assert min(p[3] for p in series.points) >= 10  # the 5-part minute was not judged


def test_a_running_watch_takes_limits_an_engineer_stored_later(tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    open_writer(db).close()
    recipe = recipe_with({"series": "surface.score", "watch": "up", "points_of": 5})
    watch = DriftWatch(recipe, on_warning=Heard())
    watch.load_limits(db)
    for i in range(100):
        watch.part_done(part(i, baseline(i) + 0.1))  # a baseline around 0.40
    watch.join(10.0)
    assert watch.limits_of("surface.score").centre == pytest.approx(CENTRE + 0.1)
    assert watch.reload_limits(db) == []  # nothing newer stored: nothing changes
    newer = known_limits(recipe)  # re-baselined around 0.30
    save_limits(db, newer)  # type: ignore[arg-type]
    (said,) = watch.reload_limits(db)
    assert said == "surface.score: now judged by the limits from the test baseline"
    assert watch.limits_of("surface.score") == newer
