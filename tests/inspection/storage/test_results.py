"""ResultsStore against real SQLite files: round trip, commit-before-callback, order, batching."""

from __future__ import annotations

import math
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest

from inspection.errors import StorageError
from inspection.storage.results import (
    ResultsStore,
    count_rows,
    counts,
    inspection_by_id,
    open_reader,
    recent,
    tool_results_for,
)
from inspection.types import Inspection, Verdict


def test_round_trip_keeps_every_field(store_factory, make_inspection, tmp_path: Path) -> None:
    store = store_factory(run_id="run-A")
    insp = make_inspection(7, Verdict.FAIL)
    store.submit(insp, image_path="2023-11-14/x.jpg")
    assert store.flush(5.0)

    conn = open_reader(tmp_path / "results.sqlite")
    try:
        [row] = recent(conn, 10)
        assert row["inspection_id"] == "run1-000007"
        assert row["station"] == "station-1"
        assert row["part_seq"] == 7
        assert row["verdict"] == "FAIL"
        assert row["reason"] == "code: code unreadable"
        assert (row["recipe_name"], row["recipe_version"]) == ("demo", "3")
        assert row["model_hashes"] == {"defect": "ab" * 32}
        assert row["wall_time"] == pytest.approx(1_700_000_007.0)
        assert row["captured_ns"] == 5_000_000_000
        assert row["queued_ms"] == pytest.approx(1.0)
        assert row["started_ms"] == pytest.approx(2.0)
        assert row["decided_ms"] == pytest.approx(12.0)
        assert row["dispatched_ms"] == pytest.approx(13.0)
        assert row["truth"]["serial"] == "SN00007"
        assert row["truth"]["defects"] == ["scratch"]
        assert row["image_path"] == "2023-11-14/x.jpg"
        assert row["run_id"] == "run-A"

        tools = tool_results_for(conn, "run1-000007")
        assert [t["tool_id"] for t in tools] == ["code", "label"]
        code, label = tools
        assert code["verdict"] == "FAIL" and code["reason"] == "code unreadable"
        assert code["measurements"] == {"score": 0.75, "count": 2}
        assert code["details"] == {"texts": ["SN1", "SN2"], "raw": "01"}
        assert code["duration_ms"] == pytest.approx(2.5)
        # NaN is not JSON: stored as null so strict readers (Excel, JS) accept the column.
        assert label["measurements"] == {"skew_deg": 0.5, "bad": None}
        assert label["details"] == {"hist": [0, 1, 2]}

        # The JSON columns hold plain JSON text.
        raw = conn.execute("SELECT measurements FROM tool_results WHERE tool_id='code'").fetchone()
        assert raw[0] == '{"score": 0.75, "count": 2}'
        assert counts(conn) == {Verdict.PASS: 0, Verdict.FAIL: 1, Verdict.ERROR: 0}
        assert count_rows(conn, "tool_results") == 2
    finally:
        conn.close()


def test_counts_since_wall_time(store_factory, make_inspection, tmp_path: Path) -> None:
    store = store_factory()
    verdicts = [Verdict.PASS, Verdict.FAIL, Verdict.PASS, Verdict.ERROR, Verdict.PASS]
    for i, v in enumerate(verdicts):
        store.submit(make_inspection(i, v, wall_time=1000.0))
    assert store.flush(5.0)
    with closing(open_reader(tmp_path / "results.sqlite")) as conn:
        assert counts(conn) == {Verdict.PASS: 3, Verdict.FAIL: 1, Verdict.ERROR: 1}
        assert counts(conn, since_wall_time=1002.0) == {
            Verdict.PASS: 2,
            Verdict.FAIL: 0,
            Verdict.ERROR: 1,
        }
        assert [r["part_seq"] for r in recent(conn, 2)] == [4, 3]


def test_on_committed_runs_after_commit_in_submit_order(
    store_factory, make_inspection, tmp_path: Path
) -> None:
    store = store_factory(batch_max=8, batch_wait_s=0.01)
    reader = open_reader(tmp_path / "results.sqlite")
    seen: list[tuple[int, bool]] = []

    def committed(insp: Inspection) -> None:
        # A separate connection must already see the row when the callback runs.
        seen.append((insp.part_seq, inspection_by_id(reader, insp.inspection_id) is not None))

    try:
        for i in range(40):
            store.submit(make_inspection(i), on_committed=committed)
        assert store.flush(5.0)
        assert seen == [(i, True) for i in range(40)]
        ids = [r["part_seq"] for r in reversed(recent(reader, 100))]
        assert ids == list(range(40))
    finally:
        reader.close()


def test_many_submits_are_written_in_few_transactions(store_factory, make_inspection) -> None:
    # A long wait makes the batch size, not the clock, close each batch.
    store = store_factory(batch_max=50, batch_wait_s=2.0)
    for i in range(200):
        store.submit(make_inspection(i))
    assert store.flush(10.0)
    stats = store.stats
    assert stats.committed == 200
    assert stats.batches == 4
    assert stats.queued == 0


def test_wal_mode_and_reader_reads_while_writer_writes(
    store_factory, make_inspection, tmp_path: Path
) -> None:
    db = tmp_path / "results.sqlite"
    store = store_factory(batch_wait_s=0.0)
    store.submit(make_inspection(0))
    assert store.flush(5.0)
    reader = open_reader(db)
    try:
        assert reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.with_name(db.name + "-wal").exists()
        # An open read transaction must neither block the writer nor see its new rows.
        reader.execute("BEGIN")
        assert count_rows(reader) == 1
        for i in range(1, 30):
            store.submit(make_inspection(i))
        assert store.flush(5.0)
        assert count_rows(reader) == 1
        reader.execute("COMMIT")
        assert count_rows(reader) == 30
    finally:
        reader.close()


def test_stop_drains_and_leaves_no_thread(make_inspection, tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "r.sqlite", batch_wait_s=0.2)
    store.start()
    assert any(t.name == "storage-writer" for t in threading.enumerate())
    for i in range(25):
        store.submit(make_inspection(i))
    assert store.stop(timeout_s=5.0)
    assert not store.is_running
    assert not any(t.name == "storage-writer" for t in threading.enumerate())
    with closing(open_reader(tmp_path / "r.sqlite")) as conn:
        assert count_rows(conn) == 25
    with pytest.raises(StorageError, match="not running"):
        store.submit(make_inspection(99))
    with pytest.raises(StorageError, match="already started"):
        store.start()


def test_callback_error_does_not_stop_the_writer(store_factory, make_inspection) -> None:
    store = store_factory(batch_wait_s=0.0)
    calls: list[int] = []

    def flaky(insp: Inspection) -> None:
        calls.append(insp.part_seq)
        if insp.part_seq == 0:
            raise RuntimeError("sink broke")

    store.submit(make_inspection(0), on_committed=flaky)
    store.submit(make_inspection(1), on_committed=flaky)
    assert store.flush(5.0)
    assert calls == [0, 1]
    assert store.is_running


def test_duplicate_id_is_rejected_without_blocking_the_rest(
    store_factory, make_inspection, tmp_path: Path
) -> None:
    messages: list[str] = []
    store = store_factory(batch_wait_s=0.2, status_callback=messages.append)
    done: list[int] = []
    store.submit(make_inspection(0), on_committed=lambda i: done.append(i.part_seq))
    store.submit(
        make_inspection(1, inspection_id="run1-000000"), on_committed=lambda i: done.append(-1)
    )
    store.submit(make_inspection(2), on_committed=lambda i: done.append(i.part_seq))
    assert store.flush(5.0)
    assert done == [0, 2]
    assert store.stats.rejected == 1
    assert any("run1-000000" in m and "not recorded" in m for m in messages)
    with closing(open_reader(tmp_path / "results.sqlite")) as conn:
        assert count_rows(conn) == 2
        assert count_rows(conn, "tool_results") == 4


def test_bad_settings_and_missing_db_are_named() -> None:
    with pytest.raises(StorageError, match="batch_max"):
        ResultsStore(Path("x.sqlite"), batch_max=0)
    with pytest.raises(StorageError, match="batch_wait_s"):
        ResultsStore(Path("x.sqlite"), batch_wait_s=math.nan)
    with pytest.raises(StorageError, match="does not exist"):
        open_reader(Path("/nonexistent/results.sqlite"))


def test_reader_cannot_write(store_factory, tmp_path: Path) -> None:
    store_factory()
    conn = open_reader(tmp_path / "results.sqlite")
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("DELETE FROM inspections")
    finally:
        conn.close()
