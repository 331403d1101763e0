"""Hard retail code photos with known content: EAN-13, UPC-A, UPC-E and EAN-8, photographed badly.

A printed symbol (zxing-cpp's writer, digits printed under the bars, sometimes an EAN-2/5 add-on
the label does not ask for, sometimes other digits printed beside it) is laid on a package
surface, then suffers what a phone or a line camera does to it: curvature (a can or bottle),
perspective, small rotation, uneven light, partial glare, low contrast, defocus or motion blur,
sensor noise, a low resolution and JPEG compression. Every image is labelled with the text
zxing-cpp's Plain mode gives for the clean print (the main code only: add-ons are not asked
for), so a decode that returns anything else is a misread.

``write_retail_codes(out, count, seed)`` writes zxing-cpp's sample layout (``<format>-1/<n>.png``
beside ``<n>.txt``) that ``lineside eval codes --data`` reads. Same seed, same images.
``python -m inspection.evaluation.retail_codes OUT [--count N] [--seed S]`` does it from a shell.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import zxingcpp

FORMATS = ("EAN13", "UPCA", "UPCE", "EAN8")
_DIGITS_IN = {"EAN13": 12, "UPCA": 11, "UPCE": 7, "EAN8": 7}
"""Digits given to the writer: it adds the check digit. UPC-E starts with the number system 0."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RetailCode:
    """One generated photo: uint8 (H, W) grey ``image`` and the text a correct read returns."""

    image: np.ndarray
    expected: str
    format: str
    add_on: str
    """Digits of the printed EAN-2/5 add-on ("" when none): the label never includes them."""


def retail_code(seed: int, fmt: str | None = None, *, severity: float = 1.0) -> RetailCode:
    """One hard photo of a random code of ``fmt`` (default: picked by ``seed``).

    ``severity`` scales every degradation (0 = a clean, straight print; 1 = the default mix).
    """
    rng = np.random.default_rng(seed)
    fmt = fmt or str(rng.choice(FORMATS))
    if fmt not in FORMATS:
        raise ValueError(f"unknown retail format {fmt!r}; one of {', '.join(FORMATS)}")
    add_on = ""
    if fmt in ("EAN13", "UPCA") and rng.random() < 0.25 * severity:
        add_on = "".join(str(d) for d in rng.integers(0, 10, int(rng.choice([2, 5]))))
    module = int(rng.integers(3, 6))
    for _ in range(50):
        try:
            printed, expected = _print(_random_digits(rng, fmt), fmt, add_on, module)
            break
        except ValueError:
            continue  # UPC-E zero suppression forbids some digit patterns: draw again
    else:
        raise RuntimeError(f"no printable {fmt} found for seed {seed}")
    scene = _on_package(printed, rng, severity)
    photo = _photograph(scene, rng, severity)
    return RetailCode(image=photo, expected=expected, format=fmt, add_on=add_on)


def write_retail_codes(out: Path, count: int, seed: int = 0, severity: float = 1.0) -> list[Path]:
    """Write ``count`` photos (formats in turn) with their labels under ``out``; return the images."""
    if count < 1:
        raise ValueError("count must be at least 1")
    written = []
    for i in range(count):
        fmt = FORMATS[i % len(FORMATS)]
        code = retail_code(seed * 1_000_003 + i, fmt, severity=severity)
        folder = out / f"{fmt.lower()}-1"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{i:04d}.png"
        if not cv2.imwrite(str(path), code.image):
            raise OSError(f"cannot write {path}")
        path.with_suffix(".txt").write_text(code.expected, encoding="utf-8")
        written.append(path)
    return written


def _random_digits(rng: np.random.Generator, fmt: str) -> str:
    n = _DIGITS_IN[fmt]
    digits = [int(d) for d in rng.integers(0, 10, n)]
    if fmt == "UPCE":
        digits[0] = 0  # number system 0: the one UPC-E that every reader accepts
    if fmt == "EAN13" and digits[0] == 0:
        digits[0] = int(rng.integers(1, 10))  # a leading 0 is a UPC-A, kept apart
    return "".join(str(d) for d in digits)


def _print(digits: str, fmt: str, add_on: str, module: int) -> tuple[np.ndarray, str]:
    """The printed symbol (white paper, black ink, digits below) and its clean Plain text."""
    content = digits + (" " + add_on if add_on else "")
    barcode = zxingcpp.create_barcode(content, getattr(zxingcpp.BarcodeFormat, fmt))
    image = np.asarray(zxingcpp.write_barcode_to_image(barcode, scale=module, add_hrt=True))
    image = np.pad(image, 6 * module, constant_values=255)
    # The label is what a clean read of the main code gives (add-ons ignored): checked here
    # so a writer change can never label an image wrongly.
    reads = zxingcpp.read_barcodes(
        image,
        formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.EANUPC),
        text_mode=zxingcpp.TextMode.Plain,
    )
    texts = {r.text for r in reads}
    if len(texts) != 1:
        raise RuntimeError(f"clean {fmt} print of {content!r} reads as {sorted(texts)}")
    return image, texts.pop()


def _on_package(printed: np.ndarray, rng: np.random.Generator, severity: float) -> np.ndarray:
    """The print on a grey package face, with other printing around it."""
    ph, pw = printed.shape
    h, w = int(ph * rng.uniform(1.6, 2.2)), int(pw * rng.uniform(1.3, 1.8))
    face = np.full((h, w), rng.uniform(120, 230), np.float32)
    face += cv2.GaussianBlur(rng.normal(0, 25, (h, w)).astype(np.float32), (0, 0), 9)
    y0, x0 = int(rng.integers(0, h - ph + 1)), int(rng.integers(0, w - pw + 1))
    face[y0 : y0 + ph, x0 : x0 + pw] = printed  # the white label patch the code is printed on
    face8 = np.clip(face, 0, 255).astype(np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    for _ in range(int(rng.integers(1, 4))):
        # Price tags, lot numbers: digits beside the code are where a spurious add-on comes from.
        text = "".join(str(d) for d in rng.integers(0, 10, int(rng.integers(2, 7))))
        scale = float(rng.uniform(0.6, 1.6)) * ph / 120.0
        org = (int(rng.integers(0, w)), int(rng.integers(int(20 * scale) + 1, h)))
        if y0 - 5 < org[1] < y0 + ph + 25 and x0 - 5 < org[0] < x0 + pw:
            continue  # never on the symbol itself: that would change the label
        cv2.putText(face8, text, org, font, scale, int(rng.integers(0, 80)), 2, cv2.LINE_AA)
    if rng.random() < 0.5 * severity:
        # A bar-like stripe of the package design beside the code.
        x = int(rng.choice([max(x0 - 8, 0), min(x0 + pw + 2, w - 4)]))
        cv2.rectangle(face8, (x, y0), (x + int(rng.integers(2, 6)), y0 + ph), 30, -1)
    return face8


def _photograph(scene: np.ndarray, rng: np.random.Generator, severity: float) -> np.ndarray:
    s = severity
    img = scene.astype(np.float32)
    h, w = img.shape
    if rng.random() < 0.5 * s:
        img = _curved(img, float(rng.uniform(0.15, 0.55) * s))
    img = _perspective(img, rng, 0.12 * s, float(rng.normal(0.0, 6.0 * s)))
    h, w = img.shape
    # Uneven light: a tilted plane times the image, then a glare spot that washes bars out.
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    gx, gy = rng.uniform(-0.5, 0.5, 2) * s
    light = 1.0 + gx * (xx / w - 0.5) + gy * (yy / h - 0.5)
    img = img * light
    if rng.random() < 0.35 * s:
        cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
        r = rng.uniform(0.06, 0.18) * w
        glare = np.exp(-(((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r)))
        img = img + glare * rng.uniform(120, 260)
    # Low contrast: the ink and paper levels squeezed towards a grey.
    lo, hi = float(rng.uniform(0, 90 * s)), float(rng.uniform(255 - 90 * s, 255))
    img = lo + np.clip(img, 0, 255) * (hi - lo) / 255.0
    sigma = float(rng.uniform(0.0, 2.2 * s))
    if sigma > 0.3:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    if rng.random() < 0.3 * s:
        img = _motion_blur(
            img, int(rng.integers(3, 3 + int(8 * s) + 1)), float(rng.uniform(0, 180))
        )
    # The camera sees the code small: modules of 1–2.5 px after this.
    factor = float(rng.uniform(0.35, 0.8)) if s > 0 else 1.0
    size = (max(int(w * factor), 16), max(int(h * factor), 16))
    img = np.asarray(cv2.resize(img, size, interpolation=cv2.INTER_AREA), np.float32)
    noisy = img + rng.normal(0.0, float(rng.uniform(1.0, 12.0 * s + 1.0)), img.shape)
    out = np.clip(noisy, 0, 255).astype(np.uint8)
    quality = int(rng.integers(max(95 - int(75 * s), 5), 96))
    ok, jpeg = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return np.asarray(cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE), np.uint8)


def _curved(img: np.ndarray, strength: float) -> np.ndarray:
    """The face wrapped round a cylinder whose axis is vertical: bars crowd towards the sides."""
    h, w = img.shape
    theta = np.linspace(-strength * np.pi / 2, strength * np.pi / 2, w, dtype=np.float32)
    src_x = (np.sin(theta) / np.sin(theta[-1]) + 1.0) * 0.5 * (w - 1)
    map_x = np.tile(src_x, (h, 1)).astype(np.float32)
    map_y = np.repeat(np.arange(h, dtype=np.float32)[:, None], w, axis=1)
    fill = float(np.median(img))
    return cv2.remap(img, map_x, map_y, cv2.INTER_LINEAR, borderValue=fill)


def _perspective(
    img: np.ndarray, rng: np.random.Generator, jitter: float, angle: float
) -> np.ndarray:
    h, w = img.shape
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    dst = src + rng.uniform(-jitter, jitter, (4, 2)) * np.array([w, h], np.float64)
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    dst = dst @ rot[:, :2].T + rot[:, 2]
    dst -= dst.min(axis=0)
    size = (int(dst[:, 0].max()) + 1, int(dst[:, 1].max()) + 1)
    m = cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32))
    fill = float(np.median(img))
    return np.asarray(
        cv2.warpPerspective(img, m, size, flags=cv2.INTER_LINEAR, borderValue=fill), np.float32
    )


def _motion_blur(img: np.ndarray, length: int, angle: float) -> np.ndarray:
    line = np.zeros((length, length), np.float32)
    line[length // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    kernel = np.asarray(cv2.warpAffine(line, rot, (length, length)), np.float32)
    return np.asarray(cv2.filter2D(img, -1, kernel / max(float(kernel.sum()), 1e-6)), np.float32)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m inspection.evaluation.retail_codes",
        description="Write hard EAN/UPC photos with labels (zxing-cpp sample layout).",
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--severity", type=float, default=1.0)
    args = parser.parse_args(argv)
    try:
        paths = write_retail_codes(args.out, args.count, args.seed, args.severity)
    except (ValueError, OSError) as exc:
        sys.stderr.write(f"retail_codes: {exc}\n")
        return 2
    sys.stderr.write(f"{len(paths)} images written under {args.out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
