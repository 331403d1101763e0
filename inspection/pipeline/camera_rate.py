"""Each camera's frames and drops, counted per wall-clock minute and handed to the results store
one row per camera and minute, for the station's frame-rate and drop trends.

A drop is a frame the camera numbered but the station never got (a gap in ``Frame.seq``), or one
the station threw away itself (``dropped``). The acquisition threads call ``frame``; a timer
(or any thread) calls ``tick`` so a minute with no frame at all is still recorded, as 0 fps.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

from inspection.errors import StorageError
from inspection.storage.batch import CameraInterval

log = logging.getLogger(__name__)

INTERVAL_S = 60.0

Record = Callable[[CameraInterval], None]


@dataclass(slots=True)
class _Count:
    start: float
    frames: int = 0
    dropped: int = 0
    last_seq: int | None = None


class CameraRate:
    """Frames and drops per camera and minute; ``record`` gets each finished minute."""

    def __init__(self, station: str, record: Record, interval_s: float = INTERVAL_S) -> None:
        if not interval_s > 0:
            raise ValueError(f"interval must be positive, got {interval_s} s")
        self._station = station
        self._record = record
        self._interval_s = interval_s
        self._lock = threading.Lock()
        self._counts: dict[str, _Count] = {}

    def _start_of(self, wall_time: float) -> float:
        return math.floor(wall_time / self._interval_s) * self._interval_s

    def frame(self, camera: str, seq: int, wall_time: float) -> None:
        """A frame from ``camera``; a jump in ``seq`` counts the frames in between as dropped
        (a camera that starts again from a lower number is not counted as dropping)."""
        done = self._roll(camera, wall_time)
        with self._lock:
            count = self._counts[camera]
            count.frames += 1
            if count.last_seq is not None and seq > count.last_seq + 1:
                count.dropped += seq - count.last_seq - 1
            count.last_seq = seq
        self._hand_on(done)

    def dropped(self, camera: str, wall_time: float, n: int = 1) -> None:
        """Frames of ``camera`` the station itself let go (a full queue)."""
        done = self._roll(camera, wall_time)
        with self._lock:
            self._counts[camera].dropped += n
        self._hand_on(done)

    def tick(self, wall_time: float) -> None:
        """Hand on every camera's minute that ended before ``wall_time``."""
        with self._lock:
            cameras = list(self._counts)
        for camera in cameras:
            self._hand_on(self._roll(camera, wall_time))

    def flush(self, wall_time: float) -> None:
        """Hand on every camera's minute so far, ending at ``wall_time`` (the station stops)."""
        with self._lock:
            done = [
                self._interval(camera, count, wall_time)
                for camera, count in self._counts.items()
                if wall_time > count.start
            ]
            self._counts.clear()
        self._hand_on(done)

    def _roll(self, camera: str, wall_time: float) -> list[CameraInterval]:
        start = self._start_of(wall_time)
        with self._lock:
            count = self._counts.get(camera)
            if count is None:
                self._counts[camera] = _Count(start)
                return []
            if wall_time < count.start + self._interval_s:
                return []
            done = self._interval(camera, count, count.start + self._interval_s)
            # the numbering goes on: a gap across the minute's edge counts in the next one
            self._counts[camera] = _Count(start, last_seq=count.last_seq)
            return [done]

    def _interval(self, camera: str, count: _Count, end: float) -> CameraInterval:
        return CameraInterval(
            station=self._station,
            camera=camera,
            start=count.start,
            end=end,
            frames=count.frames,
            dropped=count.dropped,
        )

    def _hand_on(self, done: list[CameraInterval]) -> None:
        # outside the lock: the store takes its own
        for interval in done:
            try:
                self._record(interval)
            except StorageError as exc:  # the store stopped: the counts are lost, not the camera
                log.warning("camera %s: frame counts not recorded: %s", interval.camera, exc)
