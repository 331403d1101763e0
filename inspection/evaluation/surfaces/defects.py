"""Defects drawn onto a good surface, each with its ground-truth mask.

A defect is first drawn as a coverage map (float 0..1, anti-aliased) and then blended into the
image, so the mask is exactly where the drawing changed the surface: pixels covered by at least
MASK_COVERAGE of the stroke. Strengths are drawn from ranges that include faint defects, so the
sets are not all-or-nothing for the model.

- crack: a thin (1–2 px) dark polyline that wanders and branches.
- pit: a small round blowhole, dark (sometimes bright), with a soft edge.
- scratch: a long thin straight-ish line, bright or dark, fading along its length.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import cv2
import numpy as np

log = logging.getLogger(__name__)

DEFECTS = ("crack", "pit", "scratch")
MASK_COVERAGE = 0.25
"""A pixel belongs to the defect when the stroke covers at least this share of it."""
BRIGHT_SHARE = {"scratch": 0.6, "pit": 0.33}
"""Share of these defects that brighten the surface (the others, and every crack, darken it)."""
_SUB = 4
"""Sub-pixel bits for cv2 drawing (coordinates × 16)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Drawn:
    """A defective image and its truth.

    image: uint8, same shape and channels as the good surface it was drawn on.
    mask: bool (H, W), True where the defect changed the surface.
    """

    image: np.ndarray
    mask: np.ndarray


def _pts(points: list[tuple[float, float]]) -> np.ndarray:
    return np.round(np.asarray(points, np.float64) * (1 << _SUB)).astype(np.int32)


def _walk(
    rng: np.random.Generator,
    start: tuple[float, float],
    angle: float,
    length: float,
    cover: np.ndarray,
    thickness: int,
    depth: int = 0,
) -> None:
    """Draw a wandering crack from ``start`` into ``cover`` (float32), branching now and then."""
    x, y = start
    points = [(x, y)]
    h, w = cover.shape
    travelled = 0.0
    while travelled < length:
        angle += float(rng.normal(0.0, 0.3))
        x, y = x + 3.0 * math.cos(angle), y + 3.0 * math.sin(angle)
        travelled += 3.0
        if not (0 <= x < w and 0 <= y < h):
            break
        points.append((x, y))
        if depth < 2 and rng.random() < 0.025:
            side = float(rng.choice([-1.0, 1.0]))
            _walk(
                rng,
                (x, y),
                angle + side * float(rng.uniform(0.4, 1.1)),
                (length - travelled) * float(rng.uniform(0.3, 0.7)),
                cover,
                1,
                depth + 1,
            )
    if len(points) > 1:
        cv2.polylines(cover, [_pts(points)], False, 1.0, thickness, cv2.LINE_AA, _SUB)


def crack_cover(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """float32 (h, w) coverage of a crack 1–2 px wide, some 15–45 % of the image's diagonal long."""
    cover = np.zeros((h, w), np.float32)
    start = (float(rng.uniform(0.2, 0.8) * w), float(rng.uniform(0.2, 0.8) * h))
    length = float(rng.uniform(0.15, 0.45) * math.hypot(h, w))
    _walk(rng, start, float(rng.uniform(0, 2 * math.pi)), length, cover, int(rng.integers(1, 3)))
    return np.minimum(cover, 1.0)


def pit_cover(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """float32 (h, w) coverage of a round pit of radius 2–6 px with a soft edge."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h
    r = float(rng.uniform(2.0, 6.0))
    aspect = float(rng.uniform(0.7, 1.0))
    d = np.sqrt((xx - cx) ** 2 + ((yy - cy) / aspect) ** 2)
    return np.clip(r + 0.5 - d, 0.0, 1.0).astype(np.float32)


def scratch_cover(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """float32 (h, w) coverage of a gently curved scratch, 1–2 px, fading towards its ends."""
    cover = np.zeros((h, w), np.float32)
    diag = math.hypot(h, w)
    length = float(rng.uniform(0.25, 0.6) * diag)
    angle = float(rng.uniform(0, math.pi))
    cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
    bend = float(rng.normal(0.0, 0.04) * length)
    n = 24
    t = np.linspace(-0.5, 0.5, n)
    px = cx + t * length * math.cos(angle) - (1 - 4 * t**2) * bend * math.sin(angle)
    py = cy + t * length * math.sin(angle) + (1 - 4 * t**2) * bend * math.cos(angle)
    thickness = int(rng.integers(1, 3))
    fade = 0.5 + 0.5 * np.cos(np.pi * t) ** 0.5  # strongest in the middle, never zero
    for k in range(n - 1):
        segment = np.zeros_like(cover)
        cv2.line(
            segment,
            tuple(_pts([(px[k], py[k])])[0]),
            tuple(_pts([(px[k + 1], py[k + 1])])[0]),
            1.0,
            thickness,
            cv2.LINE_AA,
            _SUB,
        )
        np.maximum(cover, segment * float(fade[k]), out=cover)
    return np.minimum(cover, 1.0)


COVER = {"crack": crack_cover, "pit": pit_cover, "scratch": scratch_cover}


def draw_defect(rng: np.random.Generator, surface: np.ndarray, defect: str) -> Drawn:
    """``surface`` (uint8 grey or BGR) with one ``defect`` drawn on it, and its mask.

    Cracks and most pits darken the surface (to 35–75 % of it); scratches and a third of the
    pits brighten it (by 30–70 grey levels). Only pixels with enough coverage count in the mask.
    """
    try:
        cover_of = COVER[defect]
    except KeyError:
        raise ValueError(f"unknown defect {defect!r}; choose from {DEFECTS}") from None
    h, w = surface.shape[:2]
    for _ in range(20):  # a stroke that left the image almost at once is drawn again
        cover = cover_of(rng, h, w)
        mask = cover >= MASK_COVERAGE
        if int(mask.sum()) >= 6:
            break
    base = surface.astype(np.float32)
    alpha = cover[:, :, None] if surface.ndim == 3 else cover
    bright = defect in BRIGHT_SHARE and rng.random() < BRIGHT_SHARE[defect]
    if bright:
        target = base + float(rng.uniform(30.0, 70.0))
    else:
        target = base * float(rng.uniform(0.35, 0.75))
    image = np.clip(base * (1.0 - alpha) + target * alpha, 0, 255).astype(np.uint8)
    return Drawn(image=image, mask=mask)
