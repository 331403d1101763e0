"""position_weight: on aligned parts a patch is compared with good patches from its own place, so
a mark that looks like a feature found elsewhere on good parts stands out; good parts do not."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest
from support.textures import texture

from inspection.errors import ModelError
from inspection.inference.anomaly.fit import fit
from inspection.inference.anomaly.model import AnomalyScorer
from inspection.inference.anomaly.model_file import load_model, save_model
from inspection.inference.anomaly.settings import AnomalySettings
from inspection.inference.backbone import FeatureBackbone


def cell(seed: int, width: int = 128, bars: tuple[int, ...] = (32,)) -> np.ndarray:
    """An aligned part (think of a solar cell): a textured surface with dark busbars always at
    the same columns; a bar where good parts have none is the defect."""
    image = texture(seed, (128, width))
    for x in bars:
        cv2.line(image, (x, 0), (x, 127), 30, 3)
    return image


@pytest.fixture(scope="module")
def backbone() -> FeatureBackbone:
    return FeatureBackbone()


def _scores(
    backbone: FeatureBackbone, weight: float, width: int = 128, tile_px: int = 0, bar: int = 96
) -> tuple[float, list[float], list[float]]:
    settings = dataclasses.replace(AnomalySettings(), position_weight=weight, tile_px=tile_px)
    model = fit([cell(s, width) for s in range(20)], backbone, settings=settings)
    scorer = AnomalyScorer(model, backbone)
    good = [scorer.score(cell(100 + s, width)).score for s in range(4)]
    # a second bar, just like the taught one, where good parts have plain surface
    bad = [scorer.score(cell(200 + s, width, bars=(32, bar))).score for s in range(4)]
    return model.threshold, good, bad


def test_a_bar_out_of_place_stands_out_with_the_place_and_good_parts_stay_good(
    backbone: FeatureBackbone,
) -> None:
    _, _, anywhere = _scores(backbone, 0.0)
    threshold, good, placed = _scores(backbone, 2.0)
    assert max(good) < threshold
    # matched with the taught bar's patches, the misplaced bar scores much lower than when
    # its patches must be matched with what good parts have in that place
    assert min(placed) > 2.0 * max(anywhere), (anywhere, placed)


def test_places_are_the_whole_images_when_it_is_scored_in_tiles(backbone: FeatureBackbone) -> None:
    # tiles of 128 px over 256-px-wide parts, the second bar at 160: 32 px into the right-hand
    # tile, where the left-hand one has its bar; a patch's place must be in the part, not in
    # its tile, or the misplaced bar would be matched with the left tile's bar
    threshold, good, bad = _scores(backbone, 2.0, width=256, tile_px=128, bar=160)
    assert max(good) < threshold < min(bad)


def test_the_weight_is_kept_in_the_model_file_and_checked(
    backbone: FeatureBackbone, tmp_path: Path
) -> None:
    settings = dataclasses.replace(AnomalySettings(), position_weight=2.0)
    model = fit([cell(s) for s in range(8)], backbone, settings=settings)
    assert model.bank.shape[1] == settings.feature_dims + 2  # the place's two columns
    save_model(model, tmp_path / "m.lsam")
    again = load_model(tmp_path / "m.lsam", backbone.sha256)
    assert again.settings.position_weight == 2.0
    image = cell(300)
    assert AnomalyScorer(again, backbone).score(image).score == pytest.approx(
        AnomalyScorer(model, backbone).score(image).score, rel=1e-3
    )
    # a bank without its places does not pass for one with them
    with np.load(tmp_path / "m.lsam") as data:
        arrays = {k: data[k] for k in data.files}
    arrays["bank"] = arrays["bank"][:, :-2]
    with (tmp_path / "cut.lsam").open("wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(ModelError, match="memory bank has shape"):
        load_model(tmp_path / "cut.lsam", backbone.sha256)
    with pytest.raises(ValueError, match="position_weight"):
        AnomalySettings(position_weight=-1.0)
