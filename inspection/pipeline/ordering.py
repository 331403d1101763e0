"""Puts finished parts back into part order for the dispatcher (PLCs expect results in order)."""

from __future__ import annotations

import threading
import time

from inspection.types import Inspection


class ReorderBuffer:
    """Workers ``put`` parts in any order; ``pop`` hands them out strictly by part_seq.

    A part number that will never arrive (a live frame dropped before inspection) is ``skip``-ped,
    so the numbers after it are not held back.
    """

    def __init__(self, first_seq: int = 0) -> None:
        self._next = first_seq
        self._waiting: dict[int, Inspection | None] = {}
        self._cond = threading.Condition()

    def put(self, inspection: Inspection) -> None:
        with self._cond:
            self._waiting[inspection.part_seq] = inspection
            if inspection.part_seq == self._next:
                self._cond.notify_all()

    def skip(self, part_seq: int) -> None:
        with self._cond:
            self._waiting[part_seq] = None
            if part_seq == self._next:
                self._cond.notify_all()

    def pop(self, timeout_s: float) -> Inspection | None:
        """The next part in order, or None if it is not ready within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                while self._next in self._waiting:
                    item = self._waiting.pop(self._next)
                    self._next += 1
                    if item is not None:
                        return item
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)

    @property
    def next_seq(self) -> int:
        with self._cond:
            return self._next

    def pending(self) -> int:
        with self._cond:
            return len(self._waiting)
