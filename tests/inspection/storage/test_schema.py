"""Schema versions and migrations on real SQLite files, and the plain-JSON conversion."""

from __future__ import annotations

import json
import math
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from inspection.errors import StorageError
from inspection.storage.results import ResultsStore, open_reader, recent
from inspection.storage.schema import SCHEMA_VERSION, jsonable, migrate, to_json, user_version
from inspection.types import Verdict

# The version-1 schema exactly as Lineside first shipped it, written out by hand so this test
# keeps checking the upgrade path even if the migration code is refactored.
V1_SQL = """
CREATE TABLE inspections (
    id INTEGER PRIMARY KEY, inspection_id TEXT NOT NULL UNIQUE, station TEXT NOT NULL,
    part_seq INTEGER NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('PASS', 'FAIL', 'ERROR')),
    reason TEXT NOT NULL DEFAULT '', recipe_name TEXT NOT NULL, recipe_version TEXT NOT NULL,
    model_hashes TEXT NOT NULL DEFAULT '{}', wall_time REAL NOT NULL, captured_ns INTEGER,
    queued_ms REAL, started_ms REAL, decided_ms REAL, dispatched_ms REAL, truth TEXT,
    image_path TEXT, run_id TEXT NOT NULL);
CREATE TABLE tool_results (
    id INTEGER PRIMARY KEY,
    inspection INTEGER NOT NULL REFERENCES inspections(id) ON DELETE CASCADE,
    tool_id TEXT NOT NULL, tool_type TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('PASS', 'FAIL', 'ERROR')),
    reason TEXT NOT NULL DEFAULT '', measurements TEXT NOT NULL DEFAULT '{}',
    details TEXT NOT NULL DEFAULT '{}', duration_ms REAL);
CREATE INDEX inspections_wall_time ON inspections(wall_time);
CREATE INDEX inspections_verdict ON inspections(verdict);
CREATE INDEX tool_results_inspection ON tool_results(inspection);
INSERT INTO inspections (inspection_id, station, part_seq, verdict, reason, recipe_name,
    recipe_version, wall_time, run_id) VALUES ('old-1', 'st', 0, 'FAIL', 'dent', 'demo', '1',
    1600000000.0, 'old-run');
INSERT INTO tool_results (inspection, tool_id, tool_type, verdict, measurements)
    VALUES (1, 'defect', 'defect', 'FAIL', '{"score": 0.9}');
PRAGMA user_version = 1;
"""


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def test_new_database_gets_current_schema_and_indexes(tmp_path: Path) -> None:
    db = tmp_path / "new.sqlite"
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        assert migrate(conn, db) == SCHEMA_VERSION
        assert user_version(conn) == SCHEMA_VERSION
        assert {"inspection_id", "wall_time", "truth", "run_id", "stored_ms"} <= _columns(
            conn, "inspections"
        )
        assert {"measurements", "details", "duration_ms"} <= _columns(conn, "tool_results")
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert {"inspections_wall_time", "inspections_verdict"} <= indexes
        # Running it again is a no-op.
        assert migrate(conn, db) == SCHEMA_VERSION


def test_version_0_file_with_other_tables_is_migrated_keeping_them(tmp_path: Path) -> None:
    db = tmp_path / "v0.sqlite"
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
        conn.execute("INSERT INTO notes VALUES ('kept')")
        conn.commit()
    store = ResultsStore(db)
    store.start()
    store.stop()
    with closing(open_reader(db)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("SELECT text FROM notes").fetchone()[0] == "kept"


def test_version_1_database_is_upgraded_keeping_its_rows(tmp_path: Path, make_inspection) -> None:
    db = tmp_path / "v1.sqlite"
    with closing(sqlite3.connect(db)) as conn:
        conn.executescript(V1_SQL)
    store = ResultsStore(db, batch_wait_s=0.0)
    store.start()
    try:
        store.submit(make_inspection(1, Verdict.PASS))
        assert store.flush(5.0)
    finally:
        store.stop()
    with closing(open_reader(db)) as conn:
        assert user_version(conn) == SCHEMA_VERSION
        new, old = recent(conn, 10)
        assert (old["inspection_id"], old["verdict"], old["reason"]) == ("old-1", "FAIL", "dent")
        assert old["stored_ms"] is None
        assert new["inspection_id"] == "run1-000001"
        assert new["stored_ms"] is not None and new["stored_ms"] > new["dispatched_ms"]
        score = conn.execute("SELECT measurements FROM tool_results WHERE inspection=1").fetchone()
        assert json.loads(score[0]) == {"score": 0.9}


def test_newer_database_is_refused_naming_file_and_versions(tmp_path: Path) -> None:
    db = tmp_path / "future.sqlite"
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA user_version = 99")
    store = ResultsStore(db)
    with pytest.raises(StorageError) as info:
        store.start()
    msg = str(info.value)
    assert str(db) in msg and "99" in msg and f"up to {SCHEMA_VERSION}" in msg
    assert not store.is_running
    with pytest.raises(StorageError, match="99"):
        open_reader(db)
    with closing(sqlite3.connect(db)) as conn:
        assert user_version(conn) == 99  # untouched


def test_failed_migration_step_is_rolled_back_and_named(tmp_path: Path) -> None:
    db = tmp_path / "bad.sqlite"

    def step1(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE a (x INTEGER)")

    def step2(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE b (x INTEGER)")
        conn.execute("CREATE TABLE a (x INTEGER)")  # fails: a exists

    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        with pytest.raises(StorageError, match=r"bad\.sqlite.*from schema version 1 to 2"):
            migrate(conn, db, (step1, step2))
        assert user_version(conn) == 1
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert tables == {"a"}


def test_reader_refuses_unmigrated_database(tmp_path: Path) -> None:
    db = tmp_path / "v1.sqlite"
    with closing(sqlite3.connect(db)) as conn:
        conn.executescript(V1_SQL)
    with pytest.raises(StorageError, match=f"version 1, expected {SCHEMA_VERSION}"):
        open_reader(db)


def test_jsonable_gives_plain_json() -> None:
    value = {
        "f32": np.float32(0.5),
        "i64": np.int64(3),
        "arr": np.array([[1, 2], [3, 4]], dtype=np.uint8),
        "nan": math.nan,
        "inf": np.float64("inf"),
        "tuple": (1, "a"),
        "verdict": Verdict.FAIL,
        "path": Path("/x/y"),
        "bytes": b"\xff",
        7: True,
    }
    out = jsonable(value)
    assert out == {
        "f32": 0.5,
        "i64": 3,
        "arr": [[1, 2], [3, 4]],
        "nan": None,
        "inf": None,
        "tuple": [1, "a"],
        "verdict": "FAIL",
        "path": "/x/y",
        "bytes": "ff",
        "7": True,
    }
    assert type(out["i64"]) is int and type(out["f32"]) is float
    assert json.loads(to_json(value)) == out
