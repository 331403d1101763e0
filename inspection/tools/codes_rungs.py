"""The decode ladder's steps: how each rung prepares the grey image before zxing-cpp reads it.

Each rung is one step: a preparation (contrast, threshold, scale, blur, rotation) and the
binarizer zxing-cpp applies after it. Two rungs with different names are different steps, which
is what confirming a retry read relies on (see ``codes_confirm``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp

# A rung's preparation returns the image to read and the 2×3 affine matrix that maps its pixel
# coordinates back to the input's (None when they are the same).
Prepared = tuple[np.ndarray, np.ndarray | None]

# Upscaling a large image costs more than it can earn: small modules only occur in small crops.
_MAX_UPSCALED_SIDE = 2400


@dataclass(frozen=True, slots=True)
class Rung:
    name: str
    prepare: Callable[[np.ndarray], Prepared | None]
    """None when the rung does not apply to this image (e.g. too large to upscale)."""
    binarizer: zxingcpp.Binarizer
    weight: float


def _identity(gray: np.ndarray) -> Prepared:
    return gray, None


def _clahe(gray: np.ndarray) -> Prepared:
    clahe = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8))
    return clahe.apply(gray), None


def _stretch(gray: np.ndarray) -> Prepared:
    lo, hi = np.percentile(gray, (1.0, 99.0))
    if hi - lo < 1.0:
        return gray, None
    out = cv2.convertScaleAbs(gray, alpha=255.0 / (hi - lo), beta=-lo * 255.0 / (hi - lo))
    return out, None


def _scaled(factor: float, interpolation: int) -> Callable[[np.ndarray], Prepared | None]:
    def prepare(gray: np.ndarray) -> Prepared | None:
        h, w = gray.shape
        nh, nw = round(h * factor), round(w * factor)
        if max(nh, nw) > _MAX_UPSCALED_SIDE or min(nh, nw) < 8:
            return None
        out = cv2.resize(gray, (nw, nh), interpolation=interpolation)
        back = np.array([[w / nw, 0.0, 0.0], [0.0, h / nh, 0.0]])
        return out, back

    return prepare


def _blurred(gray: np.ndarray) -> Prepared:
    return cv2.GaussianBlur(gray, (5, 5), 1.2), None


def _median(gray: np.ndarray) -> Prepared | None:
    if min(gray.shape) < 3:
        return None
    return cv2.medianBlur(gray, 3), None


def _sharpened(gray: np.ndarray) -> Prepared:
    soft = cv2.GaussianBlur(gray, (0, 0), 2.0)
    return cv2.addWeighted(gray, 2.0, soft, -1.0, 0.0), None


def _otsu(gray: np.ndarray) -> Prepared:
    _, out = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return out, None


def _blurred_otsu(gray: np.ndarray) -> Prepared:
    # Noise on a faded print: smooth first so Otsu's threshold sees two clean modes.
    return _otsu(cv2.GaussianBlur(gray, (5, 5), 1.2))[0], None


def _clahe_otsu(gray: np.ndarray) -> Prepared:
    # Uneven lighting defeats one global threshold; equalising tiles first evens it out.
    return _otsu(_clahe(gray)[0])[0], None


def _closed(gray: np.ndarray) -> Prepared:
    # Dot-peened and ink-jet matrix codes print as separate dots; closing joins them into modules.
    return cv2.morphologyEx(gray, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)), None


def _rotated(angle_deg: float) -> Callable[[np.ndarray], Prepared]:
    def prepare(gray: np.ndarray) -> Prepared:
        h, w = gray.shape
        m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle_deg, 1.0)
        cos, sin = abs(m[0, 0]), abs(m[0, 1])
        nw, nh = int(h * sin + w * cos + 0.5), int(h * cos + w * sin + 0.5)
        m[0, 2] += nw / 2.0 - w / 2.0
        m[1, 2] += nh / 2.0 - h / 2.0
        # Fill with the image's median so the new border adds no edges a 1D reader could misread.
        fill = float(np.median(gray))
        out = cv2.warpAffine(
            gray, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=(fill, fill, fill, fill)
        )
        return out, cv2.invertAffineTransform(m)

    return prepare


LA = zxingcpp.Binarizer.LocalAverage
GH = zxingcpp.Binarizer.GlobalHistogram
FT = zxingcpp.Binarizer.FixedThreshold

# Ordered by payoff per millisecond, measured rung by rung on zxing-cpp's samples (where
# upscaling and rotation pay) and on synthetic faded / blurred / noisy / rotated DataMatrix, QR and
# Code128 codes (where a global Otsu threshold, median and sharpening pay). Cheap rungs first.
RUNGS: tuple[Rung, ...] = (
    Rung("plain", _identity, LA, 1.0),
    Rung("otsu", _otsu, FT, 0.85),
    Rung("upscale 2x", _scaled(2.0, cv2.INTER_CUBIC), LA, 0.8),
    Rung("stretch + fixed threshold", _stretch, FT, 0.85),
    Rung("median", _median, GH, 0.75),
    Rung("sharpen", _sharpened, LA, 0.75),
    Rung("blur + otsu", _blurred_otsu, FT, 0.7),
    Rung("CLAHE + otsu", _clahe_otsu, FT, 0.7),
    Rung("rotate -30°", _rotated(-30.0), LA, 0.7),
    Rung("rotate 30°", _rotated(30.0), LA, 0.7),
    Rung("global histogram", _identity, GH, 0.9),
    Rung("contrast (CLAHE)", _clahe, LA, 0.85),
    Rung("blur", _blurred, LA, 0.75),
    Rung("downscale 0.5x", _scaled(0.5, cv2.INTER_AREA), LA, 0.75),
    Rung("open", _closed, LA, 0.7),
)


# Extra confirmation steps on a crop: a scale the ladder does not try resamples the bars anew.
CONFIRM_RUNGS: tuple[Rung, ...] = (
    Rung("upscale 1.5x", _scaled(1.5, cv2.INTER_CUBIC), LA, 0.8),
    Rung("upscale 3x", _scaled(3.0, cv2.INTER_CUBIC), LA, 0.8),
)
