"""A stored part's whole frame from one camera: to draw a tool's ROI on what the camera saw.

The archive keeps ``<inspection id>__<camera>.jpg`` per camera (or only ROI crops, which are no
use for placing a ROI). A part is found by its inspection id, or as the newest archived part of
a recipe that kept a whole frame of the camera.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspection.errors import StorageError
from inspection.storage.archive import part_file_stem, read_archived

log = logging.getLogger(__name__)

# Newest archived parts looked at for one with a whole frame of the camera (the others may have
# kept ROI crops only, or a file purged since).
LOOK_BACK = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredFrame:
    """A camera's archived whole frame of one part. ``image``: uint8 (H, W) grey or (H, W, 3)
    BGR, as the archive wrote it."""

    inspection_id: str
    camera: str
    path: Path
    image: np.ndarray


def frame_file(archive_root: Path, image_path: str, inspection_id: str, camera: str) -> Path:
    """Where the archive keeps the whole frame of ``camera`` for the part whose first archived
    file is ``image_path`` (relative to ``archive_root``)."""
    first = archive_root / image_path
    return first.parent / f"{part_file_stem(inspection_id, camera)}{first.suffix}"


def _read(path: Path) -> np.ndarray | None:
    image = read_archived(path)
    if image is None and path.is_file():
        log.warning("archived image %s could not be read", path)
    return image


def stored_frame(
    conn: sqlite3.Connection,
    archive_root: Path,
    camera: str,
    *,
    inspection_id: str | None = None,
    recipe_name: str | None = None,
) -> StoredFrame:
    """The whole frame of ``camera`` kept for part ``inspection_id``, or (None) for the newest
    archived part of ``recipe_name`` (any recipe when None) that kept one.

    Raises StorageError saying why there is none (no such part, no image kept, ROI crops only).
    """
    if inspection_id is not None:
        row = conn.execute(
            "SELECT image_path FROM inspections WHERE inspection_id = ?", (inspection_id,)
        ).fetchone()
        if row is None:
            raise StorageError(f"part {inspection_id} is not in the results database")
        if not row[0]:
            raise StorageError(f"no image was kept of part {inspection_id}")
        path = frame_file(archive_root, str(row[0]), inspection_id, camera)
        image = _read(path)
        if image is None:
            raise StorageError(
                f"part {inspection_id}: no whole frame of camera {camera} is kept (ROI crops "
                "only, or purged since)"
            )
        return StoredFrame(inspection_id=inspection_id, camera=camera, path=path, image=image)
    where = "image_path IS NOT NULL"
    args: tuple[str, ...] = ()
    if recipe_name is not None:
        where, args = f"{where} AND recipe_name = ?", (recipe_name,)
    rows = conn.execute(
        f"SELECT inspection_id, image_path FROM inspections WHERE {where} "
        "ORDER BY wall_time DESC LIMIT ?",
        (*args, LOOK_BACK),
    ).fetchall()
    for part_id, image_path in rows:
        path = frame_file(archive_root, str(image_path), str(part_id), camera)
        image = _read(path)
        if image is not None:
            return StoredFrame(inspection_id=str(part_id), camera=camera, path=path, image=image)
    of = f" of recipe {recipe_name}" if recipe_name is not None else ""
    raise StorageError(f"no stored part{of} has a whole frame of camera {camera}")
