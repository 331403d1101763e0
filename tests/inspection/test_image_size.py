"""Image sizes read from file headers, and the stated limit on what Lineside takes in."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from inspection.image_size import MAX_IMAGE_PIXELS, file_too_large, header_size, too_large

SHAPES = [(23, 37), (480, 640), (1, 1), (23, 37, 3)]
SUFFIXES = [".png", ".jpg", ".bmp", ".tif", ".pgm", ".ppm", ".pbm"]
# PPM holds colour only, PGM and PBM grey only
CASES = [
    (suffix, shape)
    for suffix in SUFFIXES
    for shape in SHAPES
    if suffix not in (".ppm", ".pgm", ".pbm") or (suffix == ".ppm") == (len(shape) == 3)
]


@pytest.mark.parametrize(("suffix", "shape"), CASES)
def test_the_header_gives_the_size_opencv_wrote(
    tmp_path: Path, suffix: str, shape: tuple[int, ...]
) -> None:
    image = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    path = tmp_path / f"image{suffix}"
    assert cv2.imwrite(str(path), image)
    assert header_size(path) == (shape[1], shape[0])


def test_progressive_jpeg_and_16_bit_tiff(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    jpg = tmp_path / "p.jpg"
    cv2.imwrite(
        str(jpg), rng.integers(0, 256, (100, 200, 3), np.uint8), [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]
    )
    tif = tmp_path / "d.tif"
    cv2.imwrite(str(tif), rng.integers(0, 65535, (30, 40), np.uint16))
    assert (header_size(jpg), header_size(tif)) == ((200, 100), (40, 30))


def test_damaged_or_unknown_headers_give_no_size(tmp_path: Path) -> None:
    for name, data in {
        "empty.png": b"",
        "short.png": b"\x89PNG\r\n\x1a\n\x00\x00",
        "text.jpg": b"\xff\xd8 not a jpeg at all",
        "noise.tif": b"II*\x00\xff\xff\xff\x7f",
        "words.txt": b"hello",
    }.items():
        path = tmp_path / name
        path.write_bytes(data)
        assert header_size(path) is None, name
        assert file_too_large(path) is None, name


def test_the_limit_is_50_megapixels_and_stated() -> None:
    assert MAX_IMAGE_PIXELS == 50_000_000
    assert too_large(7071, 7071) is None
    assert too_large(7072, 7072) == ("image is 7072×7072 px (50.0 MP), above the limit of 50 MP")


def test_a_huge_png_is_refused_from_its_header(tmp_path: Path) -> None:
    ihdr = b"IHDR" + struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0)
    path = tmp_path / "huge.png"
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + ihdr + struct.pack(">I", zlib.crc32(ihdr))
    )
    assert file_too_large(path) == "image is 20000×20000 px (400.0 MP), above the limit of 50 MP"
