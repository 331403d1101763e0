"""evaluate_anomaly on a tiny MVTec-layout folder the test writes, and the AUROC helper."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from support.textures import texture

from inspection.errors import LinesideError
from inspection.evaluation.anomaly import auroc, evaluate_anomaly


def write(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)


def make_folder(root: Path, masks: bool) -> Path:
    for s in range(16):
        write(root / "train" / "good" / f"{s:03d}.png", texture(s))
    for s in range(3):
        write(root / "test" / "good" / f"{s:03d}.png", texture(100 + s))
    for s in range(3):
        image, mask = texture(200 + s), np.zeros((96, 128), np.uint8)
        for target in (image, mask):
            cv2.line(target, (20 + 10 * s, 30), (90, 70 - 5 * s), 255 if target is mask else 10, 3)
        write(root / "test" / "scratch" / f"{s:03d}.png", image)
        if masks:
            write(root / "ground_truth" / "scratch" / f"{s:03d}_mask.png", mask)
    write(root / "test_nomask" / "scratch" / "x.png", texture(999))
    (root / "test" / "good" / "readme.txt").write_text("not an image", encoding="utf-8")
    (root / "test" / "good" / "broken.png").write_bytes(b"\x89PNG broken")
    return root


def test_sensible_figures_with_masks(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    out = evaluate_anomaly(
        make_folder(tmp_path, masks=True), progress=lambda d, t: seen.append((d, t))
    )
    json.dumps(out)
    assert out["images"] == 6
    assert out["image_auroc"] == 1.0
    assert out["pixel_auroc"] is not None and out["pixel_auroc"] > 0.9
    assert out["f1_at_threshold"] == 1.0
    assert out["defects"] == {
        "good": {"images": 3, "flagged": 0},
        "scratch": {"images": 3, "flagged": 3},
    }
    assert out["fit_s"] > 0 and out["median_ms"] > 0 and out["masks"] == 3
    # measured, not judged
    assert out["roi256_ms"] > 0 and out["roi256_backbone_ms"] > 0 and out["roi256_brute_ms"] > 0
    assert any("readme.txt" in f for f in out["unreadable_files"])
    assert any("broken.png" in f for f in out["unreadable_files"])
    assert not any("test_nomask" in f for f in out["unreadable_files"])
    assert seen[-1][0] == seen[-1][1]


def test_pixel_auroc_is_null_without_masks(tmp_path: Path) -> None:
    out = evaluate_anomaly(make_folder(tmp_path, masks=False))
    assert out["pixel_auroc"] is None and out["masks"] == 0
    assert out["image_auroc"] == 1.0


def test_too_few_training_images(tmp_path: Path) -> None:
    for s in range(3):
        write(tmp_path / "train" / "good" / f"{s}.png", texture(s))
    write(tmp_path / "test" / "good" / "0.png", texture(9))
    with pytest.raises(LinesideError, match="need at least 5 usable good images"):
        evaluate_anomaly(tmp_path)


def test_not_a_layout_folder(tmp_path: Path) -> None:
    with pytest.raises(LinesideError, match="train/good/ and test/"):
        evaluate_anomaly(tmp_path)


def test_auroc_by_hand() -> None:
    assert auroc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == pytest.approx(0.75)
    # one tie between a positive and a negative counts half: (1 + 0.5 + 1 + 1) / 4
    assert auroc(np.array([0.2, 0.5, 0.5, 0.9]), np.array([0, 0, 1, 1])) == pytest.approx(0.875)
    assert auroc(np.array([1.0, 1.0, 1.0]), np.array([0, 1, 1])) == pytest.approx(0.5)
    assert auroc(np.array([3.0, 2.0, 1.0]), np.array([1, 1, 0])) == pytest.approx(1.0)
    assert auroc(np.array([3.0, 2.0]), np.array([0, 0])) is None


# (height, width) of tiles cut from parts of many sizes, as on a real set of small grey tiles
MIXED_SIZES = [(96, 128), (64, 200), (150, 150), (48, 140), (120, 90), (80, 240), (100, 100)]


def make_mixed_folder(root: Path) -> Path:
    """Good tiles of seven sizes (aspect up to 1:3) and cracked ones of other sizes."""
    for s in range(21):
        write(root / "train" / "good" / f"{s:03d}.png", texture(s, MIXED_SIZES[s % 7]))
    for s in range(4):
        write(root / "test" / "good" / f"{s:03d}.png", texture(100 + s, MIXED_SIZES[(s + 3) % 7]))
    for s in range(4):
        h, w = MIXED_SIZES[(s + 1) % 7]
        image, mask = texture(200 + s, (h, w)), np.zeros((h, w), np.uint8)
        for target in (image, mask):
            cv2.line(
                target, (w // 5, h // 4), (w - w // 5, h - h // 4), 255 if target is mask else 8, 2
            )
        write(root / "test" / "crack" / f"{s:03d}.png", image)
        write(root / "ground_truth" / "crack" / f"{s:03d}_mask.png", mask)
    return root


def test_tiles_of_mixed_sizes_are_taught_at_one_working_scale_and_all_scored(
    tmp_path: Path,
) -> None:
    out = evaluate_anomaly(make_mixed_folder(tmp_path))
    assert out["train_images"] == 21 and out["unreadable_files"] == []
    assert out["image_sizes"] == "mixed" and out["images"] == 8
    assert out["image_auroc"] is not None and out["image_auroc"] >= 0.9
    assert out["defects"]["crack"]["flagged"] >= 3


def test_an_eval_that_scores_nothing_exits_1_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from inspection.cli import main

    for s in range(6):
        write(tmp_path / "train" / "good" / f"{s}.png", texture(s))
    write(tmp_path / "test" / "good" / "0.png", texture(9)[:20])  # too small to score
    assert main(["eval", "anomaly", "--data", str(tmp_path), "--json"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["images"] == 0
    assert "no test image" in captured.err and "was scored" in captured.err
