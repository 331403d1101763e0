"""The job pool: progress, results, errors, cancel, shutdown."""

from __future__ import annotations

import threading

import pytest

from inspection.jobs import Cancelled, JobPool, JobProgress


def counting(n: int):
    def fn(progress, cancel):
        for i in range(n):
            if cancel.is_set():
                raise Cancelled("counting cancelled")
            progress(i + 1, n, f"step {i + 1}")
        return n * 10

    return fn


def test_progress_and_result():
    pool = JobPool()
    seen: list[JobProgress] = []
    job = pool.submit("count", counting(5))
    job.on_progress(seen.append)
    assert job.wait(5.0)
    assert job.result() == 50
    assert job.last_progress.done == 5 and job.last_progress.fraction == 1.0
    assert all(p.name == "count" for p in seen)


def test_failure_is_kept_and_raised_by_result():
    def boom(progress, cancel):
        raise ValueError("folder has no images")

    job = JobPool().submit("teach", boom)
    assert job.wait(5.0)
    assert isinstance(job.error, ValueError)
    with pytest.raises(ValueError, match="no images"):
        job.result()


def until_cancelled(progress, cancel):
    progress(0, 1, "waiting for parts")
    if cancel.wait(10.0):
        raise Cancelled("teaching cancelled")
    return "not cancelled"


def test_cancel_and_shutdown_stop_a_running_job():
    pool = JobPool()
    finished = threading.Event()
    job = pool.submit("long", until_cancelled)
    job.on_finished(lambda j: finished.set())
    assert pool.running() == [job]
    assert pool.shutdown(5.0)
    assert finished.is_set() and job.cancelled
    with pytest.raises(Cancelled):
        job.result()
    assert pool.running() == []


# ---- run_apart: work in a child process at idle priority ------------------------------------


def test_run_apart_runs_at_idle_priority_and_reports_progress() -> None:
    import os

    from support.child_jobs import scheduling_of_this_process

    from inspection.jobs import run_apart

    seen: list[tuple[int, int, str]] = []
    policy, _nice = run_apart(
        scheduling_of_this_process, progress=lambda d, t, m: seen.append((d, t, m))
    )
    assert policy == os.SCHED_IDLE
    assert seen == [(1, 2, "looking"), (2, 2, "looked")]


def test_run_apart_passes_cancel_on_and_raises_what_the_job_raised() -> None:
    import threading

    from support.child_jobs import refuse, until_cancelled

    from inspection.jobs import Cancelled, run_apart

    cancel = threading.Event()
    started = threading.Event()

    def progress(done: int, total: int, message: str) -> None:
        started.set()
        cancel.set()  # the user presses Cancel as soon as the job reports

    with pytest.raises(Cancelled, match="cancelled while waiting"):
        run_apart(until_cancelled, progress=progress, cancel=cancel)
    assert started.is_set()
    with pytest.raises(ValueError, match="value 7 refused"):
        run_apart(refuse, 7)


def test_a_child_that_never_answers_cancel_is_ended_after_the_grace() -> None:
    # A report child at idle priority beside a saturated line may get no CPU time to see
    # Cancel; the caller (bench --report, the Reports page) must not wait for it for ever.
    import threading
    import time

    from support.child_jobs import deaf_to_cancel

    from inspection.jobs import Cancelled, run_apart

    cancel = threading.Event()

    def progress(done: int, total: int, message: str) -> None:
        cancel.set()

    t0 = time.monotonic()
    with pytest.raises(Cancelled, match="did not stop within 1 s of Cancel"):
        run_apart(deaf_to_cancel, 60.0, progress=progress, cancel=cancel, cancel_grace_s=1.0)
    assert time.monotonic() - t0 < 30.0  # not the job's 60 s
    import multiprocessing

    pids = [c.pid for c in multiprocessing.active_children() if c.name.startswith("lineside-")]
    assert pids == []  # the child is gone, not left running


def test_a_child_not_behind_the_line_keeps_this_process_priority() -> None:
    """With no line to protect (a report the engineer waits for), the child is not put at idle
    priority: there it would wait for every other busy process on the PC."""
    import os

    from support.child_jobs import scheduling_at_import, scheduling_of_this_process

    from inspection.jobs import run_apart

    here = (os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, 0))
    assert here[0] != os.SCHED_IDLE
    assert run_apart(scheduling_of_this_process, behind_line=False) == here
    assert run_apart(scheduling_at_import, behind_line=False) == here[0]


def test_a_child_is_behind_the_line_while_it_imports_its_job() -> None:
    """The imports of a report's child (pandas, openpyxl...) are a second or two of CPU: they
    must not run at the line's priority before the job itself lowers it."""
    import os

    from support.child_jobs import scheduling_at_import

    from inspection.jobs import run_apart

    assert run_apart(scheduling_at_import) == os.SCHED_IDLE


def test_a_paced_child_and_the_processes_it_starts_run_only_their_share_of_the_time() -> None:
    import threading

    from support.child_jobs import busy_for, busy_with_a_helper

    from inspection.jobs import Cancelled, run_apart

    # each process spins for 3 s of wall time; the machine's other load makes CPU figures vary,
    # so only a wide margin is asserted: a third of the time is far from all of it
    mine, helper = run_apart(busy_with_a_helper, 3.0, share=0.3)
    assert mine < 1.9 and helper < 1.9, (mine, helper)
    # cancelled while it is stopped: it is continued first, so it sees the cancel and ends
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    with pytest.raises(Cancelled):
        run_apart(busy_for, 30.0, share=0.2, cancel=cancel)
