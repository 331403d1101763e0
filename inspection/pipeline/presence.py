"""Part presence in a strip of the image, like a light barrier: when a part arrives and leaves."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from inspection.recipe import PresenceTrigger
from inspection.tools.base import to_gray

# The strip is judged on a 4× smaller image: belt texture and print average out, and it is cheap
# enough to run on every frame of a 100 fps camera.
_SHRINK = 4
_SEPARATION = 9.0  # (gap between class means)² ≥ this × (sum of class variances)


@dataclass(frozen=True, slots=True, kw_only=True)
class PassingPart:
    """A part that crossed the strip: the frame indexes (of those given to ``update``) it was
    first and last seen in, and the one to inspect (half-way, where it was centred)."""

    first: int
    last: int
    best: int
    timed_out: bool = False
    """Still present after ``max_frames``: inspected anyway."""


def _roi(image: np.ndarray, s: PresenceTrigger) -> np.ndarray:
    r = s.roi
    grey = to_gray(image[r.y : r.y + r.h, r.x : r.x + r.w])
    size = (max(grey.shape[1] // _SHRINK, 1), max(grey.shape[0] // _SHRINK, 1))
    return np.asarray(cv2.resize(grey, size, interpolation=cv2.INTER_AREA))


def learn_level(samples: Sequence[np.ndarray], min_contrast: int) -> int | None:
    """The grey level between belt and part, from ROI samples that show both (Otsu), or None when
    they do not show two distinct kinds of pixels yet (only belt, or only parts, seen so far)."""
    pixels = np.concatenate([s.ravel() for s in samples]).astype(np.uint8)
    level, _ = cv2.threshold(pixels.reshape(1, -1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    low = pixels[pixels <= level].astype(np.float64)
    high = pixels[pixels > level].astype(np.float64)
    # Each class must be a real share of what was seen, not a few specks of print or glare.
    if min(low.size, high.size) < 0.05 * pixels.size:
        return None
    gap = float(high.mean() - low.mean())
    if gap < min_contrast:
        return None
    # Otsu splits even one textured surface in two; two real kinds of surface stand apart by
    # several times their own spread (Fisher's criterion).
    if gap * gap < _SEPARATION * (float(low.var()) + float(high.var())):
        return None
    return int(level)


class PresenceDetector:
    """Fed every frame of the watching camera in order; reports each part once it has passed.

    Until the belt/part level is known it keeps the last ``learn_frames`` strips; once learnt, it
    replays them, so a part passing while the level was being learnt is not missed.
    """

    def __init__(self, settings: PresenceTrigger) -> None:
        self._s = settings
        self._level = settings.level
        self._learning: deque[tuple[int, np.ndarray]] = deque(maxlen=settings.learn_frames)
        self._present = False
        self._run = 0  # frames in a row disagreeing with the current state
        self._first = 0
        self._last_seen = 0
        self._held = False  # timed out while present: wait for the strip to clear

    @property
    def level(self) -> int | None:
        return self._level

    @property
    def armed(self) -> bool:
        """The level is known: frames are judged as they come."""
        return self._level is not None

    @property
    def present(self) -> bool:
        return self._present

    def fill(self, roi: np.ndarray) -> float:
        """Fraction of a (shrunk) strip covered by a part."""
        assert self._level is not None
        covered = roi > self._level if self._s.part == "brighter" else roi < self._level
        return float(np.count_nonzero(covered)) / covered.size

    def update(self, index: int, image: np.ndarray) -> list[PassingPart]:
        """Look at frame ``index`` (increasing); the parts that have now left the strip."""
        roi = _roi(image, self._s)
        if self._level is not None:
            passed = self._step(index, roi)
            return [passed] if passed is not None else []
        self._learning.append((index, roi))
        if len(self._learning) < self._s.learn_frames:
            return []
        self._level = learn_level([r for _, r in self._learning], self._s.min_contrast)
        if self._level is None:
            return []
        replay, self._learning = list(self._learning), deque()
        return [p for i, r in replay if (p := self._step(i, r)) is not None]

    def _step(self, index: int, roi: np.ndarray) -> PassingPart | None:
        s = self._s
        seen = self.fill(roi) >= s.min_fill
        if not self._present:
            if not seen:
                self._run = 0
                self._held = False
                return None
            if self._held:
                return None
            self._run += 1
            if self._run >= s.min_frames:
                self._present, self._run = True, 0
                self._first = index - s.min_frames + 1
                self._last_seen = index
            return None
        if seen:
            self._run = 0
            self._last_seen = index
            if index - self._first + 1 >= s.max_frames:
                self._present, self._held = False, True
                return PassingPart(
                    first=self._first, last=index, best=(self._first + index) // 2, timed_out=True
                )
            return None
        self._run += 1
        if self._run < s.gap_frames:
            return None
        self._present, self._run = False, 0
        first, last = self._first, self._last_seen
        return PassingPart(first=first, last=last, best=(first + last) // 2)
