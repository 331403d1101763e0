"""Teaching and scoring on generated textures: separation, calibration, bad input, cancel."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from support.textures import texture

from inspection.errors import LinesideError
from inspection.inference.anomaly.calibration import from_good, from_labelled
from inspection.inference.anomaly.coreset import greedy_coreset
from inspection.inference.anomaly.features import principal_axes
from inspection.inference.anomaly.fit import MIN_IMAGES, FitCancelled, fit
from inspection.inference.anomaly.model import AnomalyModel, AnomalyScorer
from inspection.inference.anomaly.preprocess import prepare
from inspection.inference.anomaly.settings import AnomalySettings
from inspection.inference.backbone import FeatureBackbone


def scratched(seed: int, **kw: object) -> np.ndarray:
    """A bad part: the same texture with a dark scratch from (30, 40) to (80, 60)."""
    image = texture(seed, **kw)  # type: ignore[arg-type]
    cv2.line(image, (30, 40), (80, 60), (15, 15, 15), 3)
    return image


@pytest.fixture(scope="module")
def backbone() -> FeatureBackbone:
    return FeatureBackbone()


@pytest.fixture(scope="module")
def model(backbone: FeatureBackbone) -> AnomalyModel:
    return fit([texture(s) for s in range(10)], backbone, recipe_name="r", tool_id="t")


def test_drawn_scratches_score_above_good_parts(
    model: AnomalyModel, backbone: FeatureBackbone
) -> None:
    scorer = AnomalyScorer(model, backbone)
    good = [scorer.score(texture(s)).score for s in range(100, 106)]
    bad = [scorer.score(scratched(s)).score for s in range(200, 206)]
    assert min(bad) > max(good)
    assert min(bad) >= model.threshold > max(good)


def test_map_peaks_on_the_scratch(model: AnomalyModel, backbone: FeatureBackbone) -> None:
    scored = AnomalyScorer(model, backbone).score(scratched(300))
    assert scored.map.shape == (96, 128) and scored.map.dtype == np.float32
    y, x = np.unravel_index(int(np.argmax(scored.map)), scored.map.shape)
    assert 25 <= x <= 85 and 35 <= y <= 65
    assert scored.score == pytest.approx(float(scored.map.max()))


def test_threshold_lies_above_held_out_good_scores(model: AnomalyModel) -> None:
    held = model.calibration["good_scores"]
    assert model.calibration["method"] == "good_quantile"
    assert len(held) == 2 and model.threshold > max(held)
    assert model.provenance["images"] == 10 and model.provenance["bank_images"] == 8
    assert model.provenance["recipe"] == "r" and model.provenance["tool_id"] == "t"
    assert model.bank.shape[1] == 64 and model.bank.dtype == np.float32
    assert model.projection is not None and model.projection.shape == (152, 64)


def test_projection_keeps_the_main_axes_orthonormal(model: AnomalyModel) -> None:
    p = model.projection
    assert p is not None
    np.testing.assert_allclose(p.T @ p, np.eye(64), atol=1e-4)


def test_projection_off_keeps_every_feature(backbone: FeatureBackbone) -> None:
    model = fit([texture(s) for s in range(6)], backbone, settings=AnomalySettings(feature_dims=0))
    assert model.projection is None and model.bank.shape[1] == 152
    scorer = AnomalyScorer(model, backbone)
    assert scorer.score(scratched(301)).score > max(scorer.score(texture(s)).score for s in (7, 8))


def test_principal_axes_follow_the_spread() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5000, 3)).astype(np.float32) * np.float32([1.0, 10.0, 0.1])
    axes = principal_axes(x, 1)
    assert axes.shape == (3, 1) and abs(float(axes[1, 0])) > 0.999


def test_labelled_bad_images_choose_the_f1_threshold(backbone: FeatureBackbone) -> None:
    model = fit(
        [texture(s) for s in range(8)], backbone, bad_images=[scratched(s) for s in (50, 51)]
    )
    assert model.calibration["method"] == "f1"
    assert model.calibration["f1"] == 1.0
    assert max(model.calibration["good_scores"]) < model.threshold
    assert model.threshold < min(model.calibration["bad_scores"])


def test_colour_images_fit_and_score(backbone: FeatureBackbone) -> None:
    model = fit([texture(s, colour=True) for s in range(6)], backbone)
    scorer = AnomalyScorer(model, backbone)
    assert (
        scorer.score(scratched(7, colour=True)).score > scorer.score(texture(8, colour=True)).score
    )


def test_wrong_size_is_refused_when_scoring(model: AnomalyModel, backbone: FeatureBackbone) -> None:
    with pytest.raises(ValueError, match="taught on 128×96"):
        AnomalyScorer(model, backbone).score(texture(1, size=(64, 64)))


def test_too_few_usable_images_lists_every_skipped_file(
    backbone: FeatureBackbone, tmp_path: Path
) -> None:
    junk = tmp_path / "notes.png"
    junk.write_text("not an image", encoding="utf-8")
    missing = tmp_path / "gone.png"
    good = tmp_path / "good.png"
    cv2.imwrite(str(good), texture(0))
    images = [good, junk, missing, texture(1, size=(64, 64)), np.zeros((40, 40), np.float32)]
    with pytest.raises(LinesideError) as err:
        fit(images, backbone)
    text = str(err.value)
    assert f"need at least {MIN_IMAGES}" in text
    assert "notes.png: not a readable image" in text
    assert "gone.png: cannot be read" in text
    assert "image #4: has pixel type float32" in text
    assert "need at least 5 usable good images, got 2 of 5" in text  # the 64×64 one counts


def test_good_images_of_mixed_sizes_are_taught_at_one_working_scale(
    model: AnomalyModel, backbone: FeatureBackbone
) -> None:
    sizes = [(96, 128), (64, 64), (120, 60), (48, 144)]
    mixed = fit([texture(s, size=sizes[s % 4]) for s in range(12)], backbone)
    assert mixed.settings.sizes == "mixed" and mixed.provenance["image_sizes"] == 4
    assert model.settings.sizes == "one"  # one size: the line's ROI, as before
    scorer = AnomalyScorer(mixed, backbone)
    for size in [(64, 64), (200, 70)]:  # any size is scored, the map at the image's size
        scored = scorer.score(texture(50, size=size))
        assert scored.map.shape == size and scored.score < mixed.threshold
    cracked = texture(51, size=(64, 192))
    cv2.line(cracked, (20, 10), (170, 50), 5, 2)
    assert scorer.score(cracked).score > mixed.threshold


def test_an_odd_size_is_taught_too_at_the_sets_working_scale(backbone: FeatureBackbone) -> None:
    images = [texture(s) for s in range(6)] + [texture(9, size=(80, 80))]
    model = fit(images, backbone)
    assert model.image_size == (96, 128)  # the commonest, for the record
    assert model.provenance["images"] == 7 and model.provenance["skipped"] == []
    # the median image's longer side (128 px) is brought to the working 384 px
    assert model.settings.sizes == "mixed" and model.settings.scale == pytest.approx(3.0)


def test_progress_runs_to_the_end_and_cancel_stops(backbone: FeatureBackbone) -> None:
    seen: list[tuple[int, int]] = []
    fit([texture(s) for s in range(6)], backbone, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1][0] == seen[-1][1]
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)

    cancel = threading.Event()

    def stop_after_three(done: int, total: int) -> None:
        if done == 3:
            cancel.set()

    calls: list[int] = []
    with pytest.raises(FitCancelled, match="cancelled"):
        fit(
            [texture(s) for s in range(6)],
            backbone,
            cancel=cancel,
            progress=lambda d, t: (calls.append(d), stop_after_three(d, t)),
        )
    assert max(calls) == 3


def test_coreset_covers_every_cluster() -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 50, (8, 152)).astype(np.float32)
    points = np.concatenate([c + rng.normal(0, 1, (500, 152)).astype(np.float32) for c in centres])
    idx = greedy_coreset(points, 16, seed=1)
    assert len(set(idx.tolist())) == 16
    hit = {int(i) // 500 for i in idx}
    assert hit == set(range(8))


def test_calibration_rules() -> None:
    assert from_good([1.4, 1.45, 1.5, 1.6]).threshold == pytest.approx(1.6 * 1.1)
    assert from_good([1.0, 1.0]).threshold == pytest.approx(1.3)  # the floor
    assert from_good([0.5, 1.0, 1.5, 1.5]).threshold == pytest.approx(1.75)  # q + (q - median)
    labelled = from_labelled([1.0, 1.2, 2.5], [3.0, 4.0, 1.1])
    assert 2.5 < labelled.threshold < 3.0  # F1 = 0.8 here; lower cuts add false rejects
    assert labelled.details["f1"] == pytest.approx(0.8)


def test_border_of_reflected_context_surrounds_the_content() -> None:
    image = texture(5)  # 96 × 128
    prepared = prepare(image, 384, 32, border=16)
    assert prepared.image.shape[:2] == (128, 160) and prepared.border == 16
    inside = prepared.image[16 : 16 + 96, 16 : 16 + 128]
    np.testing.assert_array_equal(inside, image)
    np.testing.assert_array_equal(prepared.image[15, 16:144], image[1])  # mirrored, not flat
    np.testing.assert_array_equal(prepared.image[16:112, 15], image[:, 1])


def test_border_leaves_the_map_on_the_content(backbone: FeatureBackbone) -> None:
    """A scratch along the image edge is still found where it is with the border."""
    train = [texture(s) for s in range(8)]
    model = fit(train, backbone, settings=AnomalySettings(border_px=16))
    image = texture(400)
    cv2.line(image, (100, 5), (125, 20), (15, 15, 15), 3)
    scored = AnomalyScorer(model, backbone).score(image)
    assert scored.map.shape == (96, 128)
    y, x = np.unravel_index(int(np.argmax(scored.map)), scored.map.shape)
    assert x >= 90 and y <= 30
    assert scored.score >= model.threshold
