"""One batch of parts written in one SQLite transaction, a savepoint per part.

Used only by the results store's writer thread, which owns the connection.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from inspection.storage.schema import (
    INSERT_INSPECTION,
    INSERT_TOOL_RESULT,
    inspection_row,
    tool_result_row,
)
from inspection.types import Inspection

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Pending:
    """A submitted part waiting for the writer (mutable: the writer fills in what it did)."""

    inspection: Inspection
    image_path: str | None
    on_committed: Callable[[Inspection], None] | None
    archived: bool = False  # the archive step ran (never repeated when the batch is retried)
    rejected: bool = False  # set aside as malformed (reported once, skipped on retries)


def write_batch(
    conn: sqlite3.Connection, batch: list[Pending], run_id: str
) -> list[tuple[Pending, str]]:
    """Insert the batch in one transaction; returns the parts newly rejected, with why.

    A part that cannot become a row, or breaks a constraint (duplicate id), is rejected alone:
    retrying it would block every part behind it. Any other sqlite3.Error rolls the whole batch
    back and propagates, so the caller can retry it unchanged. ``conn`` is in autocommit mode.
    """
    rejected: list[tuple[Pending, str]] = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        for item in batch:
            why = _insert(conn, item, run_id)
            if why:
                item.rejected = True
                rejected.append((item, why))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                log.exception("results store: rollback failed")
        raise
    return rejected


def _insert(conn: sqlite3.Connection, item: Pending, run_id: str) -> str:
    if item.rejected:
        return ""
    insp = item.inspection
    try:
        row = inspection_row(insp, item.image_path, run_id, time.monotonic_ns())
        tool_rows = [tool_result_row(0, r) for r in insp.tool_results]
    except (TypeError, ValueError, AttributeError) as exc:
        return f"cannot be turned into a row: {exc}"
    conn.execute("SAVEPOINT part")
    try:
        rowid = conn.execute(INSERT_INSPECTION, row).lastrowid
        conn.executemany(INSERT_TOOL_RESULT, [(rowid, *r[1:]) for r in tool_rows])
    except sqlite3.IntegrityError as exc:
        conn.execute("ROLLBACK TO part")
        conn.execute("RELEASE part")
        return f"violates the schema: {exc}"
    conn.execute("RELEASE part")
    return ""
