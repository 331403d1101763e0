"""Writing a changed recipe back to disk, never into the install folder.

A recipe shipped with Lineside (the demo) is saved as a copy in the user's recipe folder; a
user's own recipe is overwritten, keeping the previous text as ``<name>.yaml.bak``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from inspection.paths import Paths, resources_dir
from inspection.recipe import Recipe, dump_recipe, load_recipe

log = logging.getLogger(__name__)


def recipe_target(current: Path | None, recipe: Recipe, paths: Paths) -> Path:
    """Where a changed ``recipe`` (read from ``current``) is saved."""
    shipped = resources_dir().resolve()
    if current is None or current.resolve().is_relative_to(shipped):
        return paths.config / "recipes" / f"{recipe.name}.yaml"
    return current


def save_recipe(recipe: Recipe, target: Path) -> Path:
    """Write ``recipe`` to ``target`` (the old file kept as .bak) and read it back to be sure.

    Raises RecipeError when the written file does not load, OSError when it cannot be written.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    text = dump_recipe(recipe)
    if target.exists():
        backup = target.with_suffix(target.suffix + ".bak")
        backup.write_bytes(target.read_bytes())
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)  # never a half-written recipe, even on a power cut
    load_recipe(target)
    log.info("recipe %s saved to %s", recipe.name, target)
    return target
