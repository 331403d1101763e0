"""Changing the recipe in force by hand: a tool's ROI, its label fields' regions, its parameters.

The general form of applying a threshold (``versions.apply_threshold``): the changed recipe is
read through the recipe schema the way a recipe file is, so a change that would not load is
refused with the field path and reason before anything is written; a valid one becomes the next
version, kept in the archive and logged with its reason and a summary of what changed ("surface.roi.x
230 → 250"). Rolling it back is ``versions.rollback``, like any other version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from inspection.errors import RecipeError
from inspection.recipe import Recipe, dump_recipe, parse_recipe
from inspection.recipe.document import _field_path
from inspection.tuning.recipe_changes import change_summary
from inspection.tuning.versions import RecipeVersion, apply_as_next_version

_TOOL_AT = re.compile(r"\btools\[(\d+)\]")
# Errors listed per change at most; the first few say enough to fix it.
MAX_ERRORS = 5


def recipe_data(recipe: Recipe) -> dict[str, Any]:
    """The recipe as plain data, the way its YAML file holds it (what a form edits)."""
    return recipe.model_dump(mode="json", exclude_none=True)


def _with_tool_ids(message: str, data: Mapping[str, Any]) -> str:
    """Name the tool at each ``tools[1]``: ``tools[1] (surface).roi.x``; engineers know ids."""
    tools = data.get("tools")
    if not isinstance(tools, list):
        return message

    def name(match: re.Match[str]) -> str:
        index = int(match.group(1))
        tool = tools[index] if index < len(tools) else None
        tool_id = tool.get("id") if isinstance(tool, Mapping) else None
        return f"{match.group(0)} ({tool_id})" if tool_id else match.group(0)

    return _TOOL_AT.sub(name, message)


def validate_recipe(data: Mapping[str, Any], name: str) -> Recipe:
    """``data`` read through the recipe schema only (no file is looked at, so it is cheap enough
    to run as the engineer types). RecipeError names the recipe, the field path and the reason."""
    where = f"recipe {name}"
    try:
        return Recipe.model_validate(dict(data))
    except ValidationError as exc:
        lines = [
            f"{where}: {_field_path(tuple(e['loc']))}: {e['msg']}"
            for e in exc.errors()[:MAX_ERRORS]
        ]
        raise RecipeError(_with_tool_ids("\n".join(lines), data)) from None


def with_tool(recipe: Recipe, tool_id: str, tool_data: Mapping[str, Any]) -> Recipe:
    """``recipe`` with tool ``tool_id``'s settings replaced by ``tool_data`` (recipe data: its
    type, roi, parameters...), validated by the schema. RecipeError names the field path."""
    data = recipe_data(recipe)
    ids = [t["id"] for t in data["tools"]]
    if tool_id not in ids:
        raise RecipeError(f"recipe {recipe.name}: no tool {tool_id!r}; tools are {ids}")
    data["tools"][ids.index(tool_id)] = dict(tool_data)
    return validate_recipe(data, recipe.name)


def describe_change(in_force: Recipe, changed: Recipe) -> str:
    """One line saying what ``changed`` changes against ``in_force``, e.g. "surface.roi.x 230 →
    250; surface.min_area_px (default) → 12" ("no setting changed" when nothing does)."""
    return change_summary(dump_recipe(in_force), dump_recipe(changed))


def apply_change(
    path: Path,
    recipe_in_force: Recipe,
    new_recipe: Recipe | Mapping[str, Any],
    reason: str,
    *,
    who: str = "",
) -> RecipeVersion:
    """Write ``new_recipe`` (the recipe in force, changed) to ``path`` as the next version, kept
    and logged with ``reason`` (required) and a summary of what changed. The caller opens
    ``path`` to run it; the station takes it between parts.

    ``new_recipe`` is read through the schema as a file would be (model files it names must
    exist): RecipeError names the field path and nothing is written when it does not validate,
    when nothing changed, or when the recipe's name changed (its versions are kept by file).
    ValueError when the reason is empty.
    """
    reason = reason.strip()
    if not reason:
        raise ValueError("applying a change needs a reason")
    data = recipe_data(new_recipe) if isinstance(new_recipe, Recipe) else dict(new_recipe)
    # the version is the archive's to give: never one used before, also after a rollback
    data["version"] = recipe_in_force.version
    where = f"recipe {recipe_in_force.name}"
    try:
        changed = parse_recipe(data, where, base_dir=path.parent)
    except RecipeError as exc:
        raise RecipeError(_with_tool_ids(str(exc), data)) from None
    if changed.name != recipe_in_force.name:
        raise RecipeError(
            f"{where}: name: {changed.name!r} is another recipe; a change keeps the name "
            f"{recipe_in_force.name!r}"
        )
    if recipe_data(changed) == recipe_data(recipe_in_force):
        raise RecipeError(f"{where}: nothing changed; there is no new version to apply")
    return apply_as_next_version(path, recipe_in_force, changed, reason, who=who)
