"""The block keeper builds the score cache's files as the line closes blocks, so that the first
load of a range reads files, not rows; the load stays exactly the live one."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from inspection.evaluation.record_day import generate_day
from inspection.recipe.station import ShiftCalendar
from inspection.tuning.block_keeper import ScoreBlockKeeper
from inspection.tuning.scores import load_tool_scores
from inspection.tuning.scores_cache import ScoresCache

BLOCK = 1000
FIELDS = ("part_id", "score", "threshold", "tool_verdict", "others_pass", "part_passed", "label")


@pytest.fixture
def day(tmp_path: Path) -> tuple[Path, float, float]:
    """A generated day: 4,320 parts of three tools, so four closed blocks of 1,000 and an open
    end."""
    db = tmp_path / "results.sqlite"
    figures = generate_day(
        db,
        day=dt.date(2026, 3, 2),
        calendar=ShiftCalendar(timezone="Europe/Berlin"),
        parts_per_s=0.05,
    )
    return db, figures.start, figures.end


def _files(cache: ScoresCache) -> list[Path]:
    return sorted(cache.folder.rglob("*.scores"))


def _tools(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return sorted(r[0] for r in conn.execute("SELECT DISTINCT tool_id FROM tool_results"))


def test_closed_blocks_get_their_files_and_the_first_load_reads_only_them(
    day: tuple[Path, float, float], caplog: pytest.LogCaptureFixture
) -> None:
    db, start, end = day
    cache = ScoresCache(db.parent / "cache", block_parts=BLOCK)
    keeper = ScoreBlockKeeper(db, cache=cache)
    tools = _tools(db)
    assert len(tools) >= 2

    assert keeper.keep_up() == 4 * len(tools)  # blocks 0-3 are closed; part 4,320 is open
    files = _files(cache)
    assert len(files) == 4 * len(tools)
    stamps = {f: f.stat().st_mtime_ns for f in files}
    assert keeper.keep_up() == 0  # nothing closed since: nothing rebuilt, nothing re-checked

    # the first load builds nothing (every closed block is there and sound) and equals live
    with caplog.at_level(logging.INFO, logger="inspection.tuning.scores_cache"):
        for tool in tools:
            cached = load_tool_scores(db, tool, start, end, cache=cache)
            live = load_tool_scores(db, tool, start, end, cache=False)
            for name in FIELDS:
                np.testing.assert_array_equal(getattr(cached, name), getattr(live, name))
    assert {f: f.stat().st_mtime_ns for f in _files(cache)} == stamps
    assert "rebuilding" not in caplog.text


def test_a_later_start_catches_up_and_rebuilds_only_what_is_missing_or_stale(
    day: tuple[Path, float, float],
) -> None:
    db, start, end = day
    cache = ScoresCache(db.parent / "cache", block_parts=BLOCK)
    first = ScoreBlockKeeper(db, cache=cache)
    per_block = len(_tools(db))
    assert first.keep_up() == 4 * per_block
    files = _files(cache)
    files[0].unlink()  # lost
    with sqlite3.connect(db) as conn:  # block 2 changed under its files (say, a repair)
        conn.execute("DELETE FROM tool_results WHERE inspection = 2500")
    # a restart of the station: a new keeper checks the last blocks and rebuilds the lost file
    # and block 2's files, nothing else
    again = ScoreBlockKeeper(db, cache=cache, catch_up_blocks=10)
    assert again.keep_up() == 1 + per_block
    # only the last two closed blocks are looked at when told so
    files[0].unlink()
    assert ScoreBlockKeeper(db, cache=cache, catch_up_blocks=2).keep_up() == 0
    tool = _tools(db)[0]
    cached = load_tool_scores(db, tool, start, end, cache=cache)
    live = load_tool_scores(db, tool, start, end, cache=False)
    np.testing.assert_array_equal(cached.score, live.score)


def test_the_keeper_thread_starts_stops_and_survives_a_missing_database(tmp_path: Path) -> None:
    db = tmp_path / "not-yet.sqlite"
    keeper = ScoreBlockKeeper(db, cache=ScoresCache(tmp_path / "cache"), check_s=0.01)
    assert keeper.keep_up() == 0  # no database yet: nothing to do, nothing raised
    keeper.start()
    assert keeper.stop(timeout_s=5.0)
    assert not (tmp_path / "cache").exists()
