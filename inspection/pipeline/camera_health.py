"""Is a free-running camera still delivering? Lost (no frame for N periods) or frozen (same frame)."""

from __future__ import annotations

import hashlib
from collections import deque
from statistics import median

import numpy as np

from inspection.recipe import CameraHealthSettings
from inspection.types import Frame

# Sampling every 8th pixel in both directions is enough to see any real change in a live image
# (sensor noise alone changes it) at a fraction of the cost of hashing the whole frame.
_SAMPLE_STEP = 8


class CameraHealth:
    """Watches one camera's frames; each check returns the problem in words, or None.

    Only for live (free-running) cameras: a triggered camera waiting for parts is not lost.
    """

    def __init__(self, camera: str, settings: CameraHealthSettings) -> None:
        self._camera = camera
        self._settings = settings
        self._last_ns: int | None = None
        self._intervals: deque[int] = deque(maxlen=25)
        self._last_digest = b""
        self._same = 0
        self._frames = 0  # since (re)opened
        self._frozen = False  # reported frozen, and the picture has not changed since

    def no_frame_limit_s(self) -> float:
        """How long a gap between frames may be before the camera counts as lost."""
        s = self._settings
        if not self._intervals:
            return max(s.min_no_frame_s, 2.0)  # period not known yet: be patient at start
        period_s = median(self._intervals) / 1e9
        return max(s.no_frame_periods * period_s, s.min_no_frame_s)

    def frame(self, frame: Frame, now_ns: int) -> str | None:
        """Note a frame; a problem when it is the ``frozen_frames``-th identical one in a row."""
        if self._last_ns is not None:
            self._intervals.append(now_ns - self._last_ns)
        self._last_ns = now_ns
        self._frames += 1
        limit = self._settings.frozen_frames
        if limit <= 0:
            return None
        sample = np.ascontiguousarray(frame.image[::_SAMPLE_STEP, ::_SAMPLE_STEP])
        digest = hashlib.blake2b(sample.tobytes(), digest_size=16).digest()
        if self._last_digest and digest != self._last_digest:
            self._frozen = False
        self._same = self._same + 1 if digest == self._last_digest else 1
        self._last_digest = digest
        if self._same >= limit:
            self._same = 0
            self._frozen = True
            return f"camera {self._camera} is frozen: {limit} identical frames in a row"
        return None

    def delivering(self) -> bool:
        """Whether the camera works again since it was (re)opened: a frame came and, after a
        frozen picture, the picture has changed (a frozen camera's first frame proves nothing)."""
        return self._frames > 0 and not self._frozen

    def idle(self, now_ns: int) -> str | None:
        """A problem when no frame came for longer than ``no_frame_limit_s``."""
        if self._last_ns is None:
            return None
        gap_s = (now_ns - self._last_ns) / 1e9
        limit = self.no_frame_limit_s()
        if gap_s > limit:
            return f"camera {self._camera} sent no frame for {gap_s:.1f} s (limit {limit:.1f} s)"
        return None

    def opened(self, now_ns: int) -> None:
        """The camera (re)connected: the stream starts afresh, waiting for its first frame now."""
        self._intervals.clear()
        self._last_digest = b""
        self._same = 0
        self._frames = 0
        self._last_ns = now_ns
