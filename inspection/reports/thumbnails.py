"""Small JPEG thumbnails of archived part images, shared by the xlsx and pdf writers.

Archived frames can be megapixels; embedding them whole would make a report tens of MB, so
each writer embeds a thumbnail made here instead."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from inspection.reports.figures import RejectRow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """A reject's image shrunk to fit a box: JPEG bytes and their size in pixels."""

    index: int
    """Position of the reject in ``ShiftReport.rejects``."""
    jpeg: bytes
    width: int
    height: int


def make_thumbnail(path: Path, box: tuple[int, int]) -> tuple[bytes, int, int] | None:
    """``path`` shrunk to fit ``box`` (width, height in px) as JPEG; None if unreadable."""
    try:
        with Image.open(path) as image:
            image.draft("RGB", box)  # JPEG: decode at a reduced scale, much faster for big frames
            small = image.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        # A damaged archive file must not stop the report; its path is still listed.
        log.warning("report: no thumbnail for %s: %s", path, exc)
        return None
    small.thumbnail(box)
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=80)
    return out.getvalue(), small.width, small.height


def reject_thumbnails(
    rejects: Sequence[RejectRow], limit: int, box: tuple[int, int]
) -> Iterator[Thumbnail]:
    """Thumbnails of the first ``limit`` rejects whose image file exists and reads, in order.

    Stops looking once ``limit`` are made, so a day of 40,000 rejects costs ``limit`` reads."""
    made = 0
    for index, row in enumerate(rejects):
        if made >= limit:
            return
        if not row.image_path:
            continue
        path = Path(row.image_path)
        if not path.is_file():
            continue
        thumb = make_thumbnail(path, box)
        if thumb is None:
            continue
        made += 1
        yield Thumbnail(index, *thumb)
