"""What the trends page loads in one go: the instants of a range preset, and the chart data of
several series over one range with the inspection ids of the parts behind their points."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from inspection.recipe.station import ShiftCalendar
from inspection.trends.chart_data import ChartData, chart_data
from inspection.trends.measures import parse_series
from inspection.trends.part_ids import inspection_ids
from inspection.tuning.scores_cache import ScoresCache

PRESETS = ("Last 15 min", "Last hour", "This shift", "Last shift", "Today", "Last 24 h", "Custom")
SIDE_BY_SIDE = 2
"""Series loaded at once. A day's per-part series spends most of its time making Python rows
(holding the interpreter lock) while an interval series mostly waits on SQLite's GROUP BY (which
releases it): side by side on two cores the pair takes about the longer one's time, not the sum."""
FOLLOWS_NOW = frozenset({"Last 15 min", "Last hour", "This shift", "Today", "Last 24 h"})
"""The presets that end now: a live chart follows these."""


def preset_range(calendar: ShiftCalendar, preset: str, now: float) -> tuple[float, float]:
    """The instants of a range preset at ``now``; ValueError when there is none (no shift)."""
    fixed = {"Last 15 min": 900.0, "Last hour": 3600.0, "Last 24 h": 86400.0}
    if preset in fixed:
        return now - fixed[preset], now
    if preset == "This shift":
        window = calendar.shift_at(now)
        if window is None:
            raise ValueError("no shift is running now; choose Last shift or a custom range")
        return window.start, now
    if preset == "Last shift":
        window = calendar.last_completed(now)
        if window is None:
            raise ValueError("no shift ended in the last 8 days")
        return window.start, window.end
    if preset == "Today":
        midnight = dt.datetime.combine(calendar.local_date(now), dt.time(), tzinfo=calendar.zone)
        return midnight.timestamp(), now
    raise ValueError(f"unknown range {preset!r}; ranges are {', '.join(PRESETS[:-1])}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Charts:
    """One load: the series that loaded, and why the others did not."""

    start: float
    end: float
    charts: dict[str, ChartData] = field(default_factory=dict)  # by series name, in order
    errors: dict[str, str] = field(default_factory=dict)
    part_names: dict[int, str] = field(default_factory=dict)  # part row id → inspection id
    seconds: float = 0.0
    no_database: bool = False  # nothing was ever recorded: not an error


def load_charts(
    db: Path,
    names: Sequence[str],
    start: float,
    end: float,
    *,
    max_points: int = 1500,
    cache: ScoresCache | bool = True,
) -> Charts:
    """Each series' chart data over ``[start, end)``; a bad series is an error of its own and
    does not stop the others. ``cache``: the score cache tools' scores are read through
    (True: the database's, False: none)."""
    if not db.is_file():
        return Charts(start=start, end=end, no_database=True)
    began = time.perf_counter()

    def one(name: str) -> ChartData | str:
        # each on its own read-only connection (chart_data opens them)
        try:
            return chart_data(
                db, parse_series(name), start, end, max_points=max_points, cache=cache
            )
        except ValueError as exc:
            return str(exc)

    with ThreadPoolExecutor(
        max_workers=max(min(len(names), SIDE_BY_SIDE), 1), thread_name_prefix="trends-load"
    ) as pool:
        loaded = list(pool.map(one, names))
    charts: dict[str, ChartData] = {}
    errors: dict[str, str] = {}
    for name, got in zip(names, loaded, strict=True):
        if isinstance(got, str):
            errors[name] = got
        else:
            charts[name] = got
    ids = [
        i for c in charts.values() for ids in (c.shown.part_id, c.shown.low_part_id) for i in ids
    ]
    return Charts(
        start=start,
        end=end,
        charts=charts,
        errors=errors,
        part_names=inspection_ids(db, ids),
        seconds=time.perf_counter() - began,
    )


def describe_load(name: str, data: ChartData, seconds: float) -> str:
    """``surface.score: 864,000 parts in 1,500 points, 0.8 s``."""
    n = len(data.shown)
    if n == 0:
        return f"{name}: no parts in this range"
    return f"{name}: {data.parts:,} parts in {n:,} point{'s' if n != 1 else ''}, {seconds:.1f} s"
