"""AnomalyTool: untaught → ERROR, bad frames → ERROR, scratches → FAIL with a box on them."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from support.textures import texture

from inspection.errors import ModelError
from inspection.inference.anomaly.fit import fit
from inspection.inference.anomaly.model_file import save_model
from inspection.inference.backbone import FeatureBackbone
from inspection.inference.session import sha256_file
from inspection.recipe import AnomalyToolSettings
from inspection.tools.anomaly import AnomalyTool, model_settings
from inspection.tools.base import Tool, run_guarded
from inspection.tools.registry import ToolContext
from inspection.types import Frame, Verdict

ROI = {"x": 40, "y": 30, "w": 128, "h": 96}


def frame(part: np.ndarray) -> Frame:
    """The part pasted into a 240 × 200 frame at the ROI (the tool must add the offset)."""
    image = np.full((200, 240), 90, np.uint8)
    image[ROI["y"] : ROI["y"] + 96, ROI["x"] : ROI["x"] + 128] = part
    return Frame(camera="cam1", seq=0, t_ns=0, image=image)


def settings(**kw: object) -> AnomalyToolSettings:
    base: dict[str, object] = {"type": "anomaly", "id": "surface", "roi": ROI}
    base.update(kw)
    return AnomalyToolSettings.model_validate(base)


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models")
    model = fit([texture(s) for s in range(16)], FeatureBackbone(), tool_id="surface")
    save_model(model, folder / "surface.lsam")
    return folder


@pytest.fixture(scope="module")
def tool(models_dir: Path) -> AnomalyTool:
    return AnomalyTool(settings(), "cam1", ToolContext(models_dir=models_dir, threads=1))


def test_untaught_tool_gives_error_not_pass(tmp_path: Path) -> None:
    untaught = AnomalyTool(settings(), "cam1", ToolContext(models_dir=tmp_path))
    assert isinstance(untaught, Tool)
    result = run_guarded(untaught, frame(texture(1)))
    assert result.verdict is Verdict.ERROR
    assert "defect tool 'surface' has not been taught yet" in result.reason
    assert untaught.model_hashes() == {}


def test_good_part_passes(tool: AnomalyTool) -> None:
    result = run_guarded(tool, frame(texture(500)))
    assert result.verdict is Verdict.PASS, result.reason
    assert result.measurements["score"] < result.measurements["threshold"]
    assert result.measurements["regions"] == 0.0
    json.dumps(dict(result.details))


def test_scratch_fails_with_a_box_on_it_in_frame_coordinates(tool: AnomalyTool) -> None:
    part = texture(501)
    cv2.line(part, (30, 40), (80, 60), 15, 3)
    result = run_guarded(tool, frame(part))
    assert result.verdict is Verdict.FAIL
    assert result.reason.startswith("defect found (score ")
    assert " region" in result.reason and "px²" in result.reason
    box = result.details["regions"][0]
    cx, cy = box["x"] + box["w"] / 2, box["y"] + box["h"] / 2
    assert ROI["x"] + 30 <= cx <= ROI["x"] + 80 and ROI["y"] + 35 <= cy <= ROI["y"] + 65
    assert result.measurements["max_region_px"] == box["area_px"] > 0
    assert result.overlays and not result.overlays[0].ok
    pts = result.overlays[0].points
    assert pts.dtype == np.float32 and pts[0, 0] == box["x"] and pts[0, 1] == box["y"]
    json.dumps(dict(result.details))


def test_min_area_ignores_small_findings(models_dir: Path) -> None:
    strict = AnomalyTool(settings(min_area_px=10**6), "cam1", ToolContext(models_dir=models_dir))
    part = texture(502)
    cv2.line(part, (30, 40), (80, 60), 15, 3)
    result = run_guarded(strict, frame(part))
    assert result.verdict is Verdict.PASS
    assert result.measurements["score"] >= result.measurements["threshold"]


def test_threshold_override_is_used(models_dir: Path) -> None:
    lenient = AnomalyTool(settings(threshold=1e6), "cam1", ToolContext(models_dir=models_dir))
    part = texture(503)
    cv2.line(part, (30, 40), (80, 60), 15, 3)
    result = run_guarded(lenient, frame(part))
    assert result.verdict is Verdict.PASS and result.measurements["threshold"] == 1e6


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((200, 240), np.float32),
        np.zeros((4, 4), np.uint8),
        np.zeros((200, 240, 4), np.uint8),
    ],
)
def test_bad_frames_give_error(tool: AnomalyTool, image: np.ndarray) -> None:
    result = run_guarded(tool, Frame(camera="cam1", seq=0, t_ns=0, image=image))
    assert result.verdict is Verdict.ERROR and result.reason


def test_frame_of_another_size_gives_error(tool: AnomalyTool) -> None:
    whole = AnomalyTool(
        settings(roi=None),
        "cam1",
        ToolContext(models_dir=tool.model_file.parent),  # type: ignore[union-attr]
    )
    result = run_guarded(whole, frame(texture(3)))
    assert result.verdict is Verdict.ERROR and "taught on 128×96" in result.reason


def test_roi_outside_the_frame_gives_error(models_dir: Path) -> None:
    far = AnomalyTool(
        settings(roi={"x": 1000, "y": 1000, "w": 10, "h": 10}),
        "cam1",
        ToolContext(models_dir=models_dir),
    )
    result = run_guarded(far, frame(texture(4)))
    assert result.verdict is Verdict.ERROR and "outside the frame" in result.reason


def test_heatmap_is_in_roi_coordinates(tool: AnomalyTool) -> None:
    part = texture(504)
    cv2.circle(part, (100, 30), 8, 250, -1)
    heat = tool.heatmap(frame(part))
    assert heat.shape == (96, 128) and heat.dtype == np.float32
    y, x = np.unravel_index(int(np.argmax(heat)), heat.shape)
    assert abs(x - 100) <= 12 and abs(y - 30) <= 12


def test_model_hashes_name_model_and_backbone(tool: AnomalyTool, models_dir: Path) -> None:
    hashes = tool.model_hashes()
    assert hashes["surface"] == sha256_file(models_dir / "surface.lsam")
    assert hashes["backbone"] == FeatureBackbone().sha256


def test_unusable_model_file_refuses_construction(tmp_path: Path) -> None:
    (tmp_path / "surface.lsam").write_bytes(b"garbage" * 100)
    with pytest.raises(ModelError, match=r"surface\.lsam"):
        AnomalyTool(settings(), "cam1", ToolContext(models_dir=tmp_path))


def test_tiled_tool_finds_the_scratch_and_refuses_an_untiled_model(
    tmp_path: Path, models_dir: Path
) -> None:
    tiled = fit(
        [texture(s) for s in range(8)],
        FeatureBackbone(),
        settings=model_settings(settings(tile_px=64)),
        tool_id="surface",
    )
    assert tiled.settings.tile_px == 64
    save_model(tiled, tmp_path / "surface.lsam")
    tool = AnomalyTool(settings(tile_px=64), "cam1", ToolContext(models_dir=tmp_path))
    part = texture(505)
    cv2.line(part, (30, 40), (80, 60), 15, 3)
    result = run_guarded(tool, frame(part))
    assert result.verdict is Verdict.FAIL, result.reason
    box = result.details["regions"][0]
    cx, cy = box["x"] + box["w"] / 2, box["y"] + box["h"] / 2
    assert ROI["x"] + 30 <= cx <= ROI["x"] + 80 and ROI["y"] + 35 <= cy <= ROI["y"] + 65
    assert run_guarded(tool, frame(texture(506))).verdict is Verdict.PASS
    # a model taught whole does not silently serve a recipe that asks for tiles, nor the reverse
    with pytest.raises(ModelError, match="tile_px off, the recipe asks for 64"):
        AnomalyTool(settings(tile_px=64), "cam1", ToolContext(models_dir=models_dir))
    with pytest.raises(ModelError, match="tile_px 64, the recipe asks for off"):
        AnomalyTool(settings(), "cam1", ToolContext(models_dir=tmp_path))


def test_tile_px_below_32_is_refused_by_the_recipe() -> None:
    with pytest.raises(ValueError, match="tile_px"):
        settings(tile_px=8)
    assert settings().tile_px is None and model_settings(settings()).tile_px == 0


def test_recipe_scoring_options_are_taught_and_a_model_taught_otherwise_is_refused(
    tmp_path: Path, models_dir: Path
) -> None:
    chosen = model_settings(settings(pool=1, score="patches", score_patches=6))
    assert (chosen.pool, chosen.score, chosen.score_patches) == (1, "patches", 6)
    plain = model_settings(settings())
    assert (plain.pool, plain.score) == (3, "map_max")  # left out: the defaults
    with pytest.raises(ValueError, match="pool"):
        settings(pool=2)
    with pytest.raises(ValueError, match="score_patches"):
        settings(score_patches=0)
    assert model_settings(settings(position_weight=2.0)).position_weight == 2.0
    assert plain.position_weight == 0.0
    with pytest.raises(ValueError, match="position_weight"):
        settings(position_weight=-1.0)
    # the shared model was taught with the defaults: a recipe asking for pool 1 refuses it...
    with pytest.raises(ModelError, match="taught with pool 3, the recipe asks for 1"):
        AnomalyTool(settings(pool=1), "cam1", ToolContext(models_dir=models_dir))
    # ...and a texture model serves a texture recipe, failing a scratch and passing a good part
    model = fit(
        [texture(s) for s in range(8)],
        FeatureBackbone(),
        settings=model_settings(settings(pool=1, score="patches")),
        tool_id="surface",
    )
    save_model(model, tmp_path / "surface.lsam")
    tool = AnomalyTool(settings(pool=1, score="patches"), "cam1", ToolContext(models_dir=tmp_path))
    part = texture(505)
    cv2.line(part, (30, 40), (80, 60), 15, 3)
    assert run_guarded(tool, frame(part)).verdict is Verdict.FAIL
    assert run_guarded(tool, frame(texture(506))).verdict is Verdict.PASS
    with pytest.raises(ModelError, match="taught with score patches, the recipe asks for map_max"):
        AnomalyTool(settings(score="map_max"), "cam1", ToolContext(models_dir=tmp_path))
