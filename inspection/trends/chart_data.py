"""What a trend chart shows of one series over a range: its points (aggregated to what the chart
can draw), the control limits it is judged by, and the rules it trips.

The limits are the ones stored for the recipe version in force (the newest part's); when none
are stored they are computed from the range's first good parts, and say so. The rules run on
every point, before aggregation: a pattern of single parts must not vanish into a bucket's mean.
``lineside trends`` (command.py) applies the same steps, and also stores limits on request.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspection.trends.aggregate import SeriesData, aggregate
from inspection.trends.arguments import DEFAULT_BASELINE_PARTS
from inspection.trends.baseline import (
    chart_for,
    is_per_part,
    limits_from,
    range_baseline,
    recipe_in_force,
)
from inspection.trends.limits import ControlLimits, load_limits, p_sigmas
from inspection.trends.measures import SeriesName
from inspection.trends.rules import ALL_RULES, Violation, check_rules
from inspection.trends.series import load_raw_series
from inspection.tuning.scores_cache import ScoresCache

MAX_MARKED_POINTS = 100  # a long pattern marks its first points (as the command lists them)


@dataclass(frozen=True, slots=True)
class LimitsInForce:
    limits: ControlLimits | None  # None: fewer than 2 good parts to compute them from
    stored: bool  # kept with the recipe version (else computed from the range, not stored)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChartData:
    """One series as a chart draws it."""

    shown: SeriesData  # at most max_points points (aggregated when the range has more)
    limits: ControlLimits | None
    limits_stored: bool
    violations: tuple[Violation, ...]  # in time order of their last point
    violation_values: tuple[float, ...]  # the value of each violation's last point
    marked_t: np.ndarray  # float64 (k,) epoch seconds of the points that make the patterns
    marked_value: np.ndarray  # float64 (k,) their values
    start: float
    end: float

    @property
    def parts(self) -> int:
        """Parts behind the points (per-part series: one a point; interval series: the sum)."""
        return int(self.shown.count.sum()) if len(self.shown.count) else self.shown.raw_count


def limits_in_force(
    db: Path,
    name: SeriesName,
    start: float,
    end: float,
    raw: SeriesData,
    *,
    station: str | None = None,
    baseline_parts: int = DEFAULT_BASELINE_PARTS,
) -> LimitsInForce:
    """The stored limits of the recipe version in force, else limits from the range's first
    ``baseline_parts`` good parts (not stored), else none."""
    recipe = recipe_in_force(db, start, end, station=station)
    if recipe is not None:
        stored = load_limits(db, str(name), *recipe)
        if stored is not None:
            return LimitsInForce(stored, True)
    if len(raw) < 2:
        return LimitsInForce(None, False)
    if not is_per_part(name):
        # a rate per interval: the baseline is the range's first intervals, already loaded
        first = slice(0, baseline_parts)
        head = dataclasses.replace(
            raw, t=raw.t[first], value=raw.value[first], count=raw.count[first]
        )
        try:
            what = f"first {len(head)} intervals of the range (not stored)"
            return LimitsInForce(limits_from(head, recipe=recipe or ("", ""), baseline=what), False)
        except ValueError:
            return LimitsInForce(None, False)
    try:
        computed = range_baseline(
            db, name, start, end, n=baseline_parts, station=station, recipe=recipe or ("", "")
        )
    except ValueError:
        return LimitsInForce(None, False)  # fewer than 2 good parts in the range
    return LimitsInForce(computed, False)


def violations_of(
    raw: SeriesData, limits: ControlLimits | None, rules: Sequence[str] = ALL_RULES
) -> list[Violation]:
    """The rules ``raw``'s points trip against ``limits`` (none without limits, or when the
    limits are of another kind of chart than the series is drawn on)."""
    if limits is None or chart_for(raw.name) != limits.chart:
        return []
    sigmas = p_sigmas(limits, raw.count) if limits.chart == "p" else None
    return check_rules(raw.t, raw.value, limits, rules, sigmas=sigmas)


def chart_data(
    db: Path,
    name: SeriesName,
    start: float,
    end: float,
    *,
    max_points: int = 2000,
    station: str | None = None,
    interval_s: float | None = None,
    rules: Sequence[str] = ALL_RULES,
    baseline_parts: int = DEFAULT_BASELINE_PARTS,
    cache: ScoresCache | bool = True,
) -> ChartData:
    """The series over ``[start, end)`` with its limits and violations (ValueError for a bad
    series or range). ``cache``: the score cache a tool's scores are read through (True:
    the database's, False: none)."""
    if max_points < 1:
        raise ValueError(f"max_points must be at least 1, got {max_points}")
    raw = load_raw_series(
        db,
        name,
        start,
        end,
        station=station,
        interval_s=interval_s,
        max_points=max_points,
        cache=cache,
    )
    found = limits_in_force(
        db, name, start, end, raw, station=station, baseline_parts=baseline_parts
    )
    violations = violations_of(raw, found.limits, rules)
    # each pattern's first points and its last (the one it is listed at)
    index = np.unique(
        np.fromiter(
            (i for v in violations for i in (*v.indices[:MAX_MARKED_POINTS], v.indices[-1])),
            dtype=np.int64,
        )
    )
    return ChartData(
        shown=aggregate(raw, start, end, max_points),
        limits=found.limits,
        limits_stored=found.stored,
        violations=tuple(violations),
        violation_values=tuple(float(raw.value[v.indices[-1]]) for v in violations),
        marked_t=raw.t[index],
        marked_value=raw.value[index],
        start=start,
        end=end,
    )
