"""AnomalibTool verdicts, thresholds and located regions, on constant anomalib graphs."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from support import onnx_graphs as g

from inspection.errors import ModelError
from inspection.inference.session import sha256_file
from inspection.recipe import AnomalibToolSettings, RegionSettings
from inspection.tools.anomalib_tool import AnomalibTool
from inspection.tools.base import Tool, run_guarded
from inspection.tools.registry import ToolContext
from inspection.types import Frame, Verdict


def frame() -> Frame:
    return Frame(camera="cam0", seq=3, t_ns=1, image=np.zeros((200, 300), np.uint8))


def make_tool(path: Path, **settings: object) -> AnomalibTool:
    s = AnomalibToolSettings.model_validate(
        {"type": "anomalib", "id": "anom", "model": path, **settings}
    )
    return AnomalibTool(s, "cam0", ToolContext(threads=1))


def two_spots(value: float = 0.9) -> np.ndarray:
    """(1, 1, 32, 32) map of 0.1 with an 8 × 8 spot at rows 4..11, cols 16..23 and a 2 × 2 speck."""
    m = np.full((1, 1, 32, 32), 0.1, np.float32)
    m[..., 4:12, 16:24] = value
    m[..., 28:30, 2:4] = value
    return m


ROI = RegionSettings(x=50, y=20, w=128, h=64)  # 4 × 2 frame px per map pixel


def test_map_and_score_fail_with_regions_where_the_map_is_high(tmp_path: Path) -> None:
    path = g.anomalib_model(
        tmp_path / "m.onnx", {"pred_score": np.array([0.8], np.float32), "anomaly_map": two_spots()}
    )
    tool = make_tool(path, roi=ROI, min_area_px=100)
    assert isinstance(tool, Tool) and tool.tool_type == "anomalib"
    result = run_guarded(tool, frame())
    assert result.verdict is Verdict.FAIL
    assert result.reason == "anomaly score 0.80 ≥ 0.50, 1 region"
    # the 2 × 2 speck covers 8 × 4 = 32 frame px, under min_area_px: dropped
    (region,) = result.details["regions"]
    assert region["x"] == pytest.approx(50 + 64, abs=2) and region["y"] == pytest.approx(
        20 + 8, abs=2
    )
    assert region["w"] == pytest.approx(32, abs=3) and region["h"] == pytest.approx(16, abs=3)
    assert region["peak"] == pytest.approx(0.9)
    assert len(result.overlays) == 1 and not result.overlays[0].ok
    assert result.measurements["score"] == pytest.approx(0.8)
    assert result.measurements["regions"] == 1
    pickle.dumps(result)
    without_min = make_tool(path, roi=ROI).inspect(frame())
    assert len(without_min.details["regions"]) == 2


def test_below_threshold_passes_and_the_recipe_threshold_wins(tmp_path: Path) -> None:
    path = g.anomalib_model(
        tmp_path / "m.onnx",
        {"pred_score": np.array([0.4], np.float32), "anomaly_map": two_spots(0.45)},
    )
    result = make_tool(path).inspect(frame())
    assert result.verdict is Verdict.PASS and result.reason == "" and result.overlays == ()
    assert result.details["regions"] == []
    strict = make_tool(path, threshold=0.3).inspect(frame())
    assert strict.verdict is Verdict.FAIL and strict.measurements["threshold"] == 0.3
    assert len(strict.details["regions"]) == 2  # the map is cut at the recipe threshold too


def test_score_only_model_marks_the_whole_roi(tmp_path: Path) -> None:
    path = g.anomalib_model(tmp_path / "m.onnx", {"pred_score": np.array([[0.7]], np.float32)})
    result = make_tool(path, roi=ROI).inspect(frame())
    assert result.verdict is Verdict.FAIL and result.reason == "anomaly score 0.70 ≥ 0.50"
    assert result.overlays[0].points.tolist() == [[50, 20], [178, 20], [178, 84], [50, 84]]


def test_map_only_model_with_1x_min_max_metadata(tmp_path: Path) -> None:
    meta = tmp_path / "metadata.json"
    meta.write_text(
        json.dumps(
            {
                "image_threshold": 10.0,
                "pixel_threshold": 10.0,
                "pred_scores.min": 0.0,
                "pred_scores.max": 20.0,
                "anomaly_maps.min": 0.0,
                "anomaly_maps.max": 20.0,
            }
        ),
        encoding="utf-8",
    )
    path = g.anomalib_model(tmp_path / "m.onnx", {"output": two_spots(14.0)})
    result = make_tool(path, metadata=meta, roi=ROI).inspect(frame())
    # raw max 14 → (14 − 10) / 20 + 0.5 = 0.7 on the normalised scale
    assert result.verdict is Verdict.FAIL and result.measurements["score"] == pytest.approx(0.7)
    assert result.details["normalised"] is True and len(result.details["regions"]) == 2
    raw = make_tool(path, roi=ROI).inspect(frame())  # without metadata: taken as normalised
    assert raw.measurements["score"] == pytest.approx(14.0) and raw.verdict is Verdict.FAIL


def test_non_finite_score_is_an_error_never_a_pass(tmp_path: Path) -> None:
    path = g.anomalib_model(tmp_path / "m.onnx", {"pred_score": np.array([np.nan], np.float32)})
    result = run_guarded(make_tool(path), frame())
    assert result.verdict is Verdict.ERROR and "no usable score" in result.reason


def test_hashes_and_refusals(tmp_path: Path) -> None:
    path = g.anomalib_model(tmp_path / "m.onnx", {"pred_score": np.array([0.1], np.float32)})
    assert make_tool(path).model_hashes() == {"anom": sha256_file(path)}
    with pytest.raises(ModelError, match="sha256"):
        make_tool(path, sha256="b" * 64)
    bad = tmp_path / "metadata.json"
    bad.write_text('{"pixel_threshold": 3}', encoding="utf-8")
    with pytest.raises(ModelError, match="lacks 'image_threshold'"):
        make_tool(path, metadata=bad)
