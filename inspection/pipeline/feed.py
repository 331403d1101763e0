"""The shared state of one run of a station: the part queue, part numbers, stop flags."""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence

from inspection.pipeline.ordering import ReorderBuffer
from inspection.pipeline.parts import PartJob
from inspection.pipeline.triggers import PartTrigger
from inspection.types import Inspection


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
        # the part each worker is inspecting, by worker thread id; once the stop has given up on
        # the workers (``give_up``) a result that comes back late is not recorded a second time
        self._in_hand: dict[int, PartJob] = {}
        self._given_up = False
        self._hands_lock = threading.Lock()

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

    def take(self, worker: int, job: PartJob) -> bool:
        """Worker ``worker`` (its thread id) starts on ``job``; False once the stop gave up on
        the workers (the worker records it as not inspected, and ends)."""
        with self._hands_lock:
            if self._given_up:
                return False
            self._in_hand[worker] = job
            return True

    def hand_back(self, worker: int, inspection: Inspection) -> bool:
        """Worker ``worker``'s result for the part it took, into the reorder buffer; False (and
        nothing recorded) when the stop gave up on it and recorded that part already."""
        with self._hands_lock:
            if self._in_hand.pop(worker, None) is None:
                return False
            self.reorder.put(inspection)
            return True

    def alone(self, worker: int) -> bool:
        """Whether worker ``worker``'s part is the only one being inspected or waiting: then the
        cores the other workers would use are spare, and its tools may run side by side."""
        with self._hands_lock:
            others = any(w != worker for w in self._in_hand)
        return not others and self.jobs.empty()

    def give_up(self) -> tuple[list[PartJob], list[PartJob]]:
        """The stop will not wait for the workers any longer: (the parts still in their hands,
        the parts still queued), each taken away from them to be recorded by the stop."""
        with self._hands_lock:
            self._given_up = True
            in_hand = list(self._in_hand.values())
            self._in_hand.clear()
            queued: list[PartJob] = []
            while True:
                try:
                    queued.append(self.jobs.get_nowait())
                except queue.Empty:
                    return in_hand, queued

    def all_dispatched(self) -> bool:
        issued = self._issued  # a plain read: taking issue_lock could wait on a blocked put
        return self.reorder.next_seq >= issued and self.jobs.empty()
