"""Generated good-part surfaces for defect-tool tests (no shared data is ever needed)."""

from __future__ import annotations

import cv2
import numpy as np


def texture(seed: int, size: tuple[int, int] = (96, 128), colour: bool = False) -> np.ndarray:
    """A good part: woven stripes with grain, slightly shifted per part (uint8 grey or BGR)."""
    rng = np.random.default_rng(seed)
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    phase = rng.uniform(0, 2 * np.pi)
    base = 128 + 35 * np.sin(2 * np.pi * xx / 10 + phase) * np.sin(2 * np.pi * yy / 14)
    grain = cv2.GaussianBlur(rng.normal(0, 12, (h, w)).astype(np.float32), (0, 0), 1.0)
    grey = np.clip(base + grain, 0, 255).astype(np.uint8)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR) if colour else grey
