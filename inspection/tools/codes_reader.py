"""The decode ladder: a plain zxing-cpp read first, then bounded retries for hard images.

Each rung prepares the grey image differently (another binarizer, contrast normalisation,
scaling, blur, rotation) and reads it again. The ladder stops at the first rung after which
enough codes are known, and never starts a rung once the time budget is spent. Rungs are
ordered by what paid off on zxing-cpp's own sample images (see ``lineside eval codes``).

Decode quality (0–100) of one code: ``100 × rung_weight × (0.5 × contrast + 0.5 × sharpness)``
measured in the code's bounding box on the image as captured (not the prepared one):

* contrast = (p95 − p5) of the grey values / 255: a faded or badly lit print scores low;
* sharpness = p99 of the Sobel gradient magnitude / (4 × (p95 − p5)), clipped to 1: a perfect
  step edge gives 4× its height under the 3×3 Sobel, so a focused print scores near 1 and blur
  or motion lowers it;
* rung_weight = 1.0 for the plain read, lower for rungs that needed more help (see ``RUNGS``).

It is meant for trends (a slowly fading printer, a drifting focus), not as an ISO grade.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp

log = logging.getLogger(__name__)

# A rung's preparation returns the image to read and the 2×3 affine matrix that maps its pixel
# coordinates back to the input's (None when they are the same).
Prepared = tuple[np.ndarray, np.ndarray | None]

_BINARY_CONTENT = frozenset(
    {zxingcpp.ContentType.Binary, zxingcpp.ContentType.Mixed, zxingcpp.ContentType.UnknownECI}
)

# Upscaling a large image costs more than it can earn: small modules only occur in small crops.
_MAX_UPSCALED_SIDE = 2400


@dataclass(frozen=True, slots=True, kw_only=True)
class DecodedCode:
    """One code read from an image.

    ``text`` is zxing-cpp's Plain text (GS1 without parentheses, bytes as Latin-1 when binary);
    ``payload`` the raw decoded bytes; ``corners`` four (x, y) points in input pixels, clockwise
    from the symbol's top-left; ``quality`` 0–100 as described in the module docstring.
    """

    text: str
    payload: bytes
    format: str
    corners: tuple[tuple[float, float], ...]
    binary: bool
    quality: float
    attempt: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadOutcome:
    """What a ladder run found: the codes, how many rungs ran, which rung completed the read."""

    codes: tuple[DecodedCode, ...]
    attempts: int
    attempt: str
    """Name of the rung after which ``min_count`` codes were known; "" when never reached."""
    elapsed_ns: int


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


def parse_formats(names: Sequence[str] | None) -> zxingcpp.BarcodeFormats:
    """zxing-cpp's format set for ``names`` (None or empty = every readable format).

    Raises ValueError naming the unknown format.
    """
    if not names:
        return zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.AllReadable)
    for name in names:
        try:
            zxingcpp.barcode_format_from_str(name)
        except ValueError as exc:
            raise ValueError(f"unknown code format {name!r}") from exc
    return zxingcpp.barcode_formats_from_str(",".join(names))


class CodeReader:
    """Reads codes of the given formats from grey images with the decode ladder.

    One instance per worker thread (it holds no image state, but is not meant to be shared).
    """

    def __init__(
        self,
        formats: Sequence[str] | None,
        *,
        retries: bool = True,
        rungs: Sequence[Rung] = RUNGS,
        clock: Callable[[], int] = time.thread_time_ns,
    ) -> None:
        self.formats = parse_formats(formats)
        self.rungs: tuple[Rung, ...] = tuple(rungs) if retries else tuple(rungs[:1])
        if not self.rungs:
            raise ValueError("the decode ladder needs at least one rung")
        self._clock = clock

    def read(self, gray: np.ndarray, *, min_count: int, budget_ms: float) -> ReadOutcome:
        """Read ``gray`` (uint8 (H, W)); stop once ``min_count`` codes are known or time is up.

        The first rung always runs; later rungs start only while less than ``budget_ms`` ms of
        this thread's CPU time have been spent: a busy machine (OCR on the other core, the GUI)
        must not make a readable code fail for lack of wall-clock time.
        """
        t0 = self._clock()
        budget_ns = int(budget_ms * 1e6)
        gray = np.ascontiguousarray(gray)
        found: list[DecodedCode] = []
        attempts = 0
        done = ""
        for rung in self.rungs:
            if attempts and self._clock() - t0 >= budget_ns:
                log.debug("code read stopped after %d attempts: budget spent", attempts)
                break
            attempts += 1
            for code in self._read_rung(gray, rung):
                if not any(_same_symbol(code, seen) for seen in found):
                    found.append(code)
            if len(found) >= max(min_count, 1):
                done = rung.name
                break
        if not done and min_count <= 0:
            done = self.rungs[attempts - 1].name
        return ReadOutcome(
            codes=tuple(found), attempts=attempts, attempt=done, elapsed_ns=self._clock() - t0
        )

    def _read_rung(self, gray: np.ndarray, rung: Rung) -> list[DecodedCode]:
        prepared = rung.prepare(gray)
        if prepared is None:
            return []
        image, back = prepared
        barcodes = zxingcpp.read_barcodes(
            np.ascontiguousarray(image),
            formats=self.formats,
            text_mode=zxingcpp.TextMode.Plain,
            binarizer=rung.binarizer,
            ean_add_on_symbol=zxingcpp.EanAddOnSymbol.Read,
        )
        out = []
        for bc in barcodes:
            corners = _corners(bc.position, back)
            out.append(
                DecodedCode(
                    text=bc.text,
                    payload=bytes(bc.bytes),
                    format=bc.format.name,
                    corners=corners,
                    binary=bc.content_type in _BINARY_CONTENT,
                    quality=round(rung.weight * symbol_grade(gray, corners), 1),
                    attempt=rung.name,
                )
            )
        return out


def _corners(
    position: zxingcpp.Position, back: np.ndarray | None
) -> tuple[tuple[float, float], ...]:
    pts = np.array(
        [
            [p.x, p.y]
            for p in (
                position.top_left,
                position.top_right,
                position.bottom_right,
                position.bottom_left,
            )
        ],
        dtype=np.float64,
    )
    if back is not None:
        pts = pts @ back[:, :2].T + back[:, 2]
    return tuple((float(x), float(y)) for x, y in pts)


def _same_symbol(a: DecodedCode, b: DecodedCode) -> bool:
    """Whether two reads (from different rungs) are the same printed symbol."""
    if a.text != b.text or a.format != b.format:
        return False
    xs = [p[0] for p in b.corners]
    ys = [p[1] for p in b.corners]
    cx = sum(p[0] for p in a.corners) / 4.0
    cy = sum(p[1] for p in a.corners) / 4.0
    # 1D codes report a line (zero height): allow a margin of a few pixels around the box.
    margin = 4.0
    return min(xs) - margin <= cx <= max(xs) + margin and min(ys) - margin <= cy <= max(ys) + margin


def symbol_grade(gray: np.ndarray, corners: Sequence[tuple[float, float]]) -> float:
    """0–100 from contrast and edge sharpness in the bounding box of ``corners`` (input pixels)."""
    h, w = gray.shape
    xs = [p[0] for p in corners]
    ys = [p[1] for p in corners]
    # Linear codes report a scan line; give the box some height so it covers the bars.
    pad = max(3.0, 0.1 * (max(xs) - min(xs)), 0.1 * (max(ys) - min(ys)))
    x0, x1 = int(max(min(xs) - pad, 0)), int(min(max(xs) + pad + 1, w))
    y0, y1 = int(max(min(ys) - pad, 0)), int(min(max(ys) + pad + 1, h))
    box = gray[y0:y1, x0:x1]
    if box.shape[0] < 3 or box.shape[1] < 3:
        return 0.0
    # Percentiles from the 256-bin histogram and a partial sort: np.percentile costs ~10× more.
    cdf = np.cumsum(np.bincount(box.ravel(), minlength=256))
    n = int(cdf[-1])
    p5 = int(np.searchsorted(cdf, 0.05 * n))
    p95 = int(np.searchsorted(cdf, 0.95 * n))
    span = float(p95 - p5)
    if span <= 0.0:
        return 0.0
    gx = cv2.Sobel(box, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(box, cv2.CV_32F, 0, 1, ksize=3)
    mag = cv2.magnitude(gx, gy).ravel()
    k = int(0.99 * (mag.size - 1))
    grad = float(np.partition(mag, k)[k])
    contrast = span / 255.0
    sharpness = min(grad / (4.0 * span), 1.0)
    return 100.0 * (0.5 * contrast + 0.5 * sharpness)
