"""Good surfaces of other industries than the demo's, drawn procedurally (seeded, no data needed).

Each material is a product: its images share one texture scale in pixels (one camera), and differ
the way real good parts do (lighting, grain, position). None of them looks like a printed pack or a
baked cookie, so a setting judged on them is judged on more than one product.

- metal: brushed steel, colour; fine streaks along one direction (a few degrees off per part),
  long natural polishing lines and a lighting gradient.
- fabric: plain-woven cloth, colour; threads over and under, uneven thread thickness and tone.
- tiles: grey granular/speckled ceramic (like magnetic tiles), blotchy shading; any size.
- solar: electroluminescence image of a multicrystalline cell, grey; dark fingers and busbars,
  mottled grains with darker boundaries, dark cut corners, a pixel or two of misplacement.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

log = logging.getLogger(__name__)

MATERIALS = ("metal", "fabric", "tiles", "solar")


def smooth_noise(rng: np.random.Generator, h: int, w: int, cell: float) -> np.ndarray:
    """float32 (h, w) noise of unit std varying over about ``cell`` px (bicubic upsampling)."""
    gh, gw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
    coarse = rng.standard_normal((gh, gw)).astype(np.float32)
    up = cv2.resize(coarse, (int(gw * cell), int(gh * cell)), interpolation=cv2.INTER_CUBIC)
    out = up[:h, :w]
    return (out - out.mean()) / max(float(out.std()), 1e-6)


def _lighting(rng: np.random.Generator, h: int, w: int, strength: float) -> np.ndarray:
    """float32 (h, w) multiplicative gradient around 1 (the part sits a little differently)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    gx, gy = rng.uniform(-strength, strength, 2)
    return 1.0 + gx * (xx / w - 0.5) + gy * (yy / h - 0.5)


def metal(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """uint8 (h, w, 3) BGR brushed steel."""
    pad = max(h, w) // 2
    big_h, big_w = h + 2 * pad, w + 2 * pad
    streaks: np.ndarray = rng.standard_normal((big_h, big_w)).astype(np.float32)
    streaks = cv2.GaussianBlur(streaks, (0, 0), sigmaX=18.0, sigmaY=0.6)
    streaks = (streaks / max(float(streaks.std()), 1e-6)).astype(np.float32)
    # a few long, brighter or darker polishing lines: normal on brushed metal, not defects
    for _ in range(int(rng.integers(2, 6))):
        y = int(rng.integers(0, big_h))
        cv2.line(streaks, (0, y), (big_w - 1, y), float(rng.choice([-2.5, 2.5])), 1, cv2.LINE_AA)
    angle = float(rng.normal(0.0, 2.0))
    rot = cv2.getRotationMatrix2D((big_w / 2, big_h / 2), angle, 1.0)
    streaks = cv2.warpAffine(streaks, rot, (big_w, big_h), borderMode=cv2.BORDER_REFLECT)
    streaks = streaks[pad : pad + h, pad : pad + w]
    grain = rng.normal(0.0, 2.0, (h, w)).astype(np.float32)
    grey = (150.0 + 7.0 * streaks + 6.0 * smooth_noise(rng, h, w, 90.0) + grain) * _lighting(
        rng, h, w, 0.15
    )
    tint = np.array([1.04, 1.0, 0.96], np.float32)  # cool steel
    return np.clip(grey[:, :, None] * tint, 0, 255).astype(np.uint8)


def fabric(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """uint8 (h, w, 3) BGR plain weave: warp (vertical) and weft (horizontal) threads."""
    period = 7.0
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    # threads wander a little; the cloth lies slightly differently each time
    u = xx + 1.2 * smooth_noise(rng, h, w, 40.0) + rng.uniform(0, period)
    v = yy + 1.2 * smooth_noise(rng, h, w, 40.0) + rng.uniform(0, period)
    i, j = np.floor(u / period).astype(np.int64), np.floor(v / period).astype(np.int64)
    fu, fv = u / period - i, v / period - j
    warp_tone = rng.normal(1.0, 0.06, int(i.max()) + 2)[i]
    weft_tone = rng.normal(1.0, 0.06, int(j.max()) + 2)[j]
    # across a thread: bright centre, dark gap; along it: the thread dips where it goes under
    across_warp = np.sin(np.pi * fu) ** 0.7
    across_weft = np.sin(np.pi * fv) ** 0.7
    warp_on_top = (i + j) % 2 == 0
    shade = np.where(
        warp_on_top,
        across_warp * (0.75 + 0.25 * np.sin(np.pi * fv)) * warp_tone,
        across_weft * (0.75 + 0.25 * np.sin(np.pi * fu)) * weft_tone,
    ).astype(np.float32)
    fuzz = cv2.GaussianBlur(rng.normal(0, 0.05, (h, w)).astype(np.float32), (0, 0), 0.8)
    shade = (0.25 + 0.75 * shade + fuzz) * _lighting(rng, h, w, 0.2)
    colour = np.array([150.0, 110.0, 70.0], np.float32)  # a dyed blue cloth (BGR)
    return np.clip(shade[:, :, None] * colour, 0, 255).astype(np.uint8)


def tiles(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """uint8 (h, w) grey granular ceramic with blotchy shading."""
    grains: np.ndarray = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 0.7)
    grains /= max(float(grains.std()), 1e-6)
    speckle = (rng.random((h, w)) < 0.01).astype(np.float32)
    speckle = cv2.GaussianBlur(speckle, (0, 0), 0.6) * rng.choice([-1.0, 1.0], (h, w))
    grey = (
        rng.uniform(95, 125)
        + 9.0 * grains
        + 60.0 * speckle
        + 8.0 * smooth_noise(rng, h, w, 35.0)
        + 6.0 * smooth_noise(rng, h, w, 120.0)
    ) * _lighting(rng, h, w, 0.2)
    return np.clip(grey, 0, 255).astype(np.uint8)


def solar(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """uint8 (h, w) grey electroluminescence image of a multicrystalline cell filling the frame."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = rng.uniform(-1.5, 1.5, 2)  # the cell is placed to within a pixel or two
    # grains: a Voronoi partition of random seeds, each grain its own brightness
    n_grains = max(8, int(h * w / 900))
    seeds = rng.uniform(0, 1, (n_grains, 2)) * np.array([w, h], np.float32)
    small = 4  # computed at 1/4 resolution: grains are much larger than that
    sy, sx = np.mgrid[0:h:small, 0:w:small].astype(np.float32)
    d = (sx[..., None] - seeds[:, 0]) ** 2 + (sy[..., None] - seeds[:, 1]) ** 2
    order = np.argsort(d, axis=2)
    tone = rng.normal(0.0, 1.0, n_grains).astype(np.float32)
    grain: np.ndarray = tone[order[..., 0]]
    d_sorted = np.take_along_axis(d, order[..., :2], axis=2)
    boundary = (np.sqrt(d_sorted[..., 1]) - np.sqrt(d_sorted[..., 0]) < 3.0).astype(np.float32)
    grain = cv2.GaussianBlur(
        cv2.resize(grain, (w, h), interpolation=cv2.INTER_NEAREST), (0, 0), 1.2
    )
    boundary = cv2.resize(boundary, (w, h), interpolation=cv2.INTER_LINEAR)
    boundary = cv2.GaussianBlur(boundary, (0, 0), 1.0)
    grey = 150.0 + 12.0 * grain - 22.0 * boundary + 6.0 * smooth_noise(rng, h, w, 25.0)
    # fingers (thin, faint, horizontal) and busbars (wide, dark, vertical) at fixed positions
    fingers = np.cos(2 * np.pi * (yy - dy) / 10.0) > 0.93
    grey -= 25.0 * fingers
    for fx in (0.25, 0.5, 0.75):
        grey -= 90.0 * (np.abs(xx - dx - fx * w) < 3.0)
    # dark cell edges and cut corners
    edge = np.minimum.reduce([xx - dx, yy - dy, w - 1 - xx + dx, h - 1 - yy + dy])
    grey = np.where(edge < 4, 25.0, grey)
    corner = np.minimum(xx - dx, w - 1 - xx + dx) + np.minimum(yy - dy, h - 1 - yy + dy)
    grey = np.where(corner < 0.08 * (h + w), 20.0, grey)
    grey += rng.normal(0, 3.0, (h, w)).astype(np.float32)
    return np.clip(grey, 0, 255).astype(np.uint8)


DRAW = {"metal": metal, "fabric": fabric, "tiles": tiles, "solar": solar}


def surface(material: str, rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A good ``material`` surface of h × w px (uint8 grey, or BGR for metal and fabric)."""
    try:
        draw = DRAW[material]
    except KeyError:
        raise ValueError(f"unknown material {material!r}; choose from {MATERIALS}") from None
    return draw(rng, h, w)
