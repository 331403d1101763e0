"""Frames already in memory, served like a triggered camera (benchmarks, tests, re-inspection)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from inspection.types import Frame, PartTruth


class MemorySource:
    """Serves the given images once, in order, one part each; back-pressure like a triggered camera.

    ``live=True`` makes it behave like a free-running stream instead (the pipeline may drop frames).
    """

    def __init__(
        self,
        images: Sequence[np.ndarray],
        truths: Sequence[PartTruth | None] | None = None,
        *,
        camera: str = "cam1",
        live: bool = False,
    ) -> None:
        if truths is not None and len(truths) != len(images):
            raise ValueError(f"{len(images)} images but {len(truths)} truths")
        self.camera = camera
        self.live = live
        self._images = list(images)
        self._truths = list(truths) if truths is not None else [None] * len(self._images)
        self._next = 0

    def open(self) -> None:
        self._next = 0

    def read(self, timeout_s: float) -> Frame | None:
        i = self._next
        if i >= len(self._images):
            return None
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
