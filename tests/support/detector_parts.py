"""Parts judged by the real detector tool, recorded by the results store's own batch writer, for
tuning the detector's confidence (tests/inspection/tuning/test_detector_confidence.py).

The model is a YOLO-layout ONNX graph whose class scores follow the image's brightness: anchor 0
is a "scratch" (top-left) scoring ``mean(image)``, anchor 1 a "dent" (bottom-right) scoring half
of it, so a grey level per part gives each part its own confidences. The recipe is written as
``detector.yaml`` (recipe "det", version "1") beside the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import yaml
from onnx import TensorProto, helper, numpy_helper

from inspection.recipe import DetectorToolSettings
from inspection.storage.batch import Pending
from inspection.tools.detector import DetectorTool
from inspection.tools.registry import ToolContext
from inspection.types import Frame, Inspection, ToolResult, Verdict
from support.onnx_graphs import IR_VERSION, OPSET
from support.trend_parts import record_early_shift

T0 = 1_780_000_000.0
SIZE = 64
NAMES = "{0: 'scratch', 1: 'dent'}"


def brightness_model(path: Path) -> Path:
    """output0 (1, 6, 16) = base + gain × mean(images): two boxes that score the brightness."""
    base = np.zeros((1, 6, 16), np.float32)
    base[0, 2:4, :] = 1.0
    base[0, :4, 0] = (12, 12, 8, 8)  # scratch
    base[0, :4, 1] = (48, 48, 8, 8)  # dent, far from the scratch
    gain = np.zeros_like(base)
    gain[0, 4, 0] = 1.0
    gain[0, 5, 1] = 0.5
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["gain", "mean"], ["scaled"]),
        helper.make_node("Add", ["base", "scaled"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "brightness",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 6, 16])],
        initializer=[numpy_helper.from_array(base, "base"), numpy_helper.from_array(gain, "gain")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    meta = {"stride": "32", "task": "detect", "imgsz": f"[{SIZE}, {SIZE}]", "names": NAMES}
    for key, value in meta.items():
        prop = model.metadata_props.add()
        prop.key, prop.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def recipe_doc(model: Path, **tool: Any) -> dict[str, Any]:
    """Recipe "det" version "1": one detector tool "det" on the whole frame."""
    return {
        "schema_version": 1,
        "name": "det",
        "version": "1",
        "cameras": [{"id": "cam1", "source": {"type": "synthetic", "seed": 3}}],
        "tools": [{"id": "det", "type": "detector", "model": str(model), **tool}],
    }


def write_recipe(folder: Path, model: Path, **tool: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "detector.yaml"
    path.write_text(yaml.safe_dump(recipe_doc(model, **tool)), encoding="utf-8")
    return path


def judge(model: Path, greys: Sequence[int], **tool: Any) -> list[ToolResult]:
    """The real detector tool's result on a uniform frame of each grey level."""
    settings = DetectorToolSettings.model_validate(
        {"type": "detector", "id": "det", "model": model, **tool}
    )
    detector = DetectorTool(settings, "cam1", ToolContext(threads=1))
    try:
        return [
            detector.inspect(
                Frame(camera="cam1", seq=i, t_ns=i, image=np.full((SIZE, SIZE, 3), g, np.uint8))
            )
            for i, g in enumerate(greys)
        ]
    finally:
        detector.close()


def without(result: ToolResult, measure: str) -> ToolResult:
    """``result`` as a version of the tool that did not measure ``measure`` recorded it."""
    kept: Mapping[str, float] = {k: v for k, v in result.measurements.items() if k != measure}
    return ToolResult(
        tool_id=result.tool_id,
        tool_type=result.tool_type,
        verdict=result.verdict,
        reason=result.reason,
        measurements=dict(kept),
    )


def record(db: Path, results: Sequence[ToolResult], *, first: int = 0) -> None:
    """One part per result (part numbers from ``first``, 10 s apart), recipe "det" version "1"."""
    pending = []
    for seq, result in enumerate(results, start=first):
        inspection = Inspection(
            inspection_id=f"run1-{seq:05d}",
            station="st1",
            part_seq=seq,
            verdict=result.verdict,
            reason=result.reason if result.verdict is not Verdict.PASS else "",
            tool_results=(result,),
            frames=(),
            recipe_name="det",
            recipe_version="1",
            wall_time=T0 + 10 * seq,
        )
        pending.append(Pending(inspection, None, None))
    record_early_shift(db, pending)
