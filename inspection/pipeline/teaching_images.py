"""Good (and bad) images for teaching, made to look as they would at inspection.

Image files are read the way a folder camera reads them (the size limit of ``image_size``
included) and get the camera's privacy masks, exactly as frames do at acquisition; frames from
the camera already have them. A tool's ROI must lie wholly inside every image it is taught on:
teaching on a clipped or empty ROI would teach the wrong thing without a word, so such images are
refused, named.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from inspection.errors import RecipeError
from inspection.pipeline.masks import PrivacyMask
from inspection.recipe import Recipe, ToolSettings
from inspection.sources.folder import read_image
from inspection.types import Region

log = logging.getLogger(__name__)

MAX_NAMED = 10
"""Images named in a refusal; the rest are counted."""


def camera_mask(recipe: Recipe, tool: ToolSettings) -> PrivacyMask:
    """The privacy masks of the camera ``tool`` watches."""
    camera = recipe.camera_for(tool)
    cam = next((c for c in recipe.cameras if c.id == camera), None)
    if cam is None:
        raise RecipeError(f"recipe {recipe.name}: tool {tool.id!r} watches no camera {camera!r}")
    return PrivacyMask(cam.privacy_masks)


def image_from_file(path: Path, mask: PrivacyMask) -> np.ndarray:
    """uint8 grey (H, W) or BGR (H, W, 3) from ``path`` with ``mask`` applied, as at acquisition.

    SourceError names the file when it cannot be read or is beyond the size limit."""
    image = read_image(path)  # a fresh array: masking in place touches nobody else's pixels
    return mask.apply(image) if mask else image


def name_of(item: np.ndarray | Path, index: int, frames: str = "frame") -> str:
    """How an image is named in a message: its file, else its place among the ``frames``."""
    return str(item) if isinstance(item, Path) else f"{frames} {index + 1}"


def roi_misfit(roi: Region, image: np.ndarray, *, whole: bool = True) -> str | None:
    """Why ``roi`` does not fit ``image`` (uint8 (H, W[, C])), or None when it does.

    ``whole``: the ROI must lie wholly inside; otherwise it need only overlap (an aligned ROI
    moves with the part, so only an ROI off the frame altogether is known to be wrong)."""
    h, w = image.shape[:2]
    clipped = roi.clip(w, h)
    if clipped.is_empty or (whole and clipped != roi):
        return f"{w}×{h} px"
    return None


def refuse_misfits(tool_id: str, roi: Region, misfits: Sequence[tuple[str, str]]) -> None:
    """RecipeError naming the images (name, size) on which the ROI of ``tool_id`` does not fit."""
    if not misfits:
        return
    listing = "".join(f"\n  {name} ({size})" for name, size in misfits[:MAX_NAMED])
    more = f"\n  … and {len(misfits) - MAX_NAMED} more" if len(misfits) > MAX_NAMED else ""
    raise RecipeError(
        f"tool {tool_id!r}: its ROI (x {roi.x}, y {roi.y}, {roi.w}×{roi.h} px) does not fit in "
        f"{len(misfits)} of the images to teach on; nothing was taught. Remove them, or move "
        f"the ROI:{listing}{more}"
    )


__all__ = ["camera_mask", "image_from_file", "name_of", "refuse_misfits", "roi_misfit"]
