"""Long work off the line's threads: teaching, re-scoring, exports — with progress and Cancel.

A job is a function ``fn(progress, cancel) -> result``: it calls ``progress(done, total, message)``
as it goes and checks ``cancel.is_set()`` between steps (raising ``Cancelled``). The pool runs
jobs on its own threads, so nothing the line waits for is ever held by a job (DESIGN §4).
"""

from __future__ import annotations

import logging
import threading
import time
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


# ---- work in a child process at the lowest priority --------------------------------------

_CHILD_START_S = 60.0  # a cold child imports pandas/openpyxl/reportlab; generous on a busy PC
# After Cancel, the child is given this long to clean up and answer, then it is ended. A child at
# idle priority beside a saturated line may get no CPU time to see the cancel at all; Cancel
# must still end the job (seen in `bench --report` on a loaded machine: a wait without end).
CANCEL_GRACE_S = 10.0


def run_apart(
    fn: Callable[..., T],
    *args: Any,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    poll_s: float = 0.1,
    share: float = 1.0,
    behind_line: bool = True,
    cancel_grace_s: float = CANCEL_GRACE_S,
    **kwargs: Any,
) -> T:
    """``fn(*args, progress=..., cancel=..., **kwargs)`` in a child process that runs only on
    CPU time the line does not want (Linux SCHED_IDLE, else the lowest nice), so a report made
    while the line inspects does not slow it; from a thread of this process it would take the
    interpreter lock from the station's workers.

    ``share`` < 1: the child and the processes it starts run only that share of the time,
    stopped and continued in turns (``Pacer``). Idle priority keeps a report off the line's CPU
    time, but not out of the memory bandwidth and caches the line's tools share with it on a
    small PC: a report made while the line runs takes longer, and the line keeps its pace.

    ``behind_line`` False: the child keeps this process's priority (a report the engineer waits
    for while no line runs; at idle priority it would wait for every other busy process).

    ``fn`` must be importable by name (a module-level function) and its arguments and result
    picklable. Progress comes back as it happens; ``cancel`` is passed on, so ``fn`` cleans up
    as it would in-process (raising ``Cancelled``). What ``fn`` raises is raised here. A child
    that has not answered ``cancel_grace_s`` after the cancel is ended, and ``Cancelled`` raised.
    """
    import multiprocessing
    import queue as queue_module

    # spawn, never fork: a fork of a process with Qt and camera threads can deadlock
    ctx = multiprocessing.get_context("spawn")
    answers = ctx.Queue()
    stop = ctx.Event()
    child = ctx.Process(
        target=_child_main,
        args=(answers, stop, fn, args, kwargs, share < 1.0, behind_line),
        name=f"lineside-{getattr(fn, '__name__', 'job')}",
        # not daemonic, so a job may start children of its own (a report's parts CSV is
        # written in two halves by two); the ``finally`` below always ends it
        daemon=False,
    )
    child.start()
    # At once, from here: the child's own call comes only after its interpreter has started and
    # imported the job's modules (pandas, openpyxl, reportlab: a second or two of CPU), which
    # would otherwise run at the line's priority. Its own children inherit the policy.
    if behind_line:
        _behind_the_line(child.pid)
    pacer = Pacer(child.pid, share) if share < 1.0 and child.pid is not None else None
    started = time.monotonic()
    given_up_at: float | None = None  # when a cancelled child is ended without its answer
    try:
        while True:
            if cancel is not None and cancel.is_set() and given_up_at is None:
                if pacer is not None:
                    pacer.release()  # a stopped child cannot see that it is cancelled
                    pacer = None
                stop.set()
                given_up_at = time.monotonic() + cancel_grace_s
            wait = poll_s if pacer is None else min(poll_s, pacer.step())
            try:
                kind, payload = answers.get(timeout=wait)
            except queue_module.Empty:
                if given_up_at is not None and time.monotonic() >= given_up_at:
                    _end_child(child)  # its unfinished files are hidden ``.partial`` ones
                    raise Cancelled(
                        f"{getattr(fn, '__name__', 'job')} did not stop within "
                        f"{cancel_grace_s:g} s of Cancel; its process was ended"
                    ) from None
                if not child.is_alive():
                    raise LinesideError(
                        f"{getattr(fn, '__name__', 'job')} stopped without an answer "
                        f"(child process exit code {child.exitcode})"
                    ) from None
                if child.pid is None and time.monotonic() - started > _CHILD_START_S:
                    raise LinesideError("the child process for a job did not start") from None
                continue
            if kind == "progress":
                if progress is not None:
                    progress(*payload)
            elif kind == "done":
                result: T = payload
                return result
            elif isinstance(payload, BaseException):
                raise payload
            else:
                raise LinesideError(str(payload))
    finally:
        if pacer is not None:
            pacer.release()
        stop.set()
        child.join(10.0)
        if child.is_alive():
            log.warning("job child %s did not end; killing it", child.name)
            child.kill()
            child.join(5.0)
        answers.close()


def _end_child(child: Any) -> None:
    """Kill a job's child and, when it leads its own process group (a paced job), the processes
    it started, so that none of them runs on without anyone waiting for it."""
    import contextlib
    import os
    import signal

    pid = child.pid
    if pid is not None:
        with contextlib.suppress(OSError):
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
                return
    child.kill()


def _behind_the_line(pid: int | None) -> None:
    """Let process ``pid`` (0: this one) run only on CPU time the line does not want: Linux
    SCHED_IDLE, else the lowest nice (own process only). The job runs either way."""
    import contextlib
    import os

    if pid is None:
        return
    try:
        os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        if pid == 0:
            with contextlib.suppress(OSError):
                os.nice(19)


def join_within(thread: threading.Thread | None, timeout_s: float, what: str) -> bool:
    """Join ``thread`` (None: nothing to join) for up to ``timeout_s``; False, and a log line
    naming ``what`` is still busy, when it outlives that (DESIGN §4: stop() joins with a timeout
    and logs stragglers)."""
    if thread is None:
        return True
    thread.join(timeout_s)
    if thread.is_alive():
        log.warning("%s still busy after %.1f s", what, timeout_s)
        return False
    return True


def behind_the_line_thread() -> None:
    """Let the calling thread run only on CPU time nothing else wants (Linux schedules threads
    one by one: SCHED_IDLE for this thread, else its lowest nice). Elsewhere, or when refused,
    it keeps its priority: the work is small and still gets done."""
    import contextlib
    import os
    import threading

    if not os.path.isdir("/proc/self/task"):
        return
    tid = threading.get_native_id()
    try:
        os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, tid, 19)


PACE_PERIOD_S = 0.2  # a paced child runs and stops in turns of this length


class Pacer:
    """Lets a child process (and, once it leads its own process group, the processes it
    starts) run ``share`` of the time: SIGSTOP and SIGCONT in turns of ``PACE_PERIOD_S``."""

    def __init__(self, pid: int, share: float) -> None:
        self.pid = pid
        self.share = min(max(share, 0.05), 1.0)
        self.stopped = False
        self._switch_at = time.monotonic() + self.share * PACE_PERIOD_S

    def _signal(self, sig: int) -> None:
        import contextlib
        import os

        try:
            os.killpg(self.pid, sig)  # the child's group: itself and what it started
        except OSError:
            with contextlib.suppress(OSError):  # not yet its own group's leader, or gone
                os.kill(self.pid, sig)

    def step(self) -> float:
        """Stop or continue when its turn is over; returns the seconds until the next turn."""
        import signal

        now = time.monotonic()
        if now >= self._switch_at:
            self.stopped = not self.stopped
            self._signal(signal.SIGSTOP if self.stopped else signal.SIGCONT)
            turn = (1.0 - self.share) if self.stopped else self.share
            self._switch_at = now + turn * PACE_PERIOD_S
        return max(self._switch_at - now, 0.0)

    def release(self) -> None:
        """Let it run for good (always, before it is cancelled, joined or killed)."""
        import signal

        if self.stopped:
            self._signal(signal.SIGCONT)
            self.stopped = False


def _child_main(
    answers: Any,
    stop: Any,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    own_group: bool = False,
    behind_line: bool = True,
) -> None:
    import contextlib
    import os
    import pickle

    if behind_line:
        _behind_the_line(0)
    if own_group:
        # paced: the processes this job starts are stopped and continued with it
        with contextlib.suppress(OSError):
            os.setpgid(0, 0)

    def progress(done: int, total: int, message: str = "") -> None:
        answers.put(("progress", (done, total, message)))

    try:
        result = fn(*args, progress=progress, cancel=stop, **kwargs)
    except BaseException as exc:  # handed to the parent, which raises it
        try:
            pickle.dumps(exc)
            answers.put(("error", exc))
        except Exception:
            answers.put(("error", f"{type(exc).__name__}: {exc}"))
        return
    answers.put(("done", result))
