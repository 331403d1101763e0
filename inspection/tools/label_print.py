"""Dot-printed text made readable: lot and expiry codes from dot-matrix and continuous-inkjet
coders are separate dots, which text recognisers trained on strokes miss or misread.

``join_dots`` finds the dots, measures their pitch (the distance between neighbouring dot
centres, from the peaks of the ink) and grows the dots into each other with a morphological
dilation of the ink sized to that pitch, so the characters become strokes. Where no regular dots
are found (solid print, a blank crop) the image is returned unchanged, so a field set to
``print: dot_matrix`` by mistake reads as before.

Two more helps for dot print, both used by the label tool and ``lineside eval ocr`` alike:
``prepare_print_again`` gives further preparations (the joined ink alone on a blank surface, no
can highlight or carton fibres; the joined print smoothed further), each read only where the
reads before did not give what was needed;
``read_print_text`` settles O against 0 by their neighbours, because in a 5×7 font with a plain
(unslashed) zero the two are the very same dots and the recogniser's choice is a guess.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

log = logging.getLogger(__name__)

# Largest dot (px across) looked for.
_MAX_DOT_PX = 14
# The surface around the print is the median of this window (px), twice the largest dot: a
# can's highlight or a carton's shading is surface, not ink.
_SURFACE_WINDOW = 2 * _MAX_DOT_PX + 1
# Fewest dots that make a print (a single 5×7 character has 8 or more).
_MIN_DOTS = 12
# Ink halfway between neighbouring dots, as a share of the dots' own, above which the print
# counts as strokes (grain on a solid stroke peaks too, but does not dip between the peaks).
_MAX_GAP_INK = 0.93
# Ink (grey levels above the surrounding surface) below which nothing is print.
_MIN_INK_LEVEL = 8
# Percentile of the nearest-neighbour distances taken as the pitch.
_PITCH_PERCENTILE = 35
# Share of the pitch each dot is grown by (kernel width), and the smoothing after (sigma).
_GROW = 0.5
_SMOOTH = 0.3
# Share of dots whose nearest neighbour sits near the median distance (a regular lattice).
_MIN_REGULAR = 0.5
# Centres compared for the pitch; beyond this (a large, busy image) a random sample, whose
# neighbours lie a little further apart.
_MAX_CENTRES = 4000
# Smoothing (sigma, px) the dots are first looked for at: fine for small dots, then coarser for
# large ones, which noise and JPEG split into several peaks at the fine scale. A pitch found at
# the coarse scale must lie between these many sigmas: closer dots are smoothed into one another
# there (the peaks are clumps of small dots), further ones are whole letters of solid print.
_START_SIGMAS = (1.0, 2.0)
_COARSE_PITCH_SIGMAS = (3.25, 6.0)
# At the coarse scale the strokes of solid print peak at nearly regular steps too: a clearer
# lattice is asked of the dots found there (share as ``_MIN_REGULAR``).
_MIN_REGULAR_COARSE = 0.6
# The last preparations of dot print are the joined print at these scales, enlarged back.
_FURTHER = (0.6, 0.45)


@dataclass(frozen=True, slots=True, kw_only=True)
class DotPitch:
    """Dots found in a crop: ``pitch_px`` the distance between neighbouring dot centres,
    ``column_px`` / ``row_px`` the same measured up a character's column and along its rows (None
    where the dots there run together), ``dots`` how many were found, ``dark_ink`` True for dark
    dots on a lighter surface."""

    pitch_px: float
    column_px: float | None
    row_px: float | None
    dots: int
    dark_ink: bool


def estimate_dot_pitch(image: np.ndarray) -> DotPitch | None:
    """The dots of dot-printed text in ``image`` (uint8 (H, W) grey or (H, W, 3) BGR), or None
    when its ink is not (mostly) separate, regularly spaced dots."""
    gray = _gray(image)
    if min(gray.shape) < 8:
        return None
    surface = cv2.medianBlur(gray, _SURFACE_WINDOW)
    darker = cv2.subtract(surface, gray)
    lighter = cv2.subtract(gray, surface)
    # the print is the side that stands out further from the surface; the other is grain
    dark = np.percentile(darker, 99.5) >= np.percentile(lighter, 99.5)
    return _dots(darker if dark else lighter, bool(dark))


def prepare_print(image: np.ndarray, kind: str) -> np.ndarray:
    """``image`` made ready for reading text printed as ``kind`` (a ``TextFieldSettings.print``
    value): dots joined for ``dot_matrix``, unchanged for ``solid``."""
    if kind == "dot_matrix":
        return join_dots(image)
    if kind == "solid":
        return image
    raise ValueError(f"unknown print kind {kind!r} (solid or dot_matrix)")


def prepare_print_again(image: np.ndarray, kind: str) -> Iterator[np.ndarray]:
    """Further, different preparations of ``image`` for text printed as ``kind``, each to read
    only when the ones before did not give the text needed (made one at a time, as asked for):
    for ``dot_matrix`` the joined dots' ink alone, dark on white, the surface around it flattened
    away; then the joined print smoothed as if seen from further off, and further still (shrunk
    and enlarged back, so places in it stay where they were). uint8 (H, W), then like ``image``;
    none for solid print or where no dots are found. Raises ValueError on an unknown kind."""
    if kind not in ("solid", "dot_matrix"):
        raise ValueError(f"unknown print kind {kind!r} (solid or dot_matrix)")
    return _dot_preparations(image) if kind == "dot_matrix" else iter(())


def _dot_preparations(image: np.ndarray) -> Iterator[np.ndarray]:
    pitch = estimate_dot_pitch(image)
    if pitch is None:
        return
    gray = _gray(image)
    surface = cv2.medianBlur(gray, _SURFACE_WINDOW)
    ink = cv2.subtract(surface, gray) if pitch.dark_ink else cv2.subtract(gray, surface)
    joined = cv2.dilate(ink, _grow_kernel(pitch))
    joined = cv2.GaussianBlur(joined, (0, 0), _SMOOTH * pitch.pitch_px)
    top = max(float(np.percentile(joined, 99.5)), 1.0)
    yield cv2.bitwise_not(cv2.convertScaleAbs(joined, alpha=255.0 / top))
    h, w = image.shape[:2]
    joined_print = join_dots(image, pitch)
    for scale in _FURTHER:
        small = cv2.resize(joined_print, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        yield cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


# A run of O or 0, and a word of the text read.
_ROUND = re.compile(r"[Oo0]+")
_WORD = re.compile(r"\S+")


def read_print_text(text: str, kind: str) -> str:
    """``text`` as read from print of ``kind``: for ``dot_matrix`` each run of O/0 within a word
    is taken as the letter O between two letters (``BEF0RE``, ``N0V``), as the digit 0 in a word
    holding other digits (``2O25``, ``LO400``), and left as read otherwise (``A00``, ``OCT``:
    either could be meant). Solid print is returned unchanged."""
    if kind != "dot_matrix":
        return text

    def word(m: re.Match[str]) -> str:
        w = m.group(0)
        digits = any(c.isdigit() and c != "0" for c in w)

        def run(r: re.Match[str]) -> str:
            s, e = r.start(), r.end()
            left = w[s - 1] if s > 0 else ""
            right = w[e] if e < len(w) else ""
            if left.isalpha() and right.isalpha():
                return "O" * (e - s)
            return "0" * (e - s) if digits else r.group(0)

        return _ROUND.sub(run, w)

    return _WORD.sub(word, text)


def join_dots(image: np.ndarray, pitch: DotPitch | None = None) -> np.ndarray:
    """``image`` (uint8 (H, W) grey or (H, W, 3) BGR) with the gaps between its print dots
    closed: uint8 of the same shape. ``pitch`` default: estimated from the image. Unchanged
    (the same array) when no dots are found."""
    pitch = pitch if pitch is not None else estimate_dot_pitch(image)
    if pitch is None:
        return image
    # growing dark ink is a grey erosion, light ink a grey dilation
    op = cv2.MORPH_ERODE if pitch.dark_ink else cv2.MORPH_DILATE
    joined = cv2.morphologyEx(image, op, _grow_kernel(pitch))
    # What is left of the lattice is smoothed away at its own scale (recognisers learnt smooth
    # strokes), and the contrast the print lost to light ink is stretched back.
    joined = cv2.GaussianBlur(joined, (0, 0), _SMOOTH * pitch.pitch_px)
    lo, hi = np.percentile(joined, (0.5, 99.5))
    span = max(float(hi - lo), 1.0)
    return cv2.convertScaleAbs(joined, alpha=255.0 / span, beta=-float(lo) * 255.0 / span)


def _grow_kernel(pitch: DotPitch) -> np.ndarray:
    """The structuring element that grows each dot into its neighbours (uint8 ellipse)."""
    # Growing every dot by about half the pitch bridges the gap to its neighbours; the gap
    # between characters (one empty column, a pitch wider) stays open. Where dots already run
    # together (smear along the print) that direction needs little, and more would join
    # characters.
    across = pitch.row_px if pitch.row_px is not None else 0.5 * pitch.pitch_px
    up = pitch.column_px if pitch.column_px is not None else 0.5 * pitch.pitch_px
    kx = max(1, round(_GROW * across)) | 1
    ky = max(1, round(_GROW * up)) | 1
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (kx, ky))


def _gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    raise ValueError(f"expected a grey (H, W) or BGR (H, W, 3) image, got shape {image.shape}")


def _dots(ink: np.ndarray, dark: bool) -> DotPitch | None:
    """Dot centres are the peaks of the ink (uint8: how far each pixel stands out from the
    surface around it; dots that touch still peak apart); their spacing is measured at a
    smoothing scale matched to it (noise splits a dot at a finer one), starting fine and, when
    no regular dots show there, again coarser."""
    level, _ = cv2.threshold(ink, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    if level < _MIN_INK_LEVEL:  # nothing stands out from the surface but its grain
        return None
    ink_f = ink.astype(np.float32)
    for start in _START_SIGMAS:
        found = _measure(ink_f, float(level), dark, start)
        if found is not None:
            return found
    return None


def _measure(ink: np.ndarray, level: float, dark: bool, start: float) -> DotPitch | None:
    """The dots found from smoothing at ``start`` (sigma, px), then again at the scale of the
    pitch found there; None when either look finds no regular dots."""
    coarse = start > _START_SIGMAS[0]
    sigma = start
    found: DotPitch | None = None
    for _ in range(2):
        smooth = cv2.GaussianBlur(ink, (0, 0), sigma)
        centres = _peaks(smooth, 0.8 * level)
        if len(centres) < _MIN_DOTS:
            return None
        if len(centres) > _MAX_CENTRES:
            pick = np.random.default_rng(0).choice(len(centres), _MAX_CENTRES, replace=False)
            centres = centres[pick]
        found = _spacing(centres, smooth, dark, _MIN_REGULAR_COARSE if coarse else _MIN_REGULAR)
        if found is None:
            return None
        lo, hi = _COARSE_PITCH_SIGMAS
        if coarse and not lo * start <= found.pitch_px <= hi * start:
            return None
        sigma = float(np.clip(0.2 * found.pitch_px, 0.8, 3.0))
    return found


def _peaks(smooth: np.ndarray, level: float) -> np.ndarray:
    """float (N, 2) x, y of the ink's local maxima above ``level`` (a flat top counts once; a
    ridge, as along a solid stroke, not at all)."""
    top = cv2.dilate(smooth, np.ones((3, 3), np.uint8))
    mask = ((smooth >= top) & (smooth >= level)).astype(np.uint8)
    _, _, stats, centres = cv2.connectedComponentsWithStats(mask, connectivity=8)
    small = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]) <= 3
    return np.asarray(centres[1:][small], np.float64)


def _spacing(
    centres: np.ndarray, smooth: np.ndarray, dark: bool, min_regular: float
) -> DotPitch | None:
    nearest, dist = _nearest(centres)
    # A missed dot only lengthens its neighbour's distance: the lower part is the lattice.
    pitch = float(np.percentile(dist, _PITCH_PERCENTILE))
    near = np.abs(dist - pitch) <= 0.35 * pitch
    if near.mean() < min_regular or not 2.0 <= pitch <= 3.0 * _MAX_DOT_PX:
        return None
    # Between two dots the ink dips; between two grain peaks on a solid stroke it does not.
    mid = ((centres + centres[nearest]) / 2).astype(np.float32)
    on_mid = cv2.remap(smooth, mid[:, :1], mid[:, 1:], cv2.INTER_LINEAR)[:, 0]
    xy = centres.astype(np.float32)
    on_dot = cv2.remap(smooth, xy[:, :1], xy[:, 1:], cv2.INTER_LINEAR)[:, 0]
    dip = on_mid[near] / np.maximum(np.minimum(on_dot, on_dot[nearest])[near], 1e-3)
    if float(np.median(dip)) > _MAX_GAP_INK:
        return None
    step = np.abs(centres[nearest] - centres)
    upward = step[:, 1] > step[:, 0]
    return DotPitch(
        pitch_px=pitch,
        column_px=_direction(dist[upward & near], len(centres)),
        row_px=_direction(dist[~upward & near], len(centres)),
        dots=len(centres),
        dark_ink=dark,
    )


def _nearest(centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each centre's nearest other centre: its index (int (N,)) and distance in px (float (N,))."""
    pts = centres.astype(np.float32)
    matches = cv2.BFMatcher(cv2.NORM_L2).knnMatch(pts, pts, k=2)
    # the best match is the centre itself, unless another sits on the very same spot
    other = [m[1] if m[0].trainIdx == i else m[0] for i, m in enumerate(matches)]
    index = np.array([m.trainIdx for m in other], dtype=np.intp)
    dist = np.array([m.distance for m in other], dtype=np.float64)
    return index, dist


def _direction(dist: np.ndarray, total: int) -> float | None:
    """The spacing one way, or None when too few neighbours lie that way (the dots merged)."""
    if len(dist) < max(4, 0.15 * total):
        return None
    return float(np.percentile(dist, 50))
