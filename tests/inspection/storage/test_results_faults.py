"""ResultsStore when writing fails: reported, retried, nothing recorded lost, queue limit named."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from inspection.errors import StorageError
from inspection.storage.results import count_rows, open_reader


@contextmanager
def exclusive_lock(db: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holding the database's write lock, as a stuck tool or backup would."""
    blocker = sqlite3.connect(db, isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        yield blocker
    finally:
        if blocker.in_transaction:
            blocker.execute("ROLLBACK")
        blocker.close()


class StatusLog:
    """Collects status messages and lets the test wait for one containing some text."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self._cond = threading.Condition()

    def __call__(self, message: str) -> None:
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()

    def wait_for(self, text: str, timeout_s: float = 5.0) -> bool:
        with self._cond:
            return self._cond.wait_for(
                lambda: any(text in m for m in self.messages), timeout=timeout_s
            )


def test_locked_database_is_reported_and_written_after_the_lock_goes(
    store_factory, make_inspection, tmp_path: Path
) -> None:
    db = tmp_path / "results.sqlite"
    status = StatusLog()
    store = store_factory(batch_wait_s=0.0, busy_timeout_s=0.05, status_callback=status)
    committed: list[int] = []
    store.submit(make_inspection(0), on_committed=lambda i: committed.append(i.part_seq))
    assert store.flush(5.0)

    with exclusive_lock(db):
        store.submit(make_inspection(1), on_committed=lambda i: committed.append(i.part_seq))
        store.submit(make_inspection(2), on_committed=lambda i: committed.append(i.part_seq))
        assert status.wait_for("cannot write results.sqlite")
        assert any("locked" in m for m in status.messages)
        # Not committed, so not reported to the line either.
        assert committed == [0]
        assert not store.flush(0.05)
        assert store.stats.write_failures >= 1

    assert store.flush(10.0)
    assert committed == [0, 1, 2]
    assert status.wait_for("again")
    with closing(open_reader(db)) as conn:
        assert count_rows(conn) == 3
        assert count_rows(conn, "tool_results") == 6


def test_full_queue_raises_a_named_error_while_the_writer_is_stuck(
    store_factory, make_inspection, tmp_path: Path
) -> None:
    db = tmp_path / "results.sqlite"
    status = StatusLog()
    store = store_factory(
        queue_max=1,
        submit_timeout_s=0.1,
        batch_wait_s=0.0,
        busy_timeout_s=0.05,
        status_callback=status,
    )
    with exclusive_lock(db):
        store.submit(make_inspection(0))
        # The writer now holds part 0 and retries it; the one queue slot is free.
        assert status.wait_for("1 result(s) kept")
        store.submit(make_inspection(1))
        with pytest.raises(StorageError, match=r"queue stayed full.*run1-000002.*locked"):
            store.submit(make_inspection(2))
    assert store.flush(10.0)
    with closing(open_reader(db)) as conn:
        assert count_rows(conn) == 2


def test_stop_while_the_fault_persists_gives_up_and_joins(
    make_inspection, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from inspection.storage.results import ResultsStore

    db = tmp_path / "results.sqlite"
    status = StatusLog()
    store = ResultsStore(db, batch_wait_s=0.0, busy_timeout_s=0.05, status_callback=status)
    store.start()
    with exclusive_lock(db):
        store.submit(make_inspection(0))
        assert status.wait_for("cannot write")
        assert not store.stop(timeout_s=0.3)
    assert not store.is_running
    assert "NOT recorded" in caplog.text
