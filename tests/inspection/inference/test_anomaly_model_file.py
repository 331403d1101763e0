"""The .lsam model file: round trip, and refusal with a reason for every kind of bad file."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from inspection.errors import ModelError
from inspection.inference.anomaly.model import AnomalyModel
from inspection.inference.anomaly.model_file import load_model, save_model
from inspection.inference.anomaly.settings import AnomalySettings

SHA = "ab" * 32


def orthonormal(rows: int, cols: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(rows, cols)))
    return q.astype(np.float32)


def small_model(**kw: object) -> AnomalyModel:
    base: dict[str, object] = {
        "settings": AnomalySettings(long_side=256, feature_dims=16),
        "bank": np.random.default_rng(0).normal(size=(50, 16)).astype(np.float32),
        "projection": orthonormal(152, 16),
        "image_size": (96, 128),
        "backbone_sha256": SHA,
        "score_scale": 2.5,
        "threshold": 1.4,
        "calibration": {"method": "good_quantile", "good_scores": [1.0, 1.1]},
        "provenance": {"images": 10, "recipe": "demo", "tool_id": "surface"},
    }
    base.update(kw)
    return AnomalyModel(**base)  # type: ignore[arg-type]


def rewrite_meta(path: Path, change: dict[str, object]) -> None:
    with np.load(path) as npz:
        arrays = {name: npz[name] for name in npz.files}
    meta = json.loads(arrays["meta"].tobytes())
    meta.update(change)
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with path.open("wb") as f:
        np.savez(f, **arrays)


def test_round_trip(tmp_path: Path) -> None:
    model = small_model()
    path = tmp_path / "m.lsam"
    save_model(model, path)
    back = load_model(path, SHA)
    assert back.settings == model.settings
    assert back.image_size == (96, 128)
    assert back.threshold == 1.4 and back.score_scale == 2.5
    assert back.calibration == model.calibration and back.provenance == model.provenance
    np.testing.assert_allclose(back.bank, model.bank, atol=2e-3, rtol=1e-3)  # stored as float16
    assert back.projection is not None and model.projection is not None
    np.testing.assert_array_equal(back.projection, model.projection)
    with zipfile.ZipFile(path) as z:
        assert not any(n.endswith(".pkl") for n in z.namelist())


def test_other_backbone_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.lsam"
    save_model(small_model(), path)
    with pytest.raises(ModelError, match="made for another backbone"):
        load_model(path, "cd" * 32)


def test_truncated_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.lsam"
    save_model(small_model(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match=r"m\.lsam: (damaged|not a Lineside)"):
        load_model(path, SHA)


def test_random_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.lsam"
    path.write_bytes(np.random.default_rng(3).bytes(5000))
    with pytest.raises(ModelError, match="not a Lineside anomaly model"):
        load_model(path, SHA)


def test_other_npz_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.lsam"
    buf = io.BytesIO()
    np.savez(buf, weights=np.zeros(3))
    path.write_bytes(buf.getvalue())
    with pytest.raises(ModelError, match="not a Lineside anomaly model"):
        load_model(path, SHA)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"format_version": 99}, "model file format 99"),
        ({"settings": {**AnomalySettings().to_json(), "version": 0}}, "preprocessing version 0"),
        ({"settings": {"long_side": 256, "colour": "x"}}, "unknown settings"),
        ({"image_size": [8, 8]}, "input size of 8×8"),
        ({"threshold": -1}, "must be positive"),
        ({"threshold": 10**400}, "incomplete or wrong"),  # past float's range (found by fuzz)
        ({"score_scale": -(10**400)}, "incomplete or wrong"),
        ({"format": "something-else"}, "not a Lineside anomaly model"),
    ],
)
def test_tampered_metadata_is_refused(
    tmp_path: Path, change: dict[str, object], words: str
) -> None:
    path = tmp_path / "m.lsam"
    save_model(small_model(), path)
    rewrite_meta(path, change)
    with pytest.raises(ModelError, match=words):
        load_model(path, SHA)


def test_wrong_feature_layout_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.lsam"
    save_model(small_model(bank=np.zeros((5, 64), np.float32)), path)
    with pytest.raises(ModelError, match=r"shape \(5, 64\), expected \(N, 16\)"):
        load_model(path, SHA)


def test_unprojected_model_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "m.lsam"
    bank = np.random.default_rng(0).normal(size=(20, 152)).astype(np.float32)
    save_model(
        small_model(settings=AnomalySettings(feature_dims=0), bank=bank, projection=None), path
    )
    back = load_model(path, SHA)
    assert back.projection is None and back.bank.shape == (20, 152)


def test_missing_or_wrong_projection_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.lsam"
    save_model(small_model(projection=None), path)
    with pytest.raises(ModelError, match="holds no projection"):
        load_model(path, SHA)
    save_model(small_model(projection=orthonormal(100, 16)), path)
    with pytest.raises(ModelError, match=r"projection has shape \(100, 16\)"):
        load_model(path, SHA)


def test_model_of_the_previous_feature_layout_is_refused_with_the_reason(tmp_path: Path) -> None:
    # what a version-3 file held: 152-dim bank, no projection, settings without the newer knobs
    path = tmp_path / "m.lsam"
    bank = np.zeros((20, 152), np.float32)
    save_model(
        small_model(settings=AnomalySettings(feature_dims=0), bank=bank, projection=None), path
    )
    old = {
        k: v
        for k, v in AnomalySettings().to_json().items()
        if k not in ("border_px", "feature_dims")
    }
    rewrite_meta(path, {"settings": {**old, "version": 3}})
    with pytest.raises(ModelError, match=r"preprocessing version 3.*teach the tool again"):
        load_model(path, SHA)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        load_model(tmp_path / "none.lsam", SHA)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"border_px": 5}, "border_px must be a non-negative multiple of 16"),
        ({"tile_px": 8}, "tile_px must be 0 (off) or at least 32"),
        ({"sizes": "some"}, "sizes must be one of"),
        ({"long_side": None}, "setting 'long_side' must be int"),
        ({"scale": "big"}, "setting 'scale' must be float"),
    ],
)
def test_settings_read_from_a_file_are_checked(change: dict[str, object], words: str) -> None:
    data = {**AnomalySettings().to_json(), **change}
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        AnomalySettings.from_json(data)
