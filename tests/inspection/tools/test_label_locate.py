"""Finding a taught label again: shifted, turned, scaled, darker, missing."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from inspection.errors import ModelError, ToolError
from inspection.tools.label_locate import (
    find_label,
    load_reference,
    match_score,
    save_reference,
    straighten,
    teach_label,
)
from inspection.types import Region

LABEL_CENTRE = (400.0, 300.0)
LABEL_SIZE = (300, 220)


def scene(angle: float = 0.0, shift: tuple[float, float] = (0, 0), scale: float = 1.0,
          gain: float = 1.0, label: bool = True) -> np.ndarray:  # fmt: skip
    """uint8 (600, 800): belt, a carton and (optionally) a printed label turned ``angle`` degrees
    counter-clockwise about its centre, moved by ``shift`` and scaled."""
    image = np.full((600, 800), 70, np.uint8)
    cv2.rectangle(image, (120, 80), (690, 520), 190, -1)
    if label:
        w, h = LABEL_SIZE
        paper = np.full((h, w), 246, np.uint8)
        for text, y in (("COLD BREW 330 ML", 46), ("LOT L2507D", 112), ("EXP 2030-06", 160)):
            cv2.putText(paper, text, (14, y), cv2.FONT_HERSHEY_DUPLEX, 0.9, 22, 2, cv2.LINE_AA)
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
        m[:, 2] += (LABEL_CENTRE[0] + shift[0] - w / 2, LABEL_CENTRE[1] + shift[1] - h / 2)
        cover = cv2.warpAffine(np.full((h, w), 255, np.uint8), m, (800, 600))
        turned = cv2.warpAffine(paper, m, (800, 600))
        image = np.where(cover > 127, turned, image).astype(np.uint8)
    image = cv2.GaussianBlur(image, (3, 3), 0.7)
    return np.clip(image.astype(np.float32) * gain, 0, 255).astype(np.uint8)


ROI = Region(x=100, y=50, w=620, h=500)


@pytest.fixture(scope="module")
def reference():  # type: ignore[no-untyped-def]
    return teach_label(scene(), ROI)


def test_teaching_finds_the_label_upright(reference) -> None:  # type: ignore[no-untyped-def]
    assert (
        abs(reference.size[0] - LABEL_SIZE[0]) <= 2 and abs(reference.size[1] - LABEL_SIZE[1]) <= 2
    )
    assert math.dist(reference.centre, LABEL_CENTRE) < 1.5
    assert abs(reference.angle_deg) < 0.2
    # the straightened paper is bright, its print dark
    assert np.percentile(reference.image, 90) > 230 and reference.image.min() < 60


@pytest.mark.parametrize(
    ("angle", "shift", "scale", "gain"),
    [
        (0.0, (40, -25), 1.0, 1.0),
        (3.0, (0, 0), 1.0, 1.0),
        (-7.5, (15, 10), 1.0, 1.0),
        (2.0, (0, 0), 1.12, 1.0),
        (-1.5, (-20, 0), 0.9, 1.0),
        (4.0, (10, 20), 1.0, 0.55),
        (0.0, (0, 0), 1.0, 1.25),
    ],
)
def test_pose_follows_the_label(reference, angle, shift, scale, gain) -> None:  # type: ignore[no-untyped-def]
    image = scene(angle, shift, scale, gain)
    pose = find_label(image, ROI, reference.size)
    assert pose is not None
    assert abs(pose.angle_deg - angle) < 0.35
    assert math.dist(pose.centre, (LABEL_CENTRE[0] + shift[0], LABEL_CENTRE[1] + shift[1])) < 2.0
    assert abs(pose.scale - scale) < 0.02
    assert match_score(image, pose, reference) > 0.85


def test_straightened_label_lines_up_with_the_reference(reference) -> None:  # type: ignore[no-untyped-def]
    image = scene(-6.0, (25, -15), 1.05)
    pose = find_label(image, ROI, reference.size)
    assert pose is not None
    upright = straighten(image, pose, reference.size).astype(np.float32)
    diff = np.abs(upright - reference.image.astype(np.float32))
    assert float(np.median(diff)) < 6.0


def test_missing_label_is_not_found(reference) -> None:  # type: ignore[no-untyped-def]
    assert find_label(scene(label=False), ROI, reference.size) is None
    assert find_label(scene(label=False, gain=0.6), ROI, reference.size) is None


def test_a_label_of_another_size_is_not_taken(reference) -> None:  # type: ignore[no-untyped-def]
    assert find_label(scene(scale=0.5), ROI, reference.size) is None


def test_a_blank_label_matches_poorly(reference) -> None:  # type: ignore[no-untyped-def]
    image = scene()
    x0, y0 = int(LABEL_CENTRE[0] - 140), int(LABEL_CENTRE[1] - 100)
    image[y0 : y0 + 200, x0 : x0 + 280] = 246  # the print is gone, the paper is there
    pose = find_label(image, ROI, reference.size)
    assert pose is not None and match_score(image, pose, reference) < 0.5


def test_teaching_without_a_label_names_the_region() -> None:
    inside_carton = Region(x=150, y=100, w=500, h=400)
    with pytest.raises(ToolError, match="no bright label rectangle found in region x=150 y=100"):
        teach_label(scene(label=False), inside_carton)


def test_reference_round_trip_and_damage(reference, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    png = tmp_path / "models" / "label.label.png"
    meta = save_reference(reference, png)
    loaded = load_reference(png)
    assert np.array_equal(loaded.image, reference.image)
    assert loaded.centre == pytest.approx(reference.centre) and loaded.angle_deg == pytest.approx(
        reference.angle_deg
    )
    meta.write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match=r"label\.label\.json: not a label reference pose"):
        load_reference(png)
    meta.unlink()
    with pytest.raises(ModelError, match="pose file missing"):
        load_reference(png)
    with pytest.raises(ModelError, match="missing or unreadable"):
        load_reference(tmp_path / "nothing.png")
