"""Recipe versions: apply writes N+1 and keeps it, rollback brings N back, numbers never repeat."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspection.errors import RecipeError
from inspection.recipe import load_recipe
from inspection.tuning import versions
from inspection.tuning.recipe_changes import change_summary
from inspection.tuning.version_numbers import next_version, version_order

# A hand-written recipe (comments, defaults left out) with a defect tool and a code tool.
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
    roi: {x: 100, y: 100, w: 64, h: 64}
    threshold: 0.5   # taught 0.47, raised after the March trial
"""


@pytest.fixture
def recipe_file(tmp_path: Path) -> Path:
    path = tmp_path / "recipes" / "packs.yaml"
    path.parent.mkdir()
    path.write_text(RECIPE, encoding="utf-8")
    return path


def threshold_of(path: Path, tool_id: str = "surface") -> float | None:
    tool = next(t for t in load_recipe(path).tools if t.id == tool_id)
    return getattr(tool, "threshold", None)


def history_lines(path: Path) -> list[dict[str, object]]:
    text = (versions.archive_dir(path) / versions.HISTORY_FILE).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_apply_writes_the_next_version_keeps_both_and_logs_the_reason(recipe_file: Path) -> None:
    entry = versions.apply_threshold(
        recipe_file, load_recipe(recipe_file), "surface", 0.62, "false rejects on lot L-100"
    )
    assert entry.version == "4" and entry.previous == "3" and entry.action == "apply"
    assert entry.summary == "surface.threshold 0.50 → 0.62"
    assert load_recipe(recipe_file).version == "4"
    assert threshold_of(recipe_file) == pytest.approx(0.62)
    assert (recipe_file.parent / "packs.yaml.bak").read_text(encoding="utf-8") == RECIPE

    folder = versions.archive_dir(recipe_file)
    assert folder == recipe_file.parent / "packs.versions"
    assert (folder / "3.yaml").read_text(encoding="utf-8") == RECIPE  # kept as it was, comments too
    assert load_recipe(folder / "4.yaml").version == "4"
    lines = history_lines(recipe_file)
    assert [(x["version"], x["action"]) for x in lines] == [("3", "save"), ("4", "apply")]
    assert lines[0]["reason"] == versions.FOUND_REASON
    last = lines[1]
    assert last["reason"] == "false rejects on lot L-100"
    assert last["previous"] == "3" and last["who"] == ""
    assert last["summary"] == "surface.threshold 0.50 → 0.62"
    assert set(last) == {"time", "version", "previous", "action", "reason", "who", "summary"}
    assert [e.version for e in versions.versions(recipe_file)] == ["4", "3"]


def test_rollback_brings_the_kept_version_back_and_the_next_apply_gets_a_fresh_number(
    recipe_file: Path,
) -> None:
    versions.apply_threshold(recipe_file, load_recipe(recipe_file), "surface", 0.62, "trial 1")
    versions.apply_threshold(recipe_file, load_recipe(recipe_file), "surface", 0.7, "trial 2")
    assert load_recipe(recipe_file).version == "5"

    entry = versions.rollback(recipe_file, "3", "trial 2 let scratches through")
    assert (entry.version, entry.previous, entry.action) == ("3", "5", "rollback")
    assert entry.summary == "surface.threshold 0.70 → 0.50"
    assert recipe_file.read_text(encoding="utf-8") == RECIPE  # version 3's own text
    assert load_recipe(recipe_file).version == "3"
    newest = versions.versions(recipe_file)[0]
    assert newest == entry and newest.reason == "trial 2 let scratches through"

    # 4 and 5 were used: parts recorded under them must keep meaning those recipes
    again = versions.apply_threshold(recipe_file, load_recipe(recipe_file), "surface", 0.55, "ok")
    assert again.version == "6" and again.previous == "3"
    assert versions.archived_versions(recipe_file) == ["3", "4", "5", "6"]
    assert threshold_of(versions.archive_dir(recipe_file) / "4.yaml") == pytest.approx(0.62)

    # rolling back to a rolled-back-from version works the same way
    versions.rollback(recipe_file, "5", "back to trial 2")
    assert threshold_of(recipe_file) == pytest.approx(0.7)
    assert [e.action for e in versions.versions(recipe_file)] == [
        "rollback",
        "apply",
        "rollback",
        "apply",
        "apply",
        "save",
    ]


def test_rollback_refuses_what_it_cannot_do(recipe_file: Path) -> None:
    versions.apply_threshold(recipe_file, load_recipe(recipe_file), "surface", 0.62, "trial")
    with pytest.raises(RecipeError, match=r"version '9' is not kept \(kept: 3, 4\)"):
        versions.rollback(recipe_file, "9", "why not")
    with pytest.raises(RecipeError, match="in force already"):
        versions.rollback(recipe_file, "4", "again")
    with pytest.raises(ValueError, match="needs a reason"):
        versions.rollback(recipe_file, "3", "  ")
    with pytest.raises(ValueError, match="needs a reason"):
        versions.apply_threshold(recipe_file, load_recipe(recipe_file), "surface", 0.6, "")
    assert load_recipe(recipe_file).version == "4"
    assert len(versions.versions(recipe_file)) == 2


def test_a_tool_without_a_threshold_or_a_bad_value_is_refused_naming_them(
    recipe_file: Path,
) -> None:
    recipe = load_recipe(recipe_file)
    with pytest.raises(RecipeError, match=r"tool 'serial' \(codes\) has no threshold"):
        versions.with_threshold(recipe, "serial", 0.5)
    with pytest.raises(
        RecipeError, match=r"tools\[1\] \(surface\)\.threshold: -0\.2: .*greater than 0"
    ):
        versions.with_threshold(recipe, "surface", -0.2)
    with pytest.raises(RecipeError, match=r"surface\)\.threshold: nan is not a finite number"):
        versions.with_threshold(recipe, "surface", float("nan"))
    with pytest.raises(RecipeError, match=r"surface\)\.threshold: 'high' is not a number"):
        versions.with_threshold(recipe, "surface", "high")  # type: ignore[arg-type]
    with pytest.raises(RecipeError, match=r"no tool 'edges'; tools are \['serial', 'surface'\]"):
        versions.with_threshold(recipe, "edges", 0.5)
    with pytest.raises(RecipeError, match="serial"):
        versions.apply_threshold(recipe_file, recipe, "serial", 0.5, "try")
    # nothing was written or kept
    assert recipe_file.read_text(encoding="utf-8") == RECIPE
    assert versions.versions(recipe_file) == []

    changed = versions.with_threshold(recipe, "surface", 0.8)
    assert threshold_of_recipe(changed) == 0.8 and threshold_of_recipe(recipe) == 0.5


def threshold_of_recipe(recipe) -> float:
    return next(t for t in recipe.tools if t.id == "surface").threshold


def test_diff_shows_the_threshold_line_and_nothing_the_schema_fills_in(recipe_file: Path) -> None:
    versions.apply_threshold(recipe_file, load_recipe(recipe_file), "surface", 0.62, "trial")
    text = versions.diff(recipe_file, "3", "4")
    changed = [
        line
        for line in text.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changed == ["-version: '3'", "+version: '4'", "-  threshold: 0.5", "+  threshold: 0.62"]
    assert text.startswith("--- version 3\n+++ version 4\n")
    assert versions.diff(recipe_file, "4", "4") == ""
    assert versions.change_between(recipe_file, "4", "3") == "surface.threshold 0.62 → 0.50"


def test_a_save_is_kept_and_a_shipped_recipe_in_force_is_kept_before_its_copy(
    tmp_path: Path, recipe_file: Path
) -> None:
    shipped = load_recipe(recipe_file)
    copy = tmp_path / "user" / "packs.yaml"  # a shipped recipe's changes go to the user's copy
    changed = versions.with_threshold(shipped, "surface", 0.9).model_copy(update={"version": "4"})
    entry = versions.save_version(changed, copy, reason="", in_force=shipped)
    assert (entry.action, entry.version, entry.previous) == ("save", "4", "3")
    assert [e.version for e in versions.versions(copy)] == ["4", "3"]
    versions.rollback(copy, "3", "the shipped settings")
    assert threshold_of(copy) == pytest.approx(0.5)
    # a version kept already is never overwritten with other settings
    with pytest.raises(RecipeError, match="kept already with other settings"):
        versions.save_version(
            versions.with_threshold(shipped, "surface", 0.3).model_copy(update={"version": "4"}),
            copy,
        )
    assert threshold_of(versions.archive_dir(copy) / "4.yaml") == pytest.approx(0.9)


def test_version_numbers() -> None:
    assert next_version("1.09") == "1.10"
    assert sorted(["1.10", "2", "1.9", "10", "1"], key=version_order) == [
        "1",
        "1.9",
        "1.10",
        "2",
        "10",
    ]


def test_change_summary_names_tools_and_lists() -> None:
    old = "name: a\ntools:\n- {id: s, type: anomaly, threshold: 0.5}\n"
    new = "name: a\ntools:\n- {id: s, type: anomaly, threshold: 0.625}\n- {id: c, type: codes}\n"
    assert change_summary(old, new) == "c added; s.threshold 0.50 → 0.625"
    assert change_summary(old, old) == "no setting changed"
    assert change_summary("", new) == "first version kept"
