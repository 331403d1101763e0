"""Tiny ONNX graphs with exactly the layouts of Ultralytics and anomalib exports and KNOWN outputs.

Each graph ignores the image's content: output = constant + 0 × mean(image), so the input is used
(onnxruntime keeps it) but the values are the ones a test wrote in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 9


def _constant_outputs(
    path: Path,
    outputs: Mapping[str, np.ndarray],
    *,
    input_shape: Sequence[int | str] = (1, 3, 64, 64),
    input_name: str = "images",
    metadata: Mapping[str, str] | None = None,
    extra_inputs: int = 0,
    output_shapes: Mapping[str, Sequence[int | str]] | None = None,
) -> Path:
    nodes = [
        helper.make_node("ReduceMean", [input_name], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
    ]
    inits = [numpy_helper.from_array(np.array(0.0, np.float32), "zero")]
    outs = []
    for name, value in outputs.items():
        value = np.asarray(value)
        if value.dtype == np.bool_:
            nodes.append(helper.make_node("Identity", [f"{name}_c"], [name]))
            inits.append(numpy_helper.from_array(value, f"{name}_c"))
            elem = TensorProto.BOOL
        else:
            value = value.astype(np.float32)
            nodes.append(helper.make_node("Add", [f"{name}_c", "nothing"], [name]))
            inits.append(numpy_helper.from_array(value, f"{name}_c"))
            elem = TensorProto.FLOAT
        shape = (output_shapes or {}).get(name, value.shape)
        outs.append(helper.make_tensor_value_info(name, elem, list(shape)))
    inputs = [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, list(input_shape))]
    inputs += [
        helper.make_tensor_value_info(f"extra{i}", TensorProto.FLOAT, [1])
        for i in range(extra_inputs)
    ]
    graph = helper.make_graph(nodes, "test", inputs, outs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    for key, value in (metadata or {}).items():
        prop = model.metadata_props.add()
        prop.key, prop.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def yolo_head(
    boxes: Sequence[tuple[float, float, float, float, int, float]],
    n_classes: int,
    n_anchors: int = 16,
) -> np.ndarray:
    """(1, 4 + C, N) head: each (cx, cy, w, h, class, score) fills one anchor; the rest score 0."""
    head = np.zeros((1, 4 + n_classes, n_anchors), np.float32)
    head[0, 2:4, :] = 1.0
    for i, (cx, cy, w, h, c, s) in enumerate(boxes):
        head[0, :4, i] = (cx, cy, w, h)
        head[0, 4 + c, i] = s
    return head


def yolo_model(
    path: Path,
    head: np.ndarray,
    *,
    size: tuple[int, int] = (64, 64),
    names: str | None = None,
    metadata: Mapping[str, str] | None = None,
    input_shape: Sequence[int | str] | None = None,
) -> Path:
    """A YOLO-layout detector at ``path`` whose output0 is always ``head``."""
    meta = {"stride": "32", "task": "detect", "imgsz": str(list(size))}
    if names is not None:
        meta["names"] = names
    meta.update(metadata or {})
    return _constant_outputs(
        path,
        {"output0": head},
        input_shape=input_shape or (1, 3, *size),
        input_name="images",
        metadata=meta,
    )


def anomalib_model(
    path: Path,
    outputs: Mapping[str, np.ndarray],
    *,
    size: tuple[int, int] = (32, 32),
    input_shape: Sequence[int | str] | None = None,
) -> Path:
    """An anomalib-layout model at ``path`` whose outputs are always ``outputs``."""
    return _constant_outputs(
        path, outputs, input_shape=input_shape or (1, 3, *size), input_name="input"
    )


def model_with(path: Path, **kwargs: object) -> Path:
    """Any constant-output graph (for wrong layouts): see ``_constant_outputs``."""
    return _constant_outputs(path, **kwargs)  # type: ignore[arg-type]
