"""Confirming a code that only a retry step of the decode ladder read.

A linear code (EAN/UPC, Code 128, ...) carries one check digit at best: a retry step that
reshapes the bars (upscaling, a threshold, a blur) can turn them into another valid number, and
on a line such a misread passes the wrong part where a no-read would have rejected it. So a code
the plain read missed counts only when a second, different step decodes the identical text and
format at the same place, and no other reading of that place has as many steps behind it.

The second step is looked for on a crop around the code first (the other ladder steps and two
extra scales, on a small image, so it is cheap), then by the later full-image steps. An EAN/UPC
retry read must also have clear quiet zones (``quiet_zones_clear``): two steps can agree on a
UPC-E read inside an EAN-13, whose bars beyond the UPC-E's ends give it away. Matrix
codes (DataMatrix, QR, Aztec, PDF417, MaxiCode) are exempt: their Reed–Solomon error correction
already refuses a damaged symbol, a stricter check than a second read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp

LINEAR_FORMATS = frozenset(
    f.name
    for f in zxingcpp.barcode_formats_list(
        zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.AllLinear)
    )
)

Corners = tuple[tuple[float, float], ...]


def needs_confirmation(format_name: str) -> bool:
    """Whether a retry read of this format must be confirmed (linear codes: weak checks)."""
    return format_name in LINEAR_FORMATS


def same_place(a: Corners, b: Corners) -> bool:
    """Whether ``a``'s centre lies in ``b``'s box.

    A linear code reports the scan line it was read on (a box of no height), and two steps
    read it on different lines: the box is widened by a fifth of its size, at least 4 px.
    """
    xs = [p[0] for p in b]
    ys = [p[1] for p in b]
    margin = max(4.0, 0.2 * max(max(xs) - min(xs), max(ys) - min(ys)))
    cx = sum(p[0] for p in a) / len(a)
    cy = sum(p[1] for p in a) / len(a)
    return min(xs) - margin <= cx <= max(xs) + margin and min(ys) - margin <= cy <= max(ys) + margin


@dataclass(frozen=True, slots=True)
class Vote:
    """One step's reading of one code: what it said and where (input pixels)."""

    step: str
    text: str
    format: str
    corners: Corners


class Ballot:
    """Every retry reading of one ladder run, so a candidate can be weighed against its rivals."""

    def __init__(self) -> None:
        self.votes: list[Vote] = []

    def vote(self, step: str, text: str, format_name: str, corners: Corners) -> None:
        self.votes.append(Vote(step=step, text=text, format=format_name, corners=corners))

    def support(self, text: str, format_name: str, corners: Corners) -> tuple[int, int]:
        """(steps that read this text here, most steps behind any other reading of here)."""
        behind: dict[tuple[str, str], set[str]] = {}
        for v in self.votes:
            if same_place(v.corners, corners) or same_place(corners, v.corners):
                behind.setdefault((v.text, v.format), set()).add(v.step)
        mine = len(behind.pop((text, format_name), set()))
        return mine, max((len(s) for s in behind.values()), default=0)

    def confirmed(self, text: str, format_name: str, corners: Corners) -> bool:
        """Read by two different steps or more, and by more steps than any rival reading."""
        mine, rival = self.support(text, format_name, corners)
        return mine >= 2 and mine > rival

    def steps_for(self, text: str, format_name: str, corners: Corners) -> set[str]:
        return {
            v.step
            for v in self.votes
            if (v.text, v.format) == (text, format_name)
            and (same_place(v.corners, corners) or same_place(corners, v.corners))
        }


def crop_around(gray: np.ndarray, corners: Corners) -> tuple[np.ndarray, np.ndarray]:
    """The part of ``gray`` around a code, turned so the code runs left to right.

    Returns the patch and the 2×3 matrix mapping patch pixels to ``gray`` pixels. A linear
    code's position is the scan line(s) it was read on: the patch widens it by its quiet zones
    and is about half its length tall, so the bars are whole. Turning the code level lets a
    step without rotation confirm a code that only a rotating rung could read.
    """
    pts = np.asarray(corners, dtype=np.float64)
    (x0, y0), (x1, y1) = pts[0], pts[1]
    length = max(float(np.hypot(x1 - x0, y1 - y0)), 8.0)
    angle = float(np.arctan2(y1 - y0, x1 - x0))
    cos, sin = np.cos(angle), np.sin(angle)
    # Extent across the code (stacked scan lines, matrix codes' height), in its own frame.
    across = (pts[:, 1] - y0) * cos - (pts[:, 0] - x0) * sin
    cx, cy = pts.mean(axis=0)
    pw = int(length * 1.3 + 16)
    ph = int(max(float(np.ptp(across)) + 0.3 * length, 0.9 * length) + 8)
    m = np.array(
        [
            [cos, -sin, cx - cos * pw / 2 + sin * ph / 2],
            [sin, cos, cy - sin * pw / 2 - cos * ph / 2],
        ]
    )
    if abs(sin) < 0.035 and cos > 0:  # level already (< 2°): a plain crop keeps pixels exact
        h, w = gray.shape
        xa, ya = int(max(cx - pw / 2, 0)), int(max(cy - ph / 2, 0))
        xb, yb = int(min(cx + pw / 2, w)), int(min(cy + ph / 2, h))
        shift = np.array([[1.0, 0.0, xa], [0.0, 1.0, ya]])
        return np.ascontiguousarray(gray[ya:yb, xa:xb]), shift
    fill = float(np.median(gray))
    patch = cv2.warpAffine(
        gray,
        m,
        (pw, ph),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderValue=(fill, fill, fill, fill),
    )
    return np.ascontiguousarray(patch), m


ReadStep = Callable[[np.ndarray], Sequence[tuple[str, str, Corners]]]
"""Reads a (cropped) grey image: (text, format, corners in that image's pixels) per code."""


def confirm_on_crop(
    ballot: Ballot,
    code: Vote,
    gray: np.ndarray,
    steps: Sequence[tuple[str, ReadStep]],
    time_left: Callable[[], bool],
) -> int:
    """Try ``steps`` on a crop around ``code`` until the ballot confirms it or they run out.

    Every code a step reads in the crop is a vote at its place (for ``code`` or a rival).
    Steps that already read ``code`` are skipped; ``time_left()`` is asked before each step.
    Returns the number of steps run.
    """
    patch, to_gray = crop_around(gray, code.corners)
    if min(patch.shape) < 8:
        return 0
    done = ballot.steps_for(code.text, code.format, code.corners)
    ran = 0
    for name, read in steps:
        if ballot.confirmed(code.text, code.format, code.corners) or not time_left():
            break
        if name in done:
            continue
        ran += 1
        for text, format_name, corners in read(patch):
            back = np.asarray(corners, dtype=np.float64) @ to_gray[:, :2].T + to_gray[:, 2]
            ballot.vote(name, text, format_name, tuple((float(x), float(y)) for x, y in back))
    return ran


# Modules from the first bar to the last of each EAN/UPC symbol (guards included), and the quiet
# zone, in modules, that must be free of bars on either side (ISO/IEC 15420 asks 7 at least).
_EAN_MODULES = {"EAN13": (95, 13), "UPCA": (95, 13), "UPCE": (51, 13), "EAN8": (67, 8)}
_QUIET_FROM, _QUIET_TO = 1.5, 5.0
"""Checked from 1.5 modules out (a blurred edge bleeds about one module) to 5 modules out."""


def quiet_zones_clear(gray: np.ndarray, corners: Corners, format_name: str, text: str) -> bool:
    """Whether no bar lies just beyond either end of an EAN/UPC read (a stricter check).

    A short symbol read inside a longer one (a UPC-E or EAN-8 on the lower edge of an EAN-13,
    where only the guard bars reach) passes its own check digit; the longer symbol's bars beyond
    its ends give it away. The ends are checked on lines across the bars: between the first and
    last scan line of the read, or, for a read on one line, on lines parallel to it up to 10
    modules away. Other formats, reads carrying an add-on, and reads too small to measure pass
    unchecked.
    """
    if format_name not in _EAN_MODULES or len(text) != _EAN_MODULES[format_name][1]:
        return True
    modules = _EAN_MODULES[format_name][0]
    tl, tr, br, bl = np.asarray(corners, dtype=np.float64)
    length = float(np.hypot(*(tr - tl)))
    module = length / modules
    if module < 0.7:
        return True
    lines: list[tuple[np.ndarray, np.ndarray]] = []
    if np.hypot(*(0.5 * (bl + br) - 0.5 * (tl + tr))) > 2.0 * module:
        # Several scan lines: follow the bars' own slant (perspective) between them.
        lines = [(tl + t * (bl - tl), tr + t * (br - tr)) for t in (0.5, 0.0, 1.0, 0.25, 0.75)]
    else:
        u = (tr - tl) / length
        across = np.array([-u[1], u[0]]) * module
        lines = [(tl + k * across, tr + k * across) for k in (0, -3, 3, -6, 6, -10, 10)]
    h, w = gray.shape

    def profile(start: np.ndarray, u: np.ndarray, along: np.ndarray) -> np.ndarray:
        # Three lines half a module apart, averaged: one noisy pixel is not a bar.
        across = np.array([-u[1], u[0]]) * module
        samples = []
        for k in (-0.5, 0.0, 0.5):
            xy = start + along[:, None] * u + k * across
            samples.append(
                cv2.remap(
                    gray,
                    np.clip(xy[:, 0], 0, w - 1).astype(np.float32)[None, :],
                    np.clip(xy[:, 1], 0, h - 1).astype(np.float32)[None, :],
                    cv2.INTER_LINEAR,
                )[0].astype(np.float64)
            )
        return np.mean(samples, axis=0)

    threshold = spread = 0.0
    crossing = blocked = 0
    for i, (start, end) in enumerate(lines):
        span = float(np.hypot(*(end - start)))
        if span < 1.0:
            continue
        u = (end - start) / span
        lo, hi = np.percentile(profile(start, u, np.arange(0.0, span, 0.5)), (5, 95))
        if i == 0:
            threshold, spread = 0.5 * (lo + hi), hi - lo
        elif hi - lo < 0.5 * spread:
            continue  # this line misses the bars (above or below them): nothing to compare
        crossing += 1
        step = np.arange(_QUIET_FROM * module, _QUIET_TO * module, 0.5)
        for outside in (-step, span + step):
            xy = start + outside[:, None] * u
            inside = (xy[:, 0] >= 0) & (xy[:, 0] <= w - 1) & (xy[:, 1] >= 0) & (xy[:, 1] <= h - 1)
            if inside.any() and profile(start, u, outside[inside]).min() < threshold:
                blocked += 1
                break
    # Printed digits (an EAN-13's first digit, a UPC's outer two) stand in the quiet zone at
    # the foot of the bars: a line through them is one line, not the bars' whole height.
    return blocked * 2 <= crossing
