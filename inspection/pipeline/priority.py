"""The inspection workers run a little behind the screen: a lower scheduling priority per thread.

On a 2-core PC a full-rate line keeps both cores busy with tool threads. At equal priority the
GUI thread gets only its fair share of a core when a result arrives, so drawing a part that needs
8 ms of CPU took 30-40 ms and the operator screen stuttered (``lineside bench --gui``). A worker
niced by ``WORKER_NICE`` still gets every cycle the screen does not use, so inspection keeps its
rate; the screen, at normal priority, is served first when it wakes. The camera threads keep
normal priority too: a free-running camera must not lose frames to the tools.

Linux sets nice per thread (``setpriority`` on the thread's id); where that is not so, or not
allowed, the worker keeps the process's priority and says so once in the log.
"""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger(__name__)

WORKER_NICE = 5
"""How much nicer an inspection worker is than the process (a nice-0 thread gets about three
times the CPU of a nice-5 one while both want it)."""


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
