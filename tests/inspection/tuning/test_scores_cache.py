"""The score columns cache: a load through it equals the load straight from the database, array by
array, whether the block files are built, reused, stale or damaged."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest

from inspection.evaluation.record_day import DayFigures, generate_day
from inspection.paths import results_cache
from inspection.recipe.station import ShiftCalendar
from inspection.storage.queries import open_reader
from inspection.tuning.labels import set_label
from inspection.tuning.scores import ToolScores, load_tool_scores
from inspection.tuning.scores_cache import ScoresCache

BLOCK = 1000
FIELDS = ("part_id", "score", "threshold", "tool_verdict", "others_pass", "part_passed", "label")


@pytest.fixture(scope="module")
def two_days(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float, float]:
    """Two generated days (4,320 parts each, three tools, FAILs, ERRORs, a threshold change)."""
    db = tmp_path_factory.mktemp("cache") / "results.sqlite"
    calendar = ShiftCalendar(timezone="Europe/Berlin")
    days: list[DayFigures] = [
        generate_day(
            db, day=dt.date(2026, 3, 2) + dt.timedelta(days=d), calendar=calendar, parts_per_s=0.05
        )
        for d in range(2)
    ]
    rng = np.random.default_rng(3)
    for part in rng.choice(np.arange(1, 8641), 60, replace=False):
        set_label(db, int(part), str(rng.choice(["good", "defect", "escape", "unsure"])))
    return db, days[0].start, days[-1].end


@pytest.fixture
def week(two_days: tuple[Path, float, float], tmp_path: Path) -> tuple[Path, float, float]:
    """A private copy of the two days (tests here change rows and cache files)."""
    src, start, end = two_days
    db = tmp_path / "results.sqlite"
    with sqlite3.connect(src) as a, sqlite3.connect(db) as b:
        a.backup(b)
    return db, start, end


def assert_same(got: ToolScores, want: ToolScores) -> None:
    for name in FIELDS:
        a, b = getattr(got, name), getattr(want, name)
        assert a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert (got.tool_type, got.threshold_in_force) == (want.tool_type, want.threshold_in_force)


def cache_of(db: Path) -> ScoresCache:
    return ScoresCache(results_cache(db) / "tool-scores", block_parts=BLOCK)


def block_files(db: Path) -> list[Path]:
    return sorted((results_cache(db) / "tool-scores").glob("*/*.scores"))


@pytest.mark.parametrize("tool", ["surface", "label", "serial"])
def test_cached_load_equals_the_database_array_by_array(
    week: tuple[Path, float, float], tool: str
) -> None:
    db, start, end = week
    want = load_tool_scores(db, tool, start, end, cache=False)
    first = load_tool_scores(db, tool, start, end, cache=cache_of(db))  # builds the blocks
    again = load_tool_scores(db, tool, start, end, cache=cache_of(db))  # reads them back
    assert want.n == 8640
    assert_same(first, want)
    assert_same(again, want)
    # every block below the newest part is closed and kept; the open end is read live
    assert len(block_files(db)) == 8640 // BLOCK


def test_ranges_that_cut_blocks_equal_the_database(week: tuple[Path, float, float]) -> None:
    db, start, end = week
    load_tool_scores(db, "surface", start, end, cache=cache_of(db))
    for a, b in [
        (start + 3333.3, end - 7777.7),
        (start + 20_000, start + 20_900),
        (start, start + 50),
    ]:
        assert_same(
            load_tool_scores(db, "surface", a, b, cache=cache_of(db)),
            load_tool_scores(db, "surface", a, b, cache=False),
        )


def test_a_second_load_reads_the_files_without_rewriting_them(
    week: tuple[Path, float, float], caplog: pytest.LogCaptureFixture
) -> None:
    db, start, end = week
    load_tool_scores(db, "surface", start, end, cache=cache_of(db))
    stamps = {p: p.stat().st_mtime_ns for p in block_files(db)}
    with caplog.at_level(logging.INFO, logger="inspection.tuning.scores_cache"):
        load_tool_scores(db, "surface", start, end, cache=cache_of(db))
    assert {p: p.stat().st_mtime_ns for p in block_files(db)} == stamps
    assert not caplog.records


def test_labels_are_read_live_not_from_the_cache(week: tuple[Path, float, float]) -> None:
    db, start, end = week
    load_tool_scores(db, "surface", start, end, cache=cache_of(db))
    set_label(db, 1500, "escape")  # a part of a closed, cached block
    got = load_tool_scores(db, "surface", start, end, cache=cache_of(db))
    assert got.label[got.part_id == 1500][0] == 3
    assert_same(got, load_tool_scores(db, "surface", start, end, cache=False))


def change_rows(db: Path, *sql: str) -> None:
    conn = sqlite3.connect(db)
    try:
        for s in sql:
            conn.execute(s)
        conn.commit()
    finally:
        conn.close()


def test_rows_removed_from_a_closed_block_rebuild_it(week: tuple[Path, float, float]) -> None:
    db, start, end = week
    load_tool_scores(db, "surface", start, end, cache=cache_of(db))
    target = cache_of(db).file_of("surface", 2)  # parts 2000..2999
    before = target.stat().st_mtime_ns
    # a passed part in the middle: neither end of the block nor its reject count changes
    passed = (
        sqlite3.connect(db)
        .execute(
            "SELECT inspection FROM tool_results WHERE tool_id = 'surface' AND verdict = 'PASS' "
            "AND inspection BETWEEN 2400 AND 2600 LIMIT 1"
        )
        .fetchone()[0]
    )
    change_rows(
        db,
        f"DELETE FROM tool_results WHERE inspection = {passed}",
        f"DELETE FROM inspections WHERE id = {passed}",
    )
    got = load_tool_scores(db, "surface", start, end, cache=cache_of(db))
    assert passed not in got.part_id
    assert_same(got, load_tool_scores(db, "surface", start, end, cache=False))
    assert target.stat().st_mtime_ns != before


def test_rows_added_to_a_closed_block_rebuild_it(week: tuple[Path, float, float]) -> None:
    db, start, end = week
    change_rows(db, "DELETE FROM tool_results WHERE inspection = 3500 AND tool_id = 'surface'")
    load_tool_scores(db, "surface", start, end, cache=cache_of(db))
    # the row comes back (a restored backup): the block holds one row more than its file
    change_rows(
        db,
        "INSERT INTO tool_results (inspection, tool_id, tool_type, verdict, score, threshold) "
        "VALUES (3500, 'surface', 'anomaly', 'PASS', 0.125, 0.5)",
    )
    got = load_tool_scores(db, "surface", start, end, cache=cache_of(db))
    at = np.flatnonzero(got.part_id == 3500)
    assert len(at) == 1 and got.score[at[0]] == 0.125
    assert_same(got, load_tool_scores(db, "surface", start, end, cache=False))


def test_a_damaged_file_is_never_trusted(
    week: tuple[Path, float, float], caplog: pytest.LogCaptureFixture
) -> None:
    db, start, end = week
    load_tool_scores(db, "surface", start, end, cache=cache_of(db))
    broken = cache_of(db).file_of("surface", 4)
    broken.write_bytes(broken.read_bytes()[:5000])  # cut short, as a crash or full disk would
    garbage = cache_of(db).file_of("surface", 5)
    garbage.write_bytes(b"not a cache file at all")
    with caplog.at_level(logging.WARNING, logger="inspection.tuning.scores_cache"):
        got = load_tool_scores(db, "surface", start, end, cache=cache_of(db))
    assert_same(got, load_tool_scores(db, "surface", start, end, cache=False))
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert broken.name in warned and garbage.name in warned
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="inspection.tuning.scores_cache"):
        load_tool_scores(db, "surface", start, end, cache=cache_of(db))
    assert not caplog.records  # rebuilt whole: read back without a word


@pytest.mark.parametrize("damage", ["flipped byte", "another block's file", "longer"])
def test_a_file_with_other_contents_is_rebuilt(
    week: tuple[Path, float, float], caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    db, start, end = week
    load_tool_scores(db, "surface", start, end, cache=cache_of(db))
    path = cache_of(db).file_of("surface", 1)
    data = bytearray(path.read_bytes())
    if damage == "flipped byte":
        data[-BLOCK * 20] ^= 0x10  # inside the thresholds
    elif damage == "another block's file":
        data = bytearray(cache_of(db).file_of("surface", 2).read_bytes())
    else:
        data += b"\0" * 8
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.INFO, logger="inspection.tuning.scores_cache"):
        got = load_tool_scores(db, "surface", start, end, cache=cache_of(db))
    assert_same(got, load_tool_scores(db, "surface", start, end, cache=False))
    assert [path.name in r.getMessage() for r in caplog.records] == [True]
    assert path.read_bytes() != bytes(data)


def test_another_database_at_the_same_path_does_not_use_the_files(
    week: tuple[Path, float, float],
) -> None:
    db, start, end = week
    load_tool_scores(db, "surface", start, end, cache=cache_of(db))
    # same ids and counts, other parts: every part renamed
    change_rows(db, "UPDATE inspections SET inspection_id = 'other-' || inspection_id")
    change_rows(db, "UPDATE tool_results SET score = score / 2 WHERE tool_id = 'surface'")
    assert_same(
        load_tool_scores(db, "surface", start, end, cache=cache_of(db)),
        load_tool_scores(db, "surface", start, end, cache=False),
    )


def test_a_folder_that_cannot_be_written_still_answers(
    week: tuple[Path, float, float], caplog: pytest.LogCaptureFixture
) -> None:
    db, start, end = week
    results_cache(db).write_text("a file where the cache folder would go")
    with caplog.at_level(logging.WARNING, logger="inspection.tuning.scores_cache"):
        got = load_tool_scores(db, "surface", start, end, cache=cache_of(db))
    assert_same(got, load_tool_scores(db, "surface", start, end, cache=False))
    assert sum("cannot write" in r.getMessage() for r in caplog.records) == 1


def test_the_default_cache_lives_beside_the_database(week: tuple[Path, float, float]) -> None:
    db, start, end = week
    got = load_tool_scores(db, "surface", start, end)
    assert_same(got, load_tool_scores(db, "surface", start, end, cache=False))
    assert results_cache(db).parent == db.parent
    # 8,640 parts are all in the first, still open block of 65,536: nothing to keep yet
    assert not list(results_cache(db).glob("**/*.scores"))


def test_odd_tool_ids_stay_inside_the_cache_folder(tmp_path: Path) -> None:
    cache = ScoresCache(tmp_path / "c")
    for tool in ("../../etc", "a/b", "..", "", "ä ö"):
        path = cache.file_of(tool, 3)
        assert path.resolve().is_relative_to((tmp_path / "c").resolve())
        assert path.parent.name not in ("", ".", "..")
    assert cache.file_of("a/b", 0) != cache.file_of("a_b", 0)


def test_building_the_cache_never_waits_for_the_writer(week: tuple[Path, float, float]) -> None:
    db, start, end = week
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # the storage writer mid-transaction
    writer.execute("INSERT INTO events (station, wall_time, kind, text) VALUES ('s', 0, 'k', 't')")
    done = threading.Event()

    def load() -> None:
        load_tool_scores(db, "surface", start, end, cache=cache_of(db))
        done.set()

    t = threading.Thread(target=load)
    t.start()
    t.join(timeout=30)
    writer.execute("COMMIT")  # and the writer commits after a reader built the cache
    writer.close()
    assert done.is_set() and len(block_files(db)) == 8
    conn = open_reader(db)
    assert conn.execute("SELECT COUNT(*) FROM events WHERE station = 's'").fetchone()[0] == 1
    conn.close()


def test_a_load_reads_and_checks_only_the_columns_it_needs(
    week: tuple[Path, float, float], caplog: pytest.LogCaptureFixture
) -> None:
    """Each column has its own checksum: Tuning passes over the parts' times, Trends over the
    verdict columns; a flipped byte in a column a load reads is caught, in one it does not
    read it costs nothing."""
    db = week[0]
    cache = cache_of(db)
    conn = open_reader(db)
    conn.row_factory = None
    try:
        lo, hi = conn.execute("SELECT MIN(id), MAX(id) FROM inspections").fetchone()
        whole = cache.columns(conn, "surface", lo, hi)  # builds the files
        some = cache.columns(conn, "surface", lo, hi, names=("score", "wall_time"))
        np.testing.assert_array_equal(some.part_id, whole.part_id)
        np.testing.assert_array_equal(some.wall_time, whole.wall_time)
        assert some.threshold.size == 0 and some.tool_verdict.size == 0  # not read
        # flip a byte of block 2's last column (other_failed), which a Trends load never reads
        path = cache.file_of("surface", 2)
        data = bytearray(path.read_bytes())
        data[-1] ^= 0xFF
        path.write_bytes(bytes(data))
        with caplog.at_level(logging.INFO, logger="inspection.tuning.scores_cache"):
            cache.columns(conn, "surface", lo, hi, names=("score", "wall_time"))
        assert not caplog.records
        with caplog.at_level(logging.WARNING, logger="inspection.tuning.scores_cache"):
            again = cache.columns(conn, "surface", lo, hi)
        assert "checksum of other_failed" in caplog.text
        np.testing.assert_array_equal(again.other_failed, whole.other_failed)
    finally:
        conn.close()
