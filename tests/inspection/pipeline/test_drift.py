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
from inspection.trends.limits import (
    baseline_widening,
    individuals_limits,
    load_limits,
    save_limits,
)
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


# Points (means of POINT parts) alternate CENTRE - D, CENTRE + D: their moving ranges are all 2 D,
# so the points' own sigma is exactly 2 D / 1.128, drawn wider for a 20-point baseline's own error,
# and the UCL CENTRE + 3 of it.
POINT = 5
D = 0.01
SIGMA_P = 2 * D / 1.128 * baseline_widening(20)


def steady(i: int) -> float:
    """Part ``i``: its point (i // POINT) alternates sides, never a run, within 0.6 sigma."""
    return CENTRE + (D if (i // POINT) % 2 else -D)


def feed(watch: DriftWatch, first: int, points: int, value=steady, t0: float = 1e9) -> int:
    """``points`` points' worth of good parts from part ``first``; returns the next part."""
    for i in range(first, first + points * POINT):
        watch.part_done(part(i, value(i), t0=t0))
    return first + points * POINT


def watching(watch: str = "up", **more: object) -> tuple[DriftWatch, Heard]:
    recipe = recipe_with({"series": "surface.score", "watch": watch, "points_of": POINT, **more})
    heard = Heard()
    drift = DriftWatch(recipe, on_warning=heard)
    drift.load_limits(None)
    return drift, heard


def known_limits(recipe: Recipe, key: str = f"surface.score@{POINT}parts") -> object:
    """Limits as an engineer would store them for the points: centre CENTRE, sigma SIGMA_P."""
    means = np.array([CENTRE + (D if k % 2 else -D) for k in range(20)])
    return individuals_limits(
        means,
        np.arange(20.0),
        series=key,
        recipe_name=recipe.name,
        recipe_version=recipe.version,
        baseline="test baseline",
    )


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
    assert recipe.drift[2].rules == ["WE1", "WE2"]


def test_part_values_are_the_series_values_and_goodness_is_the_tools() -> None:
    p = part(1, 0.42, verdict=Verdict.FAIL)
    assert part_value(parse_series("surface.score"), p) == (0.42, False)
    assert part_value(parse_series("surface.max_region_px"), p) == (12.0, False)
    assert part_value(parse_series("station.cycle_ms"), p) == (4.0, False)
    assert part_value(parse_series("serial.score"), p) is None  # no such tool on the part
    nan = part(2, math.nan)
    assert part_value(parse_series("surface.score"), nan) is None


def test_a_drift_up_raises_one_warning_that_the_operator_acknowledges() -> None:
    watch, heard = watching(message="surface drifting")
    seq = feed(watch, 0, 20)  # the baseline: 20 points
    limits = watch.limits_of("surface.score")
    assert limits is not None and limits.series == "surface.score@5parts"
    assert limits.centre == pytest.approx(CENTRE) and limits.sigma == pytest.approx(SIGMA_P)
    seq = feed(watch, seq, 40)
    assert heard.raised == [] and watch.warnings() == ()
    # the process moves up: points 4 of their sigmas above the centre
    seq = feed(watch, seq, 3, lambda i: CENTRE + 4 * SIGMA_P)
    assert len(heard.new) == 1
    (warning,) = watch.warnings()
    assert warning.series == "surface.score" and warning.direction == "up"
    assert warning.rule == "WE1" and warning.rule_name == "1 point beyond 3 sigma"
    assert warning.text == "surface drifting (1 point beyond 3 sigma)"
    assert all(v > warning.ucl for v in warning.values) and warning.counts[-1] == POINT
    assert warning.ucl == pytest.approx(CENTRE + 3 * SIGMA_P)
    assert warning.parts[-1].startswith("P") and warning.occurrences > 1  # it grew
    assert watch.acknowledge("surface.score")[0].acknowledged_at is not None
    assert watch.warnings() == ()
    seq = feed(watch, seq, 10, lambda i: CENTRE + 4 * SIGMA_P)  # the same drift goes on
    assert watch.warnings() == ()  # the drift the operator acknowledged, going on
    seq = feed(watch, seq, 10)  # settled: re-armed
    for i in range(seq, seq + 3 * POINT):  # rejects never feed the series
        watch.part_done(part(i, 0.9, verdict=Verdict.FAIL))
    seq += 3 * POINT
    assert watch.warnings() == ()
    feed(watch, seq, 2, lambda i: CENTRE + 4 * SIGMA_P)  # a new drift
    assert len(heard.new) == 2 and len(watch.warnings()) == 1


def test_the_other_direction_is_not_trouble() -> None:
    watch, heard = watching("down")
    seq = feed(watch, 0, 20)
    seq = feed(watch, seq, 20, lambda i: CENTRE + 4 * SIGMA_P)
    assert heard.raised == []
    feed(watch, seq, 8, lambda i: CENTRE - 4 * SIGMA_P)
    assert [w.direction for w in heard.new] == ["down"]


def test_a_slow_creep_trips_a_run_rule_before_any_point_leaves_the_limits() -> None:
    watch, heard = watching(rules=["WE1", "WE2", "WE3", "WE4"])
    seq = feed(watch, 0, 20)
    feed(watch, seq, 8, lambda i: CENTRE + 1.5 * SIGMA_P)  # inside the limits, on one side
    rules = [w.rule for w in heard.new]
    assert rules and rules[0] in ("WE2", "WE3", "WE4")
    assert all(v < heard.new[0].ucl for v in heard.new[0].values)


def test_limits_are_stored_once_and_a_restart_judges_by_them(tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    open_writer(db).close()  # an empty results database of the current schema
    watch, _ = watching()
    said = watch.load_limits(db)
    assert said == ["surface.score@5parts: limits from the first 20 points"]
    feed(watch, 0, 20)
    watch.join(10.0)
    stored = load_limits(db, "surface.score@5parts", "packs", "1")
    assert stored is not None and stored.baseline_n == 20
    assert "first 20 points after recipe packs version 1" in stored.baseline
    assert stored.centre == pytest.approx(CENTRE) and stored.sigma == pytest.approx(SIGMA_P)
    # the part series' own limits (the Trends page's) are another thing: not written here
    assert load_limits(db, "surface.score", "packs", "1") is None
    again, _ = watching()
    assert again.load_limits(db) == [f"surface.score@5parts: stored limits ({stored.baseline})"]
    assert again.limits_of("surface.score") == stored
    # an engineer's re-baseline (a newer row) wins over the one the station set
    newer = known_limits(recipe_with({"series": "surface.score"}))
    save_limits(db, newer)  # type: ignore[arg-type]
    third, _ = watching()
    third.load_limits(db)
    assert third.limits_of("surface.score") == newer


def test_points_with_no_spread_are_collected_again() -> None:
    watch, _ = watching()
    seq = feed(watch, 0, 20, lambda i: 0.25)  # a measure that never moved: nothing to judge by
    assert watch.limits_of("surface.score") is None
    feed(watch, seq, 20)
    limits = watch.limits_of("surface.score")
    assert limits is not None and limits.sigma == pytest.approx(SIGMA_P)


def test_by_default_a_point_is_the_good_parts_of_an_interval() -> None:
    recipe = recipe_with(
        {
            "series": "surface.score",
            "watch": "up",
            "every_s": 60,
            "min_parts": 10,
            "baseline_points": 10,
        }
    )
    heard = Heard()
    watch = DriftWatch(recipe, on_warning=heard)
    watch.load_limits(None)
    minute = lambda i: CENTRE + (D if (i // 60) % 2 else -D)  # noqa: E731 (parts 1 s apart)
    seq = 0
    for _ in range(30 * 60):  # thirty steady minutes: the baseline's 10 points, then 20 more
        watch.part_done(part(seq, minute(seq), t0=0.0))
        seq += 1
    assert heard.raised == []
    (series,) = watch._watches
    assert series.key == "surface.score@60s"
    assert [p[3] for p in list(series.points)[-3:]] == [60, 60, 60]
    # the line stops, then runs 5 parts in a minute: too few to judge, that point is dropped
    seq = (seq // 60 + 10) * 60
    for _ in range(5):
        watch.part_done(part(seq, CENTRE + 5 * SIGMA_P, t0=0.0))
        seq += 12
    for _ in range(2 * 60 + 1):  # beyond limits drawn wider still for a 10-point baseline
        watch.part_done(part(seq, CENTRE + 6 * SIGMA_P, t0=0.0))
        seq += 1
    (warning,) = heard.new
    assert warning.rule == "WE1" and warning.counts[-1] == 60
    assert min(p[3] for p in series.points) >= 10  # the 5-part minute was not judged


def test_an_engineer_re_baselines_and_the_next_points_set_new_limits(tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    open_writer(db).close()
    watch, heard = watching()
    watch.load_limits(db)
    seq = feed(watch, 0, 20)  # limits around 0.30
    moved = lambda i: steady(i) + 0.1  # noqa: E731 (a new normal: 0.40, e.g. a new material)
    seq = feed(watch, seq, 2, moved)
    assert len(heard.new) == 1
    assert watch.rebaseline() == ("surface.score",)
    assert watch.limits_of("surface.score") is None and watch.warnings() == ()
    seq = feed(watch, seq, 19, moved)  # the new baseline fills: no warning meanwhile
    assert watch.limits_of("surface.score") is None and len(heard.new) == 1
    feed(watch, seq, 1, moved)
    watch.join(10.0)
    limits = watch.limits_of("surface.score")
    assert limits is not None and limits.centre == pytest.approx(CENTRE + 0.1)
    assert load_limits(db, "surface.score@5parts", "packs", "1") == limits  # newest row wins


def test_limits_are_stored_in_the_order_they_were_set_however_slow_the_first_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The newest stored row is what the next start loads: a re-baseline's limits must not be
    overtaken by the first baseline's save still waiting for the database."""
    import time

    import inspection.pipeline.drift as drift_module

    real_save = drift_module.save_limits

    def slow_first(db: Path, limits: object) -> None:
        if limits.centre < CENTRE + 0.05:  # type: ignore[attr-defined]  # the first baseline
            time.sleep(0.5)  # a database busy with the station's own writes
        real_save(db, limits)  # type: ignore[arg-type]

    monkeypatch.setattr(drift_module, "save_limits", slow_first)
    db = tmp_path / "results.db"
    open_writer(db).close()
    watch, _heard = watching()
    watch.load_limits(db)
    seq = feed(watch, 0, 20)
    moved = lambda i: steady(i) + 0.1  # noqa: E731
    watch.rebaseline()
    feed(watch, seq, 20, moved)
    watch.join(10.0)
    stored = load_limits(db, "surface.score@5parts", "packs", "1")
    assert stored is not None and stored.centre == pytest.approx(CENTRE + 0.1)
