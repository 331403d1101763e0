"""The decode ladder: a plain zxing-cpp read first, then bounded retries for hard images.

Each rung prepares the grey image differently (another binarizer, contrast normalisation,
scaling, blur, rotation) and reads it again. The ladder stops at the first rung after which
enough codes are known, and never starts a rung once the time budget is spent or that would
overrun it (one zxing-cpp call cannot be interrupted, so its cost is predicted from the pixels it
reads: ``PLAIN_READ_NS_PER_PIXEL`` before the first read, then this image's own measured rate).
An image whose plain read alone would overrun the budget is read downscaled to what the budget
affords (never below ``MIN_DOWNSCALED_PIXELS``), and the outcome says by how much. Rungs are
ordered by what paid off on zxing-cpp's own sample images (see ``lineside eval codes``); they
live in ``codes_rungs``.

A misread is worse than a no-read on a line, so a linear code that only a retry rung read is
reported only once a second, different step confirms it (``codes_confirm``), and EAN-2/EAN-5
add-ons are ignored unless the recipe asks for them (``add_on``).

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

import dataclasses
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp

from inspection.tools.codes_confirm import (
    Ballot,
    Corners,
    ReadStep,
    Vote,
    confirm_on_crop,
    needs_confirmation,
    quiet_zones_clear,
    same_place,
)
from inspection.tools.codes_rungs import CONFIRM_RUNGS, RUNGS, Prepared, Rung

log = logging.getLogger(__name__)

_BINARY_CONTENT = frozenset(
    {zxingcpp.ContentType.Binary, zxingcpp.ContentType.Mixed, zxingcpp.ContentType.UnknownECI}
)


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
    unconfirmed: int = 0
    """Retry reads dropped: no second step confirmed them, or bars ran on past their ends."""
    confirm_steps: int = 0
    """Confirmation reads run on crops around retry reads."""
    scale: float = 1.0
    """Factor the image was downscaled by to fit the budget (1.0: read at full size)."""
    skipped: int = 0
    """Retry rungs not started because their predicted time exceeded what was left."""


PLAIN_READ_NS_PER_PIXEL = 60.0
"""CPU ns a plain zxing-cpp read takes per pixel, before a read measured it: 38–72 ns/px on a
busy 2-core box for 1–50 MP frames (≈ 45 on printed structure, ≈ 57 on pure noise, the worst
case), rounded up so a prediction errs on the safe side."""

RUNG_MARGIN = 1.25
"""A retry rung's predicted time is the plain read's rate × its pixels × this: its preparation
(CLAHE, blur, threshold) and confirmations cost on top of the read itself."""

MIN_DOWNSCALED_PIXELS = 2_000_000
"""Downscaling to fit the budget stops here: below it, codes shrink faster than time is saved."""


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


ADD_ON_MODES = {
    "ignore": zxingcpp.EanAddOnSymbol.Ignore,
    "read": zxingcpp.EanAddOnSymbol.Read,
    "require": zxingcpp.EanAddOnSymbol.Require,
}
"""How EAN-2/EAN-5 add-ons beside an EAN/UPC code are treated: ignored (the default: printed
digits beside a code must never lengthen it), read and appended when present, or required."""


class CodeReader:
    """Reads codes of the given formats from grey images with the decode ladder.

    A code the first (plain) step reads counts at once. A linear code that only a retry step
    reads counts once a second, different step confirms it (see ``codes_confirm``).
    One instance per worker thread (it holds no image state, but is not meant to be shared).
    """

    def __init__(
        self,
        formats: Sequence[str] | None,
        *,
        retries: bool = True,
        add_on: str = "ignore",
        rungs: Sequence[Rung] = RUNGS,
        clock: Callable[[], int] = time.thread_time_ns,
    ) -> None:
        self.formats = parse_formats(formats)
        if add_on not in ADD_ON_MODES:
            raise ValueError(f"unknown add-on mode {add_on!r}; one of {', '.join(ADD_ON_MODES)}")
        self._add_on = ADD_ON_MODES[add_on]
        self.rungs: tuple[Rung, ...] = tuple(rungs) if retries else tuple(rungs[:1])
        if not self.rungs:
            raise ValueError("the decode ladder needs at least one rung")
        self._confirm_rungs = (*self.rungs, *CONFIRM_RUNGS)
        self._clock = clock

    def read(self, gray: np.ndarray, *, min_count: int, budget_ms: float) -> ReadOutcome:
        """Read ``gray`` (uint8 (H, W)); stop once ``min_count`` codes are known or time is up.

        The first rung always runs (on a downscaled copy when its predicted time alone exceeds
        the budget); later rungs and confirmation steps start only while less than ``budget_ms``
        ms of this thread's CPU time have been spent, and a rung whose predicted time exceeds
        what is left is skipped: a busy machine (OCR on the other core, the GUI) must not make a
        readable code fail for lack of wall-clock time. A retry read still unconfirmed when the
        budget ends is not reported. Corners come back in ``gray``'s pixels.
        """
        t0 = self._clock()
        budget_ns = int(budget_ms * 1e6)

        def time_left() -> bool:
            return self._clock() - t0 < budget_ns

        gray, scale = fit_to_budget(np.ascontiguousarray(gray), budget_ns)
        found: list[DecodedCode] = []
        pending: list[DecodedCode] = []
        refused: list[DecodedCode] = []
        ballot = Ballot()
        attempts = confirm_steps = skipped = 0
        done = last = ""
        ns_per_pixel: float | None = None  # the plain read's, measured on this image
        for rung in self.rungs:
            prepared: Prepared | None = None
            if attempts:
                spent = self._clock() - t0
                if spent >= budget_ns:
                    log.debug("code read stopped after %d attempts: budget spent", attempts)
                    break
                if ns_per_pixel is None:
                    ns_per_pixel = spent / max(gray.size, 1)
                prepared = rung.prepare(gray)
                if prepared is None:  # the rung does not apply to this image
                    attempts += 1
                    continue
                if RUNG_MARGIN * prepared[0].size * ns_per_pixel > budget_ns - spent:
                    skipped += 1  # it would overrun, and a zxing-cpp call cannot be stopped
                    continue
            attempts += 1
            last = rung.name
            for code in self._read_rung(gray, rung, prepared, known=found):
                if attempts == 1 or not needs_confirmation(code.format):
                    found.append(code)
                    continue
                ballot.vote(rung.name, code.text, code.format, code.corners)
                if any(_same_symbol(code, p) for p in (*pending, *refused)):
                    continue
                if quiet_zones_clear(gray, code.corners, code.format, code.text):
                    pending.append(code)
                    confirm_steps += self._confirm(ballot, code, gray, time_left)
                else:
                    # Bars run on past its ends: a short symbol read inside a longer one.
                    refused.append(code)
            for code in [p for p in pending if ballot.confirmed(p.text, p.format, p.corners)]:
                pending.remove(code)
                if not any(_same_symbol(code, seen) for seen in found):
                    found.append(code)
            if len(found) >= max(min_count, 1):
                done = rung.name
                break
        if not done and min_count <= 0:
            done = last
        if pending or refused:
            log.debug("unconfirmed retry reads dropped: %s", [p.text for p in (*pending, *refused)])
        if scale != 1.0:
            found = [_scaled_back(c, scale) for c in found]
        return ReadOutcome(
            codes=tuple(found),
            attempts=attempts,
            attempt=done,
            elapsed_ns=self._clock() - t0,
            unconfirmed=len(pending) + len(refused),
            confirm_steps=confirm_steps,
            scale=scale,
            skipped=skipped,
        )

    def _confirm(
        self, ballot: Ballot, code: DecodedCode, gray: np.ndarray, time_left: Callable[[], bool]
    ) -> int:
        steps = [(r.name, self._reader_for(r)) for r in self._confirm_rungs]
        vote = Vote(step=code.attempt, text=code.text, format=code.format, corners=code.corners)
        return confirm_on_crop(ballot, vote, gray, steps, time_left)

    def _reader_for(self, rung: Rung) -> ReadStep:
        def read(patch: np.ndarray) -> list[tuple[str, str, Corners]]:
            return [(bc.text, bc.format.name, corners) for bc, corners in self._decode(patch, rung)]

        return read

    def _read_rung(
        self,
        gray: np.ndarray,
        rung: Rung,
        prepared: Prepared | None = None,
        *,
        known: Sequence[DecodedCode] = (),
    ) -> list[DecodedCode]:
        """The codes ``rung`` reads that are not ``known`` already, graded. Codes known are
        left out before grading: while the ladder climbs for a damaged code, every rung reads
        the good ones again, and grading each of them again cost ~10 % of the climb."""
        out = []
        for bc, corners in self._decode(gray, rung, prepared):
            code = DecodedCode(
                text=bc.text,
                payload=bytes(bc.bytes),
                format=bc.format.name,
                corners=corners,
                binary=bc.content_type in _BINARY_CONTENT,
                quality=0.0,
                attempt=rung.name,
            )
            if any(_same_symbol(code, seen) for seen in known):
                continue
            grade = round(rung.weight * symbol_grade(gray, corners), 1)
            out.append(dataclasses.replace(code, quality=grade))
        return out

    def _decode(
        self, gray: np.ndarray, rung: Rung, prepared: Prepared | None = None
    ) -> list[tuple[zxingcpp.Barcode, Corners]]:
        """What zxing-cpp reads after ``rung`` prepares ``gray`` (or in ``prepared``, when the
        ladder already prepared it to predict the read's time)."""
        prepared = prepared or rung.prepare(gray)
        if prepared is None:
            return []
        image, back = prepared
        barcodes = zxingcpp.read_barcodes(
            np.ascontiguousarray(image),
            formats=self.formats,
            text_mode=zxingcpp.TextMode.Plain,
            binarizer=rung.binarizer,
            ean_add_on_symbol=self._add_on,
        )
        reads = [(bc, _corners(bc.position, back)) for bc in barcodes]
        if self._add_on == zxingcpp.EanAddOnSymbol.Read:
            reads = _without_bare_duplicates(reads)
        return reads


def fit_to_budget(gray: np.ndarray, budget_ns: int) -> tuple[np.ndarray, float]:
    """``gray`` downscaled so a plain read is predicted to fit ``budget_ns`` of CPU time, and the
    factor (1.0: unchanged). Never below ``MIN_DOWNSCALED_PIXELS``: a small image is read whole."""
    pixels = gray.size
    if pixels <= MIN_DOWNSCALED_PIXELS or pixels * PLAIN_READ_NS_PER_PIXEL <= budget_ns:
        return gray, 1.0
    # 80 %: the resize and the quality measure take their share of the budget too
    target = max(0.8 * budget_ns / PLAIN_READ_NS_PER_PIXEL, MIN_DOWNSCALED_PIXELS)
    scale = math.sqrt(target / pixels)
    h, w = gray.shape
    size = (max(round(w * scale), 1), max(round(h * scale), 1))
    log.debug("code read: %d×%d px downscaled by %.3f to fit %.0f ms", w, h, scale, budget_ns / 1e6)
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA), scale


def _scaled_back(code: DecodedCode, scale: float) -> DecodedCode:
    """``code`` with its corners in the pixels of the image before ``fit_to_budget``."""
    corners = tuple((x / scale, y / scale) for x, y in code.corners)
    return dataclasses.replace(code, corners=corners)


def _corners(position: zxingcpp.Position, back: np.ndarray | None) -> Corners:
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


def _without_bare_duplicates(
    reads: list[tuple[zxingcpp.Barcode, Corners]],
) -> list[tuple[zxingcpp.Barcode, Corners]]:
    """``reads`` less an EAN/UPC read without its add-on when the same symbol came with it.

    zxing-cpp scans several lines: one above the shorter add-on bars gives the main code alone.
    With add-ons asked for, that bare read is the same symbol, not a second code that disagrees.
    """

    def bare(bc: zxingcpp.Barcode, corners: Corners) -> bool:
        return any(
            other.format == bc.format
            and len(other.text) - len(bc.text) in (2, 5)
            and other.text.startswith(bc.text)
            and (same_place(corners, where) or same_place(where, corners))
            for other, where in reads
        )

    return [(bc, corners) for bc, corners in reads if not bare(bc, corners)]


def _same_symbol(a: DecodedCode, b: DecodedCode) -> bool:
    """Whether two reads (from different rungs) are the same printed symbol."""
    return a.text == b.text and a.format == b.format and same_place(a.corners, b.corners)


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
