"""Whether the station may inspect: not while its results cannot be recorded.

A station that inspects on with nowhere to record would report verdicts that vanish at the next
power cut, and fill memory with what waits. When the results store has not written a result for
``record_within_s`` (the disk is full, the database is locked), the station is no longer ready:
the operator sees an alarm, a line link drops its Ready signal, and every part that comes is
recorded as ERROR "not inspected" (the line rejects it) without running the tools. It is ready
again as soon as the store writes again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

NOT_READY_REASON = "not inspected: the station is not ready (its results cannot be recorded)"


@dataclass(frozen=True, slots=True)
class ReadinessChange:
    """The station became ready (``ready``) or not, and what to tell the operator."""

    ready: bool
    message: str


class RecordingWatch:
    """Turns "results unwritten for N s" into ready / not ready, once per change."""

    def __init__(self, unwritten_for_s: Callable[[], float], record_within_s: float) -> None:
        self._unwritten_for_s = unwritten_for_s
        self.record_within_s = record_within_s
        self._ready = True
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self._ready

    def check(self, last_error: str = "") -> ReadinessChange | None:
        """Call every few tens of ms; a change when readiness flips, else None."""
        waited = self._unwritten_for_s()
        with self._lock:
            if self._ready and waited >= self.record_within_s:
                self._ready = False
                why = f" ({last_error})" if last_error else ""
                return ReadinessChange(
                    False,
                    f"NOT READY: results not recorded for {waited:.0f} s{why}. Parts are not "
                    "inspected (each is ERROR) until results can be recorded again: free disk "
                    "space or check the results disk",
                )
            if not self._ready and waited == 0.0:
                self._ready = True
                return ReadinessChange(True, "ready: results are recorded again")
        return None
