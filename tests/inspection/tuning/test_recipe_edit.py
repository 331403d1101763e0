"""Edited tools become the next version: a moved ROI or a changed parameter is written as N+1
with the summary naming the field; an invalid change is refused naming the field path, and
nothing is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspection.errors import RecipeError
from inspection.recipe import load_recipe
from inspection.tuning import recipe_edit, versions

RECIPE = """# the packing line
schema_version: 1
name: packs
version: "3"
cameras:
  - id: cam1
    source: {type: synthetic, seed: 3, rate_hz: 20}
tools:
  - id: serial
    type: codes
    formats: [DataMatrix]
  - id: surface
    type: anomaly
    roi: {x: 230, y: 100, w: 64, h: 64}
    threshold: 0.5
  - id: label
    type: label
    fields:
      - name: lot
        region: {x: 10, y: 4, w: 80, h: 20}
        rule: batch
"""


@pytest.fixture
def recipe_file(tmp_path: Path) -> Path:
    path = tmp_path / "recipes" / "packs.yaml"
    path.parent.mkdir()
    path.write_text(RECIPE, encoding="utf-8")
    return path


def tool_data(path: Path, tool_id: str) -> dict:
    tool = next(t for t in load_recipe(path).tools if t.id == tool_id)
    return tool.model_dump(mode="json", exclude_none=True)


def history_lines(path: Path) -> list[dict[str, object]]:
    text = (versions.archive_dir(path) / versions.HISTORY_FILE).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_a_moved_roi_is_the_next_version_and_its_summary_names_the_field(
    recipe_file: Path,
) -> None:
    in_force = load_recipe(recipe_file)
    data = tool_data(recipe_file, "surface")
    data["roi"] = {"x": 250, "y": 100, "w": 64, "h": 64}
    changed = recipe_edit.with_tool(in_force, "surface", data)
    assert recipe_edit.describe_change(in_force, changed) == "surface.roi.x 230 → 250"

    entry = recipe_edit.apply_change(recipe_file, in_force, changed, "ROI missed the edge")
    assert (entry.version, entry.previous, entry.action) == ("4", "3", "apply")
    assert entry.summary == "surface.roi.x 230 → 250"
    now = load_recipe(recipe_file)
    assert now.version == "4"
    surface = next(t for t in now.tools if t.id == "surface")
    assert surface.roi is not None and (surface.roi.x, surface.roi.w) == (250, 64)
    assert versions.archived_versions(recipe_file) == ["3", "4"]
    assert history_lines(recipe_file)[-1]["reason"] == "ROI missed the edge"

    # the way back is the ordinary rollback
    versions.rollback(recipe_file, "3", "back to the old ROI")
    surface = next(t for t in load_recipe(recipe_file).tools if t.id == "surface")
    assert surface.roi is not None and surface.roi.x == 230


def test_a_parameter_and_a_label_field_region_are_named_too(recipe_file: Path) -> None:
    in_force = load_recipe(recipe_file)
    data = tool_data(recipe_file, "surface")
    data["min_area_px"] = "12"  # as a form holds it: text, converted by the schema
    entry = recipe_edit.apply_change(
        recipe_file, in_force, recipe_edit.with_tool(in_force, "surface", data), "dust"
    )
    assert entry.version == "4"
    assert entry.summary == "surface.min_area_px 0 → 12"

    in_force = load_recipe(recipe_file)
    label = tool_data(recipe_file, "label")
    label["fields"][0]["region"] = {"x": 12, "y": 4, "w": 80, "h": 20}
    entry = recipe_edit.apply_change(
        recipe_file, in_force, recipe_edit.with_tool(in_force, "label", label), "lot moved"
    )
    assert entry.version == "5"
    assert entry.summary == "label.fields.lot.region.x 10 → 12"


def test_an_invalid_change_is_refused_naming_the_field_path_and_nothing_is_written(
    recipe_file: Path,
) -> None:
    in_force = load_recipe(recipe_file)
    before = recipe_file.read_text(encoding="utf-8")
    data = tool_data(recipe_file, "surface")
    data["roi"] = {"x": -5, "y": 100, "w": 64, "h": 64}
    with pytest.raises(RecipeError, match=r"tools\[1\] \(surface\)\.roi\.x: Input should be"):
        recipe_edit.with_tool(in_force, "surface", data)
    data["roi"]["x"] = 230
    data["min_area_px"] = "a dozen"
    with pytest.raises(RecipeError, match=r"tools\[1\] \(surface\)\.min_area_px: .*integer"):
        recipe_edit.with_tool(in_force, "surface", data)

    # apply_change checks too: a recipe changed without validation (model_copy) is refused
    surface = in_force.tools[1]
    roi = surface.roi.model_copy(update={"w": 0})
    unchecked = in_force.model_copy(
        update={
            "tools": [in_force.tools[0], surface.model_copy(update={"roi": roi}), in_force.tools[2]]
        }
    )
    with pytest.raises(RecipeError, match=r"tools\[1\] \(surface\)\.roi\.w: Input should be"):
        recipe_edit.apply_change(recipe_file, in_force, unchecked, "bad")
    assert recipe_file.read_text(encoding="utf-8") == before
    assert not versions.archive_dir(recipe_file).exists()


def test_no_change_no_reason_or_another_name_is_refused(recipe_file: Path) -> None:
    in_force = load_recipe(recipe_file)
    with pytest.raises(RecipeError, match="nothing changed"):
        recipe_edit.apply_change(recipe_file, in_force, in_force, "why not")
    data = tool_data(recipe_file, "surface")
    data["threshold"] = 0.6
    changed = recipe_edit.with_tool(in_force, "surface", data)
    with pytest.raises(ValueError, match="needs a reason"):
        recipe_edit.apply_change(recipe_file, in_force, changed, "  ")
    renamed = changed.model_copy(update={"name": "other"})
    with pytest.raises(RecipeError, match="keeps the name 'packs'"):
        recipe_edit.apply_change(recipe_file, in_force, renamed, "rename")
    with pytest.raises(RecipeError, match="no tool 'nope'"):
        recipe_edit.with_tool(in_force, "nope", data)
    assert not versions.archive_dir(recipe_file).exists()
    assert load_recipe(recipe_file).version == "3"
