"""YoloDetector on tiny graphs in the Ultralytics export layout: decoding, NMS, letterbox, refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support import onnx_graphs as g

from inspection.errors import ModelError
from inspection.inference.adapters.detections import decode_yolo, nms
from inspection.inference.adapters.yolo import YoloDetector
from inspection.inference.session import sha256_file

NAMES = "{0: 'scratch', 1: 'dent'}"
LOW = np.array([0.25, 0.25], np.float32)


def test_decodes_box_class_and_maps_back_through_the_letterbox(tmp_path: Path) -> None:
    head = g.yolo_head([(32, 32, 10, 10, 1, 0.8)], 2)
    det = YoloDetector(g.yolo_model(tmp_path / "m.onnx", head, names=NAMES))
    assert det.class_names == ("scratch", "dent") and det.input_size == (64, 64)
    # 128 × 64 crop → scale 0.5, 16 px grey bands above and below
    found = det.detect(np.zeros((64, 128, 3), np.uint8), LOW, 0.45)
    assert len(found) == 1
    d = found[0]
    assert d.class_name == "dent" and d.class_index == 1
    assert d.confidence == pytest.approx(0.8)
    assert d.box == pytest.approx((54.0, 22.0, 74.0, 42.0))


def test_tall_crop_pads_left_and_right(tmp_path: Path) -> None:
    head = g.yolo_head([(32, 32, 8, 8, 0, 0.9)], 2)
    det = YoloDetector(g.yolo_model(tmp_path / "m.onnx", head, names=NAMES))
    (d,) = det.detect(np.zeros((256, 64), np.uint8), LOW, 0.45)  # grey frame, scale 0.25
    assert d.box == pytest.approx(((28 - 24) / 0.25, 28 / 0.25, (36 - 24) / 0.25, 36 / 0.25))


def test_thresholds_are_per_class(tmp_path: Path) -> None:
    head = g.yolo_head([(10, 10, 6, 6, 0, 0.5), (40, 40, 6, 6, 1, 0.5)], 2)
    det = YoloDetector(g.yolo_model(tmp_path / "m.onnx", head, names=NAMES))
    image = np.zeros((64, 64, 3), np.uint8)
    assert {d.class_name for d in det.detect(image, np.array([0.6, 0.4], np.float32), 0.45)} == {
        "dent"
    }
    assert len(det.detect(image, np.array([0.4, 0.4], np.float32), 0.45)) == 2
    assert det.detect(image, np.array([0.6, 0.6], np.float32), 0.45) == []


def test_nms_suppresses_overlapping_same_class_but_not_other_classes(tmp_path: Path) -> None:
    head = g.yolo_head(
        [
            (30, 30, 20, 20, 0, 0.9),
            (31, 31, 20, 20, 0, 0.7),  # same class, IoU ≈ 0.9 → suppressed
            (31, 31, 20, 20, 1, 0.6),  # other class, same place → kept
            (50, 10, 8, 8, 0, 0.5),  # same class, apart → kept
        ],
        2,
    )
    det = YoloDetector(g.yolo_model(tmp_path / "m.onnx", head, names=NAMES))
    found = det.detect(np.zeros((64, 64, 3), np.uint8), LOW, 0.45)
    assert [(d.class_name, round(d.confidence, 2)) for d in found] == [
        ("scratch", 0.9),
        ("dent", 0.6),
        ("scratch", 0.5),
    ]
    # with a lenient IoU limit the overlapping box survives
    assert len(det.detect(np.zeros((64, 64, 3), np.uint8), LOW, 0.95)) == 4


def test_nms_and_decode_directly() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], np.float32)
    assert nms(boxes, np.array([0.5, 0.9, 0.8], np.float32), 0.5).tolist() == [1, 2]
    head = g.yolo_head([(5, 5, 2, 2, 2, 0.3)], 3)[0]
    b, s, c = decode_yolo(head, np.full(3, 0.25, np.float32), 0.45)
    assert c.tolist() == [2] and b.tolist() == [[4, 4, 6, 6]] and s[0] == pytest.approx(0.3)


def test_names_fall_back_to_class_index_and_recipe_names_win(tmp_path: Path) -> None:
    head = g.yolo_head([], 3)
    path = g.yolo_model(tmp_path / "m.onnx", head)
    assert YoloDetector(path).class_names == ("class_0", "class_1", "class_2")
    assert YoloDetector(path, class_names=["a", "b", "c"]).class_names == ("a", "b", "c")
    with_names = g.yolo_model(tmp_path / "n.onnx", head, names="{0: 'x', 1: 'y', 2: 'z'}")
    assert YoloDetector(with_names, class_names=["a", "b", "c"]).class_names == ("a", "b", "c")


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ("{0: 'scratch', 1: 'dent'", "not a Python literal"),
        ("__import__('os').system('true')", "not a Python literal"),
        ("{0: 'scratch', 2: 'dent'}", "must map 0, 1, 2"),
        ("42", "must be a dict or list"),
        ("{0: 'scratch'}", "lists 1 classes"),
    ],
)
def test_bad_names_metadata_is_refused(tmp_path: Path, names: str, message: str) -> None:
    path = g.yolo_model(tmp_path / "m.onnx", g.yolo_head([], 2), names=names)
    with pytest.raises(ModelError, match=message):
        YoloDetector(path)


def test_names_count_disagreeing_with_the_model_names_both(tmp_path: Path) -> None:
    path = g.yolo_model(tmp_path / "m.onnx", g.yolo_head([], 2))
    with pytest.raises(ModelError, match=r"lists 3 classes .* outputs 2 class scores"):
        YoloDetector(path, class_names=["a", "b", "c"])


def test_dynamic_input_uses_imgsz_metadata(tmp_path: Path) -> None:
    head = g.yolo_head([(48, 16, 8, 8, 0, 0.9)], 2)
    path = g.yolo_model(
        tmp_path / "m.onnx", head, size=(32, 64), names=NAMES, input_shape=("b", 3, "h", "w")
    )
    det = YoloDetector(path)
    assert det.input_size == (32, 64) and det.stride == 32
    (d,) = det.detect(np.zeros((32, 64, 3), np.uint8), LOW, 0.45)
    assert d.box == pytest.approx((44, 12, 52, 20))


def test_dynamic_input_without_imgsz_is_refused(tmp_path: Path) -> None:
    path = g.model_with(
        tmp_path / "m.onnx",
        outputs={"output0": g.yolo_head([], 2)},
        input_shape=("b", 3, "h", "w"),
        input_name="images",
    )
    with pytest.raises(ModelError, match=r"dynamic size .* no 'imgsz'"):
        YoloDetector(path)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"outputs": {"output0": np.zeros((1, 6, 8))}, "extra_inputs": 1}, "has 2 inputs"),
        (
            {"outputs": {"output0": np.zeros((1, 6, 8))}, "input_shape": (1, 1, 64, 64)},
            "expected \\(1, 3, height, width\\)",
        ),
        (
            {"outputs": {"output0": np.zeros((1, 6, 8))}, "input_shape": (1, 3, 64)},
            "expected \\(1, 3, height, width\\)",
        ),
        ({"outputs": {"output0": np.zeros((6, 8))}}, "expected \\(1, 4 \\+ classes, anchors\\)"),
        ({"outputs": {"output0": np.zeros((1, 4, 8))}}, "at least one class"),
        ({"outputs": {"output0": np.zeros((2, 6, 8))}}, "came out \\(2, 6, 8\\)"),
        (
            {"outputs": {"output0": np.zeros((1, 6, 8)), "output1": np.zeros((1, 32, 16, 16))}},
            "has 2 outputs",
        ),
    ],
)
def test_wrong_layouts_are_refused_with_the_reason(
    tmp_path: Path, kwargs: dict, message: str
) -> None:
    path = g.model_with(tmp_path / "m.onnx", input_name="images", **kwargs)
    with pytest.raises(ModelError, match=message):
        YoloDetector(path)


def test_nms_export_is_refused(tmp_path: Path) -> None:
    path = g.yolo_model(
        tmp_path / "m.onnx", g.yolo_head([], 2), metadata={"args": "{'batch': 1, 'nms': True}"}
    )
    with pytest.raises(ModelError, match="nms=True"):
        YoloDetector(path)


def test_sha256_is_checked_and_reported(tmp_path: Path) -> None:
    path = g.yolo_model(tmp_path / "m.onnx", g.yolo_head([], 2))
    digest = sha256_file(path)
    assert YoloDetector(path, sha256=digest.upper()).sha256 == digest
    assert YoloDetector(path).sha256 == digest
    with pytest.raises(ModelError, match="sha256"):
        YoloDetector(path, sha256="0" * 64)


def test_a_file_that_is_not_onnx_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"PK\x03\x04 this is a zip, not a model")
    with pytest.raises(ModelError, match="not a usable ONNX model"):
        YoloDetector(path)
    with pytest.raises(ModelError, match="not found"):
        YoloDetector(tmp_path / "missing.onnx")


def test_best_class_scores_are_the_first_box_decoding_keeps_of_each_class_at_any_threshold() -> (
    None
):
    from inspection.inference.adapters.detections import best_class_scores

    rng = np.random.default_rng(3)
    n, c = 400, 3
    head = np.zeros((4 + c, n), np.float32)
    head[:2] = rng.uniform(20, 600, (2, n))
    head[2:4] = rng.uniform(5, 80, (2, n))
    head[4:] = rng.uniform(0.0, 0.6, (c, n)) ** 2
    head[4 + 2] = 0.0  # a class seen nowhere
    head[0, 7] = np.nan  # a broken box is no detection, however high it scores
    head[4, 7] = 0.99
    best = best_class_scores(head)
    _, scores, classes = decode_yolo(head, np.full(c, 1e-6, np.float32), 0.45)
    for k in range(c):
        mine = scores[classes == k]
        assert best[k] == (mine.max() if mine.size else 0.0)
    assert best[2] == 0.0 and best[0] < 0.99
