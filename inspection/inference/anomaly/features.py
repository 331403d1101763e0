"""Patch features: both backbone scales, locally averaged, on the stride-8 grid of the content."""

from __future__ import annotations

import logging

import cv2
import numpy as np

from inspection.inference.anomaly.preprocess import Prepared
from inspection.inference.anomaly.settings import AnomalySettings

log = logging.getLogger(__name__)

STRIDE = 8
"""Pixels of the resized image per patch-grid cell."""


def grid_size(prepared: Prepared) -> tuple[int, int]:
    """(rows, cols) of the patch grid that covers the content (padding excluded)."""
    return -(-prepared.content_h // STRIDE), -(-prepared.content_w // STRIDE)


def patch_features(
    f8: np.ndarray, f16: np.ndarray, prepared: Prepared, settings: AnomalySettings
) -> np.ndarray:
    """float32 (rows, cols, 40 + 112) patch features from backbone maps (C, h, w).

    Each map is averaged over a ``pool`` × ``pool`` neighbourhood first, so a patch describes its
    surroundings (PatchCore's local aggregation); the coarse map is then brought to the fine grid.
    """
    fine: np.ndarray = np.ascontiguousarray(f8.transpose(1, 2, 0))
    coarse: np.ndarray = np.ascontiguousarray(f16.transpose(1, 2, 0))
    if settings.pool > 1:
        k = (settings.pool, settings.pool)
        fine = cv2.blur(fine, k, borderType=cv2.BORDER_REFLECT)
        coarse = cv2.blur(coarse, k, borderType=cv2.BORDER_REFLECT)
    h8, w8 = fine.shape[:2]
    coarse = cv2.resize(coarse, (w8, h8), interpolation=cv2.INTER_LINEAR)
    if coarse.ndim == 2:  # cv2 drops a channel axis of 1; keeps shapes honest for tiny test maps
        coarse = coarse[:, :, None]
    if settings.weight16 != 1.0:
        coarse = coarse * np.float32(settings.weight16)
    rows, cols = grid_size(prepared)
    return np.concatenate([fine[:rows, :cols], coarse[:rows, :cols]], axis=2)
