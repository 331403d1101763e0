"""FeatureBackbone: output shapes, grey/colour input, size checks and the manifest hash check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from inspection.errors import ModelError
from inspection.inference.backbone import FeatureBackbone
from inspection.inference.manifest import backbone_manifest_path


@pytest.fixture(scope="module")
def backbone() -> FeatureBackbone:
    return FeatureBackbone()


def test_shapes_follow_the_input_size(backbone: FeatureBackbone) -> None:
    image = np.random.default_rng(0).integers(0, 256, (64, 96, 3), dtype=np.uint8)
    f8, f16 = backbone.features(image)
    assert f8.shape == (40, 8, 12) and f16.shape == (112, 4, 6)
    assert f8.dtype == np.float32 and np.isfinite(f8).all() and np.isfinite(f16).all()
    assert len(backbone.sha256) == 64


def test_grey_equals_the_same_grey_as_bgr(backbone: FeatureBackbone) -> None:
    grey = np.random.default_rng(1).integers(0, 256, (64, 64), dtype=np.uint8)
    a8, a16 = backbone.features(grey)
    b8, b16 = backbone.features(np.dstack([grey] * 3))
    np.testing.assert_allclose(a8, b8, atol=1e-5)
    np.testing.assert_allclose(a16, b16, atol=1e-5)


def test_colour_order_matters(backbone: FeatureBackbone) -> None:
    image = np.zeros((64, 64, 3), np.uint8)
    image[:, :, 2] = 255  # pure red in BGR
    red8, _ = backbone.features(image)
    blue8, _ = backbone.features(np.ascontiguousarray(image[:, :, ::-1]))
    assert not np.allclose(red8, blue8)


@pytest.mark.parametrize(
    ("image", "words"),
    [
        (np.zeros((60, 64), np.uint8), "multiples of 32"),
        (np.zeros((64, 64), np.float32), "uint8"),
    ],
)
def test_bad_input_is_named(backbone: FeatureBackbone, image: np.ndarray, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        backbone.features(image)


def test_hash_mismatch_is_refused(tmp_path: Path) -> None:
    real = backbone_manifest_path()
    data = yaml.safe_load(real.read_text(encoding="utf-8"))
    data["sha256"] = "0" * 64
    data["file"] = str(real.parent / data["file"])  # absolute: the manifest moves, the model not
    fake = tmp_path / "backbone.yaml"
    fake.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ModelError, match="sha256"):
        FeatureBackbone(manifest_path=fake)
