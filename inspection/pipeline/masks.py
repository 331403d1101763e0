"""Privacy masks: polygons blacked out at acquisition, before any tool, display or archive."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np


class PrivacyMask:
    """Blacks out a camera's mask polygons (x, y in frame pixels) in every frame it is given."""

    def __init__(self, polygons: Sequence[Sequence[tuple[float, float]]]) -> None:
        self._polys = [np.round(np.asarray(p, dtype=np.float64)).astype(np.int32) for p in polygons]

    def __bool__(self) -> bool:
        return bool(self._polys)

    def apply(self, image: np.ndarray) -> np.ndarray:
        """The image with masked pixels set to 0 (in place when the array is writeable)."""
        if not self._polys:
            return image
        if not image.flags.writeable or not image.flags.c_contiguous:
            image = np.ascontiguousarray(image).copy()
        colour: int | tuple[int, int, int] = 0 if image.ndim == 2 else (0, 0, 0)
        cv2.fillPoly(image, self._polys, colour)
        return image
