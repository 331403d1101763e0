"""Writing a changed recipe back to disk, never into the install folder.

A recipe shipped with Lineside (the demo) is saved as a copy in the user's recipe folder; a
user's own recipe is overwritten, keeping the previous text as ``<name>.yaml.bak``. Every saved
change gets a new version (``version_after``: never one used before) and is kept with the
recipe's versions (inspection/tuning/versions.py): each Inspection records the recipe name and
version, so parts inspected before and after a change can be told apart, and any version can be
brought back.
"""

from __future__ import annotations

import logging
from pathlib import Path

from inspection.paths import Paths, resources_dir
from inspection.recipe import Recipe
from inspection.tuning.version_numbers import next_version
from inspection.tuning.versions import save_version, version_after, version_on_disk

__all__ = ["next_version", "recipe_target", "save_recipe", "version_after", "version_on_disk"]

log = logging.getLogger(__name__)


def recipe_target(current: Path | None, recipe: Recipe, paths: Paths) -> Path:
    """Where a changed ``recipe`` (read from ``current``) is saved."""
    shipped = resources_dir().resolve()
    if current is None or current.resolve().is_relative_to(shipped):
        return paths.config / "recipes" / f"{recipe.name}.yaml"
    return current


def save_recipe(
    recipe: Recipe, target: Path, *, reason: str = "", in_force: Recipe | None = None
) -> Path:
    """Write ``recipe`` to ``target`` (the old file kept as .bak, the new one only once it loads)
    and keep it with the recipe's versions (action "save", with ``reason``).

    ``in_force``: the recipe running now, kept as the version before when ``target`` is new.
    Raises RecipeError when the recipe does not load back or its version is kept already with
    other settings, OSError when it cannot be written.
    """
    save_version(recipe, target, action="save", reason=reason, in_force=in_force)
    log.info("recipe %s saved to %s", recipe.name, target)
    return target
