"""A tool's score columns of closed part blocks kept on disk, so a week loads in about a second.

Reading a row through Python's sqlite3 costs about a microsecond: a week at the station's full
rate (10 parts/s, ~6 million parts) would take ~6 s each time the Tuning page opens it. Recorded
results never change once written (DESIGN §5: published results are never mutated; labels live
in their own table and are always read live), so the columns of a block of parts whose ids are all
below the newest part's are kept as one file (``score_block_file``) and read back in milliseconds.

* Blocks are fixed part-id ranges (``BLOCK_PARTS`` ids each), not days: a range of any length
  maps onto them exactly as the live read does (parts lo..hi by id), whatever the clock or time
  zone did. A block is *closed* once the database holds a part with a higher id: the store only
  appends, so no part can join it. The open end (the newest block) is always read live.
* Each file is checked against the database before it is used: the block's count, first and last
  part of the tool's rows, its count of rejected parts, the inspection ids of its first and last
  parts (a different database at the same path), the schema version and this file format. The
  count steps through the tool's slice of the covering index in C (~0.1 µs a row, about half of
  a warm week's load); the rest are seeks. A file that fails the check (retention removed parts,
  a migration, rows written later) is rebuilt from the database; a file that cannot be read or
  whose checksum fails is logged and rebuilt, never trusted.
* Only readers write here, with their own read-only connection and no lock the storage writer
  could wait for; each file is written under a unique temporary name and renamed into place, so
  two readers building the same block, or a crash, never leave half a file. When the folder
  cannot be written the load still answers, from the database.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import re
import sqlite3
import threading
from collections.abc import Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspection.paths import results_cache
from inspection.storage.queries import open_reader
from inspection.storage.schema import SCHEMA_VERSION
from inspection.tuning.score_block_file import (
    BlockFileError,
    StaleBlockFile,
    block_key_of,
    read_block_into,
    write_block,
)
from inspection.tuning.score_columns import (
    COLUMN_DTYPES,
    ScoreColumns,
    empty_columns,
    read_columns,
)

log = logging.getLogger(__name__)

BLOCK_PARTS = 1 << 16
"""Part ids per block: ~1.8 h at 10 parts/s (a ~1.8 MB file per tool), so the open end read live
and the extra parts read when a range's first block is built stay under 0.1 s."""
FORMAT = 3
"""This file layout; a file of another format is rebuilt (2: each part's time was added; 3: a
checksum per column, so a load reads only the columns it needs)."""

ROWS_SQL = "SELECT COUNT(*) FROM tool_results WHERE tool_id = ? AND inspection BETWEEN ? AND ?"
"""The tool's rows of a block, counted in its slice of the covering index (no row leaves C). The
bulk of checking a file: ~0.1 µs a row, a tenth of reading the row into Python. Alone, not with
MIN and MAX: those make every row cost twice as much, and alone each is one seek."""
FIRST_ROW_SQL = (
    "SELECT MIN(inspection) FROM tool_results WHERE tool_id = ? AND inspection BETWEEN ? AND ?"
)
LAST_ROW_SQL = (
    "SELECT MAX(inspection) FROM tool_results WHERE tool_id = ? AND inspection BETWEEN ? AND ?"
)
REJECTED_COUNT_SQL = (
    "SELECT COUNT(*) FROM inspections WHERE verdict IN ('FAIL', 'ERROR') AND id BETWEEN ? AND ?"
)
PART_NAME_SQL = "SELECT inspection_id FROM inspections WHERE id = ?"


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockKey:
    """What a block's file must match to be used: the database's state of that block."""

    tool_id: str
    first: int
    last: int
    rows: int
    first_row: int | None
    last_row: int | None
    rejected: int
    first_part: str
    last_part: str
    schema: int = SCHEMA_VERSION
    format: int = FORMAT

    def as_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


class ScoresCache:
    """The score columns of closed blocks in ``folder`` (one sub-folder per tool)."""

    def __init__(self, folder: Path, *, block_parts: int = BLOCK_PARTS) -> None:
        if block_parts < 1:
            raise ValueError(f"block_parts must be >= 1, got {block_parts}")
        self.folder = folder
        self.block_parts = block_parts
        self._unwritable_logged = False

    @classmethod
    def beside(cls, db: Path) -> ScoresCache:
        """The cache of the results database ``db`` (a folder next to it)."""
        return cls(results_cache(db) / "tool-scores")

    def columns(
        self,
        conn: sqlite3.Connection,
        tool_id: str,
        lo: int,
        hi: int,
        names: Collection[str] | None = None,
    ) -> ScoreColumns:
        """``tool_id``'s columns of parts ``lo``..``hi``: closed blocks from their files (built
        when missing or stale), the open end from the database. Same result as ``read_columns``
        for the columns in ``names`` (default: all); the others come back empty, not read.
        ``conn``: a read-only connection returning plain tuples."""
        wanted = {"part_id", *(COLUMN_DTYPES if names is None else names)}
        if lo > hi:
            return _only(read_columns(conn, tool_id, lo, hi), wanted)
        b = self.block_parts
        closed_below = self.closed_blocks(conn)
        closed = [k for k in range(lo // b, hi // b + 1) if k < closed_below]
        if not closed:
            return _only(read_columns(conn, tool_id, lo, hi), wanted)
        keys = block_keys(conn, tool_id, closed, b)
        tail_lo = (closed[-1] + 1) * b
        tail = read_columns(conn, tool_id, tail_lo, hi) if tail_lo <= hi else empty_columns()
        # whole blocks go straight into the range's arrays; the range's ends are cut off last
        rows = sum(key.rows for key in keys)
        out = {
            name: np.empty(rows + tail.n, dtype=d)
            for name, d in COLUMN_DTYPES.items()
            if name in wanted
        }
        at = 0
        for k, key in zip(closed, keys, strict=True):
            if not self._read_into(tool_id, k, key, out, at):
                block = self._build(conn, tool_id, k)
                if block.n != key.rows:  # changed between the two reads: take it all live
                    log.info("tool scores cache: block %d changed while read; reading live", k)
                    return _only(read_columns(conn, tool_id, lo, hi), wanted)
                for name in out:
                    out[name][at : at + key.rows] = getattr(block, name)
            at += key.rows
        for name in out:
            out[name][at:] = getattr(tail, name)
        return _only_arrays(out).between(lo, hi)

    def closed_blocks(self, conn: sqlite3.Connection) -> int:
        """How many blocks are closed (the database holds a part past their end): blocks
        0 .. this - 1 can gain no part."""
        newest = conn.execute("SELECT MAX(id) FROM inspections").fetchone()[0]
        return 0 if newest is None else int(newest) // self.block_parts

    def keep(self, conn: sqlite3.Connection, tool_id: str, k: int) -> bool:
        """Make sure closed block ``k`` of ``tool_id`` has a file of the database's present
        state (built when missing or stale): True when one was written. For the block keeper,
        which builds them as blocks close so that no load has to."""
        first, last = k * self.block_parts, (k + 1) * self.block_parts - 1
        key = block_key(conn, tool_id, first, last)
        if key.rows == 0:
            return False  # the tool has no part there: a load reads nothing from it either
        try:
            if block_key_of(self.file_of(tool_id, k)) == key.as_json():
                return False
        except (FileNotFoundError, NotADirectoryError):
            pass
        except (BlockFileError, OSError) as exc:
            log.info("tool scores cache: %s %s; rebuilding it", self.file_of(tool_id, k), exc)
        self._build(conn, tool_id, k)
        return True

    def file_of(self, tool_id: str, k: int) -> Path:
        """Block ``k``'s file for ``tool_id``; the folder name stays readable and safe whatever
        characters the tool id holds."""
        slug = re.sub(r"[^A-Za-z0-9_-]", "_", tool_id)[:40]
        digest = hashlib.sha256(tool_id.encode()).hexdigest()[:10]
        return self.folder / f"{slug}-{digest}" / f"{k * self.block_parts:012d}.scores"

    def _read_into(
        self, tool_id: str, k: int, key: BlockKey, out: dict[str, np.ndarray], at: int
    ) -> bool:
        """Block ``k``'s file into ``out`` at ``at`` when it matches ``key``; False when it is
        missing, stale or cannot be used (then ``out`` is filled from the database instead)."""
        path = self.file_of(tool_id, k)
        try:
            read_block_into(path, key.as_json(), key.rows, out, at)
        except (FileNotFoundError, NotADirectoryError):  # not built yet
            return False
        except StaleBlockFile as exc:
            log.info("tool scores cache: %s %s; rebuilding it", path, exc)
            return False
        except (BlockFileError, OSError) as exc:
            log.warning("tool scores cache: %s %s; rebuilding it", path, exc)
            return False
        part_id = out["part_id"][at : at + key.rows]
        if key.rows and (int(part_id[0]) != key.first_row or int(part_id[-1]) != key.last_row):
            log.warning("tool scores cache: %s holds other parts; rebuilding it", path)
            return False
        return True

    def _build(self, conn: sqlite3.Connection, tool_id: str, k: int) -> ScoreColumns:
        """Block ``k`` from the database, kept in its file for the next load."""
        first, last = k * self.block_parts, (k + 1) * self.block_parts - 1
        # key and columns from one snapshot, so the file never claims a state it does not hold
        with _snapshot(conn):
            key = block_key(conn, tool_id, first, last)
            block = read_columns(conn, tool_id, first, last)
        path = self.file_of(tool_id, k)
        try:
            write_block(path, key.as_json(), block)
        except OSError as exc:
            if not self._unwritable_logged:  # once per cache, not once per block
                log.warning("tool scores cache: cannot write %s (%s); reading live", path, exc)
                self._unwritable_logged = True
        return block


def _only_arrays(arrays: dict[str, np.ndarray]) -> ScoreColumns:
    """Columns of which only ``arrays`` were read; the others empty."""
    empty = {n: np.empty(0, dtype=d) for n, d in COLUMN_DTYPES.items() if n not in arrays}
    return ScoreColumns(**arrays, **empty)


def _only(columns: ScoreColumns, wanted: set[str]) -> ScoreColumns:
    return _only_arrays({n: a for n, a in columns.arrays().items() if n in wanted})


@contextlib.contextmanager
def _snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """One read transaction (WAL: it never blocks the writer), unless one is already open."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.commit()


KEY_READERS = 8
"""Connections that check block keys side by side. Counting a block's rows reads its slice of the
index; on a disk that has not cached it those are scattered reads, which an SSD serves several at
once: a cold check of 39 blocks took 2.3 s on one connection, 1.0 s on eight."""


def block_keys(
    conn: sqlite3.Connection, tool_id: str, blocks: list[int], block_parts: int
) -> list[BlockKey]:
    """The keys of ``blocks`` (in that order), on reader connections of their own when there
    are several (each thread opens its own read-only connection to ``conn``'s file)."""
    spans = [(k * block_parts, (k + 1) * block_parts - 1) for k in blocks]
    path = _database_file(conn)
    if len(spans) < 3 or path is None:
        return [block_key(conn, tool_id, lo, hi) for lo, hi in spans]
    local = threading.local()
    opened: list[sqlite3.Connection] = []
    lock = threading.Lock()

    def key(span: tuple[int, int]) -> BlockKey:
        reader = getattr(local, "conn", None)
        if reader is None:
            reader = open_reader(path)
            reader.row_factory = None
            local.conn = reader
            with lock:
                opened.append(reader)
        return block_key(reader, tool_id, *span)

    try:
        with ThreadPoolExecutor(
            max_workers=min(KEY_READERS, len(spans)), thread_name_prefix="scores-keys"
        ) as pool:
            return list(pool.map(key, spans))
    finally:
        for reader in opened:
            reader.close()


def _database_file(conn: sqlite3.Connection) -> Path | None:
    """The file of ``conn``'s main database; None for one in memory."""
    for _seq, name, file in conn.execute("PRAGMA database_list"):
        if name == "main":
            return Path(file) if file else None
    return None


def block_key(conn: sqlite3.Connection, tool_id: str, first: int, last: int) -> BlockKey:
    """The database's state of block ``first``..``last`` for ``tool_id`` (index reads only)."""
    span = (tool_id, first, last)
    rows = conn.execute(ROWS_SQL, span).fetchone()[0]
    first_row = conn.execute(FIRST_ROW_SQL, span).fetchone()[0]
    last_row = conn.execute(LAST_ROW_SQL, span).fetchone()[0]
    rejected = conn.execute(REJECTED_COUNT_SQL, (first, last)).fetchone()[0]
    return BlockKey(
        tool_id=tool_id,
        first=first,
        last=last,
        rows=int(rows),
        first_row=first_row,
        last_row=last_row,
        rejected=int(rejected),
        first_part=_part_name(conn, first_row),
        last_part=_part_name(conn, last_row),
    )


def _part_name(conn: sqlite3.Connection, rowid: int | None) -> str:
    if rowid is None:
        return ""
    row = conn.execute(PART_NAME_SQL, (rowid,)).fetchone()
    return "" if row is None else str(row[0])
