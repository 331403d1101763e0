"""Sizing images for the backbone: keep the aspect ratio, longer side fixed, pad to 32-multiples.

Squashing a part into a square would thin out or fatten defects depending on their direction,
so the image is scaled uniformly and padded by reflection (padding with a flat colour would
create an edge the model has to learn). A ``border`` of reflected context on every side keeps the
network's own zero padding away from the content: without it the patches along the image edge
are computed against a flat grey frame and score high wherever the edge shows something the
taught edges did not. Maps are cut back to the content area.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """An image ready for the backbone.

    image: uint8 (H, W) or (H, W, 3), H and W multiples of ``multiple``; the resized content is
    the ``content_h`` × ``content_w`` px starting at (``border``, ``border``), the rest is
    reflected padding.
    border: px of reflected context above and left of the content (a multiple of 16).
    source_h, source_w: size of the image before resizing.
    """

    image: np.ndarray
    content_h: int
    content_w: int
    source_h: int
    source_w: int
    border: int = 0


def content_size(h: int, w: int, long_side: int, *, scale: float = 0.0) -> tuple[int, int]:
    """(height, width) of an h × w image scaled so its longer side is at most ``long_side``, or
    by ``scale`` when it is > 0.

    Without ``scale`` smaller images keep their size: for one ROI size, upscaling adds no
    detail, only cost (a 256² ROI stays 256²). Images of mixed sizes from one camera all take
    the same ``scale`` instead (a small one enlarged as much as a large one), so a texture and a
    crack keep one size in pixels whatever the size of the image they are in.
    """
    if scale > 0:
        return max(1, round(h * scale)), max(1, round(w * scale))
    factor = min(1.0, long_side / max(h, w))
    return max(1, round(h * factor)), max(1, round(w * factor))


def prepare(
    image: np.ndarray,
    long_side: int,
    multiple: int = 32,
    border: int = 0,
    *,
    scale: float = 0.0,
) -> Prepared:
    """Resize ``image`` (uint8 (H, W) grey or (H, W, 3) BGR) uniformly and pad it for the backbone.

    ``border`` px of reflected context are added on every side (at least; the bottom and right
    get more to reach a multiple of ``multiple``). ``scale``: see ``content_size``.
    """
    h, w = image.shape[:2]
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    ch, cw = content_size(h, w, long_side, scale=scale)
    shrinking = ch * cw < h * w
    resized = cv2.resize(
        np.ascontiguousarray(image),
        (cw, ch),
        interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR,
    )
    ph = -(-(ch + 2 * border) // multiple) * multiple
    pw = -(-(cw + 2 * border) // multiple) * multiple
    if (ph, pw) != (ch, cw):
        bottom, right = ph - ch - border, pw - cw - border
        # BORDER_REFLECT_101 needs each pad smaller than the image; tiny sides fall back to replicate
        fits = max(border, bottom) < ch and max(border, right) < cw
        kind = cv2.BORDER_REFLECT_101 if fits else cv2.BORDER_REPLICATE
        resized = cv2.copyMakeBorder(resized, border, bottom, border, right, kind)
    return Prepared(
        image=resized, content_h=ch, content_w=cw, source_h=h, source_w=w, border=border
    )
