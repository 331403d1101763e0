"""Qt signals for a job of the core's job pool (``inspection.jobs``).

A job reports progress and its end on its own thread. ``JobWatcher`` re-emits both as signals;
it lives on the GUI thread, so Qt queues the calls to its receivers there (as ``app.bridge`` does
for the station).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

from inspection.jobs import Job, JobPool, JobProgress

log = logging.getLogger(__name__)


class JobWatcher(QObject):
    """Watches one job: ``progressed(JobProgress)`` while it runs, ``finished(Job)`` at its end."""

    progressed = Signal(object)  # JobProgress
    finished = Signal(object)  # the Job: done, failed or cancelled

    def __init__(
        self,
        job: Job[Any],
        parent: QObject | None = None,
        *,
        on_progress: Callable[[JobProgress], None] | None = None,
        on_finished: Callable[[Job[Any]], None] | None = None,
    ) -> None:
        """``on_progress`` / ``on_finished`` are connected before the job is watched: a job that
        ended already reports at once, and a slot connected afterwards would miss it."""
        super().__init__(parent)
        self.job = job
        self._lock = threading.Lock()
        self._detached = False
        # queued even from the GUI thread: a job that already ended reports from inside this
        # constructor, and the receiver must see the finished watcher, not a half-built one
        if on_progress is not None:
            self.progressed.connect(on_progress, Qt.ConnectionType.QueuedConnection)
        if on_finished is not None:
            self.finished.connect(on_finished, Qt.ConnectionType.QueuedConnection)
        job.on_progress(self._on_progress)
        # last: a job that already ended calls back at once, from here
        job.on_finished(self._on_finished)

    def detach(self) -> None:
        """Stop emitting; call before the watcher (or its parent) goes away.

        The job's thread may be inside a callback right now; once this returns, none of them
        emits again, so no signal reaches a deleted C++ object.
        """
        with self._lock:
            self._detached = True

    def _on_progress(self, progress: JobProgress) -> None:
        with self._lock:
            if not self._detached:
                self.progressed.emit(progress)

    def _on_finished(self, job: Job[Any]) -> None:
        with self._lock:
            if not self._detached:
                self.finished.emit(job)


class PageJobs:
    """The jobs a page is waiting for: each watched until it ends (its answer then delivered on
    the GUI thread), every one let go at once when the page goes away (``detach``)."""

    def __init__(self, pool: JobPool, owner: QObject) -> None:
        self.pool = pool
        self._owner = owner
        self._watchers: set[JobWatcher] = set()

    def submit(
        self,
        name: str,
        fn: Callable[[Any, threading.Event], Any],
        on_finished: Callable[[Job[Any]], None],
        *,
        on_progress: Callable[[JobProgress], None] | None = None,
    ) -> Job[Any]:
        """Run ``fn(progress, cancel)`` in the pool; ``on_finished(job)`` on the GUI thread."""
        return self.watch(self.pool.submit(name, fn), on_finished, on_progress=on_progress)

    def watch(
        self,
        job: Job[Any],
        on_finished: Callable[[Job[Any]], None],
        *,
        on_progress: Callable[[JobProgress], None] | None = None,
    ) -> Job[Any]:
        watcher: JobWatcher | None = None

        def finished(done: Job[Any]) -> None:
            if watcher is not None:
                watcher.detach()
                self._watchers.discard(watcher)
                # later, not now: deleting a watcher inside its own queued signal crashes PySide
                watcher.deleteLater()
            on_finished(done)

        watcher = JobWatcher(job, self._owner, on_progress=on_progress, on_finished=finished)
        self._watchers.add(watcher)
        return job

    def detach(self) -> None:
        """No answer reaches the page any more (the jobs themselves run on, or end)."""
        for watcher in self._watchers:
            watcher.detach()
        self._watchers.clear()
