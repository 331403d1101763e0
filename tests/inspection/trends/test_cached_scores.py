"""A tool's score series read through the score cache (closed blocks from files, the newest
block live) is the series the database query gives, point for point."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from inspection.evaluation.record_day import generate_day
from inspection.recipe.station import ShiftCalendar
from inspection.trends.chart_load import load_charts
from inspection.trends.measures import parse_series
from inspection.trends.series import load_raw_series
from inspection.tuning.block_keeper import ScoreBlockKeeper
from inspection.tuning.scores_cache import ScoresCache

BLOCK = 500


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float, float]:
    """A day of 4,320 parts (three tools, FAILs and ERRORs), with two parts the cache must
    treat as the query does: one stamped an hour before the day (a clock set back, its id among
    the day's) and one whose score was not recorded."""
    db = tmp_path_factory.mktemp("cached") / "results.sqlite"
    figures = generate_day(
        db,
        day=dt.date(2026, 3, 2),
        calendar=ShiftCalendar(timezone="Europe/Berlin"),
        parts_per_s=0.05,
    )
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE inspections SET wall_time = ? WHERE id = 1234", (figures.start - 3600,)
        )
        conn.execute("UPDATE tool_results SET score = NULL WHERE inspection = 2345")
    return db, figures.start, figures.end


def cache_in(folder: Path) -> ScoresCache:
    return ScoresCache(folder, block_parts=BLOCK)


def assert_same_points(got, want) -> None:
    assert len(want) > 0
    for field in ("t", "value", "part_id", "count"):
        np.testing.assert_array_equal(getattr(got, field), getattr(want, field), err_msg=field)
    assert got.threshold == want.threshold


@pytest.mark.parametrize("tool", ["surface", "label"])
def test_cached_series_equals_the_query(
    day: tuple[Path, float, float], tmp_path: Path, tool: str
) -> None:
    db, start, end = day
    name = parse_series(f"{tool}.score")
    want = load_raw_series(db, name, start, end, cache=False)
    first = load_raw_series(db, name, start, end, cache=cache_in(tmp_path))  # builds the blocks
    again = load_raw_series(db, name, start, end, cache=cache_in(tmp_path))  # reads them back
    assert_same_points(first, want)
    assert_same_points(again, want)
    assert 1234 not in want.part_id and 2345 not in want.part_id
    assert len(list(tmp_path.glob("*/*.scores"))) == 4320 // BLOCK  # closed blocks kept


def test_ranges_that_cut_blocks_equal_the_query(
    day: tuple[Path, float, float], tmp_path: Path
) -> None:
    db, start, end = day
    name = parse_series("surface.score")
    for a, b in [
        (start + 3333.3, end - 7777.7),
        (start + 20_000, start + 20_900),
        (start, start + 50),
    ]:
        assert_same_points(
            load_raw_series(db, name, a, b, cache=cache_in(tmp_path)),
            load_raw_series(db, name, a, b, cache=False),
        )


def test_the_kept_files_are_what_a_chart_reads(
    day: tuple[Path, float, float], tmp_path: Path
) -> None:
    """The block keeper's files serve the Trends page: a load after the keeper writes no file
    and reads them (a score changed in the database after they were kept, which recorded
    results never are, shows only in the live read: proof the files were read)."""
    src, start, end = day
    db = tmp_path / "results.sqlite"
    with sqlite3.connect(src) as a, sqlite3.connect(db) as b:
        a.backup(b)
    cache = cache_in(tmp_path / "cache")
    keeper = ScoreBlockKeeper(db, cache=cache)
    assert keeper.keep_up() > 0
    files = sorted((tmp_path / "cache").glob("*/*.scores"))
    stamps = {p: p.stat().st_mtime_ns for p in files}
    live = load_charts(db, ["surface.score"], start, end, cache=False)
    kept = load_charts(db, ["surface.score"], start, end, cache=cache)
    assert {p: p.stat().st_mtime_ns for p in files} == stamps
    a, b = live.charts["surface.score"], kept.charts["surface.score"]
    np.testing.assert_array_equal(a.shown.value, b.shown.value)
    assert [(v.rule, v.at) for v in a.violations] == [(v.rule, v.at) for v in b.violations]
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE tool_results SET score = 99.0 WHERE inspection = 777")
    raw_live = load_raw_series(db, parse_series("surface.score"), start, end, cache=False)
    raw_kept = load_raw_series(db, parse_series("surface.score"), start, end, cache=cache)
    assert raw_live.value[raw_live.part_id == 777].tolist() == [99.0]
    assert raw_kept.value[raw_kept.part_id == 777].tolist() != [99.0]


def test_station_or_recipe_narrowed_series_are_read_by_query(
    day: tuple[Path, float, float], tmp_path: Path
) -> None:
    """The cache holds no station: a station's series is the query's, and writes no file."""
    db, start, end = day
    name = parse_series("surface.score")
    got = load_raw_series(db, name, start, end, station="bench-station", cache=cache_in(tmp_path))
    assert_same_points(got, load_raw_series(db, name, start, end, cache=False))
    assert not list(tmp_path.glob("*/*.scores"))
