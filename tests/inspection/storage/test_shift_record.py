"""A station's record read back after a restart: part numbers, the current count, its serials."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from inspection.errors import StorageError
from inspection.storage.queries import open_reader
from inspection.storage.schema import MIGRATIONS, SCHEMA_VERSION, migrate, user_version
from inspection.storage.shift_record import ShiftRecord, read_shift_record, write_count_start
from inspection.types import ToolResult, Verdict


def _with_serial(inspection, key: str):
    code = dataclasses.replace(inspection.tool_results[0], unique_keys=(key,))
    return dataclasses.replace(inspection, tool_results=(code, *inspection.tool_results[1:]))


def _record(store_factory, db: Path, inspections) -> None:
    store = store_factory(db)
    for insp in inspections:
        store.submit(insp)
    assert store.flush(10.0)
    store.stop()


def test_no_database_yet_is_an_empty_record(tmp_path: Path) -> None:
    assert read_shift_record(tmp_path / "none.sqlite", "station-1") == ShiftRecord()


def test_record_gives_next_part_counts_serials_and_last_simulated_part(
    tmp_path: Path, store_factory, make_inspection
) -> None:
    db = tmp_path / "results.sqlite"
    verdicts = [Verdict.PASS, Verdict.FAIL, Verdict.PASS, Verdict.ERROR, Verdict.PASS]
    parts = [_with_serial(make_inspection(i, v), f"SN{i}") for i, v in enumerate(verdicts)]
    other = dataclasses.replace(make_inspection(99, inspection_id="other-99"), station="other")
    _record(store_factory, db, [*parts, other])

    record = read_shift_record(db, "station-1")

    assert record.next_part == 5  # part 99 belongs to another station
    assert (record.passed, record.failed, record.errors) == (3, 1, 1)
    assert record.parts == 5 and record.last_part == 4 and record.first_part == 0
    assert record.serials == tuple(("code", f"SN{i}", i) for i in range(5))
    assert record.last_simulated_part == 4  # the storage fixture's truth has part_index = seq


def test_a_new_count_starts_at_its_first_part_and_forgets_earlier_serials(
    tmp_path: Path, store_factory, make_inspection
) -> None:
    db = tmp_path / "results.sqlite"
    _record(store_factory, db, [_with_serial(make_inspection(i), f"SN{i}") for i in range(4)])
    write_count_start(db, "station-1", 2, reason="operator", wall_time=1_800_000_000.0)

    record = read_shift_record(db, "station-1")

    assert record.first_part == 2 and record.count_started == 1_800_000_000.0
    assert record.parts == 2 and record.last_part == 3
    assert [s[1] for s in record.serials] == ["SN2", "SN3"]
    assert record.next_part == 4


def test_a_count_started_before_any_new_part_is_empty_and_numbering_goes_on(
    tmp_path: Path, store_factory, make_inspection
) -> None:
    db = tmp_path / "results.sqlite"
    _record(store_factory, db, [make_inspection(i) for i in range(3)])
    write_count_start(db, "station-1", 3, reason="operator")

    record = read_shift_record(db, "station-1")

    assert record.parts == 0 and record.serials == ()
    assert record.first_part == 3 and record.next_part == 3


def test_count_start_on_a_new_database_creates_and_migrates_it(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "results.sqlite"
    write_count_start(db, "station-1", 0, reason="first shift")
    with sqlite3.connect(db) as conn:
        assert user_version(conn) == SCHEMA_VERSION
        rows = conn.execute("SELECT station, first_part, reason FROM count_starts").fetchall()
    assert rows == [("station-1", 0, "first shift")]


def test_unreadable_database_is_refused_with_its_name(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite"
    db.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError, match=r"results\.sqlite"):
        read_shift_record(db, "station-1")


def test_unique_keys_are_recorded_per_tool_result(
    tmp_path: Path, store_factory, make_inspection
) -> None:
    db = tmp_path / "results.sqlite"
    insp = make_inspection(0)
    code = ToolResult(
        tool_id="code", tool_type="codes", verdict=Verdict.PASS, unique_keys=("A", "B")
    )
    _record(store_factory, db, [dataclasses.replace(insp, tool_results=(code,))])
    with sqlite3.connect(db) as conn:
        (keys,) = conn.execute("SELECT unique_keys FROM tool_results").fetchone()
    assert keys == '["A", "B"]'


def test_migration_from_version_2_keeps_rows_and_adds_the_record(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    with sqlite3.connect(db, isolation_level=None) as conn:
        migrate(conn, db, migrations=MIGRATIONS[:2])
        conn.execute(
            "INSERT INTO inspections (inspection_id, station, part_seq, verdict, recipe_name, "
            "recipe_version, wall_time, run_id) VALUES ('a', 'station-1', 7, 'PASS', 'r', '1', "
            "1.0, 'run')"
        )
        conn.execute(
            "INSERT INTO tool_results (inspection, tool_id, tool_type, verdict) "
            "VALUES (1, 'code', 'codes', 'PASS')"
        )
        assert migrate(conn, db) == SCHEMA_VERSION
    record = read_shift_record(db, "station-1")
    assert record.next_part == 8 and record.passed == 1 and record.serials == ()


def test_restart_queries_use_the_station_index(
    tmp_path: Path, store_factory, make_inspection
) -> None:
    db = tmp_path / "results.sqlite"
    _record(store_factory, db, [make_inspection(i) for i in range(3)])
    conn = open_reader(db)
    try:
        for sql in (
            "SELECT MAX(part_seq) FROM inspections WHERE station = ?",
            "SELECT verdict, COUNT(*) FROM inspections WHERE station = ? AND part_seq >= 0 "
            "GROUP BY verdict",
            "SELECT truth FROM inspections WHERE station = ? AND truth IS NOT NULL "
            "ORDER BY part_seq DESC LIMIT 1",
        ):
            plan = " ".join(
                str(row[3]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", ("s",))
            )
            assert "inspections_station_seq" in plan, (sql, plan)
    finally:
        conn.close()
