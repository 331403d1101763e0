"""Choosing a baseline and computing a series' control limits from it.

A baseline is either a time window the engineer picks, or (the default) the first N good parts
after a recipe version started. Per-part series get individuals limits on their good parts;
yield and ERROR rate get p-chart limits; counts per interval (fails, a reason) get individuals
limits on the counts.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from inspection.storage.queries import open_reader
from inspection.trends.aggregate import SeriesData
from inspection.trends.arguments import DEFAULT_BASELINE_PARTS
from inspection.trends.limits import ControlLimits, individuals_limits, p_limits, save_limits
from inspection.trends.measures import SeriesName, describe
from inspection.trends.series import load_raw_series

PROPORTIONS = frozenset({"yield", "error_rate"})


def chart_for(name: SeriesName) -> str:
    """ "p" for a proportion per interval, else "individuals"."""
    return "p" if name.is_station and name.measure in PROPORTIONS else "individuals"


def is_per_part(name: SeriesName) -> bool:
    return not name.is_station or describe(name.measure).per_part


def limits_from(
    data: SeriesData, *, recipe: tuple[str, str] = ("", ""), baseline: str = ""
) -> ControlLimits:
    """Limits from ``data``'s points as the baseline (ValueError when too few)."""
    kwargs = {
        "series": str(data.name),
        "recipe_name": recipe[0],
        "recipe_version": recipe[1],
        "baseline": baseline,
    }
    if chart_for(data.name) == "p":
        totals = data.count.astype(np.float64)
        return p_limits(np.rint(data.value * totals), totals, data.t, **kwargs)
    return individuals_limits(data.value, data.t, **kwargs)


def recipe_in_force(
    db_path: Path, start: float, end: float, *, station: str | None = None
) -> tuple[str, str] | None:
    """(recipe name, version) of the newest part in the range; None when it has no parts."""
    where = "wall_time >= ? AND wall_time < ?"
    params: tuple[object, ...] = (start, end)
    if station is not None:
        where += " AND station = ?"
        params += (station,)
    conn = open_reader(db_path)
    try:
        row = conn.execute(
            f"SELECT recipe_name, recipe_version FROM inspections WHERE {where} "
            "ORDER BY wall_time DESC LIMIT 1",
            params,
        ).fetchone()
    finally:
        conn.close()
    return None if row is None else (str(row[0]), str(row[1]))


def version_start(
    db_path: Path, recipe: tuple[str, str], *, station: str | None = None
) -> float | None:
    """When the recipe version's first part was inspected; None when it has none."""
    where = "recipe_name = ? AND recipe_version = ?"
    params: tuple[object, ...] = recipe
    if station is not None:
        where += " AND station = ?"
        params += (station,)
    conn = open_reader(db_path)
    try:
        row = conn.execute(f"SELECT MIN(wall_time) FROM inspections WHERE {where}", params)
        first = row.fetchone()[0]
    finally:
        conn.close()
    return None if first is None else float(first)


def range_baseline(
    db_path: Path,
    name: SeriesName,
    start: float,
    end: float,
    *,
    n: int = DEFAULT_BASELINE_PARTS,
    station: str | None = None,
    recipe: tuple[str, str] = ("", ""),
) -> ControlLimits:
    """Limits from the range's first ``n`` good parts (intervals for a station rate)."""
    data = load_raw_series(
        db_path, name, start, end, station=station, good_only=is_per_part(name), limit=n
    )
    what = "good parts" if is_per_part(name) else "intervals"
    return limits_from(
        data, recipe=recipe, baseline=f"first {len(data)} {what} of the range (not stored)"
    )


def window_baseline(
    db_path: Path,
    name: SeriesName,
    start: float,
    end: float,
    *,
    recipe: tuple[str, str],
    station: str | None = None,
    zone: dt.tzinfo | None = None,
) -> ControlLimits:
    """Limits from every good part (or interval) in the window ``[start, end)``."""
    data = load_raw_series(db_path, name, start, end, station=station, good_only=is_per_part(name))
    show = _clock(zone)
    return limits_from(data, recipe=recipe, baseline=f"window {show(start)} to {show(end)}")


def save_window_limits(
    db_path: Path,
    name: SeriesName,
    start: float,
    end: float,
    *,
    station: str | None = None,
    zone: dt.tzinfo | None = None,
) -> ControlLimits:
    """Re-baseline: limits from every good part (or interval) in ``[start, end)``, stored with
    the recipe version in force at the window's end (a new row: older limits stay on record).
    ValueError saying why when the window gives none."""
    recipe = recipe_in_force(db_path, start, end, station=station)
    if recipe is None:
        raise ValueError("the range has no parts, so no recipe version to keep limits with")
    limits = window_baseline(db_path, name, start, end, recipe=recipe, station=station, zone=zone)
    save_limits(db_path, limits)
    return limits


def version_baseline(
    db_path: Path,
    name: SeriesName,
    recipe: tuple[str, str],
    until: float,
    *,
    n: int = DEFAULT_BASELINE_PARTS,
    station: str | None = None,
) -> ControlLimits:
    """Limits from the first ``n`` good parts of the recipe version (the default baseline);
    for a station rate, its first ``n`` intervals after the version started."""
    first = version_start(db_path, recipe, station=station)
    if first is None or first >= until:
        raise ValueError(
            f"recipe {recipe[0]!r} version {recipe[1]!r} has no parts before the range's end"
        )
    per_part = is_per_part(name)
    data = load_raw_series(
        db_path,
        name,
        first,
        until,
        station=station,
        recipe=recipe if per_part else None,
        good_only=per_part,
        limit=n,
    )
    what = "good parts" if per_part else "intervals"
    return limits_from(
        data,
        recipe=recipe,
        baseline=f"first {len(data)} {what} after recipe {recipe[0]} version {recipe[1]} started",
    )


def _clock(zone: dt.tzinfo | None) -> Callable[[float], str]:
    def show(t: float) -> str:
        if not math.isfinite(t):
            return "?"
        return dt.datetime.fromtimestamp(t, tz=zone or dt.UTC).isoformat(timespec="seconds")

    return show
