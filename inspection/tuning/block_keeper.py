"""Builds the tool scores cache's block files as the line closes them, so that the Tuning page's
first load of a week reads files rather than six million rows.

A block of part ids closes when the database holds a part past its end (``scores_cache``); from
then on its rows never change. The keeper looks at the newest part id every ``check_s`` on a
thread of its own, at idle priority (it never takes CPU the line or the screen wants), with its
own read-only connection (never a lock the storage writer could wait for). Each block closed since
it last looked gets one file per tool recorded in it, written the cache's way (key and columns
from one snapshot, renamed into place). On start it also catches up on the last
``CATCH_UP_BLOCKS`` closed blocks (a restart, a database recorded before the keeper existed):
blocks whose files are already sound cost a key check each, not a rebuild.

Its cost is small and measured by ``lineside bench --tune`` (``block_build_s``): a tool's block of
65,536 parts is about ~0.1-0.2 s of one core, once every ~1.8 h at 10 parts/s.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from inspection.jobs import behind_the_line_thread, join_within
from inspection.storage.queries import open_reader
from inspection.tuning.scores import tools_recorded
from inspection.tuning.scores_cache import ScoresCache

log = logging.getLogger(__name__)

CHECK_S = 60.0
"""How often the keeper looks for newly closed blocks (a block lasts ~1.8 h at full rate)."""
CATCH_UP_BLOCKS = 96
"""Closed blocks checked on start, newest first: a week at 10 parts/s (6.05 M parts)."""


class ScoreBlockKeeper:
    """Keeps the score cache of the results database ``db`` up with the blocks it closes."""

    def __init__(
        self,
        db: Path,
        *,
        cache: ScoresCache | None = None,
        check_s: float = CHECK_S,
        catch_up_blocks: int = CATCH_UP_BLOCKS,
    ) -> None:
        self.db = Path(db)
        self.cache = cache if cache is not None else ScoresCache.beside(self.db)
        self.check_s = check_s
        self.catch_up_blocks = catch_up_blocks
        self.files_built = 0
        """Block files written since start (missing or stale ones)."""
        self._kept_below: int | None = None  # blocks under this are done; None: catch up first
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="scores-cache", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> bool:
        """Stop after the block in hand (one block: well under a second); True when joined."""
        self._stop.set()
        thread, self._thread = self._thread, None
        return join_within(thread, timeout_s, "the tool scores cache's keeper")

    def keep_up(self) -> int:
        """One look: build the files of the blocks closed since the last (on the first look,
        of the last ``catch_up_blocks``). Returns the files written. Errors of the database are
        logged and left for the next look."""
        if not self.db.exists():
            return 0
        try:
            conn = open_reader(self.db)
        except sqlite3.Error as exc:
            log.info("tool scores cache: %s not readable yet (%s)", self.db, exc)
            return 0
        conn.row_factory = None
        built = 0
        try:
            closed = self.cache.closed_blocks(conn)
            start = (
                max(closed - self.catch_up_blocks, 0)
                if self._kept_below is None
                else self._kept_below
            )
            # newest first: the blocks an engineer opens first are the last hours'
            for k in range(closed - 1, start - 1, -1):
                if self._stop.is_set():
                    return built  # the rest on the next start (the catch-up checks them)
                built += self._keep_block(conn, k)
            self._kept_below = max(closed, self._kept_below or 0)
        except sqlite3.Error as exc:
            log.warning("tool scores cache: %s: %s; trying again later", self.db, exc)
        finally:
            conn.close()
        self.files_built += built
        return built

    def _keep_block(self, conn: sqlite3.Connection, k: int) -> int:
        b = self.cache.block_parts
        lo, hi = conn.execute(
            "SELECT MIN(id), MAX(id) FROM inspections WHERE id BETWEEN ? AND ?",
            (k * b, (k + 1) * b - 1),
        ).fetchone()
        if lo is None:
            return 0  # retention removed the block's parts
        return sum(self.cache.keep(conn, tool, k) for tool in tools_recorded(conn, lo, hi))

    def _run(self) -> None:
        behind_the_line_thread()
        while not self._stop.is_set():
            try:
                self.keep_up()
            except Exception:  # a keeper must never die silently; loads still answer live
                log.exception("tool scores cache: keeping up failed")
            self._stop.wait(self.check_s)
