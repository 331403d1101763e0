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


def test_the_shipped_backbone_is_lite0_with_relu6_throughout() -> None:
    """Lite0's weights were trained with ReLU6; a graph with swish is another network (and slower)."""
    import onnx

    manifest = yaml.safe_load(backbone_manifest_path().read_text(encoding="utf-8"))
    graph = onnx.load(str(backbone_manifest_path().parent / manifest["file"])).graph
    ops = [n.op_type for n in graph.node]
    assert "Sigmoid" not in ops
    clips = [n for n in graph.node if n.op_type == "Clip"]
    assert len(clips) == 22  # the stem and every expand / depthwise convolution up to block 10
    bounds = {i.name: onnx.numpy_helper.to_array(i) for i in graph.initializer}
    assert all((bounds[c.input[1]], bounds[c.input[2]]) == (0.0, 6.0) for c in clips)


def test_swish_pairs_become_relu6_with_the_same_numbers_elsewhere() -> None:
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    from models.relu6_backbone import swish_to_relu6

    w = numpy_helper.from_array(np.full((2, 1, 1, 1), 3.0, np.float32), "w")
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], group=1),
        helper.make_node("Sigmoid", ["c"], ["s"]),
        helper.make_node("Mul", ["c", "s"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 2, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 2, 2])],
        [w],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    fixed, count = swish_to_relu6(model)
    assert count == 1 and [n.op_type for n in fixed.graph.node] == ["Conv", "Clip"]
    x = np.array([[[[-1.0, 0.5], [1.0, 4.0]]]], np.float32)
    sess = ort.InferenceSession(fixed.SerializeToString(), providers=["CPUExecutionProvider"])
    (y,) = sess.run(None, {"x": x})
    np.testing.assert_allclose(y, np.clip(3.0 * np.concatenate([x, x], axis=1), 0.0, 6.0))
    # a Sigmoid that is not half of a swish is not touched silently
    lone = helper.make_model(
        helper.make_graph(
            [helper.make_node("Sigmoid", ["x"], ["y"])],
            "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        ),
        opset_imports=[helper.make_opsetid("", 17)],
    )
    with pytest.raises(ValueError, match="not the x·sigmoid"):
        swish_to_relu6(lone)
