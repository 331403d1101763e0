"""Print quality of a text field: how dark the print is against the paper, and how crisp its edges.

Both are trended per field so a fading or smearing printer shows up well before its text stops
being readable: ``contrast`` falls as the ink fades, ``sharpness`` falls as strokes blur or break.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

log = logging.getLogger(__name__)

# Share of the steepest pixels taken as the strokes' edges.
_EDGE_SHARE = 0.10
# The 3×3 Sobel pair answers 4 × the step across a perfectly sharp one-pixel edge.
_SOBEL_STEP_GAIN = 4.0


@dataclass(frozen=True, slots=True, kw_only=True)
class PrintQuality:
    """``contrast``: (p95 − p5) / 255 of the field, 0..1; ``sharpness``: mean edge steepness of
    the strokes relative to a perfectly sharp edge of the same contrast, 0..1."""

    contrast: float
    sharpness: float


def print_quality(field: np.ndarray) -> PrintQuality:
    """Quality of the print in ``field`` (uint8 (h, w) grey, upright, at reference scale)."""
    if field.ndim != 2 or field.size < 16:
        raise ValueError(f"print quality needs a grey field of at least 16 px, got {field.shape}")
    lo, hi = np.percentile(field, (5, 95))
    span = float(hi - lo)
    contrast = span / 255.0
    if span < 1.0:
        return PrintQuality(contrast=contrast, sharpness=0.0)
    gx = cv2.Sobel(field, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(field, cv2.CV_32F, 0, 1, ksize=3)
    mag = cv2.magnitude(gx, gy).ravel()
    k = max(1, int(mag.size * _EDGE_SHARE))
    edges = np.partition(mag, mag.size - k)[-k:]
    sharpness = float(edges.mean()) / (_SOBEL_STEP_GAIN * span)
    return PrintQuality(contrast=contrast, sharpness=min(1.0, sharpness))
