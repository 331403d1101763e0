"""Drawing the simulated line's defects onto a pack sprite (unrotated, premultiplied uint8).

Surface defects (scratch, stain, dent) stay inside the pack's surface zone, away from the label and
the codes; code damage stays on its code and is checked to make that code unreadable.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
import zxingcpp

from inspection.sources.synthetic_render import SURFACE_INNER, SURFACE_ZONE, Geometry

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]
"""x0, y0, x1, y1 in sprite px: the area a drawing changed."""


_BINARIZERS = (
    zxingcpp.Binarizer.LocalAverage,
    zxingcpp.Binarizer.GlobalHistogram,
    zxingcpp.Binarizer.FixedThreshold,
)


def _colour(
    value: float, channels: int, tint: tuple[float, float, float] = (1.0, 1.0, 1.0)
) -> tuple[float, ...]:
    """A cv2 drawing colour for a grey level (tinted per BGR channel in colour mode)."""
    if channels == 1:
        return (float(value),)
    return tuple(float(min(255.0, value * t)) for t in tint)


def _bounds(points: np.ndarray, pad: float, shape: tuple[int, ...]) -> Box:
    lo = np.floor(points.min(axis=0) - pad).astype(int)
    hi = np.ceil(points.max(axis=0) + pad).astype(int)
    return (
        max(0, int(lo[0])),
        max(0, int(lo[1])),
        min(shape[1], int(hi[0])),
        min(shape[0], int(hi[1])),
    )


def scratch(body: np.ndarray, g: Geometry, rng: np.random.Generator) -> Box:
    """A thin bright or dark line, slightly bent, somewhere in the surface zone."""
    x0, y0, x1, y1 = g.in_sprite(SURFACE_INNER)
    for _ in range(100):
        start = np.array([rng.uniform(x0, x1), rng.uniform(y0, y1)])
        theta = rng.uniform(-0.45, 0.45) + rng.choice((0.0, np.pi))
        length = rng.uniform(90.0, 230.0) * g.scale
        end = start + length * np.array([np.cos(theta), np.sin(theta)])
        if x0 <= end[0] <= x1 and y0 <= end[1] <= y1:
            break
    else:
        end = np.array([x1 - 2.0, start[1]])
    # Bend it a little through a displaced midpoint, as a drag mark is never quite straight.
    normal = np.array([-(end - start)[1], (end - start)[0]]) / max(np.hypot(*(end - start)), 1.0)
    mid = (start + end) / 2 + normal * rng.uniform(-6.0, 6.0) * g.scale
    mid = np.clip(mid, [x0, y0], [x1, y1])
    pts = np.rint(np.stack([start, mid, end]) * 16).astype(np.int32).reshape(-1, 1, 2)
    bright = rng.random() < 0.5
    value = 238.0 if bright else 62.0
    thickness = max(1, round(rng.uniform(1.2, 2.4) * g.scale))
    cv2.polylines(body, [pts], False, _colour(value, g.channels), thickness, cv2.LINE_AA, 4)
    return _bounds(np.stack([start, mid, end]), thickness + 2, body.shape)


def stain(body: np.ndarray, g: Geometry, rng: np.random.Generator) -> Box:
    """A dark, soft, irregular blob in the surface zone."""
    x0, y0, x1, y1 = g.in_sprite(SURFACE_INNER)
    r = rng.uniform(16.0, 34.0) * g.scale
    reach = int(np.ceil(1.9 * r))
    cx = int(rng.uniform(x0 + reach, max(x0 + reach + 1, x1 - reach)))
    cy = int(rng.uniform(y0 + reach, max(y0 + reach + 1, y1 - reach)))
    ys, xs = np.mgrid[-reach : reach + 1, -reach : reach + 1].astype(np.float32)
    blob = np.zeros_like(xs)
    for _ in range(3):
        ox, oy = rng.uniform(-0.45, 0.45, size=2) * r
        sr = rng.uniform(0.45, 0.8) * r
        blob = np.maximum(blob, np.exp(-((xs - ox) ** 2 + (ys - oy) ** 2) / (2 * sr * sr)))
    # Fade the window edge to zero so the blob never ends in a hard line.
    blob *= np.clip(1.0 - np.hypot(xs, ys) / reach, 0.0, 1.0) ** 0.5
    factor = 1.0 - rng.uniform(0.45, 0.65) * blob
    patch = body[cy - reach : cy + reach + 1, cx - reach : cx + reach + 1]
    if g.channels == 3:
        # Oily stains soak in brownish: the blue channel darkens most.
        f3 = np.stack([factor**1.25, factor, factor**0.85], axis=-1)
        patch[:] = np.clip(patch * f3, 0, 255).astype(np.uint8)
    else:
        patch[:] = np.clip(patch * factor, 0, 255).astype(np.uint8)
    return cx - reach, cy - reach, cx + reach + 1, cy + reach + 1


def dent(
    body: np.ndarray, alpha: np.ndarray, g: Geometry, rng: np.random.Generator
) -> tuple[Box, bool]:
    """A chipped bottom corner/edge, or a pressed-in dent shaded by the light; the area changed,
    and True if the pack outline changed (so the caller recomputes how the belt shows through)."""
    if rng.random() < 0.5:
        return _chip(body, alpha, g, rng), True
    return _pressed_dent(body, g, rng), False


def _chip(body: np.ndarray, alpha: np.ndarray, g: Geometry, rng: np.random.Generator) -> Box:
    x0, y0, x1, y1 = g.in_sprite(SURFACE_ZONE)
    s = g.scale
    where = int(rng.integers(0, 3))
    size = rng.uniform(26.0, 44.0) * s
    if where == 0:  # bottom-left corner
        corner = np.array([x0, y1], dtype=float)
        a, b = (
            corner + np.array([size * rng.uniform(0.8, 1.3), 0]),
            corner + np.array([0, -size * rng.uniform(0.8, 1.3)]),
        )
    elif where == 1:  # bottom-right corner
        corner = np.array([x1, y1], dtype=float)
        a, b = (
            corner + np.array([0, -size * rng.uniform(0.8, 1.3)]),
            corner + np.array([-size * rng.uniform(0.8, 1.3), 0]),
        )
    else:  # a bite out of the bottom edge
        cx = rng.uniform(x0 + 80 * s, x1 - 80 * s)
        a, b = np.array([cx + size, y1]), np.array([cx - size, y1])
        corner = np.array([cx, y1 + size * 0.2])
    # A torn edge: a jagged line between a and b bulging into the pack, square to the cut. (Bulging
    # towards the zone's centre instead ran a bite near either end of the bottom edge almost along
    # the edge: a sliver 3 px deep that no camera sees, still counted as a dent in the truth.)
    t = np.linspace(0.0, 1.0, 9)[1:-1, None]
    inward = chip_inward(a, b, np.array([x0 + x1, y0 + y1], dtype=float) / 2)
    bulge = (np.sin(np.pi * t) * 0.35 * size) * inward
    jag = rng.uniform(-0.12, 0.12, size=(len(t), 2)) * size
    torn = a + t * (b - a) + bulge + jag
    outside = corner + (corner - (a + b) / 2) * 0.6  # beyond the pack, so the cut reaches its edge
    poly = np.vstack([a, torn, b, outside])
    pts = np.rint(poly * 16).astype(np.int32).reshape(-1, 1, 2)
    cv2.fillPoly(alpha, [pts], (0,), cv2.LINE_AA, 4)
    cv2.fillPoly(body, [pts], _colour(0.0, g.channels), cv2.LINE_AA, 4)
    # Exposed, lighter fibres along the tear.
    edge = np.rint(np.vstack([a, torn, b]) * 16).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(
        body,
        [edge],
        False,
        _colour(205.0, g.channels, (0.85, 1.0, 1.1)),
        max(1, round(2 * s)),
        cv2.LINE_AA,
        4,
    )
    return _bounds(poly, 4, body.shape)


def chip_inward(a: np.ndarray, b: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Unit vector square to the cut from ``a`` to ``b``, on the side of the point ``inside``."""
    normal = np.array([-(b - a)[1], (b - a)[0]], dtype=float)
    normal /= max(float(np.hypot(*normal)), 1e-9)
    return normal if float(np.dot(inside - (a + b) / 2, normal)) >= 0 else -normal


def _pressed_dent(body: np.ndarray, g: Geometry, rng: np.random.Generator) -> Box:
    x0, y0, x1, y1 = g.in_sprite(SURFACE_INNER)
    rx, ry = rng.uniform(20.0, 40.0) * g.scale, rng.uniform(12.0, 26.0) * g.scale
    reach = int(np.ceil(1.6 * max(rx, ry)))
    cx = int(rng.uniform(x0 + reach, max(x0 + reach + 1, x1 - reach)))
    cy = int(rng.uniform(y0 + reach, max(y0 + reach + 1, y1 - reach)))
    ys, xs = np.mgrid[-reach : reach + 1, -reach : reach + 1].astype(np.float32)
    phi = rng.uniform(0, np.pi)
    u = (xs * np.cos(phi) + ys * np.sin(phi)) / rx
    v = (-xs * np.sin(phi) + ys * np.cos(phi)) / ry
    bump = np.exp(-(u * u + v * v) * 1.5)
    # Light from the top-left: the hollow's upper-left wall is in shade, the lower-right lit.
    gy, gx = np.gradient(bump)
    shade = (gx + gy) / max(float(np.abs(gx + gy).max()), 1e-6)
    delta = rng.uniform(40.0, 60.0) * shade - 8.0 * bump
    patch = body[cy - reach : cy + reach + 1, cx - reach : cx + reach + 1]
    if g.channels == 3:
        delta = delta[:, :, None]
    patch[:] = np.clip(patch.astype(np.float32) + delta, 0, 255).astype(np.uint8)
    return cx - reach, cy - reach, cx + reach + 1, cy + reach + 1


def damage_code(
    body: np.ndarray,
    box: Box,
    fmt: zxingcpp.BarcodeFormat,
    ink: float,
    paper: float,
    g: Geometry,
    rng: np.random.Generator,
) -> None:
    """Smear or scuff the code printed in ``box`` until zxing-cpp can no longer read it, checked on
    the clean, unrotated print. Changes only ``code_surround(box)``."""
    px0, py0, px1, py1 = code_surround(box, body.shape)
    x0, y0, x1, y1 = box
    original = body[py0:py1, px0:px1].copy()
    smear = rng.random() < 0.5
    cover = rng.uniform(0.35, 0.45)
    for _ in range(6):
        body[py0:py1, px0:px1] = original
        _smudge(body, box, fmt, ink if smear else paper, cover, g, rng)
        if not _readable(body[py0:py1, px0:px1], fmt):
            return
        cover += 0.12
    body[y0 + (y1 - y0) // 6 : y1 - (y1 - y0) // 6, x0:x1] = _colour(paper, g.channels)[
        : g.channels
    ]
    log.debug("code damage needed the fallback wipe")


def code_surround(box: Box, shape: tuple[int, ...]) -> Box:
    """A printed code's box with its quiet zone: what reading (and damaging) it looks at."""
    x0, y0, x1, y1 = box
    quiet = max(8, (x1 - x0) // 6)
    return (
        max(0, x0 - quiet),
        max(0, y0 - quiet),
        min(shape[1], x1 + quiet),
        min(shape[0], y1 + quiet),
    )


def _smudge(
    body: np.ndarray,
    box: Box,
    fmt: zxingcpp.BarcodeFormat,
    value: float,
    cover: float,
    g: Geometry,
    rng: np.random.Generator,
) -> None:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    colour = _colour(value, g.channels)
    if fmt == zxingcpp.BarcodeFormat.Code128:
        # A wiped band across all bars: no scan line sees the whole symbol any more.
        bw = cover * w
        cx = rng.uniform(x0 + 0.3 * w, x1 - 0.3 * w)
        tilt = rng.uniform(-0.25, 0.25) * h
        quad = np.array(
            [
                [cx - bw / 2 + tilt, y0 - 4],
                [cx + bw / 2 + tilt, y0 - 4],
                [cx + bw / 2 - tilt, y1 + 4],
                [cx - bw / 2 - tilt, y1 + 4],
            ]
        )
    else:
        # A thick stroke over the middle and across one leg of the finder pattern.
        r = cover * max(w, h)
        cx, cy = x0 + w * rng.uniform(0.35, 0.65), y0 + h * rng.uniform(0.45, 0.7)
        ang = rng.uniform(0, np.pi)
        d = np.array([np.cos(ang), np.sin(ang)]) * r
        n = np.array([-np.sin(ang), np.cos(ang)]) * r * 0.55
        c = np.array([cx, cy])
        quad = np.array([c - d - n, c + d - n, c + d + n, c - d + n])
        quad = np.clip(quad, [x0 - 2, y0 - 2], [x1 + 2, y1 + 2])
    pts = np.rint(quad * 16).astype(np.int32).reshape(-1, 1, 2)
    cv2.fillPoly(body, [pts], colour, cv2.LINE_AA, 4)
    # Streaks and blots so it looks like a smudge, not a painted box.
    for _ in range(4):
        p = quad[int(rng.integers(0, 4))] + rng.uniform(-0.1, 0.1, size=2) * (w, h)
        p = np.clip(p, [x0, y0], [x1, y1])
        cv2.circle(
            body,
            (round(p[0]), round(p[1])),
            max(2, round(0.06 * max(w, h))),
            colour,
            -1,
            cv2.LINE_AA,
        )


def _readable(patch: np.ndarray, fmt: zxingcpp.BarcodeFormat) -> bool:
    gray = patch if patch.ndim == 2 else cv2.cvtColor(patch, cv2.COLOR_BGR2GRAY)
    gray = np.ascontiguousarray(gray)
    for binarizer in _BINARIZERS:
        if zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormats(fmt), binarizer=binarizer):
            return True
    return False
