"""Image → model tensor: colour order, letterbox (Ultralytics) or plain resize (anomalib), layout."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

log = logging.getLogger(__name__)

LETTERBOX_GREY = 114
"""Ultralytics pads letterboxed images with this grey on every channel."""


def to_rgb(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) RGB from uint8 (H, W) grey, (H, W, 1) grey or (H, W, 3) BGR."""
    if image.ndim == 2:
        return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 1:
        return cv2.cvtColor(np.ascontiguousarray(image[:, :, 0]), cv2.COLOR_GRAY2RGB)
    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGR2RGB)


@dataclass(frozen=True, slots=True, kw_only=True)
class Letterbox:
    """How an image of ``source_w`` × ``source_h`` px was fitted into the model input.

    Model pixel = source pixel × ``scale`` + (``pad_x``, ``pad_y``).
    """

    scale: float
    pad_x: int
    pad_y: int
    source_w: int
    source_h: int

    def to_source(self, boxes_xyxy: np.ndarray) -> np.ndarray:
        """float32 (N, 4) x0, y0, x1, y1 in model input px → source px, clipped to the source."""
        out = np.asarray(boxes_xyxy, dtype=np.float32).reshape(-1, 4).copy()
        out[:, [0, 2]] = (out[:, [0, 2]] - self.pad_x) / self.scale
        out[:, [1, 3]] = (out[:, [1, 3]] - self.pad_y) / self.scale
        out[:, [0, 2]] = out[:, [0, 2]].clip(0, self.source_w)
        out[:, [1, 3]] = out[:, [1, 3]].clip(0, self.source_h)
        return out


def letterbox(image: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, Letterbox]:
    """``image`` (H, W, 3) scaled to fit ``size`` = (height, width) keeping its aspect, centred on grey.

    Mirrors Ultralytics' predict-time letterbox (bilinear resize, up-scaling allowed, padding split
    evenly, the odd pixel going to the bottom/right) so boxes come back where the model saw them.
    """
    h, w = image.shape[:2]
    out_h, out_w = size
    scale = min(out_h / h, out_w / w)
    new_w, new_h = round(w * scale), round(h * scale)
    resized = (
        image
        if (new_w, new_h) == (w, h)
        else cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    )
    dw, dh = (out_w - new_w) / 2, (out_h - new_h) / 2
    left, top = round(dw - 0.1), round(dh - 0.1)
    canvas = np.full((out_h, out_w, 3), LETTERBOX_GREY, dtype=np.uint8)
    canvas[top : top + new_h, left : left + new_w] = resized
    return canvas, Letterbox(scale=scale, pad_x=left, pad_y=top, source_w=w, source_h=h)


def to_nchw(
    image: np.ndarray,
    *,
    dtype: type[np.floating] = np.float32,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
) -> np.ndarray:
    """(1, 3, H, W) tensor of ``dtype`` from uint8 (H, W, 3): values 0..1, then (x − mean) / std."""
    x: np.ndarray = image.astype(np.float32) / np.float32(255.0)
    if mean is not None and std is not None:
        x = (x - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None]).astype(dtype, copy=False)
