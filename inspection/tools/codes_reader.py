"""The decode ladder: a plain zxing-cpp read first, then bounded retries for hard images.

Each rung prepares the grey image differently (another binarizer, contrast normalisation,
scaling, blur, rotation) and reads it again. The ladder stops at the first rung after which
enough codes are known, and never starts a rung once the time budget is spent. Rungs are
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

import logging
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
from inspection.tools.codes_rungs import CONFIRM_RUNGS, RUNGS, Rung

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

        The first rung always runs; later rungs and confirmation steps start only while less
        than ``budget_ms`` ms of this thread's CPU time have been spent: a busy machine (OCR on
        the other core, the GUI) must not make a readable code fail for lack of wall-clock time.
        A retry read still unconfirmed when the budget ends is not reported.
        """
        t0 = self._clock()
        budget_ns = int(budget_ms * 1e6)

        def time_left() -> bool:
            return self._clock() - t0 < budget_ns

        gray = np.ascontiguousarray(gray)
        found: list[DecodedCode] = []
        pending: list[DecodedCode] = []
        refused: list[DecodedCode] = []
        ballot = Ballot()
        attempts = confirm_steps = 0
        done = ""
        for rung in self.rungs:
            if attempts and not time_left():
                log.debug("code read stopped after %d attempts: budget spent", attempts)
                break
            attempts += 1
            for code in self._read_rung(gray, rung):
                if any(_same_symbol(code, seen) for seen in found):
                    continue
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
            done = self.rungs[attempts - 1].name
        if pending or refused:
            log.debug("unconfirmed retry reads dropped: %s", [p.text for p in (*pending, *refused)])
        return ReadOutcome(
            codes=tuple(found),
            attempts=attempts,
            attempt=done,
            elapsed_ns=self._clock() - t0,
            unconfirmed=len(pending) + len(refused),
            confirm_steps=confirm_steps,
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

    def _read_rung(self, gray: np.ndarray, rung: Rung) -> list[DecodedCode]:
        out = []
        for bc, corners in self._decode(gray, rung):
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

    def _decode(self, gray: np.ndarray, rung: Rung) -> list[tuple[zxingcpp.Barcode, Corners]]:
        prepared = rung.prepare(gray)
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
