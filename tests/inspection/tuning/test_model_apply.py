"""Apply a re-taught defect model as the next recipe version: the next parts are inspected with
the new model and record the new version; a rollback brings the old model back, and re-teaching
again never changes what an applied version runs."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from inspection.errors import ModelError, RecipeError
from inspection.inference.session import sha256_file
from inspection.pipeline import teaching
from inspection.recipe import dump_recipe, load_recipe, parse_recipe
from inspection.tuning import versions
from inspection.tuning.model_apply import apply_model, pinned_name
from tests.support.rescore_line import RecordedLine, recipe_doc, recorded_line, run_station


@pytest.fixture(scope="module")
def line(tmp_path_factory: pytest.TempPathFactory) -> RecordedLine:
    return recorded_line(tmp_path_factory.mktemp("model-apply"))


@pytest.fixture
def recipe_file(line: RecordedLine, tmp_path: Path) -> Path:
    path = tmp_path / "recipes" / "rescore.yaml"
    path.parent.mkdir()
    path.write_text(dump_recipe(line.recipe), encoding="utf-8")
    return path


def recorded_models(db: Path, version: str) -> set[tuple[str, str]]:
    """(recipe version, surface model hash) of the parts recorded under ``version``."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT recipe_version, model_hashes FROM inspections WHERE recipe_version = ?",
            (version,),
        ).fetchall()
    return {(v, json.loads(h)["surface"]) for v, h in rows}


def test_apply_runs_the_new_model_from_the_next_part_and_rollback_brings_the_old_back(
    line: RecordedLine, recipe_file: Path
) -> None:
    models_dir = line.paths.models / line.recipe.name
    in_force = load_recipe(recipe_file)
    entry = apply_model(
        recipe_file,
        in_force,
        "surface",
        line.retaught,
        "re-taught on lot L-7",
        models_dir=models_dir,
    )
    new_sha = sha256_file(line.retaught)
    pinned = models_dir / pinned_name("surface", new_sha)
    assert entry.version == "2" and entry.action == "apply" and entry.previous == "1"
    assert pinned.is_file() and sha256_file(pinned) == new_sha
    applied = load_recipe(recipe_file)
    tool = next(t for t in applied.tools if t.id == "surface")
    # the old model's threshold override goes: the new model brings its calibrated one
    assert tool.model == pinned and tool.threshold is None
    run_station(applied, line.paths)
    assert recorded_models(line.paths.results_db, "2") == {("2", new_sha)}

    # re-teaching again writes beside the model in force; version 2 still runs what was applied
    other = parse_recipe(recipe_doc(23), "other.yaml")
    teaching.teach_anomaly(
        line.recipe,
        "surface",
        line.paths,
        teaching.frames_from_camera(other, "cam1", 5),
        target=line.retaught,
    )
    assert sha256_file(line.retaught) != new_sha and sha256_file(pinned) == new_sha

    versions.rollback(recipe_file, "1", "the new model rejects good lot L-8")
    back = load_recipe(recipe_file)
    tool = next(t for t in back.tools if t.id == "surface")
    assert back.version == "1" and tool.model is None and tool.threshold == pytest.approx(0.9)
    run_station(back, line.paths)
    assert recorded_models(line.paths.results_db, "1") == {("1", sha256_file(line.in_force))}


def test_a_file_that_is_no_model_is_refused_and_nothing_changes(
    line: RecordedLine, recipe_file: Path, tmp_path: Path
) -> None:
    bogus = tmp_path / "surface.retaught.lsam"
    bogus.write_bytes(b"not a model at all")
    models_dir = tmp_path / "models"
    text = recipe_file.read_text(encoding="utf-8")
    with pytest.raises(ModelError, match=r"surface\.retaught\.lsam"):
        apply_model(
            recipe_file, load_recipe(recipe_file), "surface", bogus, "try", models_dir=models_dir
        )
    assert recipe_file.read_text(encoding="utf-8") == text and not models_dir.exists()


def test_only_a_defect_tool_with_a_reason_takes_a_model(
    line: RecordedLine, recipe_file: Path, tmp_path: Path
) -> None:
    recipe = load_recipe(recipe_file)
    with pytest.raises(RecipeError, match="no tool 'edge'"):
        apply_model(recipe_file, recipe, "edge", line.retaught, "why", models_dir=tmp_path)
    with pytest.raises(RecipeError, match="needs a reason"):
        apply_model(recipe_file, recipe, "surface", line.retaught, "  ", models_dir=tmp_path)
    assert load_recipe(recipe_file).version == recipe.version
