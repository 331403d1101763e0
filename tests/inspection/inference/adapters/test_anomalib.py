"""AnomalibModel on tiny graphs in anomalib's export layouts: outputs, scales, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from support import onnx_graphs as g

from inspection.errors import ModelError
from inspection.inference.adapters.anomalib import AnomalibModel
from inspection.inference.session import sha256_file

IMAGE = np.zeros((40, 80, 3), np.uint8)


def hot_map(shape: tuple[int, ...] = (1, 1, 32, 32), value: float = 0.9) -> np.ndarray:
    """Map of 0.1 with a hot 8 × 8 block at rows 4..11, columns 16..23 (model input px)."""
    m = np.full(shape, 0.1, np.float32)
    m[..., 4:12, 16:24] = value
    return m


def test_2x_layout_map_score_label_mask(tmp_path: Path) -> None:
    outputs = {
        "pred_score": np.array([0.8], np.float32),
        "pred_label": np.array([True]),
        "anomaly_map": hot_map(),
        "pred_mask": hot_map() > 0.5,
    }
    model = AnomalibModel(g.anomalib_model(tmp_path / "m.onnx", outputs))
    assert model.score_normalised and model.image_threshold == 0.5 and model.has_map
    pred = model.predict(IMAGE)
    assert pred.score == pytest.approx(0.8)
    assert pred.anomaly_map is not None and pred.anomaly_map.shape == (40, 80)
    # the hot block lands at rows 5..15, columns 40..60 of the 80 × 40 crop
    assert pred.anomaly_map[10, 50] == pytest.approx(0.9)
    assert pred.anomaly_map[30, 10] == pytest.approx(0.1)


def test_score_only_and_map_only(tmp_path: Path) -> None:
    score_only = AnomalibModel(
        g.anomalib_model(tmp_path / "s.onnx", {"pred_score": np.array([[0.3]], np.float32)})
    )
    assert not score_only.has_map
    assert score_only.predict(IMAGE).score == pytest.approx(0.3)
    assert score_only.predict(IMAGE).anomaly_map is None
    map_only = AnomalibModel(
        g.anomalib_model(tmp_path / "m.onnx", {"output": hot_map((1, 32, 32), 0.7)})
    )
    assert map_only.predict(IMAGE).score == pytest.approx(0.7)  # the map's maximum


def test_1x_metadata_min_max_normalisation(tmp_path: Path) -> None:
    meta = tmp_path / "metadata.json"
    meta.write_text(
        json.dumps(
            {
                "task": "segmentation",
                "image_threshold": 10.0,
                "pixel_threshold": 8.0,
                "pred_scores.min": 0.0,
                "pred_scores.max": 20.0,
                "anomaly_maps.min": 0.0,
                "anomaly_maps.max": 40.0,
            }
        ),
        encoding="utf-8",
    )
    path = g.anomalib_model(tmp_path / "m.onnx", {"output": hot_map(value=20.0)})
    model = AnomalibModel(path, metadata=meta)
    assert model.image_threshold == 0.5 and model.pixel_threshold == 0.5
    pred = model.predict(IMAGE)
    # raw score = map max 20 → (20 − 10) / 20 + 0.5 = 1.0; map 20 → (20 − 8) / 40 + 0.5 = 0.8
    assert pred.score == pytest.approx(1.0)
    assert pred.anomaly_map is not None
    assert pred.anomaly_map[10, 50] == pytest.approx(0.8)
    assert pred.anomaly_map[30, 10] == pytest.approx((0.1 - 8) / 40 + 0.5)


def test_1x_metadata_thresholds_only_keep_the_raw_scale(tmp_path: Path) -> None:
    meta = tmp_path / "metadata.json"
    meta.write_text('{"image_threshold": 13.0, "pixel_threshold": 9.0}', encoding="utf-8")
    path = g.anomalib_model(tmp_path / "m.onnx", {"output": hot_map(value=20.0)})
    model = AnomalibModel(path, metadata=meta)
    assert not model.score_normalised
    assert (model.image_threshold, model.pixel_threshold) == (13.0, 9.0)
    assert model.predict(IMAGE).score == pytest.approx(20.0)


def test_normalize_from_metadata_reaches_the_graph(tmp_path: Path) -> None:
    """A graph returning mean(input) as its score shows what it was fed."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["input"], ["pred_score"], axes=[1, 2, 3], keepdims=0)],
        "mean",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("pred_score", TensorProto.FLOAT, [1])],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    proto.ir_version = 9
    path = tmp_path / "mean.onnx"
    onnx.save(proto, str(path))
    white = np.full((8, 8, 3), 255, np.uint8)
    assert AnomalibModel(path).predict(white).score == pytest.approx(1.0)
    meta = tmp_path / "metadata.json"
    meta.write_text(
        json.dumps(
            {
                "image_threshold": 1.0,
                "transform": {
                    "__class_fullname__": "Normalize",
                    "mean": [0.5, 0.5, 0.5],
                    "std": [0.25, 0.25, 0.25],
                },
            }
        ),
        encoding="utf-8",
    )
    assert AnomalibModel(path, metadata=meta).predict(white).score == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        ({"anomaly_map": np.zeros((1, 2, 32, 32))}, "anomaly map is \\(1, 1, H, W\\)"),
        ({"pred_score": np.zeros((1, 3))}, "a score is \\(1,\\)"),
        ({"logits": np.zeros((1, 10))}, "unknown anomalib output layout .*logits"),
        ({"pred_label": np.array([True])}, "expected one anomaly map and/or one score"),
        (
            {"anomaly_map": np.zeros((1, 1, 8, 8)), "other_map": np.zeros((1, 1, 8, 8))},
            "expected one anomaly map",
        ),
    ],
)
def test_unknown_layouts_are_refused(tmp_path: Path, outputs: dict, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        AnomalibModel(g.anomalib_model(tmp_path / "m.onnx", outputs))


def test_bad_input_hash_and_metadata_are_refused(tmp_path: Path) -> None:
    path = g.model_with(
        tmp_path / "two.onnx",
        outputs={"pred_score": np.zeros(1)},
        input_name="input",
        extra_inputs=1,
    )
    with pytest.raises(ModelError, match="has 2 inputs"):
        AnomalibModel(path)
    good = g.anomalib_model(tmp_path / "m.onnx", {"pred_score": np.zeros(1)})
    assert AnomalibModel(good).sha256 == sha256_file(good)
    with pytest.raises(ModelError, match="sha256"):
        AnomalibModel(good, sha256="f" * 64)
    broken = tmp_path / "metadata.json"
    broken.write_text('{"image_threshold": 1,', encoding="utf-8")
    with pytest.raises(ModelError, match="not valid JSON"):
        AnomalibModel(good, metadata=broken)
