"""Finding the label: the bright paper rectangle on the part, its pose, and how well it matches.

A reference is taught from one good part: the label straightened to 0° (its text upright; the
field regions of a recipe are in this image's pixels) plus where it sat in the frame. On each
part the label is found again as the bright, rectangular blob of the taught size and shape: a
two-level Otsu threshold separates the paper from carton and belt whatever the exposure, and the
rectangle fitted to its outline gives the centre, angle and scale. The match (0..1) is the
normalised correlation of the straightened label with the reference, so a blank or foreign
label is told apart from the taught one.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from inspection.errors import ModelError, ToolError
from inspection.tools.base import crop, to_gray
from inspection.types import Region

log = logging.getLogger(__name__)

REFERENCE_VERSION = 1
# Work on at most this many pixels on the longest side when searching (speed; the pose is
# refined at full resolution afterwards).
_SEARCH_SIDE = 640
_MIN_RECTANGULARITY = 0.88  # blob area / fitted rectangle area of a real label
_SCALE_RANGE = (0.75, 1.33)  # label size versus the reference (camera distance changes)
_ASPECT_TOLERANCE = 0.15
_MATCH_WIDTH = 160  # px: the width labels are compared at


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelReference:
    """A taught label: ``image`` uint8 (h, w) grey, straightened; its centre (x, y) and angle
    (degrees, counter-clockwise) in the teaching frame."""

    image: np.ndarray
    centre: tuple[float, float]
    angle_deg: float

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in px."""
        return int(self.image.shape[1]), int(self.image.shape[0])


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelPose:
    """Where a label was found in a frame: centre (x, y) px, angle (degrees, counter-clockwise,
    0 = square to the image), scale versus the reference, and corners float32 (4, 2) clockwise
    from the reference's top-left."""

    centre: tuple[float, float]
    angle_deg: float
    scale: float
    corners: np.ndarray


def straighten(
    image: np.ndarray, pose: LabelPose, size: tuple[int, int], region: Region | None = None
) -> np.ndarray:
    """The label (or ``region`` of it, in reference px) cut out of ``image`` and turned upright,
    at reference scale: uint8 of shape (h, w) of ``size`` or of the region."""
    w, h = size
    m = pose_matrix(pose, size)
    if region is not None:
        m = m.copy()
        m[:, 2] += m[:, :2] @ np.array([region.x, region.y], dtype=np.float64)
        w, h = region.w, region.h
    return cv2.warpAffine(
        image,
        cv2.invertAffineTransform(m),
        (w, h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def pose_matrix(pose: LabelPose, size: tuple[int, int]) -> np.ndarray:
    """float64 (2, 3): label px (upright, reference scale) → frame px."""
    w, h = size
    a = math.radians(pose.angle_deg)
    c, s = math.cos(a) * pose.scale, math.sin(a) * pose.scale
    rot = np.array([[c, s], [-s, c]], dtype=np.float64)
    t = np.array(pose.centre, dtype=np.float64) - rot @ np.array([w / 2, h / 2])
    return np.hstack([rot, t[:, None]])


def find_label(
    image: np.ndarray, roi: Region | None, expected: tuple[int, int] | None = None
) -> LabelPose | None:
    """The label's pose in ``image`` (uint8 grey or BGR), searched inside ``roi``; None if no
    bright rectangle of the ``expected`` (width, height) px (any size when None) is there."""
    patch, region = crop(image, roi)
    if region.is_empty:
        where = f"x={roi.x} y={roi.y} {roi.w}×{roi.h}" if roi is not None else ""
        raise ToolError(f"ROI {where} lies outside the {image.shape[1]}×{image.shape[0]} px frame")
    gray = to_gray(np.ascontiguousarray(patch))
    f = min(1.0, _SEARCH_SIDE / max(gray.shape))
    small = gray if f >= 1.0 else cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (5, 5), 0)
    best: tuple[float, np.ndarray] | None = None
    for level, mask in enumerate(_paper_masks(small)):
        # A taught size is usually met at the first levels; teaching looks at every one.
        if level >= 2 and best is not None and expected is not None:
            break
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        for cnt in contours:
            badness = _badness(cnt, small, f, expected)
            if badness is not None and (best is None or badness < best[0]):
                best = (badness, cnt)
    if best is None:
        return None
    points = best[1].reshape(-1, 2).astype(np.float32) / f + 0.5 / f - 0.5
    points += np.array([region.x, region.y], dtype=np.float32)
    return _pose_from_outline(points, expected)


def _badness(
    cnt: np.ndarray, small: np.ndarray, f: float, expected: tuple[int, int] | None
) -> float | None:
    """How unlike the label a blob's outline is (lower is better); None when it cannot be one.
    Teaching (no ``expected`` size) prefers the brightest rectangle: paper outshines the part."""
    area = cv2.contourArea(cnt)
    if area < 0.002 * small.size:
        return None
    bx, by, bw, bh = cv2.boundingRect(cnt)
    if bx <= 0 or by <= 0 or bx + bw >= small.shape[1] or by + bh >= small.shape[0]:
        return None  # cut by the ROI's edge: not all of a label, or the part itself
    (_, _), (rw, rh), _ = cv2.minAreaRect(cnt)
    if rw * rh <= 0 or area / (rw * rh) < _MIN_RECTANGULARITY:
        return None
    long_side, short_side = max(rw, rh) / f, min(rw, rh) / f
    if expected is None:
        inside = np.zeros((bh, bw), np.uint8)
        cv2.drawContours(inside, [cnt - np.array([bx, by])], -1, 255, -1)
        return -float(cv2.mean(small[by : by + bh, bx : bx + bw], mask=inside)[0])
    ew, eh = max(expected), min(expected)
    scale = math.sqrt(long_side * short_side / (ew * eh))
    aspect_error = abs(math.log((long_side / short_side) / (ew / eh)))
    if not _SCALE_RANGE[0] <= scale <= _SCALE_RANGE[1] or aspect_error > _ASPECT_TOLERANCE:
        return None
    return abs(math.log(scale)) + aspect_error


def _paper_masks(gray: np.ndarray) -> Iterator[np.ndarray]:
    """Pixels as bright as label paper, at a few levels, most likely first. Otsu among the
    pixels Otsu already called bright puts belt, part and label in three levels under any
    exposure; the first level alone covers a label on a dark part; levels between the second
    and the brightest part of the scene separate a label from a light part when other bright
    things (rails, glare) pull the second Otsu level down."""
    t1, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = gray[gray > t1]
    if bright.size < 64:
        return
    t2, _ = cv2.threshold(bright.reshape(1, -1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    top = float(np.percentile(bright, 99))
    levels = [t2, t1] if top - t2 >= 8 else [t1]
    levels += [t2 + k * (top - t2) / 4 for k in (2, 1, 3)] if top - t2 >= 16 else []
    # Closing bridges small gaps at the label's edge (print running close to it).
    kernel = np.ones((3, 3), np.uint8)
    for t in levels:
        yield cv2.morphologyEx((gray > t).astype(np.uint8) * 255, cv2.MORPH_CLOSE, kernel)


def _pose_from_outline(points: np.ndarray, expected: tuple[int, int] | None) -> LabelPose:
    """Centre, angle and scale of the rectangle through the outline ``points`` (frame px)."""
    (cx, cy), (rw, rh), ang = cv2.minAreaRect(points)
    # OpenCV's angle turns the rectangle's first side clockwise on screen; bring it to the label's
    # long side (labels are taught wider than tall or not; the reference's shape decides).
    wide = expected is None or expected[0] >= expected[1]
    if (rw >= rh) != wide:
        rw, rh = rh, rw
        ang -= 90.0
    ang = (ang + 90.0) % 180.0 - 90.0  # (-90, 90]: an upside-down label cannot be told apart
    angle_ccw = -ang
    scale = 1.0 if expected is None else math.sqrt(rw * rh / (expected[0] * expected[1]))
    size = (rw / scale, rh / scale)
    pose = LabelPose(centre=(cx, cy), angle_deg=angle_ccw, scale=scale, corners=np.zeros((4, 2)))
    m = pose_matrix(pose, (round(size[0]), round(size[1])))
    w, h = size
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64) @ m[:, :2].T + m[:, 2]
    return LabelPose(
        centre=(float(cx), float(cy)),
        angle_deg=float(angle_ccw),
        scale=float(scale),
        corners=corners.astype(np.float32),
    )


def match_score(image: np.ndarray, pose: LabelPose, reference: LabelReference) -> float:
    """0..1: normalised correlation of the label found with the taught one (at low resolution)."""
    found = straighten(to_gray(image), pose, reference.size)
    k = _MATCH_WIDTH / reference.size[0]
    size = (_MATCH_WIDTH, max(8, round(reference.size[1] * k)))
    a = cv2.resize(found, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    b = cv2.resize(reference.image, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    score = float(cv2.matchTemplate(a, b, cv2.TM_CCOEFF_NORMED)[0, 0])
    return max(0.0, min(1.0, score)) if math.isfinite(score) else 0.0


def teach_label(image: np.ndarray, roi: Region | None) -> LabelReference:
    """A reference from a good part: the biggest bright rectangle in ``roi`` (whole frame if None),
    straightened. Raises ToolError naming the region when no label is found there."""
    problem = None if image.ndim in (2, 3) and image.dtype == np.uint8 else "not a uint8 image"
    if problem:
        raise ToolError(f"cannot teach the label: {problem}")
    pose = find_label(image, roi, None)
    if pose is None:
        where = "the frame" if roi is None else f"region x={roi.x} y={roi.y} {roi.w}×{roi.h}"
        raise ToolError(f"cannot teach the label: no bright label rectangle found in {where}")
    w = round(float(np.linalg.norm(pose.corners[1] - pose.corners[0])))
    h = round(float(np.linalg.norm(pose.corners[3] - pose.corners[0])))
    upright = straighten(to_gray(image), pose, (w, h))
    return LabelReference(
        image=np.ascontiguousarray(upright), centre=pose.centre, angle_deg=pose.angle_deg
    )


def save_reference(reference: LabelReference, png: Path) -> Path:
    """Write ``png`` (the straightened label) and its ``.json`` pose beside it; returns the json."""
    meta = png.with_suffix(".json")
    try:
        png.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(png), reference.image):
            raise OSError("the image encoder refused the file")
        meta.write_text(
            json.dumps(
                {
                    "version": REFERENCE_VERSION,
                    "width": reference.size[0],
                    "height": reference.size[1],
                    "centre": list(reference.centre),
                    "angle_deg": reference.angle_deg,
                },
                indent=2,
            ),
            encoding="utf-8",
        )
    except OSError as exc:
        raise ModelError(f"{png}: cannot write the label reference: {exc}") from None
    return meta


def load_reference(png: Path) -> LabelReference:
    """Read a reference written by ``save_reference``; ModelError names the file and the fault."""
    meta = png.with_suffix(".json")
    image = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE) if png.is_file() else None
    if image is None:
        raise ModelError(f"{png}: label reference image missing or unreadable")
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
        centre = (float(data["centre"][0]), float(data["centre"][1]))
        angle = float(data["angle_deg"])
        size = (int(data["width"]), int(data["height"]))
    except FileNotFoundError:
        raise ModelError(f"{meta}: label reference pose file missing") from None
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise ModelError(
            f"{meta}: not a label reference pose ({type(exc).__name__}: {exc})"
        ) from None
    if size != (image.shape[1], image.shape[0]):
        raise ModelError(
            f"{meta}: says {size[0]}×{size[1]} px but {png.name} is {image.shape[1]}×{image.shape[0]}"
        )
    return LabelReference(image=image, centre=centre, angle_deg=angle)
