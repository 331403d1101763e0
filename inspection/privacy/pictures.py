"""A camera's picture with its privacy masks drawn on it, for the notice on the line.

The picture comes from the camera itself when it answers within a short timeout (through the
normal source machinery, ``probe_camera``), or from the running station's newest frame; else the
masks are drawn on a blank frame of the camera's size. Either way the masked areas are blacked
out here too: a frame straight from the camera has not been masked yet, and the notice must not
show what the masks hide.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from inspection.recipe import CameraSettings
from inspection.sources.probe import probe_camera

log = logging.getLogger(__name__)

NO_FRAME = "no frame available: masks drawn on a blank frame"
FROM_CAMERA = "picture from the camera; masked areas are black"
BLANK_GREY = 200
OUTLINE_BGR = (0, 140, 255)  # orange: stands out on grey pictures and prints on paper
FALLBACK_SIZE = (640, 480)
"""(width, height) of the blank frame when neither the recipe nor the masks say more."""

Polygon = Sequence[tuple[float, float]]


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraPicture:
    """What the notice shows of one camera.

    ``image``: uint8 (H, W, 3) BGR, C-contiguous, masked areas black with a numbered outline.
    ``from_camera``: False when drawn on a blank frame; ``note`` then says why.
    ``mask_shares``: the fraction (0..1) of the picture each mask covers, in mask order.
    """

    camera: str
    image: np.ndarray
    from_camera: bool
    note: str
    mask_shares: tuple[float, ...]

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return int(self.image.shape[1]), int(self.image.shape[0])


def configured_size(camera: CameraSettings) -> tuple[int, int] | None:
    """(width, height) the recipe sets for the camera, when it says (None: the camera decides)."""
    width = getattr(camera.source, "width", None)
    height = getattr(camera.source, "height", None)
    if isinstance(width, int) and isinstance(height, int):
        return width, height
    return None


def blank_size(camera: CameraSettings) -> tuple[int, int]:
    """The blank frame's (width, height): the recipe's size, else one that holds every mask."""
    size = configured_size(camera)
    if size is not None:
        return size
    width, height = FALLBACK_SIZE
    for poly in camera.privacy_masks:
        for x, y in poly:
            width, height = max(width, int(np.ceil(x)) + 1), max(height, int(np.ceil(y)) + 1)
    return width, height


def grab_frame(
    camera: CameraSettings, timeout_s: float, cancel: threading.Event | None = None
) -> tuple[np.ndarray | None, str]:
    """One frame from the camera within ``timeout_s`` (unmasked), or None and why not."""
    result = probe_camera(camera, frames=1, timeout_s=timeout_s, cancel=cancel)
    if result.frame is None:
        return None, result.message
    return result.frame.image, ""


def draw_masks(image: np.ndarray, polygons: Sequence[Polygon]) -> tuple[np.ndarray, list[float]]:
    """A BGR copy of ``image`` (uint8 (H, W) or (H, W, 3)) with each polygon filled black,
    outlined and numbered from 1; and the share of the picture each one covers."""
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(
            f"expected a uint8 (H, W) or (H, W, 3) image, got {image.dtype} {image.shape}"
        )
    picture = (
        cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        if image.ndim == 2
        else np.ascontiguousarray(image[:, :, :3]).copy()
    )
    h, w = picture.shape[:2]
    points = [np.round(np.asarray(p, dtype=np.float64)).astype(np.int32) for p in polygons]
    shares: list[float] = []
    for pts in points:
        covered = np.zeros((h, w), dtype=np.uint8)
        cv2.fillPoly(covered, [pts], 1)
        shares.append(float(np.count_nonzero(covered)) / float(h * w))
    if points:
        cv2.fillPoly(picture, points, (0, 0, 0))
    thickness = max(2, round(min(w, h) / 200))
    for pts in points:
        cv2.polylines(picture, [pts], isClosed=True, color=OUTLINE_BGR, thickness=thickness)
    for number, pts in enumerate(points, start=1):
        _number_badge(picture, pts, number)
    return picture, shares


def _number_badge(picture: np.ndarray, pts: np.ndarray, number: int) -> None:
    """The mask's number on an orange disc at its centre, so the text can say "area 2"."""
    h, w = picture.shape[:2]
    cx = int(np.clip(pts[:, 0].mean(), 0, w - 1))
    cy = int(np.clip(pts[:, 1].mean(), 0, h - 1))
    scale = max(0.5, min(w, h) / 600)  # a digit about 1/25 of the picture's height
    text = str(number)
    thickness = max(2, round(scale * 2))
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    radius = int(max(tw, th) * 0.9) + 4
    cv2.circle(picture, (cx, cy), radius, OUTLINE_BGR, -1, cv2.LINE_AA)
    cv2.putText(
        picture,
        text,
        (cx - tw // 2, cy + th // 2),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (0, 0, 0),
        thickness,
        cv2.LINE_AA,
    )


def camera_picture(
    camera: CameraSettings,
    *,
    frame: np.ndarray | None = None,
    timeout_s: float = 3.0,
    use_camera: bool = True,
    cancel: threading.Event | None = None,
) -> CameraPicture:
    """The camera's picture with its masks drawn.

    ``frame``: a frame already at hand (the running station's newest); otherwise, with
    ``use_camera``, one is taken from the camera within ``timeout_s``. Without a frame the masks
    are drawn on a blank frame and ``note`` says so (and why).
    """
    why = ""
    if frame is None and use_camera:
        frame, why = grab_frame(camera, timeout_s, cancel)
        if frame is None:
            log.info("privacy notice: camera %s gave no frame (%s)", camera.id, why)
    elif frame is None:
        why = "a blank frame was asked for"
    if frame is not None:
        image, shares = draw_masks(frame, camera.privacy_masks)
        return CameraPicture(
            camera=camera.id,
            image=image,
            from_camera=True,
            note=FROM_CAMERA,
            mask_shares=tuple(shares),
        )
    width, height = blank_size(camera)
    blank = np.full((height, width), BLANK_GREY, dtype=np.uint8)
    image, shares = draw_masks(blank, camera.privacy_masks)
    size_note = (
        "" if configured_size(camera) is not None else ", the camera's size is not in the recipe"
    )
    note = f"{NO_FRAME} ({why}{size_note})" if why else NO_FRAME
    return CameraPicture(
        camera=camera.id, image=image, from_camera=False, note=note, mask_shares=tuple(shares)
    )
