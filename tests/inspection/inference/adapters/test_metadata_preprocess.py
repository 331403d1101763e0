"""Metadata parsing (Ultralytics props, anomalib metadata.json) and the letterbox geometry."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inspection.errors import ModelError
from inspection.inference.adapters.metadata import (
    min_max_normalise,
    parse_imgsz,
    parse_names,
    parse_stride,
    read_anomalib_metadata,
)
from inspection.inference.adapters.preprocess import LETTERBOX_GREY, letterbox, to_nchw, to_rgb


def test_ultralytics_props() -> None:
    assert parse_names("{0: 'scratch', 1: 'dent'}", "m") == ("scratch", "dent")
    assert parse_names("['a', 'b']", "m") == ("a", "b")
    assert parse_imgsz("[480, 640]", "m") == (480, 640)
    assert parse_imgsz("640", "m") == (640, 640)
    assert parse_stride("32", "m") == 32
    with pytest.raises(ModelError, match="m: metadata 'imgsz'"):
        parse_imgsz("[640, 'x']", "m")
    with pytest.raises(ModelError, match="'stride'"):
        parse_stride("-1", "m")


def test_letterbox_pads_with_grey_and_maps_back() -> None:
    image = np.full((50, 100, 3), 200, np.uint8)
    boxed, lb = letterbox(image, (64, 64))
    assert boxed.shape == (64, 64, 3)
    assert (lb.scale, lb.pad_x, lb.pad_y) == (0.64, 0, 16)
    assert (boxed[:16] == LETTERBOX_GREY).all() and (boxed[48:] == LETTERBOX_GREY).all()
    assert (boxed[16:48] == 200).all()
    back = lb.to_source(np.array([[0, 16, 64, 48], [-5, 0, 70, 70]], np.float32))
    assert back[0].tolist() == pytest.approx([0, 0, 100, 50])
    assert back[1].tolist() == pytest.approx([0, 0, 100, 50])  # clipped to the source


def test_tensor_layout_colour_and_normalisation() -> None:
    bgr = np.zeros((2, 3, 3), np.uint8)
    bgr[..., 0] = 255  # blue
    rgb = to_rgb(bgr)
    t = to_nchw(rgb)
    assert t.shape == (1, 3, 2, 3) and t.dtype == np.float32
    assert t[0, 2].min() == 1.0 and t[0, 0].max() == 0.0
    n = to_nchw(rgb, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    assert n[0, 2, 0, 0] == pytest.approx(2.0) and n[0, 0, 0, 0] == pytest.approx(-2.0)
    assert to_rgb(np.full((4, 4), 7, np.uint8)).shape == (4, 4, 3)


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "metadata.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_anomalib_1x_metadata_with_albumentations_transform(tmp_path: Path) -> None:
    data = {
        "task": "segmentation",
        "transform": {
            "__version__": "1.3.1",
            "transform": {
                "__class_fullname__": "Compose",
                "transforms": [
                    {"__class_fullname__": "Resize", "height": 256, "width": 320},
                    {
                        "__class_fullname__": "Normalize",
                        "mean": [0.485, 0.456, 0.406],
                        "std": [0.229, 0.224, 0.225],
                        "max_pixel_value": 255.0,
                    },
                    {"__class_fullname__": "ToTensorV2"},
                ],
            },
        },
        "image_threshold": 12.5,
        "pixel_threshold": [11.0],
        "pred_scores.min": 3.0,
        "pred_scores.max": 23.0,
        "anomaly_maps.min": 1.0,
        "anomaly_maps.max": 31.0,
    }
    md = read_anomalib_metadata(_write(tmp_path, data))
    assert md.image_threshold == 12.5 and md.pixel_threshold == 11.0
    assert md.normalises_score and md.normalises_map
    assert md.input_size == (256, 320)
    assert md.mean == pytest.approx((0.485, 0.456, 0.406))
    assert md.std == pytest.approx((0.229, 0.224, 0.225))
    # threshold → 0.5; range 20 → one unit is 0.05
    assert float(min_max_normalise(np.asarray(14.5), 12.5, 3.0, 23.0)) == pytest.approx(0.6)
    assert float(min_max_normalise(np.asarray(99.0), 12.5, 3.0, 23.0)) == 1.0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON \\(line 1"),
        ("[1, 2]", "expected a JSON object"),
        ('{"task": "segmentation"}', "lacks 'image_threshold'"),
        ('{"image_threshold": "high"}', "'image_threshold' must be a finite number"),
        ('{"image_threshold": 1, "pred_scores.min": 0}', "lacks 'pred_scores.max'"),
        ('{"image_threshold": 1, "pred_scores.min": 2, "pred_scores.max": 2}', "must be greater"),
        (
            '{"image_threshold": 1, "anomaly_maps.min": 0, "anomaly_maps.max": 3}',
            "lacks 'pixel_threshold'",
        ),
    ],
)
def test_bad_anomalib_metadata_is_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "metadata.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ModelError, match=message) as info:
        read_anomalib_metadata(path)
    assert str(path) in str(info.value)
