"""The simulated camera's scene: belt, lighting, sensor noise, and pasting pack sprites onto it.

Everything expensive is made once per run (belt texture, lighting gain, a bank of noise); a frame
is then a handful of saturating uint8 operations, which is what keeps the line above 200 frames/s.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from inspection.types import Region

log = logging.getLogger(__name__)

# The pack is drawn in units of a 768 × 500 px pack (60 % of a 1280 px frame) and scaled to size.
REF_PACK_W = 768
REF_PACK_H = 500
PACK_WIDTH_SHARE = 0.60
MAX_PACK_HEIGHT_SHARE = 0.72
# Room around the pack in its sprite for the ±3° rotation and the drop shadow, reference px.
REF_SPRITE_MARGIN = 44
LIGHT_DEN = 200.0  # lighting gain g is stored as uint8 g * LIGHT_DEN
NOISE_SIGMA = 2.6  # sensor read noise, grey levels
NOISE_PAD = 160  # the noise bank is this much larger than a frame; frames pick an offset in it
BELT_PERIOD = 1024  # belt texture repeats every this many px, so it can scroll


@dataclass(frozen=True, slots=True, kw_only=True)
class Rect:
    """A rectangle in reference pack units (pack top-left = 0, 0)."""

    x: float
    y: float
    w: float
    h: float


# Where things sit on a pack. Label defects stay in LABEL_ZONE, surface defects in SURFACE_ZONE,
# codes in CODE_ZONE; the zones do not overlap, so each defect is found by the tool meant for it.
LABEL_ZONE = Rect(x=8, y=14, w=360, h=322)
LABEL_RECT = Rect(x=38, y=62, w=300, h=226)
CODE_ZONE = Rect(x=392, y=30, w=364, h=300)
DATAMATRIX_CENTRE = (570.0, 112.0)
CODE128_CENTRE = (574.0, 254.0)
SURFACE_ZONE = Rect(x=0, y=344, w=REF_PACK_W, h=REF_PACK_H - 344)
SURFACE_INNER = Rect(x=26, y=352, w=REF_PACK_W - 52, h=REF_PACK_H - 352 - 22)


@dataclass(frozen=True, slots=True, kw_only=True)
class Geometry:
    """Sizes of one run's frames and packs, in frame px."""

    width: int
    height: int
    channels: int
    scale: float
    """Frame px per reference pack px."""
    pack_w: int
    pack_h: int
    margin: int

    @property
    def sprite_w(self) -> int:
        return self.pack_w + 2 * self.margin

    @property
    def sprite_h(self) -> int:
        return self.pack_h + 2 * self.margin

    def px(self, v: float) -> int:
        """A reference length in frame px (at least 1)."""
        return max(1, round(v * self.scale))

    def in_sprite(self, r: Rect) -> tuple[int, int, int, int]:
        """A reference rectangle as x0, y0, x1, y1 in sprite px."""
        s, m = self.scale, self.margin
        return (
            m + round(r.x * s),
            m + round(r.y * s),
            m + round((r.x + r.w) * s),
            m + round((r.y + r.h) * s),
        )

    def zone_in_frame(self, r: Rect) -> Region:
        """Where a pack zone lies in a triggered frame for a pack at its nominal pose."""
        x0 = (self.width - self.pack_w) // 2
        y0 = (self.height - self.pack_h) // 2
        s = self.scale
        return Region(
            x=x0 + round(r.x * s), y=y0 + round(r.y * s), w=round(r.w * s), h=round(r.h * s)
        )


def make_geometry(width: int, height: int, color: bool) -> Geometry:
    pack_w = PACK_WIDTH_SHARE * width
    pack_h = pack_w * REF_PACK_H / REF_PACK_W
    if pack_h > MAX_PACK_HEIGHT_SHARE * height:  # a wide, short frame: fit the height instead
        pack_h = MAX_PACK_HEIGHT_SHARE * height
        pack_w = pack_h * REF_PACK_W / REF_PACK_H
    scale = pack_w / REF_PACK_W
    return Geometry(
        width=width,
        height=height,
        channels=3 if color else 1,
        scale=scale,
        pack_w=round(pack_w),
        pack_h=round(pack_h),
        margin=max(4, round(REF_SPRITE_MARGIN * scale)),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Sprite:
    """A pack ready to paste: premultiplied colour and how much of the belt shows through.

    premul: uint8 (h, w) or (h, w, 3), the pack's colour × its coverage (0 off the pack).
    keep: uint8 of the same shape, 255 × the share of the belt that stays visible (shadow < 255).
    pack_corners: float32 (4, 2) x, y of the pack's corners in sprite px.
    """

    premul: np.ndarray
    keep: np.ndarray
    pack_corners: np.ndarray


def _periodic_noise(
    rng: np.random.Generator, shape: tuple[int, int], sigma_x: float, sigma_y: float
) -> np.ndarray:
    """Smooth noise, zero mean and unit std, that wraps around in both directions (FFT filtered)."""
    white = rng.standard_normal(shape).astype(np.float32)
    fy = np.fft.fftfreq(shape[0]).astype(np.float32)[:, None]
    fx = np.fft.rfftfreq(shape[1]).astype(np.float32)[None, :]
    gain = np.exp(-2.0 * (np.pi**2) * ((fx * sigma_x) ** 2 + (fy * sigma_y) ** 2))
    out = np.fft.irfft2(np.fft.rfft2(white) * gain, s=shape).astype(np.float32)
    out -= out.mean()
    out /= max(float(out.std()), 1e-6)
    return out


class Scene:
    """Belt, lighting and noise of one run, and the per-frame compositing."""

    def __init__(self, geometry: Geometry, rng: np.random.Generator) -> None:
        self.g = geometry
        self.belt = self._make_belt(rng)
        self.light = self._make_light(rng)
        self.noise_add, self.noise_sub = self._make_noise(rng)

    # ---- made once per run --------------------------------------------------------------

    def _make_belt(self, rng: np.random.Generator) -> np.ndarray:
        """Belt texture of shape (H, W + BELT_PERIOD[, 3]); frames take a W wide window of it."""
        g = self.g
        h, p = g.height, BELT_PERIOD
        grain = _periodic_noise(rng, (h, p), 1.2, 1.2)
        weave = _periodic_noise(rng, (h, p), 14.0, 1.5)
        blotch = _periodic_noise(rng, (h, p), 60.0, 60.0)
        belt = 74.0 + 5.0 * grain + 3.0 * weave + 7.0 * blotch
        # Fine ribs across the belt, as on a typical PVC conveyor belt.
        xs = np.arange(p, dtype=np.float32)[None, :]
        belt += 2.5 * np.cos(2.0 * np.pi * xs / 8.0)
        # The belt's splice: a slightly lighter band with a dark seam.
        seam = int(rng.integers(0, p))
        dist = np.minimum(np.abs(xs - seam), p - np.abs(xs - seam))
        belt += 10.0 * np.exp(-((dist / 22.0) ** 2)) - 22.0 * np.exp(-((dist / 1.6) ** 2))
        # Dust and fibres.
        specks = rng.random((h, p)) < 0.0009
        belt[specks] += rng.uniform(25.0, 60.0, int(specks.sum())).astype(np.float32)
        # Side guides: brushed metal rails at top and bottom, with a dark gap at the belt edge.
        rail = max(6, round(0.055 * h))
        streaks = 158.0 + 10.0 * _periodic_noise(rng, (rail, p), 80.0, 0.6)
        belt[:rail] = streaks
        belt[h - rail :] = streaks[::-1]
        gap = max(2, rail // 8)
        belt[rail : rail + gap] = 22.0
        belt[h - rail - gap : h - rail] = 22.0
        belt8: np.ndarray = cv2.GaussianBlur(np.clip(belt, 0, 255).astype(np.uint8), (3, 3), 0.7)
        tiled = np.concatenate([belt8] * (1 + (g.width + p - 1) // p), axis=1)[:, : g.width + p]
        if g.channels == 3:
            # A blue-grey belt and steel rails, as a colour camera sees them.
            tint = np.array([1.10, 1.0, 0.90], dtype=np.float32)
            tiled = np.clip(tiled[:, :, None] * tint, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(tiled)

    def _make_light(self, rng: np.random.Generator) -> np.ndarray:
        """Uneven lighting (vignetting, a side gradient, a hot spot) as uint8 gain × LIGHT_DEN."""
        g = self.g
        ys, xs = np.mgrid[0 : g.height, 0 : g.width].astype(np.float32)
        u = (xs - g.width / 2) / (g.width / 2)
        v = (ys - g.height / 2) / (g.height / 2)
        gain = 1.04 - 0.16 * (u**2 + v**2) / 2.0
        gain += float(rng.uniform(-0.07, 0.07)) * u + float(rng.uniform(-0.05, 0.05)) * v
        hx, hy = rng.uniform(-0.5, 0.5, size=2)
        gain += 0.09 * np.exp(-((u - hx) ** 2 + (v - hy) ** 2) / 0.25)
        light = np.clip(gain * LIGHT_DEN, 0, 255).astype(np.uint8)
        if g.channels == 3:
            light = cv2.cvtColor(light, cv2.COLOR_GRAY2BGR)
        return light

    def _make_noise(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Sensor noise bank split into what to add and what to subtract (uint8 saturating ops)."""
        g = self.g
        shape: tuple[int, ...] = (g.height + NOISE_PAD, g.width + NOISE_PAD)
        if g.channels == 3:
            shape = (*shape, 3)
        noise = np.rint(rng.standard_normal(shape, dtype=np.float32) * NOISE_SIGMA)
        noise = np.clip(noise, -127, 127)
        add = np.maximum(noise, 0).astype(np.uint8)
        sub = np.maximum(-noise, 0).astype(np.uint8)
        return add, sub

    # ---- per frame ----------------------------------------------------------------------

    def compose(
        self,
        belt_offset: int,
        sprites: list[tuple[Sprite, int, int]],
        noise_xy: tuple[int, int],
    ) -> np.ndarray:
        """One frame: belt window at ``belt_offset``, sprites pasted with their top-left at (x, y),
        lit, with sensor noise from the bank at ``noise_xy``. uint8 (H, W[, 3]), C-contiguous."""
        g = self.g
        off = belt_offset % BELT_PERIOD
        out = self.belt[:, off : off + g.width].copy()
        for sprite, x, y in sprites:
            self._paste(out, sprite, x, y)
        cv2.multiply(out, self.light, dst=out, scale=1.0 / LIGHT_DEN)
        nx, ny = noise_xy
        cv2.add(out, self.noise_add[ny : ny + g.height, nx : nx + g.width], dst=out)
        cv2.subtract(out, self.noise_sub[ny : ny + g.height, nx : nx + g.width], dst=out)
        return out

    def _paste(self, out: np.ndarray, sprite: Sprite, x: int, y: int) -> None:
        sh, sw = sprite.keep.shape[:2]
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + sw, self.g.width), min(y + sh, self.g.height)
        if x1 <= x0 or y1 <= y0:
            return
        roi = out[y0:y1, x0:x1]
        keep = sprite.keep[y0 - y : y1 - y, x0 - x : x1 - x]
        premul = sprite.premul[y0 - y : y1 - y, x0 - x : x1 - x]
        cv2.multiply(roi, keep, dst=roi, scale=1.0 / 255.0)
        cv2.add(roi, premul, dst=roi)
