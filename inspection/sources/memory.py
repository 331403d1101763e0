"""Frames already in memory, served like a triggered camera (benchmarks, tests, re-inspection)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from inspection.types import Frame, PartTruth


class MemorySource:
    """Serves the given images once, in order, one part each; back-pressure like a triggered camera.

    ``live=True`` makes it behave like a free-running stream instead (the pipeline may drop frames).
    ``rate_hz`` > 0 paces it like a line: one part every 1 / rate_hz s (a late part comes at
    once, and the ones after keep the pace from there), so latency is measured at a line rate
    rather than with the queue full.
    """

    def __init__(
        self,
        images: Sequence[np.ndarray],
        truths: Sequence[PartTruth | None] | None = None,
        *,
        camera: str = "cam1",
        live: bool = False,
        rate_hz: float = 0.0,
    ) -> None:
        if rate_hz < 0:
            raise ValueError(f"rate_hz must be >= 0, got {rate_hz}")
        if truths is not None and len(truths) != len(images):
            raise ValueError(f"{len(images)} images but {len(truths)} truths")
        self.camera = camera
        self.live = live
        self._images = list(images)
        self._truths = list(truths) if truths is not None else [None] * len(self._images)
        self._next = 0
        self._period_s = 1.0 / rate_hz if rate_hz > 0 else 0.0
        self._due = 0.0

    def open(self) -> None:
        self._next = 0
        self._due = time.monotonic()

    def read(self, timeout_s: float) -> Frame | None:
        i = self._next
        if i >= len(self._images):
            return None
        if self._period_s:
            wait = self._due - time.monotonic()
            if wait > timeout_s:
                time.sleep(max(timeout_s, 0.0))
                raise TimeoutError(f"next part due in {wait:.3f} s")
            if wait > 0:
                time.sleep(wait)
            self._due = max(self._due, time.monotonic()) + self._period_s
        self._next += 1
        return Frame(
            camera=self.camera,
            seq=i,
            t_ns=time.monotonic_ns(),
            image=self._images[i],
            truth=self._truths[i],
            source_name=f"memory#{i}",
        )

    def close(self) -> None:
        pass
