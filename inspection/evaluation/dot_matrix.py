"""Lot and expiry codes as dot-matrix and continuous-inkjet (CIJ) coders print them, with the
text known: the development set for the label tool's ``print: dot_matrix`` fields.

Each sample is one code line on a small crop of its pack (paper label, kraft carton, or a can
with its curved highlight), printed as separate dots from the 5×7 font in ``dot_font``: dot pitch
and size vary, dots smear along the print direction, drift, go missing, the ink runs light, the
line is slanted and turned, then the camera blurs, adds noise and JPEG-compresses. Seeded: the
same seed gives the same set.
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from inspection.evaluation.dot_font import GLYPH_COLS, GLYPH_ROWS, glyph

log = logging.getLogger(__name__)

# Rendering is done this many times finer, then averaged down: dots land between pixels.
_SUPERSAMPLE = 4
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


@dataclass(frozen=True, slots=True, kw_only=True)
class DotPrintSample:
    """One rendered code: ``image`` uint8 (H, W, 3) BGR as decoded from its JPEG, ``jpeg`` the
    encoded bytes, ``text`` what is printed, ``dots`` float64 (N, 2) x, y image px of every dot
    printed (missing dots left out), ``pitch_px`` the distance between neighbouring dot
    centres (the closer of up a column and along a row), ``row_pitch_px`` / ``column_pitch_px``
    the spacing of the font's rows and columns, ``dot_px`` a dot's mean diameter across the
    print direction, ``printer`` ``dot_matrix`` or ``cij``, ``surface`` what it is printed on."""

    image: np.ndarray
    jpeg: bytes
    text: str
    dots: np.ndarray
    pitch_px: float
    row_pitch_px: float
    column_pitch_px: float
    dot_px: float
    printer: str
    surface: str


def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(d) for d in rng.integers(0, 10, n))


def _code_text(rng: np.random.Generator) -> str:
    """A lot, expiry or best-before line as coders print them."""
    year = int(rng.integers(2025, 2031))
    month = int(rng.integers(1, 13))
    day = int(rng.integers(1, 29))
    letter = _LETTERS[int(rng.integers(len(_LETTERS)))]
    kind = int(rng.integers(8))
    if kind == 0:
        return f"LOT {letter}{_digits(rng, 4)}"
    if kind == 1:
        return f"EXP {year}-{month:02d}"
    if kind == 2:
        return (
            f"BB {day:02d}/{year % 100:02d} {int(rng.integers(24)):02d}:{int(rng.integers(60)):02d}"
        )
    if kind == 3:
        return f"L{year % 10}{int(rng.integers(1, 366)):03d}{letter}"
    if kind == 4:
        return f"{day:02d} {_MONTHS[month - 1]} {year % 100:02d}"
    if kind == 5:
        return f"EXP {day:02d}.{month:02d}.{year}"
    if kind == 6:
        return f"BEST BEFORE {month:02d}/{year}"
    return f"{letter}{_digits(rng, 2)} {int(rng.integers(24)):02d}:{int(rng.integers(60)):02d}"


def _background(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, str]:
    """float32 (h, w, 3) BGR 0..255 surface and its name."""
    surface = ("paper", "carton", "can")[int(rng.integers(3))]
    noise = rng.normal(0.0, 1.0, (h, w)).astype(np.float32)
    if surface == "paper":
        base = np.array([rng.uniform(215, 250)] * 3, np.float32) - rng.uniform(0, 12, 3)
        tex = cv2.GaussianBlur(noise, (0, 0), 1.2) * 4.0
    elif surface == "carton":
        base = np.array(
            [rng.uniform(90, 140), rng.uniform(135, 175), rng.uniform(165, 210)], np.float32
        )
        # fibres run along the board: noise stretched one way
        fibres = cv2.GaussianBlur(noise, (0, 0), sigmaX=rng.uniform(3, 8), sigmaY=0.8)
        tex = fibres / (fibres.std() + 1e-6) * rng.uniform(5, 12)
        specks = rng.random((h, w)) < 0.004
        tex = tex - specks.astype(np.float32) * rng.uniform(20, 50)
    else:
        base = np.array([rng.uniform(120, 200)] * 3, np.float32) + rng.uniform(-20, 20, 3)
        tex = cv2.GaussianBlur(noise, (0, 0), 0.8) * 3.0
    out = np.empty((h, w, 3), np.float32)
    out[:] = base
    out += tex[:, :, None]
    if surface == "can":
        # a can's axis runs across the print: brightness follows its curvature, with a highlight
        x = np.linspace(-1.0, 1.0, w, dtype=np.float32)
        centre = rng.uniform(-0.6, 0.6)
        shade = 0.75 + 0.25 * np.cos((x - centre) * rng.uniform(0.8, 1.6))
        glint = np.exp(-(((x - centre) / rng.uniform(0.05, 0.2)) ** 2)) * rng.uniform(30, 80)
        out = out * shade[None, :, None] + glint[None, :, None]
    return np.clip(out, 0, 255), surface


def render_dot_print(
    rng: np.random.Generator, *, text: str | None = None, row_pitch: float | None = None
) -> DotPrintSample:
    """One dot-printed code (see module doc); ``text`` default: a random lot/expiry line;
    ``row_pitch`` (px between a column's dots) default: 3 to 9 px."""
    text = text if text is not None else _code_text(rng)
    printer = "cij" if rng.random() < 0.5 else "dot_matrix"
    drawn_pitch = rng.uniform(3.0, 9.0)  # drawn even when given: the same stream either way
    row_pitch = row_pitch if row_pitch is not None else drawn_pitch
    col_pitch = row_pitch * rng.uniform(0.8, 1.4)
    dot = row_pitch * rng.uniform(0.5, 0.9)
    smear = rng.uniform(1.0, 1.6) if printer == "cij" else rng.uniform(1.0, 1.15)
    scatter = (0.12 if printer == "cij" else 0.05) * row_pitch
    missing = rng.uniform(0.0, 0.05)
    slant = rng.uniform(-0.15, 0.15)
    angle = math.radians(rng.uniform(-4.0, 4.0))
    slashed_zero = bool(rng.random() < 0.5)

    # dot centres in print coordinates (x along the line, y down), then slanted and turned
    dots: list[tuple[float, float]] = []
    for i, ch in enumerate(text.upper()):
        g = glyph(ch, slashed_zero=slashed_zero)
        for r, c in zip(*np.nonzero(g), strict=True):
            if rng.random() < missing:
                continue
            dots.append(((i * (GLYPH_COLS + 1) + c) * col_pitch, r * row_pitch))
    pts = np.array(dots, np.float64).reshape(-1, 2)
    pts += rng.normal(0.0, scatter, pts.shape)
    pts[:, 0] -= slant * (pts[:, 1] - GLYPH_ROWS * row_pitch / 2)
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    pts = pts @ rot.T
    text_h = GLYPH_ROWS * row_pitch
    margin_x = text_h * rng.uniform(0.5, 1.5)
    margin_y = text_h * rng.uniform(0.5, 1.2)
    lo = pts.min(axis=0) if len(pts) else np.zeros(2)
    hi = pts.max(axis=0) if len(pts) else np.zeros(2)
    pts = pts - lo + [margin_x, margin_y]
    w = round(hi[0] - lo[0] + 2 * margin_x)
    h = round(hi[1] - lo[1] + 2 * margin_y)

    # ink coverage, drawn fine and averaged down; each dot a little different in size and ink
    s = _SUPERSAMPLE
    cover = np.zeros((h * s, w * s), np.float32)
    for x, y in pts:
        size = dot * rng.uniform(0.8, 1.2) * s / 2
        ink = rng.uniform(0.7, 1.0)
        cv2.ellipse(
            cover,
            (round(x * s), round(y * s)),
            (max(1, round(size * smear)), max(1, round(size))),
            math.degrees(angle),
            0,
            360,
            ink,
            -1,
            cv2.LINE_AA,
        )
    cover = cv2.resize(np.minimum(cover, 1.0), (w, h), interpolation=cv2.INTER_AREA)

    bg, surface = _background(rng, h, w)
    ink_colour = np.array(
        [rng.uniform(10, 70), rng.uniform(10, 50), rng.uniform(10, 50)], np.float32
    )
    strength = rng.uniform(0.55, 1.0)  # light ink: the dots only part-way to the ink colour
    a = (cover * strength)[:, :, None]
    img = bg * (1 - a) + ink_colour * a
    sigma = rng.uniform(0.0, 0.2 * row_pitch)
    if sigma > 0.3:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    img += rng.normal(0.0, rng.uniform(1.5, 6.0), img.shape).astype(np.float32)
    img8 = np.clip(img, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", img8, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(35, 91))])
    if not ok:
        raise RuntimeError("JPEG encoding of a generated code failed")
    jpeg = buf.tobytes()
    decoded = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if decoded is None:
        raise RuntimeError("JPEG decoding of a generated code failed")
    pitch = min(row_pitch * math.hypot(1.0, slant), col_pitch)
    return DotPrintSample(
        image=decoded,
        jpeg=jpeg,
        text=text,
        dots=pts,
        pitch_px=pitch,
        row_pitch_px=row_pitch,
        column_pitch_px=col_pitch,
        dot_px=dot,
        printer=printer,
        surface=surface,
    )


def generate_dot_print(count: int, seed: int = 1) -> Iterator[DotPrintSample]:
    """``count`` dot-printed codes, the same ones for the same ``seed``."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    rng = np.random.default_rng(seed)
    for _ in range(count):
        yield render_dot_print(rng)


def write_dot_print_set(
    folder: Path,
    count: int,
    seed: int = 1,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write ``count`` codes as ``images/NNNN.jpg`` and ``gt.tsv`` (image, text, pitch_px,
    dot_px, printer, surface) into ``folder``, the layout ``lineside eval ocr --data`` reads;
    returns the ``gt.tsv`` path."""
    folder = Path(folder)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    gt = folder / "gt.tsv"
    with gt.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, delimiter="\t", lineterminator="\n")
        out.writerow(["image", "text", "pitch_px", "dot_px", "printer", "surface"])
        for i, sample in enumerate(generate_dot_print(count, seed)):
            name = f"images/{i:04d}.jpg"
            (folder / name).write_bytes(sample.jpeg)
            out.writerow(
                [
                    name,
                    sample.text,
                    f"{sample.pitch_px:.2f}",
                    f"{sample.dot_px:.2f}",
                    sample.printer,
                    sample.surface,
                ]
            )
            if progress is not None:
                progress(i + 1, count)
    log.info("%d dot-printed codes (seed %d) written to %s", count, seed, folder)
    return gt
