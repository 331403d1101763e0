"""Tiling: tiles cover the image evenly, and a small defect in a large frame is found at full
resolution where the whole frame, shrunk to long_side, loses it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from support.textures import texture

from inspection.inference.anomaly.fit import fit
from inspection.inference.anomaly.model import AnomalyScorer
from inspection.inference.anomaly.settings import AnomalySettings
from inspection.inference.anomaly.tiling import tiles
from inspection.inference.backbone import FeatureBackbone

SIZE = (384, 512)
DEFECT = (300, 200, 306, 202)  # x0, y0, x1, y1: a 6 × 2 px nick in a 512 × 384 frame


def nicked(seed: int) -> np.ndarray:
    image = texture(seed, SIZE)
    x0, y0, x1, y1 = DEFECT
    cv2.rectangle(image, (x0, y0), (x1 - 1, y1 - 1), (20,), -1)
    return image


@pytest.mark.parametrize(("h", "w", "tile"), [(384, 512, 128), (100, 1000, 256), (64, 64, 128)])
def test_tiles_cover_the_image_with_equal_overlapping_tiles(h: int, w: int, tile: int) -> None:
    parts = tiles(h, w, tile)
    covered = np.zeros((h, w), np.int32)
    for y, x, th, tw in parts:
        assert (th, tw) == (min(tile, h), min(tile, w))
        assert y >= 0 and y + th <= h and x >= 0 and x + tw <= w
        covered[y : y + th, x : x + tw] += 1
    assert covered.min() >= 1
    assert parts[0][:2] == (0, 0) and parts[-1][0] + parts[-1][2] == h
    assert parts[-1][1] + parts[-1][3] == w


def test_tiling_off_is_one_tile() -> None:
    assert tiles(384, 512, 0) == [(0, 0, 384, 512)]


@pytest.fixture(scope="module")
def backbone() -> FeatureBackbone:
    return FeatureBackbone()


def test_small_defect_in_a_large_frame_is_found_with_tiles(backbone: FeatureBackbone) -> None:
    good = [texture(s, SIZE) for s in range(6)]
    whole = fit(good, backbone, settings=AnomalySettings(long_side=128))
    tiled = fit(good, backbone, settings=AnomalySettings(long_side=128, tile_px=128))
    assert tiled.settings.tile_px == 128 and tiled.image_size == SIZE
    scorer = AnomalyScorer(tiled, backbone)
    scored = scorer.score(nicked(100))
    assert scored.map.shape == SIZE
    y, x = np.unravel_index(int(np.argmax(scored.map)), scored.map.shape)
    x0, y0, x1, y1 = DEFECT
    assert x0 - 12 <= x <= x1 + 12 and y0 - 12 <= y <= y1 + 12
    assert scored.score >= tiled.threshold
    assert max(scorer.score(texture(s, SIZE)).score for s in (200, 201)) < tiled.threshold
    # the same frame shrunk whole (4× smaller) does not reach its model's threshold
    assert AnomalyScorer(whole, backbone).score(nicked(100)).score < whole.threshold
