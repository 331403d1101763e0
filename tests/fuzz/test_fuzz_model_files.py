"""Fuzzed model files: a damaged or foreign file is refused with ModelError naming it, never
another exception, a crash or a hang.

Targets: the defect tool's ``.lsam`` (random bytes, a real file with bytes flipped, cut or
truncated, and real files whose metadata fields or arrays were replaced by odd values), and the
user's ONNX detector (random bytes, a real YOLO-layout export damaged the same ways, and odd
Ultralytics metadata strings).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.fuzz_support import BYTE_DAMAGES, damage_bytes, fuzz_settings, outcome
from support.onnx_graphs import yolo_head, yolo_model

from inspection.errors import ModelError
from inspection.inference.adapters.metadata import read_anomalib_metadata
from inspection.inference.adapters.yolo import YoloDetector
from inspection.inference.anomaly.model import AnomalyModel
from inspection.inference.anomaly.model_file import (
    FEATURE_DIMS,
    check_usable,
    load_model,
    save_model,
)
from inspection.inference.anomaly.settings import AnomalySettings

FUZZ = fuzz_settings()
BACKBONE = "ab" * 32


def _real_lsam(path: Path) -> Path:
    dims = 8
    settings = AnomalySettings(feature_dims=dims)
    rng = np.random.default_rng(0)
    model = AnomalyModel(
        settings=settings,
        bank=rng.random((16, dims), dtype=np.float32),
        projection=rng.random((FEATURE_DIMS, dims), dtype=np.float32),
        image_size=(64, 96),
        backbone_sha256=BACKBONE,
        score_scale=1.5,
        threshold=2.0,
        calibration={"method": "fuzz"},
        provenance={"images": 3},
    )
    save_model(model, path)
    return path


@pytest.fixture(scope="module")
def real_lsam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = _real_lsam(tmp_path_factory.mktemp("lsam") / "good.lsam")
    load_model(path, BACKBONE)  # the undamaged file loads
    return path


@pytest.fixture(scope="module")
def real_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("onnx") / "good.onnx"
    yolo_model(path, yolo_head([(32, 32, 10, 10, 1, 0.9)], 2), names="{0: 'scratch', 1: 'dent'}")
    YoloDetector(path)  # the undamaged file loads
    return path


@st.composite
def damaged(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with a few bytes flipped, cut, inserted, overwritten, or the file truncated."""
    out = bytearray(data)
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        i = draw(st.integers(min_value=0, max_value=max(len(out) - 1, 0)))
        how = draw(st.sampled_from([*BYTE_DAMAGES, "overwrite", "header"]))
        if damage_bytes(draw, out, how, i, cut_max=256, insert_max=32):
            continue
        if how == "overwrite":
            patch = draw(st.sampled_from([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f" * 8]))
            out[i : i + len(patch)] = patch
        elif how == "header":
            # inside a numpy array header (the text numpy parses as a Python literal)
            at = out.find(
                b"{'descr'", draw(st.integers(min_value=0, max_value=max(len(out) - 1, 0)))
            )
            if at >= 0:
                at += draw(st.integers(min_value=0, max_value=60))
                patch = draw(
                    st.sampled_from(
                        [b"(", b")", b"'", b"9999999999999", b"-1", b"<f8", b"|O", b"\n"]
                    )
                )
                out[at : at + len(patch)] = patch
    return bytes(out)


def random_or_damaged(data: bytes) -> st.SearchStrategy[bytes]:
    """One file in five random bytes, the rest ``data`` damaged (``damaged``)."""
    return st.integers(min_value=0, max_value=4).flatmap(
        lambda pick: st.binary(max_size=4096) if pick == 0 else damaged(data)
    )


def _refused_naming(path: Path, load: Any) -> None:
    try:
        load()
    except ModelError as exc:
        outcome("refused")
        assert str(path) in str(exc), f"message does not name the file: {exc}"
        return
    outcome("loaded")


# ---- .lsam -------------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_damaged_or_random_lsam_files_are_refused_naming_the_file(
    data: st.DataObject, real_lsam: Path, tmp_path: Path
) -> None:
    blob = data.draw(random_or_damaged(real_lsam.read_bytes()))
    path = tmp_path / "surface.lsam"
    path.write_bytes(blob)
    _refused_naming(path, lambda: check_usable(path, BACKBONE))
    _refused_naming(path, lambda: load_model(path, BACKBONE))


JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**1100), max_value=2**1100)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
# nesting past the recursion limit, a number past the int-from-text limit, and other oddities
HOSTILE_JSON = ["[" * 5000, '{"a": ' * 3000, "", "\ufeff{}", "1e999", "1" * 5000, '{"x": NaN}']
ODD_ARRAYS = st.sampled_from(
    [
        np.zeros((0, 8), np.float16),
        np.zeros((4,), np.float16),
        np.zeros((2, 2, 2), np.float32),
        np.full((4, 8), np.nan, np.float32),
        np.full((4, 8), np.inf, np.float16),
        np.array([["a"] * 8] * 4),
        np.zeros((4, 8), np.complex64),
        np.zeros((4, 8), np.bool_),
        np.zeros((4, 8), dtype=[("x", np.float32)]),
        np.zeros((FEATURE_DIMS, 0), np.float32),
        np.zeros((FEATURE_DIMS, 8), np.int64),
        np.zeros((3, 8), np.float32),
    ]
)


@FUZZ
@given(data=st.data())
def test_lsam_files_with_odd_metadata_or_arrays_are_refused_naming_the_file(
    data: st.DataObject, real_lsam: Path, tmp_path: Path
) -> None:
    with np.load(io.BytesIO(real_lsam.read_bytes()), allow_pickle=False) as npz:
        arrays = {name: np.asarray(npz[name]) for name in npz.files}
    meta: Any = json.loads(arrays["meta"].tobytes())
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        where = data.draw(
            st.sampled_from(["meta", "settings", "array", "drop_array", "meta_bytes"])
        )
        if where == "meta":
            key = data.draw(st.sampled_from([*meta, "unknown"])) if isinstance(meta, dict) else None
            if key is None:
                continue
            meta[key] = data.draw(JSONISH)
        elif (
            where == "settings"
            and isinstance(meta, dict)
            and isinstance(meta.get("settings"), dict)
        ):
            key = data.draw(st.sampled_from([*meta["settings"], "unknown"]))
            meta["settings"][key] = data.draw(JSONISH)
        elif where == "array":
            arrays[data.draw(st.sampled_from(["bank", "projection", "meta"]))] = data.draw(
                ODD_ARRAYS
            )
        elif where == "drop_array":
            arrays.pop(data.draw(st.sampled_from(["bank", "projection", "meta"])), None)
        elif where == "meta_bytes":
            meta = data.draw(JSONISH)
    if "meta" in arrays and arrays["meta"].dtype == np.uint8:
        text = json.dumps(meta)
        if data.draw(st.integers(min_value=0, max_value=9)) == 0:
            text = data.draw(st.sampled_from(HOSTILE_JSON))
        arrays["meta"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    path = tmp_path / "surface.lsam"
    with path.open("wb") as f:
        np.savez(f, **arrays)
    _refused_naming(path, lambda: check_usable(path, BACKBONE))
    _refused_naming(path, lambda: load_model(path, BACKBONE))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("method", 99),  # AES, or any method this Python cannot read
        ("flags", 1),  # encrypted
    ],
)
def test_an_lsam_zip_from_another_writer_is_refused(
    field: str, value: int, real_lsam: Path, tmp_path: Path
) -> None:
    data = bytearray(real_lsam.read_bytes())
    # (offset in each local header, offset in each central directory header)
    offsets = {"method": (8, 10), "flags": (6, 8)}[field]
    for sig, off in zip((b"PK\x03\x04", b"PK\x01\x02"), offsets, strict=True):
        i = data.find(sig)
        while i >= 0:
            data[i + off : i + off + 2] = value.to_bytes(2, "little")
            i = data.find(sig, i + 4)
    path = tmp_path / "surface.lsam"
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"surface\.lsam"):
        load_model(path, BACKBONE)


def test_an_lsam_with_a_garbled_array_header_is_refused(real_lsam: Path, tmp_path: Path) -> None:
    # numpy re-reads a header it cannot parse with tokenize, whose error is no SyntaxError
    data = real_lsam.read_bytes()
    assert b"(152, 8)" in data
    path = tmp_path / "surface.lsam"
    path.write_bytes(data.replace(b"(152, 8)", b"(152( 8)"))
    with pytest.raises(ModelError, match=r"surface\.lsam: damaged model file"):
        load_model(path, BACKBONE)


# ---- the user's ONNX detector --------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_damaged_or_random_onnx_detectors_are_refused_naming_the_file(
    data: st.DataObject, real_onnx: Path, tmp_path: Path
) -> None:
    blob = data.draw(random_or_damaged(real_onnx.read_bytes()))
    path = tmp_path / "detector.onnx"
    path.write_bytes(blob)
    _refused_naming(path, lambda: YoloDetector(path))


METADATA_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "[640, 640]",
            "[0, 640]",
            "[-32, 64]",
            "640",
            "32",
            "0",
            "True",
            "1e400",
            "[" * 200 + "]" * 200,
            "{0: 'a'}",
            "{0: 'a', 2: 'b'}",
            "{'x': 1}",
            "['a', 'b']",
            "['a', 3]",
            "{'nms': True}",
            "{'nms': 'yes'}",
            "9" * 5000,
            "(1,) * 10**9",
            "__import__('os')",
        ]
    ),
)


@FUZZ
@given(
    props=st.dictionaries(
        st.sampled_from(["names", "imgsz", "stride", "args", "task"]), METADATA_TEXT, max_size=4
    ),
    dynamic=st.booleans(),
)
def test_onnx_detectors_with_odd_metadata_load_or_are_refused_naming_the_file(
    props: dict[str, str], dynamic: bool, tmp_path: Path
) -> None:
    path = tmp_path / "detector.onnx"
    yolo_model(
        path,
        yolo_head([(32, 32, 10, 10, 1, 0.9)], 2),
        metadata=props,
        input_shape=(1, 3, "height", "width") if dynamic else None,
    )
    _refused_naming(path, lambda: YoloDetector(path))


def test_an_onnx_detector_whose_metadata_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "detector.onnx"
    yolo_model(path, yolo_head([(32, 32, 10, 10, 1, 0.9)], 2), metadata={"author": "MARKMARK"})
    # a bit-flipped string inside the metadata: onnxruntime then fails to decode it
    path.write_bytes(path.read_bytes().replace(b"MARKMARK", b"\xff\xfe\xff\xfe\xff\xfe\xff\xfe"))
    with pytest.raises(ModelError, match=r"detector\.onnx.*metadata is not readable text"):
        YoloDetector(path)


# ---- anomaly models exported by anomalib: their metadata.json ---------------------------------

ANOMALIB_METADATA: dict[str, Any] = {
    "task": "segmentation",
    "image_threshold": 12.5,
    "pixel_threshold": 14.0,
    "pred_scores.min": 3.0,
    "pred_scores.max": 40.0,
    "anomaly_maps.min": 0.5,
    "anomaly_maps.max": 55.0,
    "transform": {
        "__class_fullname__": "Compose",
        "transforms": [
            {"__class_fullname__": "Resize", "height": 256, "width": 256},
            {
                "__class_fullname__": "Normalize",
                "mean": [0.485, 0.456, 0.406],
                "std": [0.229, 0.224, 0.225],
                "max_pixel_value": 255.0,
            },
        ],
    },
}


def _nodes(node: Any) -> list[Any]:
    """Every dict and list in a JSON tree."""
    out = [node] if isinstance(node, dict | list) else []
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        out += _nodes(child)
    return out


@FUZZ
@given(data=st.data())
def test_odd_anomalib_metadata_is_read_or_refused_naming_the_file(
    data: st.DataObject, tmp_path: Path
) -> None:
    doc: Any = json.loads(json.dumps(ANOMALIB_METADATA))
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        node = data.draw(st.sampled_from(_nodes(doc)))
        if isinstance(node, dict):
            key = data.draw(st.sampled_from([*node, "max_pixel_value", "height", "mean"]))
            if data.draw(st.booleans()) and key in node:
                del node[key]
            else:
                node[key] = data.draw(JSONISH)
        elif node:
            node[data.draw(st.integers(0, len(node) - 1))] = data.draw(JSONISH)
    text = json.dumps(doc)
    if data.draw(st.integers(min_value=0, max_value=9)) == 0:
        text = data.draw(st.sampled_from(HOSTILE_JSON))
    path = tmp_path / "metadata.json"
    path.write_text(text, encoding="utf-8")
    _refused_naming(path, lambda: read_anomalib_metadata(path))
