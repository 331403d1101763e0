"""Writing a changed recipe back to disk, never into the install folder.

A recipe shipped with Lineside (the demo) is saved as a copy in the user's recipe folder; a
user's own recipe is overwritten, keeping the previous text as ``<name>.yaml.bak``. Every saved
change gets a new version (``next_version``): each Inspection records the recipe name and
version, so parts inspected before and after a change can be told apart.
"""

from __future__ import annotations

import logging
from pathlib import Path

from inspection.errors import RecipeError
from inspection.paths import Paths, resources_dir
from inspection.recipe import Recipe, dump_recipe, load_recipe

log = logging.getLogger(__name__)


# Recipe.version is at most this long (inspection/recipe/document.py).
VERSION_MAX_CHARS = 32


def next_version(version: str) -> str:
    """The version after ``version``: its last dot-separated part counted up, else ``.1`` added.

    "1" → "2", "1.4" → "1.5", "1.09" → "1.10", "2026-03" → "2026-03.1", "v1" → "v1.1",
    "2026-03.1" → "2026-03.2". Only a last part made of digits alone is counted up, so a date
    such as "2026-03" never turns into a different month. A version that would grow past the
    recipe's 32 characters loses characters from the front, keeping the part that changed.
    """
    head, dot, last = version.rpartition(".")
    if last.isdigit() and last.isascii():
        bumped = str(int(last) + 1).zfill(len(last))
        new = f"{head}{dot}{bumped}"
    else:
        new = f"{version}.1"
    return new[-VERSION_MAX_CHARS:]


def version_on_disk(target: Path) -> str | None:
    """The version of the recipe saved at ``target``, None when there is none that loads."""
    if not target.is_file():
        return None
    try:
        return load_recipe(target).version
    except RecipeError as exc:
        log.warning("recipe %s does not load (%s); its version is not counted on", target, exc)
        return None


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
