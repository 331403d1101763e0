"""Part fixture: the part is found in any pose, and the aligned cut looks the same every time."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inspection.tools.fixture import PartPose, cut_aligned, locate_part, to_frame
from inspection.types import Region


def scene(cx: float, cy: float, angle: float, *, bright_part: bool = True) -> np.ndarray:
    """A 400×320 frame: textured belt, bright rails at top and bottom, a 200×120 part with a
    dark mark near its left end (to see that the cut follows the part)."""
    rng = np.random.default_rng(1)
    belt = (40, 70) if bright_part else (120, 150)  # the part stands out from the belt either way
    img = rng.integers(*belt, (320, 400)).astype(np.uint8)
    img[:12] = 230
    img[-12:] = 230
    part = np.full((120, 200), 200 if bright_part else 15, np.uint8)
    part[50:70, 20:40] = 90
    canvas = np.zeros_like(img)
    mask = np.zeros_like(img)
    y0, x0 = 160 - 60, 200 - 100
    canvas[y0 : y0 + 120, x0 : x0 + 200] = part
    mask[y0 : y0 + 120, x0 : x0 + 200] = 255
    m = cv2.getRotationMatrix2D((200, 160), angle, 1.0)
    m[0, 2] += cx - 200
    m[1, 2] += cy - 160
    canvas = cv2.warpAffine(canvas, m, (400, 320))
    mask = cv2.warpAffine(mask, m, (400, 320), flags=cv2.INTER_NEAREST)
    return np.where(mask > 0, canvas, img).astype(np.uint8)


@pytest.mark.parametrize("bright", [True, False])
def test_locate_part_finds_pose_despite_rails_and_polarity(bright: bool):
    pose = locate_part(scene(215, 150, 4.0, bright_part=bright))
    assert pose is not None
    assert pose.cx == pytest.approx(215, abs=4) and pose.cy == pytest.approx(150, abs=4)
    assert pose.angle_deg == pytest.approx(4.0, abs=1.0)


def test_no_part_gives_none():
    assert locate_part(np.full((240, 320), 50, np.uint8)) is None


def test_aligned_cuts_of_differently_placed_parts_match():
    roi = Region(x=100, y=100, w=200, h=120)
    ref_img = scene(200, 160, 0.0)
    ref = locate_part(ref_img)
    assert ref is not None
    a = cut_aligned(ref_img, ref, ref, roi).astype(np.int16)
    moved = scene(222, 148, -3.0)
    pose = locate_part(moved)
    assert pose is not None
    b = cut_aligned(moved, pose, ref, roi).astype(np.int16)
    plain = moved[100:220, 100:300].astype(np.int16)
    inner = (slice(10, -10), slice(10, -10))
    # aligned: the mark and edges line up; unaligned they do not
    assert np.median(np.abs(a - b)[inner]) < 3
    assert np.mean(np.abs(a - b)[inner]) < np.mean(np.abs(a - plain)[inner]) / 3
    # a point of the cut maps back onto the same spot of the part in the moved frame
    back = to_frame(np.array([[30.0, 60.0]]), pose, ref, roi)[0]
    x, y = round(float(back[0])), round(float(back[1]))
    assert moved[y, x] < 120  # inside the dark mark


def test_pose_round_trips_through_json():
    p = PartPose(cx=1.5, cy=2.5, angle_deg=-3.0)
    assert PartPose.from_json(p.to_json()) == p
