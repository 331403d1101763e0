"""``trends_day_load_s`` of ``lineside bench --gui``: a whole production day (864,000 parts)
loaded as the Trends page loads it (``load_charts``: points, limits, rules and part ids of both
series), median of runs, with the plain series load beside it. No Qt: the page's load runs off
the GUI thread in the core, so it is timed here.

A station's block keeper (``inspection/tuning/block_keeper.py``) files the score columns of each
block of parts as it closes, and the surface tool's score series reads those. So the day's
closed blocks are kept first, as the keeper would have through the day (``trends_day_keeper_s``,
not part of the load), into a cache folder of the bench's own. ``trends_day_load_no_keeper_s``
is the first load where no keeper ran (a database brought from elsewhere): it reads every row.
"""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TRENDS_MAX_POINTS = 1500
TRENDS_REPEATS = 3
TRENDS_SERIES = ("surface.score", "station.yield")  # the day's anomaly tool is "surface"
TRENDS_DAY = dt.date(2026, 12, 4)

Say = Callable[[str], None]


def _day_range(db: Path) -> tuple[float, float, int]:
    from inspection.storage.queries import open_reader

    conn = open_reader(db)
    try:
        first, last, n = conn.execute(
            "SELECT MIN(wall_time), MAX(wall_time), COUNT(*) FROM inspections"
        ).fetchone()
    finally:
        conn.close()
    if not n:
        raise ValueError(f"{db} holds no parts")
    return float(first), float(last) + 1.0, int(n)


def _median_seconds(
    what: str, load: Callable[[], Any], repeats: int, say: Say
) -> tuple[list[float], Any]:
    runs, loaded = [], None
    for i in range(repeats):
        say(f"loading the day's {what}, run {i + 1} of {repeats}")
        t0 = time.perf_counter()
        loaded = load()
        runs.append(time.perf_counter() - t0)
    return runs, loaded


def bench_trends_day(
    day_db: Path | None, repeats: int = TRENDS_REPEATS, say: Say = lambda _m: None
) -> dict[str, Any]:
    """Seconds the Trends page takes to load a whole day's ``surface.score`` plus
    ``station.yield`` (``load_charts``: points, limits, rules, part ids; median of runs), and the
    plain series load beside it."""
    from inspection.evaluation.record_day import generate_day
    from inspection.recipe.station import ShiftCalendar
    from inspection.trends.chart_load import load_charts
    from inspection.trends.measures import parse_series
    from inspection.trends.series import load_series
    from inspection.tuning.block_keeper import ScoreBlockKeeper
    from inspection.tuning.scores_cache import ScoresCache

    with tempfile.TemporaryDirectory(prefix="lineside-bench-trends-") as tmp:
        if day_db is None:
            db = Path(tmp) / "day.db"
            say(f"generating a production day into {db} (not timed, 1-2 min, ~1.6 GB)")
            day = generate_day(
                db, day=TRENDS_DAY, calendar=ShiftCalendar(timezone="Europe/Berlin"), line="Line 1"
            )
            start, end, parts = day.start, day.end, day.rows
        else:
            db = day_db
            start, end, parts = _day_range(db)
        keys = list(TRENDS_SERIES)
        say("loading the day without a block keeper's files (the first load reads every row)")
        t0 = time.perf_counter()
        load_charts(
            db, keys, start, end, max_points=TRENDS_MAX_POINTS, cache=ScoresCache(Path(tmp) / "no")
        )
        no_keeper_s = time.perf_counter() - t0
        say("keeping the day's closed blocks, as the station's block keeper does (not timed)")
        cache = ScoresCache(Path(tmp) / "kept")
        keeper = ScoreBlockKeeper(db, cache=cache)
        t0 = time.perf_counter()
        keeper.keep_up()
        keeper_s = time.perf_counter() - t0
        runs, charts = _median_seconds(
            "charts",
            lambda: load_charts(db, keys, start, end, max_points=TRENDS_MAX_POINTS, cache=cache),
            repeats,
            say,
        )
        if charts.errors:
            raise RuntimeError(f"the day's trends did not load: {charts.errors}")
        names = [parse_series(k) for k in keys]
        series_runs, _ = _median_seconds(
            "plain series",
            lambda: [
                load_series(db, n, start, end, max_points=TRENDS_MAX_POINTS, cache=cache)
                for n in names
            ],
            repeats,
            say,
        )
    shown = [charts.charts[k] for k in keys]
    return {
        "trends_day_load_s": round(statistics.median(runs), 3),
        "trends_day_load_runs_s": [round(r, 3) for r in runs],
        "trends_day_series_load_s": round(statistics.median(series_runs), 3),
        "trends_day_load_no_keeper_s": round(no_keeper_s, 3),
        "trends_day_keeper_s": round(keeper_s, 3),
        "trends_day_keeper_files": keeper.files_built,
        "trends_day_parts": parts,
        "trends_day_series": keys,
        "trends_day_points": [len(c.shown) for c in shown],
        "trends_day_limits": [c.limits is not None for c in shown],
        "trends_day_violations": [len(c.violations) for c in shown],
    }
