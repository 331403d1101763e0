"""The tool settings each recorded part ran under: its recipe version, read from the kept versions.

Every part records its recipe's name and version (``inspections.recipe_name/recipe_version``);
the recipe archive (``versions.py``) keeps the exact text of each version beside its file. So a
limit the tool does not record with its result (the label's maximum offset, the defect tool's
minimum area) is read, per version, from the text that was in force, never guessed. A version
that is not kept anywhere looked is an error naming it, the parts it covers and where was looked.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import TypeAdapter, ValidationError

from inspection.errors import RecipeError
from inspection.paths import Paths, resources_dir
from inspection.recipe.tools import ToolSettings
from inspection.tuning.scores import TuningError
from inspection.tuning.versions import archived_text

log = logging.getLogger(__name__)

_TOOL = TypeAdapter(ToolSettings)


def recipe_files(paths: Paths | None, extra: Sequence[Path] = ()) -> list[Path]:
    """Where recipes are looked for: ``extra`` first, then the user's recipe folder (where
    changes are saved) and the shipped recipes."""
    found = [Path(p) for p in extra]
    folders = [paths.config / "recipes"] if paths is not None else []
    folders.append(resources_dir() / "recipes")
    for folder in folders:
        if folder.is_dir():
            found += sorted(folder.glob("*.yaml"))
    return list(dict.fromkeys(found))


def _recipe_name(path: Path) -> str | None:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        log.warning("recipe %s not readable while looking for versions: %s", path, exc)
        return None
    return str(doc["name"]) if isinstance(doc, dict) and "name" in doc else None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PartSettings:
    """The settings of one tool per part: ``settings[which[i]]`` is part i's (``which`` int64,
    one per part id given); ``versions``: "name version" of each entry of ``settings``."""

    which: np.ndarray
    settings: list[Any]
    versions: list[str]


def _tool_in(text: str, tool_id: str, where: str) -> Any:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TuningError(f"{where}: not valid YAML ({exc})") from None
    tools = doc.get("tools") if isinstance(doc, dict) else None
    found = [t for t in tools or () if isinstance(t, dict) and t.get("id") == tool_id]
    if not found:
        raise TuningError(f"{where}: has no tool {tool_id!r}")
    try:
        return _TOOL.validate_python(found[0])
    except ValidationError as exc:
        raise TuningError(f"{where}: tool {tool_id!r} does not validate: {exc}") from None


def tool_settings_per_part(
    conn: sqlite3.Connection,
    part_id: np.ndarray,
    tool_id: str,
    files: Sequence[Path],
) -> PartSettings:
    """``tool_id``'s settings for each of ``part_id`` (int64 ascending), from the recipe version
    each part records, looked up in ``files`` and their kept versions. TuningError naming the
    version, its parts and the files looked in when one is not kept."""
    if not len(part_id):
        return PartSettings(which=np.zeros(0, np.int64), settings=[], versions=[])
    lo, hi = int(part_id[0]), int(part_id[-1])
    groups = conn.execute(
        "SELECT recipe_name, recipe_version, COUNT(*) FROM inspections WHERE id BETWEEN ? AND ? "
        "GROUP BY recipe_name, recipe_version ORDER BY MAX(id)",
        (lo, hi),
    ).fetchall()
    names: dict[Path, str | None] = {}
    which = np.zeros(part_id.shape, dtype=np.int64)
    settings: list[Any] = []
    versions: list[str] = []
    for name, version, count in groups:
        text = None
        for path in files:
            if path not in names:
                names[path] = _recipe_name(path)
            if names[path] != name:
                continue
            try:
                text = archived_text(path, str(version))
                where = f"{path} version {version}"
                break
            except RecipeError:
                continue
        if text is None:
            looked = ", ".join(str(p) for p in files) or "no recipe files"
            raise TuningError(
                f"the limit in force is read from the recipe each part ran under, and recipe "
                f"{name!r} version {version!r} ({count:,} parts) is not kept in {looked}; "
                "give the recipe file (--recipe FILE)"
            )
        settings.append(_tool_in(text, tool_id, where))
        versions.append(f"{name} {version}")
        if len(groups) > 1:
            ids = np.fromiter(
                (
                    r[0]
                    for r in conn.execute(
                        "SELECT id FROM inspections WHERE id BETWEEN ? AND ? "
                        "AND recipe_name = ? AND recipe_version = ?",
                        (lo, hi, name, version),
                    )
                ),
                dtype=np.int64,
            )
            at = np.searchsorted(part_id, ids)
            inside = at < len(part_id)
            inside[inside] = part_id[at[inside]] == ids[inside]
            which[at[inside]] = len(settings) - 1
    return PartSettings(which=which, settings=settings, versions=versions)
