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

from inspection.jobs import Job, JobProgress

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
