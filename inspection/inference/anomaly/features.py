"""Patch features: both backbone scales, locally averaged, on the stride-8 grid of the content,
optionally projected onto the principal components learnt when teaching."""

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
    f8: np.ndarray,
    f16: np.ndarray,
    prepared: Prepared,
    settings: AnomalySettings,
    projection: np.ndarray | None = None,
) -> np.ndarray:
    """float32 (rows, cols, D) patch features from backbone maps (C, h, w).

    Each map is averaged over a ``pool`` × ``pool`` neighbourhood first, so a patch describes its
    surroundings (PatchCore's local aggregation); the coarse map is then brought to the fine grid.
    D is 40 + 112, or ``projection``'s (40 + 112, d) second axis when given.
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
    top = prepared.border // STRIDE  # the reflected border: context for the backbone, not patches
    grid = np.concatenate(
        [fine[top : top + rows, top : top + cols], coarse[top : top + rows, top : top + cols]],
        axis=2,
    )
    if projection is not None:
        grid = (grid.reshape(rows * cols, -1) @ projection).reshape(rows, cols, -1)
    return grid


def placed(
    feats: np.ndarray, where: np.ndarray, image_hw: tuple[int, int], weight: float
) -> np.ndarray:
    """float32 (N, D + 2) patch features (N, D) with each patch's place appended: its centre
    ``where`` (int (N, 2) (y, x) px of the whole image) in % of the image's height and width,
    times ``weight`` (``AnomalySettings.position_weight``)."""
    place = place_columns(where, image_hw, weight)
    return np.ascontiguousarray(np.concatenate([feats, place], axis=1), dtype=np.float32)


def place_columns(where: np.ndarray, image_hw: tuple[int, int], weight: float) -> np.ndarray:
    """float32 (N, 2): the patch centres ``where`` ((y, x) px) in % of the image, × ``weight``."""
    scale = np.asarray([100.0 / max(image_hw[0], 1), 100.0 / max(image_hw[1], 1)], np.float32)
    return where.astype(np.float32) * (scale * np.float32(weight))


def principal_axes(feats: np.ndarray, dims: int, max_rows: int = 200_000) -> np.ndarray:
    """float32 (D, dims) projection onto the ``dims`` main principal axes of ``feats`` (N, D).

    Distances between projected features keep most of their original size (the axes dropped
    carry the least variance) at a fraction of the search cost. Sign of each axis: as eigh gives.
    """
    n, d = feats.shape
    step = max(1, -(-n // max_rows))
    x = np.asarray(feats[::step], np.float64)
    x = x - x.mean(axis=0)
    cov = x.T @ x / max(len(x) - 1, 1)
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1][: min(dims, d)]
    return np.ascontiguousarray(vectors[:, order], dtype=np.float32)
