"""Reading the results database: each reader opens its own read-only connection.

WAL mode lets these readers run while the storage writer commits; they see the last committed
state at the start of each query.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

from inspection.errors import StorageError
from inspection.storage.disk_space import free_space
from inspection.storage.schema import SCHEMA_VERSION, check_not_newer, decode_row
from inspection.types import Verdict

log = logging.getLogger(__name__)

_TABLES = ("inspections", "tool_results")


def _full_disk(path: Path) -> str:
    # SQLite says "disk I/O error" when a WAL database cannot grow its shared-memory file
    try:
        free = free_space(path.parent).free_bytes
    except OSError:
        return ""
    return f" (the disk is full: {free} bytes free)" if free < 1_000_000 else ""


def open_reader(db_path: Path | str, *, busy_timeout_s: float = 5.0) -> sqlite3.Connection:
    """A read-only connection of the caller's own (URI ``mode=ro``); rows come as sqlite3.Row."""
    path = Path(db_path)
    if not path.is_file():
        raise StorageError(f"{path}: results database does not exist")
    uri = f"{path.resolve().as_uri()}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=busy_timeout_s, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        found = check_not_newer(conn, path)
    except sqlite3.Error as exc:
        raise StorageError(
            f"{path}: cannot open results database for reading: {exc}{_full_disk(path)}"
        ) from exc
    except StorageError:
        conn.close()
        raise
    if found < SCHEMA_VERSION:
        conn.close()
        raise StorageError(
            f"{path}: results database has schema version {found}, expected {SCHEMA_VERSION}; "
            "open it once with the results store to migrate it"
        )
    return conn


def recent(conn: sqlite3.Connection, limit: int = 100) -> list[dict[str, Any]]:
    """The newest ``limit`` inspections, newest first, JSON columns parsed."""
    if limit < 0:
        raise StorageError(f"recent(): limit must be >= 0, got {limit}")
    conn.row_factory = sqlite3.Row
    rows = conn.execute("SELECT * FROM inspections ORDER BY id DESC LIMIT ?", (limit,))
    return [decode_row(r) for r in rows]


def counts(conn: sqlite3.Connection, since_wall_time: float | None = None) -> dict[Verdict, int]:
    """Number of inspections per verdict (every verdict present, 0 when none) since a UNIX time."""
    out = dict.fromkeys(Verdict, 0)
    if since_wall_time is None:
        rows = conn.execute("SELECT verdict, COUNT(*) FROM inspections GROUP BY verdict")
    else:
        rows = conn.execute(
            "SELECT verdict, COUNT(*) FROM inspections WHERE wall_time >= ? GROUP BY verdict",
            (since_wall_time,),
        )
    for verdict, n in rows:
        out[Verdict(verdict)] = int(n)
    return out


def tool_results_for(conn: sqlite3.Connection, inspection_id: str) -> list[dict[str, Any]]:
    """One inspection's tool results in the order the tools reported them."""
    conn.row_factory = sqlite3.Row
    rows = conn.execute(
        "SELECT t.* FROM tool_results t JOIN inspections i ON t.inspection = i.id "
        "WHERE i.inspection_id = ? ORDER BY t.id",
        (inspection_id,),
    )
    return [decode_row(r) for r in rows]


def inspection_by_id(conn: sqlite3.Connection, inspection_id: str) -> dict[str, Any] | None:
    conn.row_factory = sqlite3.Row
    row = conn.execute(
        "SELECT * FROM inspections WHERE inspection_id = ?", (inspection_id,)
    ).fetchone()
    return None if row is None else decode_row(row)


def count_rows(conn: sqlite3.Connection, table: str = "inspections") -> int:
    if table not in _TABLES:
        raise StorageError(f"count_rows(): unknown table {table!r}; tables are {_TABLES}")
    # The table name is checked against a fixed list above, so formatting it in is safe.
    return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
