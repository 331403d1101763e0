"""Long work off the line's threads: teaching, re-scoring, exports — with progress and Cancel.

A job is a function ``fn(progress, cancel) -> result``: it calls ``progress(done, total, message)``
as it goes and checks ``cancel.is_set()`` between steps (raising ``Cancelled``). The pool runs
jobs on its own threads, so nothing the line waits for is ever held by a job (DESIGN §4).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from inspection.errors import LinesideError

log = logging.getLogger(__name__)

T = TypeVar("T")
ProgressFn = Callable[[int, int, str], None]


class Cancelled(LinesideError):
    """The user cancelled the job; nothing it was making was kept."""


@dataclass(frozen=True, slots=True, kw_only=True)
class JobProgress:
    name: str
    done: int
    total: int
    message: str = ""

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total > 0 else 0.0


class Job(Generic[T]):
    """One running job: watch its progress, cancel it, wait for its result."""

    def __init__(self, name: str, fn: Callable[[ProgressFn, threading.Event], T]) -> None:
        self.name = name
        self._fn = fn
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._result: T | None = None
        self._error: BaseException | None = None
        self._listeners: list[Callable[[JobProgress], None]] = []
        self._finished: list[Callable[[Job[T]], None]] = []
        self._lock = threading.Lock()
        self.last_progress = JobProgress(name=name, done=0, total=0)
        self._thread = threading.Thread(target=self._run, name=f"job-{name}", daemon=True)

    # ---- used by the one who started it --------------------------------------------------

    def on_progress(self, fn: Callable[[JobProgress], None]) -> None:
        with self._lock:
            self._listeners.append(fn)

    def on_finished(self, fn: Callable[[Job[T]], None]) -> None:
        """``fn(job)`` on the job's thread when it ends (done, failed or cancelled)."""
        with self._lock:
            self._finished.append(fn)
            already = self._done.is_set()
        if already:
            fn(self)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return isinstance(self._error, Cancelled)

    def wait(self, timeout_s: float | None = None) -> bool:
        return self._done.wait(timeout_s)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def error(self) -> BaseException | None:
        return self._error

    def result(self) -> T:
        """The job's result; raises its error (Cancelled included) if it did not succeed."""
        if not self._done.is_set():
            raise RuntimeError(f"job {self.name} is still running")
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]

    # ---- the job's own thread ------------------------------------------------------------

    def start(self) -> Job[T]:
        self._thread.start()
        return self

    def join(self, timeout_s: float) -> bool:
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _progress(self, done: int, total: int, message: str = "") -> None:
        p = JobProgress(name=self.name, done=done, total=total, message=message)
        self.last_progress = p
        with self._lock:
            listeners = list(self._listeners)
        for fn in listeners:
            try:
                fn(p)
            except Exception:  # a broken progress bar must not kill the job
                log.exception("job %s: progress listener failed", self.name)

    def _run(self) -> None:
        try:
            self._result = self._fn(self._progress, self._cancel)
        except Cancelled as exc:
            log.info("job %s cancelled", self.name)
            self._error = exc
        except Exception as exc:
            log.exception("job %s failed", self.name)
            self._error = exc
        finally:
            self._done.set()
            with self._lock:
                finished = list(self._finished)
            for fn in finished:
                try:
                    fn(self)
                except Exception:
                    log.exception("job %s: finish listener failed", self.name)


class JobPool:
    """Starts jobs and keeps track of them so that shutting down cancels and joins them."""

    def __init__(self) -> None:
        self._jobs: list[Job[Any]] = []
        self._lock = threading.Lock()

    def submit(self, name: str, fn: Callable[[ProgressFn, threading.Event], T]) -> Job[T]:
        job: Job[T] = Job(name, fn)
        with self._lock:
            self._jobs = [j for j in self._jobs if not j.done]
            self._jobs.append(job)
        return job.start()

    def running(self) -> list[Job[Any]]:
        with self._lock:
            return [j for j in self._jobs if not j.done]

    def shutdown(self, timeout_s: float = 5.0) -> bool:
        """Cancel every job and wait for them; False if one did not end in time."""
        jobs = self.running()
        for j in jobs:
            j.cancel()
        ok = True
        for j in jobs:
            if not j.join(timeout_s):
                log.warning("job %s did not stop within %.1f s", j.name, timeout_s)
                ok = False
        return ok
