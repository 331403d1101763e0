"""How often do a recipe's drift warnings cry wolf, and how soon do they see a real drift?

``lineside eval drift`` inspects simulated parts with the recipe's real tools, keeps each watched
series' values on the good parts, and then replays a steady line for months: each point is the
mean of as many good parts as the recipe's point holds at the camera's rate, drawn at random
(with replacement) from the measured values, so the points vary exactly as a steady line's
would. The points go through the station's own ``SeriesWatch`` (baseline, limits, rules,
re-arming after Seen), each recipe version with a baseline of its own, and the operator presses
Seen at once. Every warning there is a false one. A second replay shifts the points by one
standard deviation of a point, on the watched side, after the baseline, and counts the minutes
until the warning: the price paid for fewer false warnings.

A real line's good parts are not always independent (a lamp warming up, a batch of cartons), so
this is the false-warning rate of the rules and limits themselves, the floor a real line adds to.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from inspection.errors import LinesideError
from inspection.evaluation.headless import limit_parts, teach_on_first_use
from inspection.paths import Paths
from inspection.pipeline.drift import SeriesWatch, part_value
from inspection.pipeline.station import Station
from inspection.recipe import Recipe, SyntheticSourceSettings
from inspection.recipe.drift import DriftAlertSettings
from inspection.trends.measures import parse_series
from inspection.types import Inspection, StatusUpdate

SHIFT_HOURS = 8.0
NEVER_POINTS = 2000  # a shifted series not warned of after this many points counts as never


@dataclass(frozen=True, slots=True, kw_only=True)
class SeriesValues:
    """One watched series on the inspected parts: the values of the parts it counts as good."""

    alert: DriftAlertSettings
    good: np.ndarray  # float64 (n,): the series' value on each good part, in part order
    parts: int  # parts that had a value for the series, good or not


class _Collect:
    """The watched series' values of every part the station publishes."""

    def __init__(self, alerts: list[DriftAlertSettings], parts: int) -> None:
        self._names = [parse_series(a.series) for a in alerts]
        self.good: list[list[float]] = [[] for _ in alerts]
        self.seen = [0] * len(alerts)
        self.done = 0
        self._parts = parts
        self.enough = threading.Event()
        self._lock = threading.Lock()

    def on_inspection(self, inspection: Inspection) -> None:
        with self._lock:
            for i, name in enumerate(self._names):
                found = part_value(name, inspection)
                if found is None:
                    continue
                self.seen[i] += 1
                if found[1]:
                    self.good[i].append(found[0])
            self.done += 1
            if self.done >= self._parts:
                self.enough.set()

    def on_status(self, update: StatusUpdate) -> None:
        pass


def measure_series(
    recipe: Recipe,
    paths: Paths,
    parts: int,
    *,
    progress: Callable[[int, int], None] | None = None,
    timeout_s: float = 7200.0,
) -> list[SeriesValues]:
    """Inspect ``parts`` simulated parts with the recipe's tools (taught on first use, as the
    demo is) and return the good parts' values of each watched series."""
    if not recipe.drift:
        raise LinesideError(f"recipe {recipe.name} watches no series for drift (no drift: list)")
    teach_on_first_use(limit_parts(recipe, None), paths)
    collect = _Collect(list(recipe.drift), parts)
    station = Station(limit_parts(recipe, parts), paths=paths, store_results=False)
    station.add_listener(collect)
    station.start()
    deadline = time.monotonic() + timeout_s
    try:
        while not (station.wait_finished(0.5) or collect.enough.is_set()):
            if progress is not None:
                progress(collect.done, parts)
            if time.monotonic() > deadline:
                raise LinesideError(f"eval drift: {parts} parts not inspected in {timeout_s:.0f} s")
    finally:
        station.stop(timeout_s=10.0)
    if progress is not None:
        progress(collect.done, parts)
    return [
        SeriesValues(alert=a, good=np.asarray(g, dtype=np.float64), parts=n)
        for a, g, n in zip(recipe.drift, collect.good, collect.seen, strict=True)
    ]


def line_rate(recipe: Recipe) -> float:
    """Parts per second of the recipe's simulated line (its first synthetic camera's rate)."""
    for cam in recipe.cameras:
        if isinstance(cam.source, SyntheticSourceSettings) and cam.source.rate_hz > 0:
            return float(cam.source.rate_hz)
    raise LinesideError(
        f"recipe {recipe.name}: no simulated camera with a rate; give --parts-per-s"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Replay:
    """What one series did over the replayed versions of a steady (or shifted) line."""

    warnings: int  # new warnings (a warning that only grew on screen is not counted again)
    judged_points: int
    versions_warned: int  # versions with at least one warning
    first_warning_points: tuple[int, ...]  # per version: points after the baseline to the first


def replay(
    series: SeriesValues,
    *,
    parts_per_point: int,
    point_s: float,
    versions: int,
    points_each: int,
    shift: float = 0.0,
    seed: int = 0,
    stop_at_first: bool = False,
) -> Replay:
    """Run ``versions`` recipe versions of ``points_each`` judged points each (after their
    baseline) through a ``SeriesWatch``; points are means of ``parts_per_point`` values drawn
    from the measured ones, moved by ``shift`` (value units) after the baseline. The operator
    presses Seen on every warning at once."""
    rng = np.random.default_rng(seed)
    values = series.good
    base_n = series.alert.baseline_points
    warnings = judged = warned = 0
    first: list[int] = []
    for v in range(versions):
        watch = SeriesWatch(series.alert, ("eval", str(v)), "eval")
        total = base_n + points_each
        means = _point_means(rng, values, total, parts_per_point)
        means[base_n:] += shift
        t = 0.0
        first_at: int | None = None
        for k in range(total):
            t += point_s
            _, warning = watch.add_point(t, float(means[k]), f"p{k}", parts_per_point)
            if k >= base_n and watch.limits is not None:
                judged += 1
            if warning is not None and warning.occurrences == 1:
                warnings += 1
                if first_at is None:
                    first_at = k - base_n + 1
                watch.acknowledge(t)
                if stop_at_first:
                    break
        if first_at is not None:
            warned += 1
            first.append(first_at)
    return Replay(
        warnings=warnings,
        judged_points=judged,
        versions_warned=warned,
        first_warning_points=tuple(first),
    )


def _point_means(rng: np.random.Generator, values: np.ndarray, points: int, n: int) -> np.ndarray:
    """``points`` means of ``n`` values drawn with replacement, in chunks of bounded memory."""
    out = np.empty(points, dtype=np.float64)
    chunk = max(1, 4_000_000 // max(n, 1))
    for a in range(0, points, chunk):
        b = min(points, a + chunk)
        out[a:b] = rng.choice(values, size=(b - a, n), replace=True).mean(axis=1)
    return out


def evaluate_drift(
    recipe: Recipe,
    paths: Paths,
    *,
    parts: int = 1500,
    parts_per_s: float | None = None,
    versions: int = 100,
    days: float = 7.0,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Inspect ``parts`` parts, then replay ``versions`` versions of ``days`` of steady running
    per watched series (and the same with a one-sigma shift); the figures ``lineside eval
    drift --json`` prints."""
    rate = parts_per_s if parts_per_s is not None else line_rate(recipe)
    if not rate > 0:
        raise LinesideError(f"eval drift: parts per second must be > 0, got {rate}")
    measured = measure_series(recipe, paths, parts, progress=progress)
    out: list[dict[str, Any]] = []
    for s in measured:
        if len(s.good) < 30:
            raise LinesideError(
                f"eval drift: {s.alert.series}: only {len(s.good)} of {parts} parts were good "
                "and had a value; inspect more parts"
            )
        good_share = len(s.good) / max(s.parts, 1)
        if s.alert.points_of is not None:
            n = s.alert.points_of
            point_s = n / (rate * good_share)
        else:
            point_s = s.alert.every_s
            n = max(1, round(rate * good_share * point_s))
        points_each = max(1, math.ceil(days * 86_400.0 / point_s))
        steady = replay(
            s,
            parts_per_point=n,
            point_s=point_s,
            versions=versions,
            points_each=points_each,
            seed=seed,
        )
        point_sd = float(np.std(s.good, ddof=1)) / math.sqrt(n)
        side = -1.0 if s.alert.watch == "down" else 1.0
        shifted = replay(
            s,
            parts_per_point=n,
            point_s=point_s,
            versions=versions,
            points_each=NEVER_POINTS,
            shift=side * point_sd,
            seed=seed + 1,
            stop_at_first=True,
        )
        judged_h = steady.judged_points * point_s / 3600.0
        to_warn = np.asarray(shifted.first_warning_points, dtype=np.float64) * point_s / 60.0
        out.append(
            {
                "series": s.alert.series,
                "rules": list(s.alert.rules),
                "watch": s.alert.watch,
                "good_parts_measured": len(s.good),
                "parts_per_point": n,
                "point_minutes": round(point_s / 60.0, 3),
                "baseline_points": s.alert.baseline_points,
                "versions": versions,
                "judged_hours": round(judged_h, 1),
                "false_warnings": steady.warnings,
                "false_warnings_per_shift": round(steady.warnings / judged_h * SHIFT_HOURS, 4)
                if judged_h
                else None,
                "versions_with_a_false_warning": round(steady.versions_warned / versions, 4),
                "shift_1sigma_minutes_to_warning_median": (
                    round(float(np.median(to_warn)), 1) if len(to_warn) else None
                ),
                "shift_1sigma_warned_within_points": NEVER_POINTS,
                "shift_1sigma_versions_warned": round(shifted.versions_warned / versions, 4),
            }
        )
    return {
        "recipe": f"{recipe.name} v{recipe.version}",
        "parts_inspected": parts,
        "parts_per_s": rate,
        "days_per_version": days,
        "series": out,
    }
