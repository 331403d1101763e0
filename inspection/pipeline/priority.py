"""The inspection workers run a little behind the screen (a lower scheduling priority per thread),
and each computation keeps to the thread that asked for it (no BLAS thread pool of its own).

On a 2-core PC a full-rate line keeps both cores busy with tool threads. At equal priority the
GUI thread gets only its fair share of a core when a result arrives, so drawing a part that needs
8 ms of CPU took 30-40 ms and the operator screen stuttered (``lineside bench --gui``). A worker
niced by ``WORKER_NICE`` still gets every cycle the screen does not use, so inspection keeps its
rate; the screen, at normal priority, is served first when it wakes. The camera threads keep
normal priority too: a free-running camera must not lose frames to the tools.

Linux sets nice per thread (``setpriority`` on the thread's id); where that is not so, or not
allowed, the worker keeps the process's priority and says so once in the log.

numpy's BLAS (OpenBLAS) starts a pool of one thread per core for each matrix product, such as the
defect tool's nearest-patch search. On a station the cores are already shared out: two workers,
each part's tools side by side. The pool's threads then fight the other tools for the same two
cores and spin while they wait. Measured with the demo line at 3 parts/s on a busy 2-core machine:
part latency p50 5.35 s with the pool (the line fell behind), 0.24 s without it; the defect tool
alone took 230-250 ms with the pool and 85-108 ms without. The pool's threads are also made at
normal priority, outside the workers' nice. So a running station uses one BLAS thread per caller.
"""

from __future__ import annotations

import logging
import os
import threading

from threadpoolctl import threadpool_limits

log = logging.getLogger(__name__)

WORKER_NICE = 5
"""How much nicer an inspection worker is than the process (a nice-0 thread gets about three
times the CPU of a nice-5 one while both want it)."""

OUTPUT_NICE = 5
"""How much nicer a result output's thread (and the threads it starts) is than the process:
behind the screen and level with the workers. Not further behind them: at nice 10 an output got
so little of a busy 2-core PC that MQTT fell below 200 results a second in ``lineside bench
--links``; at 5 it kept up, and its outbox still carries what waits through a burst."""


def behind_the_screen(nice: int = WORKER_NICE) -> bool:
    """Make the calling thread ``nice`` steps nicer than it is; threads it starts inherit it.
    False (and a log line) where threads cannot be niced one by one."""
    setpriority = getattr(os, "setpriority", None)
    if setpriority is None or not os.path.isdir("/proc/self/task"):
        log.info("inspection workers keep the process's priority: no per-thread nice here")
        return False
    tid = threading.get_native_id()
    try:
        now = os.getpriority(os.PRIO_PROCESS, tid)
        setpriority(os.PRIO_PROCESS, tid, min(now + nice, 19))
    except OSError as exc:
        log.info("inspection workers keep the process's priority: %s", exc)
        return False
    return True


def one_thread_per_computation() -> None:
    """numpy's matrix products run on the calling thread only, for the whole process (see the
    module docstring). Idempotent; a station calls it before its workers start."""
    threadpool_limits(limits=1, user_api="blas")
