"""The image score made from patch scores: mean of the highest few, patch centres in image
pixels, the part-only score of an aligned tool, and what older model files keep."""

from __future__ import annotations

import numpy as np
import pytest

from inspection.inference.anomaly.model import image_score
from inspection.inference.anomaly.scoring import (
    PatchScores,
    centres,
    patch_count,
    top_mean,
)
from inspection.inference.anomaly.settings import AnomalySettings


def test_top_mean_averages_the_highest_values() -> None:
    values = np.asarray([0.1, 5.0, 0.2, 3.0, 1.0, 4.0], np.float32)
    assert top_mean(values, 1) == pytest.approx(5.0)
    assert top_mean(values, 3) == pytest.approx(4.0)
    assert top_mean(values, 100) == pytest.approx(values.mean())  # fewer than k: all of them
    assert top_mean(np.zeros((0,), np.float32), 4) == 0.0
    assert top_mean(values.reshape(2, 3), 2) == pytest.approx(4.5)  # any shape


def test_one_chance_peak_counts_less_than_a_defect_spread_over_patches() -> None:
    # a good texture: one lone high patch; a defect: a few patches raised less high each
    good = np.ones(256, np.float32)
    good[17] = 3.0
    bad = np.ones(256, np.float32)
    bad[40:44] = 2.2
    assert top_mean(good, 1) > top_mean(bad, 1)  # the plain maximum ranks them wrongly...
    assert top_mean(bad, 4) > top_mean(good, 4)  # ...the mean of the highest four rightly


def test_patch_count_default_is_the_footprint_of_a_point_defect() -> None:
    assert patch_count(pool=1, score_patches=0) == 4
    assert patch_count(pool=3, score_patches=0) == 16
    assert patch_count(pool=3, score_patches=2) == 2


def test_centres_are_cell_centres_in_source_pixels() -> None:
    c = centres(2, 3, (16, 24), (16, 24), 8)
    assert c.dtype == np.int32 and c.shape == (6, 2)
    assert c[:3].tolist() == [[4, 4], [4, 12], [4, 20]] and c[3].tolist() == [12, 4]
    # content shrunk to half the source: centres land twice as far apart, inside the image
    big = centres(2, 2, (16, 16), (32, 32), 8)
    assert big.tolist() == [[8, 8], [8, 24], [24, 8], [24, 24]]
    assert centres(3, 3, (20, 20), (20, 20), 8).max() <= 19  # a part cell is clipped in


def test_inside_keeps_the_patches_centred_on_the_mask() -> None:
    patches = PatchScores(
        values=np.asarray([1.0, 2.0, 3.0, 4.0], np.float32),
        centres=centres(2, 2, (16, 16), (16, 16), 8),
    )
    mask = np.zeros((16, 16), bool)
    mask[:8, 8:] = True  # the top-right cell only
    assert patches.inside(mask).tolist() == [2.0]


def test_image_score_follows_the_settings() -> None:
    values = np.asarray([1.0, 1.0, 2.0, 6.0], np.float32)
    smooth_map = np.full((8, 8), 2.5, np.float32)
    assert image_score(values, smooth_map, AnomalySettings()) == 2.5  # the default: map_max
    patches = AnomalySettings(pool=1, score="patches")  # (1 + 1)² = 4 patches
    assert image_score(values, smooth_map, patches) == pytest.approx(2.5)
    one = AnomalySettings(score="patches", score_patches=1)
    assert image_score(values, smooth_map, one) == 6.0
    assert image_score(values[:0], smooth_map[:0], AnomalySettings(score="map_max")) == 0.0


def test_model_files_from_before_the_setting_keep_the_map_maximum() -> None:
    old = {
        k: v for k, v in AnomalySettings().to_json().items() if k not in ("score", "score_patches")
    }
    read = AnomalySettings.from_json(old)
    assert read.score == "map_max" and read.pool == 3
    # a file that states them keeps what it states
    new = AnomalySettings.from_json(
        AnomalySettings(pool=1, score="patches", score_patches=9).to_json()
    )
    assert (new.score, new.pool, new.score_patches) == ("patches", 1, 9)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"pool": 2}, "pool must be an odd number"),
        ({"pool": 0}, "pool must be an odd number"),
        ({"score": "mean"}, "score must be one of"),
        ({"score_patches": -1}, "score_patches must be 0"),
    ],
)
def test_bad_scoring_settings_are_refused(change: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        AnomalySettings(**change)  # type: ignore[arg-type]
