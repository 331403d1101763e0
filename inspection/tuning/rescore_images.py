"""Which archived file re-scoring reads for a part, and reading it as the tools take it.

The archive (inspection/storage/archive.py) keeps whole frames ``<id>__<camera>.jpg`` or, with
``roi_crops_only``, crops ``<id>__<camera>__<tool>.jpg``. A whole frame is scored as at
inspection; this tool's crop is put back where it was cut in a frame just large enough, so the
tool cuts exactly the crop again. Every reason a part cannot be scored is a value, never a crash.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from inspection.recipe import AnomalyToolSettings
from inspection.storage.archive import SEP, part_file_stem, read_archived, safe_name
from inspection.tools.base import image_problem

log = logging.getLogger(__name__)

# skip reasons, in the user's words
NO_FILE = "image file missing"
UNREADABLE = "image file unreadable"
OTHER_CROPS = "only other tools' ROI crops archived"
ALIGNED_CROP = "ROI crop only; the tool aligns to the part in the whole frame"


def archived_image_file(
    archive_dir: Path, image_path: str, inspection_id: str, camera: str, tool_id: str
) -> tuple[Path | None, bool, str]:
    """The archived file to re-score a part from: (path, is_crop, why not). The whole frame
    of ``camera`` when kept, else this tool's crop of it; (None, False, reason) otherwise."""
    folder = (Path(archive_dir) / image_path).parent
    base = part_file_stem(inspection_id, camera)
    crop_stem = part_file_stem(inspection_id, camera, tool_id)
    try:
        files = sorted(folder.glob(f"{safe_name(inspection_id)}{SEP}*"))
    except OSError:
        files = []
    if not files:
        return None, False, NO_FILE
    for f in files:
        if f.stem == base:
            return f, False, ""
    for f in files:
        if f.stem == crop_stem:
            return f, True, ""
    return None, False, OTHER_CROPS


def readable_archived(path: Path) -> np.ndarray | None:
    """The archived image as the tools take it; None when it cannot be read or used."""
    image = read_archived(path)
    return None if image is None or image_problem(image) is not None else image


def image_for(
    archive_dir: Path,
    image_path: str,
    inspection_id: str,
    camera: str,
    settings: AnomalyToolSettings,
) -> tuple[np.ndarray | None, str]:
    """The image to score the part with (uint8, as the tools take it), or None and why not."""
    path, is_crop, why = archived_image_file(
        archive_dir, image_path, inspection_id, camera, settings.id
    )
    if path is None:
        return None, why
    if is_crop and settings.align == "part":
        return None, ALIGNED_CROP
    image = readable_archived(path)
    if image is None:
        log.warning("re-score: cannot read %s; part %s skipped", path, inspection_id)
        return None, UNREADABLE
    if is_crop:
        # the crop is the ROI the tool cut: put it back where it was cut
        return _crop_frame(image, settings), ""
    return image, ""


def _crop_frame(image: np.ndarray, settings: AnomalyToolSettings) -> np.ndarray:
    # The tool cuts its ROI from the frame; a crop placed where it was cut, in a frame just large
    # enough, is cut back to exactly the crop.
    roi = settings.region()
    if roi is None:
        return image
    h, w = image.shape[:2]
    frame = np.zeros((roi.y + h, roi.x + w, *image.shape[2:]), dtype=np.uint8)
    frame[roi.y : roi.y + h, roi.x : roi.x + w] = image
    return frame
