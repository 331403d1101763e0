"""The ``patches`` image score: the mean of an image's highest few patch scores (an option for
textured surfaces, chosen per tool as ``score: patches``; the default stays the map's peak).

PatchCore scores an image by its highest *patch* score; the upsampled, smoothed map is for
showing where. Here the image score is the mean of the ``k`` highest patch scores: on a texture
(weave, grains, brushed streaks) a good part's highest patch is one chance peak of its grain,
while a defect, even one smaller than a patch, raises every patch whose features see it. The
mean over the few patches a defect necessarily touches keeps its full signal and averages the
texture's chance peaks down. ``k`` defaults to (pool + 1)²: a point defect lands in a pool ×
pool neighbourhood average, and straddles one more cell of the stride-8 grid.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class PatchScores:
    """Patch scores of one image and where their centres fall in it.

    values: float32 (P,) nearest-bank distance of each patch (raw or normalised units).
    centres: int32 (P, 2) (y, x) pixel of each patch centre in the scored image (source px),
        clipped into it; every tile's patches when the image was tiled.
    """

    values: np.ndarray
    centres: np.ndarray

    def inside(self, mask: np.ndarray) -> np.ndarray:
        """float32 values of the patches whose centre lies in ``mask`` (bool, the image's shape)."""
        keep = mask[self.centres[:, 0], self.centres[:, 1]]
        return np.asarray(self.values[keep], np.float32)


def patch_count(pool: int, score_patches: int) -> int:
    """How many of the highest patches are averaged: ``score_patches``, or (pool + 1)² for 0."""
    return score_patches if score_patches > 0 else (pool + 1) ** 2


def top_mean(values: np.ndarray, k: int) -> float:
    """Mean of the ``k`` highest of ``values`` (any shape; all of them when fewer; 0.0 if none)."""
    flat = np.ravel(values)
    if flat.size == 0:
        return 0.0
    k = max(1, min(k, flat.size))
    if k == 1:
        return float(flat.max())
    return float(np.partition(flat, flat.size - k)[flat.size - k :].mean(dtype=np.float64))


def centres(
    rows: int, cols: int, content_hw: tuple[int, int], source_hw: tuple[int, int], stride: int
) -> np.ndarray:
    """int32 (rows·cols, 2) (y, x) source-image pixel of each cell centre of a patch grid laid
    over the ``content_hw`` resized image (cell centres at stride·(i + 0.5)), row-major."""
    fy = source_hw[0] / max(content_hw[0], 1)
    fx = source_hw[1] / max(content_hw[1], 1)
    ys = np.minimum(((np.arange(rows) + 0.5) * stride * fy).astype(np.int32), source_hw[0] - 1)
    xs = np.minimum(((np.arange(cols) + 0.5) * stride * fx).astype(np.int32), source_hw[1] - 1)
    yy, xx = np.meshgrid(ys, xs, indexing="ij")
    return np.stack([yy.ravel(), xx.ravel()], axis=1).astype(np.int32)
