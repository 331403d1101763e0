"""Teaching from the recipe's camera: only good parts, ROI cut, files where the tools read them."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import numpy as np
import pytest
import yaml

from inspection.errors import LinesideError, RecipeError
from inspection.inference.anomaly.model_file import load_model, save_model
from inspection.inference.manifest import backbone_manifest_path, load_manifest
from inspection.jobs import Cancelled
from inspection.paths import demo_recipe, user_paths
from inspection.pipeline import teaching
from inspection.recipe import load_recipe, parse_recipe


def recipe_with_surface(tmp_path: Path):
    """The demo (it has a surface defect tool and a label tool) with more defective parts."""
    doc = yaml.safe_load(demo_recipe().read_text())
    assert {t["id"] for t in doc["tools"]} >= {"surface", "label"}
    doc["cameras"][0]["source"]["defect_rate"] = 0.5
    return parse_recipe(doc, "test.yaml")


def test_frames_from_the_simulated_line_are_good_parts_only():
    recipe = load_recipe(demo_recipe())
    frames = teaching.frames_from_camera(recipe, "cam1", 5)
    assert len(frames) == 5 and all(f.shape == (1024, 1280) for f in frames)
    with pytest.raises(RecipeError, match="no camera 'cam9'"):
        teaching.frames_from_camera(recipe, "cam9", 1)


def test_teach_from_line_writes_what_untaught_tools_need(tmp_path: Path, lineside_home: Path):
    recipe = recipe_with_surface(tmp_path)
    paths = user_paths().ensure()
    assert teaching.untaught_tools(recipe, paths) == ["surface", "label"]
    steps: list[tuple[int, int, str]] = []
    written = teaching.teach_from_line(
        recipe, paths, good_parts=8, progress=lambda d, t, m: steps.append((d, t, m))
    )
    assert set(written) == {"surface", "label"}
    assert written["surface"] == paths.models / "demo" / "surface.lsam"
    assert all(p.is_file() for p in written.values())
    assert teaching.untaught_tools(recipe, paths) == []
    assert teaching.untaught_simulated_tools(recipe, paths) == []
    assert steps and steps[-1][0] == steps[-1][1]  # progress reached its end

    # a model from an earlier backbone: the demo teaches it again instead of rejecting every part
    sha = load_manifest(backbone_manifest_path()).sha256
    model = load_model(written["surface"], sha)
    save_model(dataclasses.replace(model, backbone_sha256="0" * 64), written["surface"])
    assert teaching.untaught_simulated_tools(recipe, paths) == ["surface"]
    assert teaching.untaught_tools(recipe, paths) == []  # a real line's file stays for the engineer


def test_teaching_refuses_tools_it_cannot_teach_and_honours_cancel(lineside_home: Path):
    recipe = load_recipe(demo_recipe())
    paths = user_paths().ensure()
    with pytest.raises(RecipeError, match="not taught from good parts"):
        teaching.teach_from_line(recipe, paths, good_parts=2, tools=["serial"])
    with pytest.raises(RecipeError, match="not a defect"):
        teaching.teach_anomaly(recipe, "label", paths, [np.zeros((64, 64), np.uint8)])
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        teaching.teach_from_line(recipe, paths, good_parts=3, cancel=cancel)
    assert not (paths.models / "demo" / "label.label.png").exists()


def test_a_label_that_cannot_be_found_is_a_clear_error(lineside_home: Path):
    recipe = load_recipe(demo_recipe())
    with pytest.raises(LinesideError):
        teaching.teach_label(recipe, "label", user_paths(), np.zeros((1024, 1280), np.uint8))
