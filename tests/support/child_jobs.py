"""Module-level jobs for ``run_apart`` tests: a child process imports them by name."""

from __future__ import annotations

import os
import time
from typing import Any

from inspection.jobs import Cancelled

# Taken when a child process imports this module to unpickle its job: before the job's own code,
# so it tells whether the child was already behind the line while importing.
POLICY_AT_IMPORT = os.sched_getscheduler(0) if hasattr(os, "sched_getscheduler") else -1


def scheduling_at_import(*, progress: Any, cancel: Any) -> int:
    """The scheduling policy this process had when it imported the job's module."""
    return POLICY_AT_IMPORT


def scheduling_of_this_process(*, progress: Any, cancel: Any) -> tuple[int, int]:
    """(scheduling policy, nice value) of the process it runs in, after two progress steps."""
    progress(1, 2, "looking")
    progress(2, 2, "looked")
    return os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, 0)


def until_cancelled(*, progress: Any, cancel: Any) -> None:
    progress(0, 1, "waiting for Cancel")
    deadline = time.monotonic() + 30.0
    while time.monotonic() < deadline:
        if cancel.is_set():
            raise Cancelled("cancelled while waiting")
        time.sleep(0.02)
    raise AssertionError("cancel never reached the child")


def refuse(value: int, *, progress: Any, cancel: Any) -> None:
    raise ValueError(f"value {value} refused")


def busy_for(seconds: float, *, progress: Any, cancel: Any) -> float:
    """Spin for ``seconds`` of wall time; returns the CPU seconds it got meanwhile."""
    start, cpu = time.monotonic(), time.process_time()
    while time.monotonic() - start < seconds:
        if cancel.is_set():
            raise Cancelled("cancelled while busy")
        sum(range(2000))
    return time.process_time() - cpu


def busy_with_a_helper(seconds: float, *, progress: Any, cancel: Any) -> tuple[float, float]:
    """``busy_for`` here and, at the same time, in a process of its own that this job starts
    (as a report's parts CSV halves are): (CPU seconds here, CPU seconds of the helper)."""
    import threading

    from inspection.jobs import run_apart

    helper: list[float] = []
    thread = threading.Thread(target=lambda: helper.append(run_apart(busy_for, seconds)))
    thread.start()
    mine = busy_for(seconds, progress=progress, cancel=cancel)
    thread.join()
    return mine, helper[0]


def deaf_to_cancel(seconds: float, *, progress: Any, cancel: Any) -> str:
    """A job that never looks at ``cancel`` (as one starved of CPU time cannot)."""
    progress(0, 1, "busy, not listening")
    time.sleep(seconds)
    return "finished anyway"
