"""The results store's queue: bounded in bytes of frames, not in parts.

A part's record is a few kilobytes; its frames can be megabytes. When the disk stops keeping up,
holding whole parts would grow memory by gigabytes before any count limit was reached, so the
queue keeps every record and gives up frames first: the oldest queued part's frames go, and its
record says why its image was not archived. Only when the record count itself reaches
``max_parts`` does ``put`` wait (and then fail), which the station sees long before (it stops
inspecting once results have gone unwritten for a stated time).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque

import numpy as np

from inspection.storage.batch import Pending
from inspection.types import Inspection

NOT_ARCHIVED_QUEUE_FULL = "not archived: the results queue was full (disk not keeping up)"


class QueueFull(Exception):
    """``put`` waited its timeout with ``max_parts`` parts queued."""


def without_pixels(inspection: Inspection) -> Inspection:
    """``inspection`` with every frame's image emptied (0×0); camera, sequence, times and the
    simulated line's truth stay, as the record needs them."""
    return dataclasses.replace(
        inspection,
        frames=tuple(
            dataclasses.replace(f, image=np.zeros((0, 0), np.uint8)) for f in inspection.frames
        ),
    )


def frame_bytes(item: Pending) -> int:
    return sum(int(f.image.nbytes) for f in item.inspection.frames)


class WriteQueue:
    """FIFO of Pending parts for the storage writer, bounded by frame bytes and part count."""

    def __init__(self, *, max_bytes: int, max_parts: int) -> None:
        self.max_bytes = max_bytes
        self.max_parts = max_parts
        self._items: deque[Pending] = deque()
        self._bytes = 0
        self._frames_dropped = 0
        self._cond = threading.Condition()

    def put(self, item: Pending, timeout_s: float) -> None:
        """Queue ``item``; drops the oldest queued frames (then its own) to stay within
        ``max_bytes``. QueueFull when ``max_parts`` stay queued for ``timeout_s``."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._items) < self.max_parts, timeout_s):
                raise QueueFull
            size = frame_bytes(item)
            for old in self._items:
                if self._bytes + size <= self.max_bytes:
                    break
                self._bytes -= self._strip(old)
            if self._bytes + size > self.max_bytes:
                self._strip(item)
                size = 0
            self._items.append(item)
            self._bytes += size
            self._cond.notify_all()

    def get(self, timeout_s: float) -> Pending | None:
        """The oldest part, waiting up to ``timeout_s`` (0: no wait); None when none came."""
        with self._cond:
            if not self._items and (
                timeout_s <= 0.0 or not self._cond.wait_for(lambda: bool(self._items), timeout_s)
            ):
                return None
            item = self._items.popleft()
            self._bytes -= frame_bytes(item)
            self._cond.notify_all()
            return item

    def _strip(self, item: Pending) -> int:
        size = frame_bytes(item)
        if size == 0:
            return 0
        item.inspection = without_pixels(item.inspection)
        if item.image_path is None and item.image_note is None and item.keep_image:
            item.image_note = NOT_ARCHIVED_QUEUE_FULL
        item.keep_image = False
        self._frames_dropped += 1
        return size

    def qsize(self) -> int:
        with self._cond:
            return len(self._items)

    @property
    def queued_bytes(self) -> int:
        with self._cond:
            return self._bytes

    @property
    def frames_dropped(self) -> int:
        """Parts whose frames were dropped to stay within ``max_bytes``."""
        with self._cond:
            return self._frames_dropped

    def oldest_wait_s(self, now: float | None = None) -> float:
        """How long the oldest queued part has waited (0 when empty)."""
        with self._cond:
            if not self._items:
                return 0.0
            first = self._items[0].submitted_at
        return max(0.0, (time.monotonic() if now is None else now) - first)

    def empty(self) -> bool:
        with self._cond:
            return not self._items
