"""DetectorTool verdicts, reasons, geometry in frame pixels and refusals, on constant YOLO graphs."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from support import onnx_graphs as g

from inspection.errors import ModelError, ToolError
from inspection.recipe import DetectorToolSettings, RegionSettings
from inspection.tools.base import Tool, run_guarded
from inspection.tools.detector import RECORD_FLOOR, DetectorTool
from inspection.tools.registry import ToolContext
from inspection.types import Frame, Verdict

NAMES = "{0: 'scratch', 1: 'dent'}"


def frame(h: int = 300, w: int = 400) -> Frame:
    return Frame(camera="cam0", seq=7, t_ns=1, image=np.zeros((h, w, 3), np.uint8))


def make_tool(path: Path, **settings: object) -> DetectorTool:
    s = DetectorToolSettings.model_validate(
        {"type": "detector", "id": "det", "model": path, **settings}
    )
    return DetectorTool(s, "cam0", ToolContext(threads=1))


@pytest.fixture
def two_scratches_one_dent(tmp_path: Path) -> Path:
    head = g.yolo_head([(10, 10, 4, 4, 0, 0.91), (50, 50, 4, 4, 0, 0.6), (30, 30, 8, 8, 1, 0.4)], 2)
    return g.yolo_model(tmp_path / "m.onnx", head, names=NAMES)


def test_any_detection_fails_by_default(two_scratches_one_dent: Path) -> None:
    tool = make_tool(two_scratches_one_dent)
    assert isinstance(tool, Tool) and tool.tool_type == "detector"
    result = run_guarded(tool, frame())
    assert result.verdict is Verdict.FAIL
    assert result.reason == "scratch ×2 (best 0.91); dent ×1 (best 0.40)"
    assert result.measurements["detections"] == 3
    assert result.measurements["best_confidence"] == pytest.approx(0.91)
    assert [d["class"] for d in result.details["detections"]] == ["scratch", "scratch", "dent"]
    assert all(not o.ok for o in result.overlays)
    assert result.overlays[0].label == "scratch 0.91"
    pickle.dumps(result)


def test_fail_classes_and_class_confidence(two_scratches_one_dent: Path) -> None:
    only_dent = make_tool(two_scratches_one_dent, fail_classes=["dent"])
    result = only_dent.inspect(frame())
    assert result.verdict is Verdict.FAIL and result.reason == "dent ×1 (best 0.40)"
    assert [o.ok for o in result.overlays] == [True, True, False]
    strict_dent = make_tool(
        two_scratches_one_dent, fail_classes=["dent"], class_confidence={"dent": 0.5}
    )
    result = strict_dent.inspect(frame())
    assert result.verdict is Verdict.PASS and result.reason == ""
    assert result.measurements["detections"] == 2
    high = make_tool(two_scratches_one_dent, confidence=0.95)
    result = high.inspect(frame())
    assert result.verdict is Verdict.PASS and result.measurements["best_confidence"] == 0.0


def test_boxes_come_back_in_frame_pixels_for_a_non_square_roi(tmp_path: Path) -> None:
    head = g.yolo_head([(32, 32, 16, 8, 0, 0.9)], 2)
    tool = make_tool(
        g.yolo_model(tmp_path / "m.onnx", head, names=NAMES),
        roi=RegionSettings(x=100, y=50, w=256, h=128),
    )
    result = tool.inspect(frame())
    # 256 × 128 ROI → scale 0.25, 16 px bands top and bottom; box 24..40 × 28..36 in the model
    box = result.details["detections"][0]["box"]
    assert box == pytest.approx([100 + 96, 50 + 48, 100 + 160, 50 + 80])
    assert result.roi is not None and (result.roi.x, result.roi.w) == (100, 256)
    assert result.overlays[0].points.tolist() == [[196, 98], [260, 98], [260, 130], [196, 130]]


def test_roi_outside_the_frame_is_an_error(two_scratches_one_dent: Path) -> None:
    tool = make_tool(two_scratches_one_dent, roi=RegionSettings(x=1000, y=0, w=10, h=10))
    result = run_guarded(tool, frame())
    assert result.verdict is Verdict.ERROR and "outside the frame" in result.reason


def test_unknown_class_names_in_settings_are_refused(two_scratches_one_dent: Path) -> None:
    with pytest.raises(ToolError, match=r"fail_classes names \['crack'\].*\['scratch', 'dent'\]"):
        make_tool(two_scratches_one_dent, fail_classes=["crack"])
    with pytest.raises(ToolError, match="class_confidence names"):
        make_tool(two_scratches_one_dent, class_confidence={"Scratch": 0.5})


def test_recipe_class_names_and_hashes(two_scratches_one_dent: Path) -> None:
    from inspection.inference.session import sha256_file

    tool = make_tool(two_scratches_one_dent, class_names=["a", "b"], fail_classes=["b"])
    assert tool.inspect(frame()).reason == "b ×1 (best 0.40)"
    assert tool.model_hashes() == {"det": sha256_file(two_scratches_one_dent)}
    with pytest.raises(ModelError, match="sha256"):
        make_tool(two_scratches_one_dent, sha256="a" * 64)
    tool.close()


FLOOR_CASES = [
    # settings, verdict, reason, fail_confidence (the best failing detection down to the floor)
    ({}, Verdict.FAIL, "scratch ×2 (best 0.91)", 0.91),
    ({"fail_classes": ["dent"]}, Verdict.PASS, "", 0.22),  # a dent under 0.25: recorded only
    ({"confidence": 0.35, "fail_classes": ["dent"]}, Verdict.PASS, "", 0.22),
    (
        {"confidence": 0.35, "class_confidence": {"dent": 0.15}},
        Verdict.FAIL,
        "scratch ×1 (best 0.91); dent ×1 (best 0.22)",
        0.91,
    ),
    # a class's own threshold under the floor is looked down to (and kept)
    (
        {"fail_classes": ["dent"], "class_confidence": {"dent": 0.02}},
        Verdict.FAIL,
        "dent ×3 (best 0.22)",
        0.22,
    ),
]


@pytest.mark.parametrize(("settings", "verdict", "reason", "best"), FLOOR_CASES)
def test_fail_confidence_records_detections_under_the_confidence_in_force(
    tmp_path: Path, settings: dict[str, object], verdict: Verdict, reason: str, best: float
) -> None:
    """Detections down to the recording floor give ``fail_confidence``; the kept detections (and
    so the verdict, reason, overlays and details) are those of detecting at the thresholds."""
    head = g.yolo_head(
        [
            (10, 10, 8, 8, 0, 0.91),  # scratch
            (11, 10, 8, 8, 0, 0.2),  # scratch over it: suppressed at the floor too
            (40, 12, 8, 8, 0, 0.3),  # scratch: kept at 0.25, not at 0.35
            (41, 12, 8, 8, 0, 0.1),  # suppressed by the 0.3 one
            (30, 40, 8, 8, 1, 0.22),  # dent under the default confidence
            (50, 50, 8, 8, 1, 0.12),  # weaker dent elsewhere
            (20, 50, 8, 8, 1, 0.03),  # dent under the floor
        ],
        2,
    )
    tool = make_tool(g.yolo_model(tmp_path / "m.onnx", head, names=NAMES), **settings)
    result = tool.inspect(frame())
    assert (result.verdict, result.reason) == (verdict, reason)
    assert result.measurements["fail_confidence"] == pytest.approx(best)
    # what detecting at the thresholds in force finds, as the tool did before the floor
    direct = tool._model.detect(frame().image, tool._thresholds, tool.settings.iou)
    assert [(d["class"], d["confidence"], d["box"]) for d in result.details["detections"]] == [
        (d.class_name, round(d.confidence, 4), [round(v, 1) for v in d.box]) for d in direct
    ]
    assert [o.label for o in result.overlays] == [
        f"{d.class_name} {d.confidence:.2f}" for d in direct
    ]
    assert result.measurements["detections"] == len(direct)
    assert result.measurements["best_confidence"] == max(
        (d.confidence for d in direct), default=0.0
    )
    tool.close()


def test_fail_confidence_is_zero_with_no_failing_detection_over_the_floor(
    tmp_path: Path,
) -> None:
    head = g.yolo_head([(10, 10, 8, 8, 0, 0.9), (40, 40, 8, 8, 1, 0.04)], 2)
    tool = make_tool(g.yolo_model(tmp_path / "m.onnx", head, names=NAMES), fail_classes=["dent"])
    result = tool.inspect(frame())
    assert result.verdict is Verdict.PASS and result.measurements["fail_confidence"] == 0.0
    assert RECORD_FLOOR == 0.05 and result.measurements["detections"] == 1
