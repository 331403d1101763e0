"""The recogniser narrowed to an alphabet: on models the tests build, and on rapidocr's own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from support.text_images import text_image

from inspection.errors import ModelError
from inspection.inference.ocr import OcrEngine
from inspection.inference.ocr_alphabet import narrowed
from inspection.recipe.tools import LATIN_ALPHABET


def _run(model: bytes | str, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def _head(path: Path, weights: np.ndarray, bias: np.ndarray, *, end: str = "Softmax") -> Path:
    """A recogniser's last layer alone: x (1, T, F) → MatMul → Add → Identity → ``end``."""
    features, classes = weights.shape
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["m"]),
        helper.make_node("Add", ["m", "b"], ["a"]),
        helper.make_node("Identity", ["a"], ["i"]),  # as paddle2onnx leaves them
        helper.make_node(end, ["i"], ["probs"], **({"axis": 2} if end == "Softmax" else {})),
    ]
    graph = helper.make_graph(
        nodes,
        "head",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "T", features])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, "T", classes])],
        [numpy_helper.from_array(weights, "w"), numpy_helper.from_array(bias, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_narrowing_keeps_the_blank_the_kept_characters_and_the_space(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    characters = ["a", "日", "b", "本"]  # classes: blank, a, 日, b, 本, space
    w = rng.normal(size=(8, 6)).astype(np.float32)
    b = rng.normal(size=6).astype(np.float32)
    model = _head(tmp_path / "head.onnx", w, b)
    content, kept = narrowed(model, characters, keep="ab")
    assert kept == ["a", "b"]
    x = rng.normal(size=(1, 5, 8)).astype(np.float32)
    full = _run(str(model), x)
    small = _run(content, x)
    assert small.shape == (1, 5, 4)
    columns = [0, 1, 3, 5]
    # the softmax over the kept classes only: the full model's probabilities, renormalised
    expected = full[..., columns] / full[..., columns].sum(axis=-1, keepdims=True)
    assert np.allclose(small, expected, atol=1e-6)


def test_a_model_that_does_not_end_as_a_recogniser_is_refused(tmp_path: Path) -> None:
    w = np.ones((4, 4), np.float32)
    model = _head(tmp_path / "relu.onnx", w, np.zeros(4, np.float32), end="Relu")
    with pytest.raises(ModelError, match=r"relu\.onnx: does not end in MatMul, Add, Softmax"):
        narrowed(model, ["a", "b"], keep="a")


def test_a_character_list_that_does_not_match_the_last_layer_is_refused(tmp_path: Path) -> None:
    model = _head(tmp_path / "head.onnx", np.ones((4, 5), np.float32), np.zeros(5, np.float32))
    with pytest.raises(ModelError, match="scores 5 classes, not the 4"):
        narrowed(model, ["a", "b"], keep="a")
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelError, match=r"junk\.onnx: not a readable ONNX model"):
        narrowed(tmp_path / "junk.onnx", ["a"], keep="a")


def test_rapidocr_recogniser_narrowed_to_latin_gives_the_same_probabilities_renormalised() -> None:
    import rapidocr

    model = next((Path(rapidocr.__file__).parent / "models").glob("*rec*.onnx"))
    meta = {p.key: p.value for p in onnx.load(str(model)).metadata_props}
    characters = meta["character"].splitlines()
    content, kept = narrowed(model, characters, LATIN_ALPHABET)
    assert set(kept) <= set(LATIN_ALPHABET) and {"0", "9", "A", "z", ":", "/"} <= set(kept)
    crop = text_image(["LOT 2507"], width=200)
    x = np.repeat(crop[None, None].astype(np.float32) / 127.5 - 1.0, 3, axis=1)
    x = np.ascontiguousarray(x[:, :, :48])  # the recogniser's height
    full = _run(str(model), x)
    small = _run(content, x)
    columns = [0, *(1 + i for i, c in enumerate(characters) if c in set(LATIN_ALPHABET))]
    columns.append(len(characters) + 1)
    expected = full[..., columns] / full[..., columns].sum(axis=-1, keepdims=True)
    assert small.shape == expected.shape and np.allclose(small, expected, atol=1e-4)


def test_a_latin_engine_reads_only_latin_characters_and_reads_as_the_whole_alphabet() -> None:
    latin = OcrEngine(threads=1, alphabet="latin")
    everything = OcrEngine(threads=1, alphabet="all")
    crops = [text_image(["LOT L2507D"], width=300), text_image(["EXP 2030-06"])]
    assert [x.text for x in latin.recognize(crops)] == [x.text for x in everything.recognize(crops)]
    # what a field can be read as: the blank, the Latin alphabet's characters, the space
    charset = latin._charset
    assert charset[0] == "blank" and charset[-1] == " "
    assert set(charset[1:-1]) <= set(LATIN_ALPHABET) and len(charset) < 200
    assert len(everything._charset) > 10_000
    (line,) = latin.recognize([crops[0]], expect=["LOT L2507D"])
    assert [f.text for f in line.by_position] == ["LOT L2507D"]
