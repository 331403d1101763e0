"""A recipe naming the user's own ONNX models runs through the station like any other tool."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from support import onnx_graphs as g
from support.pipeline_tools import Collector

from inspection.errors import ModelError
from inspection.pipeline.station import Station
from inspection.recipe import load_recipe
from inspection.sources.memory import MemorySource
from inspection.types import Verdict


def write_recipe(tmp_path: Path, tool: dict) -> Path:
    doc = {
        "name": "own-models",
        "cameras": [{"id": "cam1", "source": {"type": "synthetic"}}],
        "tools": [tool],
        "pipeline": {"workers": 2},
    }
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_detector_from_a_recipe_fails_parts_with_its_classes(tmp_path: Path):
    head = g.yolo_head([(20, 20, 6, 6, 1, 0.8)], 2)
    g.yolo_model(tmp_path / "yolo.onnx", head, names="{0: 'scratch', 1: 'dent'}")
    recipe = load_recipe(
        write_recipe(tmp_path, {"id": "det", "type": "detector", "model": "yolo.onnx"})
    )
    images = [np.full((120, 160), 128, np.uint8) for _ in range(4)]
    station = Station(recipe, store_results=False, sources=[MemorySource(images)])
    got = Collector()
    station.add_listener(got)
    station.start()
    try:
        assert station.wait_finished(30.0)
    finally:
        station.stop(10.0)
    assert [i.verdict for i in got.inspections] == [Verdict.FAIL] * 4
    assert got.inspections[0].reason == "det: dent ×1 (best 0.80)"
    assert "det" in got.inspections[0].model_hashes


def test_a_damaged_model_refuses_to_start_and_names_the_file(tmp_path: Path):
    (tmp_path / "yolo.onnx").write_bytes(b"this is not a model")
    recipe = load_recipe(
        write_recipe(tmp_path, {"id": "det", "type": "detector", "model": "yolo.onnx"})
    )
    station = Station(recipe, store_results=False)
    with pytest.raises(ModelError, match=r"yolo\.onnx"):
        station.start()
    assert not station.running
