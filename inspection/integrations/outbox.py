"""An output's results waiting on disk until the other end has them: in part order, each once.

One SQLite file per output (WAL; what goes in is synced to the disk, ``synchronous=FULL``: a
result the station handed over survives a power cut). A result goes in when the output takes it and comes out only when the
other end acknowledged it, so after an outage the output sends from the oldest on, in order. The
key (the inspection id) is unique: a result put twice is kept once. The file is capped at
``max_items``; beyond it the oldest are dropped and counted (``dropped``, kept in the file), so a
week-long outage cannot fill the disk and the operator is told what was lost.

Written and read by one thread only (the output's own), never by the line's threads; its two
counts (``len``, ``dropped``) are plain numbers any thread may read.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from inspection.errors import LinesideError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class OutboxError(LinesideError):
    """The outbox file cannot be opened or written (the message names the file)."""


@dataclass(frozen=True, slots=True)
class Waiting:
    """One result waiting to be sent."""

    seq: int
    key: str
    topic: str
    payload: bytes


class Outbox:
    """The results of one output that the other end has not acknowledged yet."""

    def __init__(self, path: Path, max_items: int) -> None:
        if max_items < 1:
            raise ValueError(f"max_items must be >= 1, got {max_items}")
        self.path = Path(path)
        self.max_items = max_items
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.executescript(_SCHEMA)
            self._count = int(self._conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
            row = self._conn.execute("SELECT value FROM counters WHERE name = 'dropped'").fetchone()
            self._dropped = 0 if row is None else int(row[0])
        except (sqlite3.Error, OSError) as exc:
            raise OutboxError(f"outbox {self.path}: cannot open: {exc}") from exc

    def __len__(self) -> int:
        return self._count

    @property
    def dropped(self) -> int:
        """Results dropped because the outbox was full, since the file was made."""
        return self._dropped

    def put(self, items: list[tuple[str, str, bytes]]) -> int:
        """Keep (key, topic, payload) items, in this order, in one transaction; a key already
        waiting is not kept again. Returns how many of the oldest were dropped to stay within
        ``max_items``. OutboxError when the disk refuses (nothing of ``items`` is kept then)."""
        if not items:
            return 0
        try:
            self._conn.execute("PRAGMA synchronous=FULL")  # what was handed over survives
            with self._conn:
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.executemany(
                    "INSERT OR IGNORE INTO outbox (key, topic, payload) VALUES (?, ?, ?)", items
                )
                count = int(self._conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
                over = max(count - self.max_items, 0)
                if over:
                    self._conn.execute(
                        "DELETE FROM outbox WHERE seq IN "
                        "(SELECT seq FROM outbox ORDER BY seq LIMIT ?)",
                        (over,),
                    )
                    self._conn.execute(
                        "INSERT INTO counters VALUES ('dropped', ?) "
                        "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                        (over,),
                    )
        except sqlite3.Error as exc:
            raise OutboxError(
                f"outbox {self.path}: cannot keep {len(items)} result(s): {exc}"
            ) from exc
        self._count = count - over
        self._dropped += over
        return over

    def oldest(self, n: int = 1) -> list[Waiting]:
        """Up to ``n`` waiting items, oldest first."""
        rows = self._conn.execute(
            "SELECT seq, key, topic, payload FROM outbox ORDER BY seq LIMIT ?", (n,)
        ).fetchall()
        return [Waiting(int(s), str(k), str(t), bytes(p)) for s, k, t, p in rows]

    def done(self, seq: int) -> None:
        """The other end acknowledged every item up to ``seq``: they leave the outbox, in one
        transaction. Not synced to the disk at once (a removal lost to a power cut only sends
        those again, which the other end's keys tell apart), so the output's rate is not one
        disk flush per result; the next ``put`` syncs it with its own."""
        try:
            self._conn.execute("PRAGMA synchronous=NORMAL")
            removed = self._conn.execute("DELETE FROM outbox WHERE seq <= ?", (seq,)).rowcount
        except sqlite3.Error as exc:
            raise OutboxError(f"outbox {self.path}: cannot remove sent results: {exc}") from exc
        self._count -= removed

    def close(self) -> None:
        self._conn.close()
