"""The results store: one writer thread records every Inspection in SQLite (WAL), in batches.

The pipeline only enqueues (``submit``); the writer thread owns the write connection and the image
files, writes a batch per transaction, and calls each item's ``on_committed`` after its row is
committed, so a result reported to the line is always on disk. A failed write (disk full, database
locked) keeps the batch and retries it with back-off: nothing submitted is dropped while the
store runs, and ``unwritten_for_s`` tells the station how long results have waited, so it stops
inspecting rather than go on with nowhere to record. The queue is bounded in frame bytes (see
``write_queue``): frames go first, records last. Whether a part's image is kept is decided when
it is submitted, so parts whose image is not kept wait without their frames. Readers use
``open_reader`` and the query helpers, re-exported here.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inspection.errors import StorageError
from inspection.recipe.station import ShiftCalendar
from inspection.storage.archive import ImageArchive
from inspection.storage.batch import CameraInterval, Pending, StationEvent, write_batch
from inspection.storage.disk_space import SpaceLimits, free_space, remove_passed_images
from inspection.storage.queries import (
    count_rows,
    counts,
    inspection_by_id,
    open_reader,
    recent,
    tool_results_for,
)
from inspection.storage.schema import attribute_unstamped, open_writer
from inspection.storage.write_queue import QueueFull, WriteQueue, without_pixels
from inspection.types import Inspection, Verdict

__all__ = [
    "ResultsStore",
    "StoreStats",
    "count_rows",
    "counts",
    "inspection_by_id",
    "open_reader",
    "recent",
    "tool_results_for",
]

log = logging.getLogger(__name__)

_POLL_S = 0.1  # how long the idle writer waits for work before checking for stop
_BACKOFF_FIRST_S = 0.05
_BACKOFF_MAX_S = 5.0
_ABORT_GRACE_S = 1.0
NOT_ARCHIVED_DISK_FULL = "not archived: disk full"


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreStats:
    """Counters of the store since ``start``. ``batches`` counts committed transactions."""

    submitted: int
    committed: int
    rejected: int
    batches: int
    write_failures: int
    queued: int
    queued_bytes: int
    """Bytes of frames waiting in the queue (bounded by ``queue_max_bytes``)."""
    frames_dropped: int
    """Parts whose frames were dropped from the queue to keep it within its bytes."""
    images_saved: int
    image_failures: int
    last_error: str


class ResultsStore:
    """Records Inspections in a SQLite file from one writer thread; see the module docstring."""

    def __init__(
        self,
        db_path: Path,
        *,
        batch_max: int = 64,
        batch_wait_s: float = 0.05,
        queue_max: int = 100_000,
        queue_max_bytes: int = 512 * 1024 * 1024,
        submit_timeout_s: float = 2.0,
        busy_timeout_s: float = 5.0,
        archive: ImageArchive | None = None,
        status_callback: Callable[[str], None] | None = None,
        run_id: str | None = None,
        purge_every_s: float = 3600.0,
        calendar: ShiftCalendar | None = None,
        line: str = "",
        space_limits: SpaceLimits | None = None,
        warning_callback: Callable[[str], None] | None = None,
        space_check_every_s: float = 10.0,
    ) -> None:
        """``batch_wait_s`` is the longest a batch waits to fill after its first item (adds to
        the latency of ``on_committed``); ``status_callback`` gets operator-readable messages
        on the writer thread when writing fails and when it recovers; ``warning_callback``
        (else ``status_callback``) hears when the disk runs low on space (``space_limits``).
        ``queue_max`` bounds the parts waiting, ``queue_max_bytes`` their frames."""
        for name, value, low in (
            ("batch_max", batch_max, 1),
            ("queue_max", queue_max, 1),
            ("queue_max_bytes", queue_max_bytes, 0),
        ):
            if value < low:
                raise StorageError(f"ResultsStore: {name} must be >= {low}, got {value}")
        for name, fvalue in (
            ("batch_wait_s", batch_wait_s),
            ("submit_timeout_s", submit_timeout_s),
            ("busy_timeout_s", busy_timeout_s),
        ):
            if not fvalue >= 0.0:
                raise StorageError(f"ResultsStore: {name} must be >= 0, got {fvalue}")
        self.db_path = Path(db_path)
        self.run_id = run_id or uuid.uuid4().hex
        self._batch_max = batch_max
        self._batch_wait_s = batch_wait_s
        self._queue_max = queue_max
        self._submit_timeout_s = submit_timeout_s
        self._busy_timeout_s = busy_timeout_s
        self._archive = archive
        self._status_callback = status_callback
        self._purge_every_s = purge_every_s
        self._next_purge = 0.0  # first purge as soon as the writer is idle after start

        self._queue = WriteQueue(max_bytes=queue_max_bytes, max_parts=queue_max)
        self._space_limits = space_limits or SpaceLimits()
        self._warning_callback = warning_callback or status_callback
        self._space_every_s = space_check_every_s
        self._next_space_check = 0.0
        self._space_low = False
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._abort = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None
        self._accepting = False
        self._started = False
        # Counters: written under _cond; read under it for a consistent snapshot.
        self._submitted = 0
        self._committed = 0
        self._rejected = 0
        self._batches = 0
        self._failures = 0
        self._images_saved = 0
        self._image_failures = 0
        self._last_error = ""
        self._pass_index = 0  # under _cond: the archive's 1 in N passes, counted at submit
        self._unwritten_since: float | None = None  # under _cond: oldest part of a failing write
        # Read by the writer for each batch: a new calendar applies from the next part on.
        self._calendar = calendar or ShiftCalendar()
        self._line = line
        self._events: list[StationEvent] = []  # under _cond; written with the next batch
        self._intervals: list[CameraInterval] = []  # likewise

    # ---- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Open the database (WAL, synchronous=NORMAL), migrate it, start the writer thread.

        Raises StorageError when the file cannot be opened or was written by a newer Lineside.
        """
        if self._started:
            raise StorageError(f"{self.db_path}: results store already started")
        conn = self._open()
        self._conn = conn
        self._started = True
        self._accepting = True
        self._thread = threading.Thread(target=self._run, name="storage-writer", daemon=True)
        self._thread.start()
        log.info("results store %s started (run %s)", self.db_path, self.run_id)

    def _open(self) -> sqlite3.Connection:
        conn = open_writer(self.db_path, self._busy_timeout_s)
        try:
            attribute_unstamped(conn, self._calendar)
        except sqlite3.Error as exc:
            conn.close()
            raise StorageError(
                f"{self.db_path}: cannot stamp shifts on older parts: {exc}"
            ) from exc
        return conn

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Write what is queued, close the database and join the writer; True if all committed.

        If the writer is still busy after ``timeout_s`` (e.g. the disk keeps failing), the
        queued results are abandoned with an error in the log.
        """
        self._accepting = False
        thread = self._thread
        if thread is None:
            return True
        self._stop.set()
        thread.join(timeout_s)
        if thread.is_alive():
            log.warning(
                "storage writer still busy after %.1f s; abandoning what is queued", timeout_s
            )
            self._abort.set()
            thread.join(_ABORT_GRACE_S)
            if thread.is_alive():
                log.error("storage writer thread did not stop; it is left running (daemon)")
        self._thread = None
        with self._cond:
            done = self._committed + self._rejected >= self._submitted
        log.info("results store %s stopped", self.db_path)
        return done

    # ---- the pipeline's side -----------------------------------------------------------

    def submit(
        self,
        inspection: Inspection,
        image_path: str | None = None,
        on_committed: Callable[[Inspection], None] | None = None,
    ) -> None:
        """Queue one Inspection for recording; returns at once unless the queue is full.

        ``image_path`` is an already archived image; without it the store's archive (if any)
        decides and writes on the writer thread. ``on_committed`` runs on the writer thread, in
        submit order, after the row is committed; keep it short. If the queue (``queue_max``)
        stays full for ``submit_timeout_s`` — the writer is stuck — StorageError is raised.
        """
        if not self._accepting:
            raise StorageError(f"{self.db_path}: results store is not running; start() it first")
        item = Pending(inspection, image_path, on_committed)
        # Counted before the put so flush() never returns while this item is still in flight.
        with self._cond:
            self._submitted += 1
            item.keep_image = self._keeps_image(inspection, image_path)
        if not item.keep_image and inspection.frames:
            # nothing will be written from them: the part waits without its frames
            item.inspection = without_pixels(inspection)
        try:
            self._queue.put(item, timeout_s=self._submit_timeout_s)
        except QueueFull:
            with self._cond:
                self._submitted -= 1
                self._cond.notify_all()
                last = self._last_error or "no write error recorded"
            raise StorageError(
                f"{self.db_path}: results queue stayed full ({self._queue_max} waiting) for "
                f"{self._submit_timeout_s} s; inspection {inspection.inspection_id} not "
                f"recorded. Last write error: {last}"
            ) from None

    def _keeps_image(self, inspection: Inspection, image_path: str | None) -> bool:
        # under _cond; decided here, in submit order, so a part that keeps no image never
        # holds its frames in the queue
        if self._archive is None or image_path is not None:
            return False
        keep = self._archive.should_keep(inspection, self._pass_index)
        if inspection.verdict is Verdict.PASS:
            self._pass_index += 1
        return keep

    def unwritten_for_s(self, now: float | None = None) -> float:
        """How long the oldest result not yet written has waited while writes fail; 0 while
        the database takes what it is given."""
        with self._cond:
            since = self._unwritten_since
        if since is None:
            return 0.0
        return max(0.0, (time.monotonic() if now is None else now) - since)

    def use_calendar(self, calendar: ShiftCalendar, line: str | None = None) -> None:
        """Stamp parts recorded from now on with this calendar (and line); earlier parts keep
        the production day and shift they were recorded with."""
        self._calendar = calendar
        if line is not None:
            self._line = line

    def record_event(self, event: StationEvent) -> None:
        """Record a change (recipe, threshold, batch, alarm...) with the next write."""
        if not self._accepting:
            raise StorageError(f"{self.db_path}: results store is not running; start() it first")
        with self._cond:
            self._events.append(event)

    def record_camera_interval(self, interval: CameraInterval) -> None:
        """Record a camera's frames and drops over an interval with the next write."""
        if not self._accepting:
            raise StorageError(f"{self.db_path}: results store is not running; start() it first")
        with self._cond:
            self._intervals.append(interval)

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until everything submitted so far is committed and its on_committed has run.

        False on timeout. Must not be called from on_committed (the writer would wait for
        itself); that raises StorageError.
        """
        if threading.current_thread() is self._thread:
            raise StorageError("ResultsStore.flush() called on the storage writer thread")
        with self._cond:
            target = self._submitted
            return self._cond.wait_for(
                lambda: self._committed + self._rejected >= target, timeout_s
            )

    @property
    def stats(self) -> StoreStats:
        with self._cond:
            return StoreStats(
                submitted=self._submitted,
                committed=self._committed,
                rejected=self._rejected,
                batches=self._batches,
                write_failures=self._failures,
                queued=self._queue.qsize(),
                queued_bytes=self._queue.queued_bytes,
                frames_dropped=self._queue.frames_dropped,
                images_saved=self._images_saved,
                image_failures=self._image_failures,
                last_error=self._last_error,
            )

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ---- the writer thread -------------------------------------------------------------

    def _run(self) -> None:
        conn = self._conn
        assert conn is not None
        pending: list[Pending] = []
        backoff = _BACKOFF_FIRST_S
        failing = False
        try:
            self._purge_when_due()  # at start, then hourly while idle
            while True:
                if self._abort.is_set():
                    lost = len(pending) + self._queue.qsize()
                    if lost:
                        log.error("results store %s: %d result(s) NOT recorded", self.db_path, lost)
                    return
                if not pending:
                    pending = self._take_batch()
                    if not pending:
                        with self._cond:
                            events_waiting = bool(self._events or self._intervals)
                        if not events_waiting:
                            if self._stop.is_set() and self._queue.empty():
                                return
                            self._purge_when_due()
                            self._check_space(conn)
                            continue
                try:
                    self._write_batch(conn, pending)
                except (sqlite3.Error, OSError) as exc:
                    failing = True
                    with self._cond:
                        if self._unwritten_since is None and pending:
                            self._unwritten_since = pending[0].submitted_at
                    self._on_write_failure(exc, len(pending), backoff)
                    self._check_space(conn)  # a full disk gets room from passes' images
                    # While running, stop() cuts the wait short to start draining; while
                    # stopping, only abort does, so retries keep their back-off.
                    waiter = self._abort if self._stop.is_set() else self._stop
                    waiter.wait(backoff)
                    backoff = min(backoff * 2.0, _BACKOFF_MAX_S)
                    continue
                if failing:
                    failing = False
                    backoff = _BACKOFF_FIRST_S
                    self._status(f"results store: writing to {self.db_path.name} again")
                self._after_commit(pending)
                pending = []
                self._check_space(conn)
        finally:
            conn.close()
            self._conn = None

    def _purge_when_due(self) -> None:
        """Retention runs here, on the writer thread while idle, so the archive has one writer."""
        if self._archive is None or time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + self._purge_every_s
        try:
            self._archive.purge()
        except OSError as exc:
            log.exception("image archive: retention purge failed")
            self._status(f"image archive: old images could not be removed: {exc}")

    def _check_space(self, conn: sqlite3.Connection, now: float | None = None) -> None:
        """Every few seconds: warn when the disk runs low, and make room from passed parts'
        images (writer thread: it owns the archive and the connection)."""
        now = time.monotonic() if now is None else now
        if now < self._next_space_check:
            return
        self._next_space_check = now + self._space_every_s
        try:
            space = free_space(self.db_path.parent)
        except OSError as exc:
            log.warning("results store: cannot ask the disk for free space: %s", exc)
            return
        low = self._space_limits.is_low(space)
        if low and not self._space_low:
            self._warn(
                f"disk space low: {space} (the station warns below {self._space_limits}); "
                "the oldest passed parts' images are removed first"
            )
        elif self._space_low and not low:
            self._warn(f"disk space: {space} again")
        self._space_low = low
        if low and self._archive is not None:
            try:
                remove_passed_images(conn, self._archive, self._space_limits)
            except (sqlite3.Error, OSError) as exc:
                log.exception("image archive: could not free space")
                self._warn(f"disk space low and passed parts' images could not be removed: {exc}")

    def _warn(self, message: str) -> None:
        log.warning("%s", message)
        if self._warning_callback is None:
            return
        try:
            self._warning_callback(message)
        except Exception:
            log.exception("warning callback failed for message %r", message)

    def _take_batch(self) -> list[Pending]:
        first = self._queue.get(_POLL_S)
        if first is None:
            return []
        batch = [first]
        # Stopping: take what is there without waiting for more.
        deadline = time.monotonic() + (0.0 if self._stop.is_set() else self._batch_wait_s)
        while len(batch) < self._batch_max:
            item = self._queue.get(max(0.0, deadline - time.monotonic()))
            if item is None:
                break
            batch.append(item)
        return batch

    def _write_batch(self, conn: sqlite3.Connection, batch: list[Pending]) -> None:
        for item in batch:
            self._archive_item(item)
        with self._cond:
            events = list(self._events)
            intervals = list(self._intervals)
        calendar = self._calendar
        rejected = write_batch(
            conn,
            batch,
            self.run_id,
            attribute=calendar.attribute,
            line=self._line,
            events=events,
            camera_intervals=intervals,
        )
        with self._cond:  # written: only now may they leave the list (a failed write retries)
            del self._events[: len(events)]
            del self._intervals[: len(intervals)]
        for item, why in rejected:
            self._reject(item, why)

    def _reject(self, item: Pending, why: str) -> None:
        # Retrying a malformed record would block every part behind it, so it is set aside.
        msg = f"results store: inspection {item.inspection.inspection_id!r} {why}; not recorded"
        log.error(msg)
        with self._cond:
            self._rejected += 1
            self._last_error = msg
            self._cond.notify_all()
        self._status(msg)

    def _archive_item(self, item: Pending) -> None:
        if item.archived:
            return
        item.archived = True
        insp = item.inspection
        if self._archive is None or item.image_path is not None or not item.keep_image:
            return
        try:
            item.image_path = self._archive.save(insp)
        except StorageError as exc:
            full = isinstance(exc.__cause__, OSError) and exc.__cause__.errno == errno.ENOSPC
            item.image_note = NOT_ARCHIVED_DISK_FULL if full else f"not archived: {exc}"
            log.error("image archive failed for %s: %s", insp.inspection_id, exc)
            with self._cond:
                self._image_failures += 1
                self._last_error = str(exc)
            self._status(f"image archive: {exc}")
            return
        finally:
            # written or not, the frames are done with: the part waits on without them
            item.inspection = without_pixels(insp)
        if item.image_path is not None:
            with self._cond:
                self._images_saved += 1

    def _after_commit(self, batch: list[Pending]) -> None:
        # Callbacks before counters: when flush() returns, every callback so far has run.
        for item in batch:
            if item.rejected or item.on_committed is None:
                continue
            try:
                item.on_committed(item.inspection)
            except Exception:
                log.exception("on_committed failed for %s", item.inspection.inspection_id)
        with self._cond:
            self._batches += 1
            self._committed += sum(1 for item in batch if not item.rejected)
            self._unwritten_since = None
            self._cond.notify_all()

    def _on_write_failure(self, exc: BaseException, n: int, backoff: float) -> None:
        msg = (
            f"results store: cannot write {self.db_path.name} ({exc}); {n} result(s) kept, "
            f"retrying in {backoff:.2f} s"
        )
        log.error(msg, exc_info=exc)
        with self._cond:
            self._failures += 1
            self._last_error = msg
        self._status(msg)

    def _status(self, message: str) -> None:
        if self._status_callback is None:
            return
        try:
            self._status_callback(message)
        except Exception:
            log.exception("status callback failed for message %r", message)
