"""The generated surface sets: masks match the drawn defects, the layout is MVTec AD's, sizes vary
for tiles, and every material runs through evaluate_anomaly with sensible figures."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from inspection.cli import SURFACE_MATERIALS, main
from inspection.evaluation.anomaly import evaluate_anomaly, recipe_settings
from inspection.evaluation.surfaces import (
    DEFECTS,
    MATERIAL_SETS,
    MATERIALS,
    draw_defect,
    surface,
    write_surface_set,
)


def changed(a: np.ndarray, b: np.ndarray, by: int) -> np.ndarray:
    """bool (H, W): pixels where any channel differs by more than ``by`` grey levels."""
    d = np.abs(a.astype(np.int16) - b.astype(np.int16))
    return (d.max(axis=2) if d.ndim == 3 else d) > by


@pytest.mark.parametrize("material", MATERIALS)
@pytest.mark.parametrize("defect", DEFECTS)
def test_mask_is_where_the_defect_was_drawn(material: str, defect: str) -> None:
    for seed in range(4):
        rng = np.random.default_rng(seed)
        good = surface(material, rng, 200, 260)
        drawn = draw_defect(rng, good, defect)
        assert drawn.image.shape == good.shape and drawn.image.dtype == np.uint8
        assert drawn.mask.shape == good.shape[:2] and drawn.mask.dtype == bool
        assert drawn.mask.sum() >= 6
        # every masked pixel was changed visibly...
        assert changed(drawn.image, good, 2)[drawn.mask].mean() > 0.9
        # ...and nothing changed further than the stroke's anti-aliased fringe from the mask
        near = cv2.dilate(drawn.mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        assert not (changed(drawn.image, good, 0) & ~near).any()


def test_thin_defects_are_thin() -> None:
    rng = np.random.default_rng(3)
    good = surface("tiles", rng, 300, 300)
    mask = draw_defect(rng, good, "crack").mask
    # a 1–2 px line: eroding it by a 3×3 square leaves (almost) nothing
    core = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8))
    assert mask.sum() > 40 and core.sum() <= 0.1 * mask.sum()


def test_unknown_names_are_refused(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="unknown material 'wood'"):
        surface("wood", rng, 64, 64)
    with pytest.raises(ValueError, match="unknown defect 'dent'"):
        draw_defect(rng, surface("metal", rng, 64, 64), "dent")
    with pytest.raises(ValueError, match="unknown material 'wood'"):
        write_surface_set("wood", tmp_path)


def test_tiles_set_layout_sizes_and_seed(tmp_path: Path) -> None:
    summary = write_surface_set("tiles", tmp_path / "a", train=12, test_good=3, per_defect=3)
    json.dumps(summary)
    root = tmp_path / "a"
    assert len(list((root / "train" / "good").glob("*.png"))) == 12
    assert len(list((root / "test" / "good").glob("*.png"))) == 3
    sizes = set()
    for defect in MATERIAL_SETS["tiles"].defects:
        images = sorted((root / "test" / defect).glob("*.png"))
        assert len(images) == 3
        for image in images:
            mask = cv2.imread(str(root / "ground_truth" / defect / f"{image.stem}_mask.png"), 0)
            assert mask is not None and mask.shape == cv2.imread(str(image), 0).shape
            assert set(np.unique(mask)) == {0, 255}
    for image in (root / "train" / "good").glob("*.png"):
        h, w = cv2.imread(str(image), 0).shape
        sizes.add((h, w))
        assert min(h, w) >= 100 and max(h, w) <= 630 and max(h, w) / min(h, w) <= 3.0 + 1e-6
    assert len(sizes) > 6 and summary["sizes"]["distinct"] >= len(sizes)
    # seeded: the same seed writes the same files, another seed other ones
    write_surface_set("tiles", tmp_path / "b", train=12, test_good=3, per_defect=3)
    write_surface_set("tiles", tmp_path / "c", train=12, test_good=3, per_defect=3, seed=5)
    same = root / "test" / "crack" / "001.png"
    assert same.read_bytes() == (tmp_path / "b" / "test" / "crack" / "001.png").read_bytes()
    assert same.read_bytes() != (tmp_path / "c" / "test" / "crack" / "001.png").read_bytes()


@pytest.mark.parametrize("material", MATERIALS)
def test_each_material_runs_through_eval_anomaly(material: str, tmp_path: Path) -> None:
    write_surface_set(material, tmp_path, train=10, test_good=4, per_defect=4)
    out = evaluate_anomaly(tmp_path)
    defects = MATERIAL_SETS[material].defects
    assert out["images"] == 4 + 4 * len(defects) and out["masks"] == 4 * len(defects)
    assert out["unreadable_files"] == []
    assert out["image_sizes"] == ("mixed" if material == "tiles" else "one")
    # the defects are meant to be hard, not invisible: they are found where they were drawn...
    assert out["pixel_auroc"] is not None and out["pixel_auroc"] >= 0.85
    # ...and their images score above good ones, except on solar cells, where every cell has its
    # own grains: ten cells teach too few of them for the image score (the eval's full set does)
    if material != "solar":
        assert out["image_auroc"] is not None and out["image_auroc"] >= 0.65


def test_texture_scoring_ranks_defective_fabric_above_good_better(tmp_path: Path) -> None:
    # woven cloth with faint pits and scratches (fixed seed): the default patch neighbourhood
    # and map-peak score let the weave's own chance peaks outscore many defects; unpooled
    # patches scored by the mean of their highest few rank the defective parts higher
    write_surface_set("fabric", tmp_path, seed=8, train=16, test_good=6, per_defect=6)
    texture = evaluate_anomaly(tmp_path, settings=recipe_settings(pool=1, score="patches"))
    default = evaluate_anomaly(tmp_path)
    assert texture["image_auroc"] >= 0.7
    assert texture["image_auroc"] >= default["image_auroc"] + 0.08
    assert texture["pixel_auroc"] > default["pixel_auroc"]


def test_eval_refuses_a_scoring_option_a_recipe_would_refuse(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write_surface_set("fabric", tmp_path, train=5, test_good=1, per_defect=1)
    rc = main(["eval", "anomaly", "--data", str(tmp_path), "--pool", "2"])
    assert rc == 2 and "pool" in capsys.readouterr().err


def test_cli_writes_one_material(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert SURFACE_MATERIALS == MATERIALS  # the parser's choices are the generator's materials
    rc = main(["simulate", "surfaces", "--material", "solar", "--out", str(tmp_path), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 0 and data["material"] == "solar" and data["defects"] == {"crack": 15, "pit": 15}
    assert len(list((tmp_path / "train" / "good").glob("*.png"))) == data["train_good"]
    assert len(list((tmp_path / "ground_truth" / "pit").glob("*_mask.png"))) == 15
