"""The largest image Lineside takes in, and the header check that refuses bigger files unread.

A 20000 × 20000 px file decodes to 400 MB of pixels and kept the code reader busy for 13 s
against a 500 ms budget. Line cameras give 0.3–25 MP; ``MAX_IMAGE_PIXELS`` leaves room above
that and refuses the absurd at the edge (image files read by ``train``, ``eval`` and folder
sources; frames reaching the code tool), with a message naming the size and the limit.

The size is read from the file's header (PNG, JPEG, BMP, TIFF, PNM), so an absurd image is never
decoded; the header is parsed here rather than by Pillow, which warns about damage it reads past
and refuses above 179 MP without saying the size.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

MAX_IMAGE_PIXELS = 50_000_000
"""Largest image (width × height) read from a file or handed to the code reader: 50 MP."""

_JPEG_SIZE_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
"""Start-of-frame markers (baseline, progressive, lossless, arithmetic): they carry the size."""
_JPEG_MAX_SEGMENTS = 1000
_TIFF_MAX_ENTRIES = 4096


def size_text(width: int, height: int) -> str:
    """``"20000×20000 px (400.0 MP)"``."""
    return f"{width}×{height} px ({width * height / 1e6:.1f} MP)"


def too_large(width: int, height: int, limit: int = MAX_IMAGE_PIXELS) -> str | None:
    """Why an image of ``width`` × ``height`` px is refused, or None when it is within ``limit``."""
    if width * height <= limit:
        return None
    return f"image is {size_text(width, height)}, above the limit of {limit / 1e6:g} MP"


def file_too_large(path: Path, limit: int = MAX_IMAGE_PIXELS) -> str | None:
    """Why the image file at ``path`` is refused for its size, from its header alone; None when
    it is within ``limit`` or its header is not one read here (the decoder then judges it, and
    callers check the decoded size too)."""
    size = header_size(path)
    return None if size is None else too_large(*size, limit)


def header_size(path: Path) -> tuple[int, int] | None:
    """(width, height) px as the file's header states it (PNG, JPEG, BMP, TIFF, PGM/PPM/PBM);
    None for another format, a damaged header or an unreadable file."""
    try:
        with path.open("rb") as f:
            head = f.read(32)
            if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
                w, h = struct.unpack(">II", head[16:24])
                return int(w), int(h)
            if head[:2] == b"\xff\xd8":
                return _jpeg_size(f)
            if head[:2] == b"BM" and len(head) >= 26:
                return _bmp_size(head)
            if head[:4] in (b"II*\x00", b"MM\x00*"):
                return _tiff_size(f, "<" if head[:2] == b"II" else ">")
            if head[:1] == b"P" and head[1:2] in b"123456":
                return _pnm_size(head + f.read(480))
    except (OSError, ValueError, struct.error):  # a damaged header: the decoder judges
        return None
    return None


def _jpeg_size(f: BinaryIO) -> tuple[int, int] | None:
    f.seek(2)
    for _ in range(_JPEG_MAX_SEGMENTS):
        byte = f.read(1)
        while byte == b"\xff":  # fill bytes before a marker
            byte = f.read(1)
        if not byte:
            return None
        marker = byte[0]
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:
            continue  # markers without a length
        if marker in (0xD9, 0xDA):
            return None  # end of image or start of scan before any frame header
        length = struct.unpack(">H", f.read(2))[0]
        if marker in _JPEG_SIZE_MARKERS:
            _precision, h, w = struct.unpack(">BHH", f.read(5))
            return int(w), int(h)
        f.seek(length - 2, 1)
        byte = f.read(1)
        if byte != b"\xff":
            return None
        f.seek(-1, 1)
    return None


def _bmp_size(head: bytes) -> tuple[int, int]:
    (dib,) = struct.unpack("<I", head[14:18])
    if dib == 12:  # OS/2 BITMAPCOREHEADER: 16-bit sizes
        w, h = struct.unpack("<HH", head[18:22])
    else:
        w, h = struct.unpack("<ii", head[18:26])
    return abs(int(w)), abs(int(h))  # a negative height is a top-down bitmap


def _tiff_size(f: BinaryIO, order: str) -> tuple[int, int] | None:
    f.seek(4)
    (ifd,) = struct.unpack(order + "I", f.read(4))
    f.seek(ifd)
    (count,) = struct.unpack(order + "H", f.read(2))
    found: dict[int, int] = {}
    for _ in range(min(count, _TIFF_MAX_ENTRIES)):
        tag, kind, _n, value = struct.unpack(order + "HHI4s", f.read(12))
        if tag in (256, 257):
            if kind == 3:  # SHORT, left-justified in the value field
                found[tag] = struct.unpack(order + "H", value[:2])[0]
            elif kind == 4:  # LONG
                found[tag] = struct.unpack(order + "I", value)[0]
        if len(found) == 2:
            return found[256], found[257]
    return None


def _pnm_size(head: bytes) -> tuple[int, int] | None:
    tokens: list[bytes] = []
    for line in head.split(b"\n"):
        tokens += line.split(b"#", 1)[0].split()
        if len(tokens) >= 3:
            break
    if len(tokens) < 3 or not (tokens[1].isdigit() and tokens[2].isdigit()):
        return None
    return int(tokens[1]), int(tokens[2])


__all__ = ["MAX_IMAGE_PIXELS", "file_too_large", "header_size", "size_text", "too_large"]
