"""Where the part lies in a defect tool's aligned cut, so the conveyor around it is not judged.

A defect tool aligned to the part (``align: part``) usually has an ROI a little larger than the
part, so damage at the part's edge (a chipped corner, a bite out of an edge) is inside it. The belt
that shows around the part then varies from part to part — a splice seam here, a worn patch
there — and the taught model cannot have seen every place such a thing can lie. A finding wholly on the belt
is not a defect of the part, however unusual the belt looks; the part's score is the highest
point of the map on the part.

The part is the region the fixture locates it by (the largest region standing out from the
background), taken as its smallest enclosing rotated rectangle: a chip or a bite out of an edge
leaves the rectangle as it is, so the belt showing through the damage still counts as the part.
"""

from __future__ import annotations

import cv2
import numpy as np

from inspection.tools.fixture import PartPose, find_part, roi_transform
from inspection.types import Region

PART_MARGIN_PX = 6
"""Frame px the part's outline is widened by: the quarter-size outline is ±2 px, and a finding
right on the part's edge belongs to the part."""


def part_corners(image: np.ndarray) -> np.ndarray | None:
    """float32 (4, 2) corners, frame px, of the smallest rotated rectangle around the part (as
    ``fixture.find_part`` finds it), or None when there is none."""
    found = find_part(image)
    return None if found is None else found.corners


def part_mask(
    image: np.ndarray,
    pose: PartPose,
    reference: PartPose,
    roi: Region,
    margin_px: int = PART_MARGIN_PX,
) -> np.ndarray | None:
    """bool (roi.h, roi.w): True where the aligned cut of ``roi`` shows the part (its rotated
    rectangle widened by ``margin_px``); None when the part's outline cannot be found."""
    corners = part_corners(image)
    if corners is None:
        return None
    return mask_of_corners(corners, pose, reference, roi, margin_px)


def mask_of_corners(
    corners: np.ndarray,
    pose: PartPose,
    reference: PartPose,
    roi: Region,
    margin_px: int = PART_MARGIN_PX,
) -> np.ndarray:
    """``part_mask`` from the part's rectangle already found (``FoundPart.corners``)."""
    m = roi_transform(pose, reference, roi)
    in_cut = corners.astype(np.float64) @ m[:, :2].T + m[:, 2]
    outline = np.zeros((roi.h, roi.w), np.uint8)
    cv2.fillConvexPoly(outline, np.rint(in_cut * 16).astype(np.int32), 1, cv2.LINE_8, 4)
    if margin_px > 0:
        size = 2 * margin_px + 1
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
        return np.asarray(cv2.dilate(outline, kernel), dtype=bool)
    return outline.astype(bool)
