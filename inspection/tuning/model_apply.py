"""Apply a re-taught defect model as the recipe's next version, so a rollback brings the old
model back too.

A re-taught model (``<tool>.retaught.lsam`` beside the one in force, or any model file the engineer
chose for re-scoring) is first checked against the tool's settings, then copied into the
station's model folder under a name that carries its content hash (``<tool>.<sha12>.lsam``):
that file is never written again, so the version that names it always runs the same model, even
after more re-teaching. The new version's ``model:`` names it and drops a threshold override made
for the old model's scores (the new model brings its own calibrated threshold), unless the engineer
gives one. The model that was in force stays where it was, for the versions that name it.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from pathlib import Path

from inspection.errors import LinesideError, ModelError, RecipeError
from inspection.inference.anomaly.model_file import SUFFIX, check_usable
from inspection.inference.manifest import backbone_manifest_path, load_manifest
from inspection.inference.session import sha256_file
from inspection.recipe import AnomalyToolSettings, Recipe
from inspection.tuning.versions import RecipeVersion, apply_as_next_version, with_tool

PINNED_HASH_CHARS = 12


def pinned_name(tool_id: str, sha256: str) -> str:
    """``surface.3f2a9c0b11de.lsam``: the tool and the model's content, never reused."""
    return f"{tool_id}.{sha256[:PINNED_HASH_CHARS]}{SUFFIX}"


def pin_model(model: Path, tool_id: str, models_dir: Path) -> Path:
    """Copy ``model`` into ``models_dir`` as ``pinned_name`` (atomically; kept as is when the
    same content is pinned already) and return that path."""
    if not model.is_file():
        raise ModelError(f"{model}: model file not found")
    target = models_dir / pinned_name(tool_id, sha256_file(model))
    if target.is_file() and sha256_file(target) == sha256_file(model):
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{tool_id}.", suffix=SUFFIX, dir=models_dir)
    os.close(fd)
    try:
        shutil.copyfile(model, tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def with_model(
    recipe: Recipe, tool_id: str, model: Path, *, threshold: float | None = None
) -> Recipe:
    """``recipe`` with defect tool ``tool_id`` reading ``model`` and threshold ``threshold``
    (None: the model's own), validated by the schema; RecipeError names the tool otherwise."""
    where = f"recipe {recipe.name}"
    ids = [t.id for t in recipe.tools]
    if tool_id not in ids:
        raise RecipeError(f"{where}: no tool {tool_id!r}; tools are {ids}")
    index = ids.index(tool_id)
    tool = recipe.tools[index]
    if not isinstance(tool, AnomalyToolSettings):
        raise RecipeError(
            f"{where}: tool {tool_id!r} ({tool.type}) is not taught from good parts; only a "
            "defect (anomaly) tool's model is applied here"
        )
    if threshold is not None and not (
        isinstance(threshold, float | int) and math.isfinite(threshold)
    ):
        raise RecipeError(f"{where}: tools[{index}] ({tool_id}).threshold: {threshold!r}")
    return with_tool(
        recipe,
        index,
        {**tool.model_dump(), "model": model, "threshold": threshold},
        f"{where}: tools[{index}] ({tool_id})",
    )


def apply_model(
    path: Path,
    recipe: Recipe,
    tool_id: str,
    model: Path,
    reason: str,
    *,
    models_dir: Path,
    threshold: float | None = None,
    who: str = "",
) -> RecipeVersion:
    """Write ``recipe`` (the one in force) with tool ``tool_id`` reading the re-taught ``model``
    to ``path`` as a new version, logged with ``reason`` (required). The model is checked
    first (ModelError: made for another backbone or preprocessing, or not a model at all) and
    pinned in ``models_dir``; the caller opens ``path`` to run it."""
    if not reason.strip():
        raise RecipeError("applying a model needs a reason")
    with_model(recipe, tool_id, model, threshold=threshold)  # refused before anything is copied
    try:
        check_usable(model, load_manifest(backbone_manifest_path()).sha256)
    except OSError as exc:
        raise LinesideError(f"{model}: not readable: {exc}") from None
    pinned = pin_model(model, tool_id, models_dir)
    changed = with_model(recipe, tool_id, pinned, threshold=threshold)
    return apply_as_next_version(path, recipe, changed, reason, who=who)
