"""The shared state of one run of a station: the part queue, part numbers, stop flags."""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence

from inspection.pipeline.ordering import ReorderBuffer
from inspection.pipeline.parts import PartJob
from inspection.pipeline.triggers import PartTrigger


class Feed:
    """What the acquisition, worker and dispatcher threads of one run share (and nothing else)."""

    def __init__(
        self,
        cameras: Sequence[str],
        queue_size: int,
        trigger: PartTrigger,
        first_part: int = 0,
    ) -> None:
        self.jobs: queue.Queue[PartJob] = queue.Queue(maxsize=queue_size)
        self.reorder = ReorderBuffer(first_part)
        self.trigger = trigger
        self.issue_lock = threading.Lock()
        self.stop_acquiring = threading.Event()
        self.stop_workers = threading.Event()
        # set when a stop runs short of time: parts still queued are recorded as not inspected
        self.stop_inspecting = threading.Event()
        self.stop_dispatch = threading.Event()
        self.finished = threading.Event()
        self._issued = first_part
        self._cameras = set(cameras)
        self._ended: set[str] = set()
        self._ended_lock = threading.Lock()

    def issue(self) -> int:
        """The next part number; call with ``issue_lock`` held so numbers follow queue order."""
        n = self._issued
        self._issued += 1
        return n

    @property
    def issued(self) -> int:
        """How many part numbers were handed out (the next run continues from here)."""
        return self._issued

    def camera_ended(self, camera: str) -> bool:
        """Note a camera's stream ended; True when it was the last one."""
        with self._ended_lock:
            self._ended.add(camera)
            return self._ended >= self._cameras

    def streams_ended(self) -> bool:
        with self._ended_lock:
            return self._ended >= self._cameras

    def all_dispatched(self) -> bool:
        issued = self._issued  # a plain read: taking issue_lock could wait on a blocked put
        return self.reorder.next_seq >= issued and self.jobs.empty()
