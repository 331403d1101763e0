"""Recipe versions: every version of a recipe file ever saved or run, and how each came into force.

Beside a recipe file ``<dir>/<stem>.yaml`` lives ``<dir>/<stem>.versions/``: one
``<version>.yaml`` per version (the exact text that was in force) and ``history.jsonl``, one line
per change of the recipe in force (time, version, previous version, action apply | rollback |
save, reason, who, a one-line summary of what changed). A version number is never used twice:
a new one counts on from the highest in the archive or on disk, so after a rollback from 4 to 2
the next change is 5, and parts recorded under "3" always mean the same recipe.

A rollback writes the archived text of version N back into the recipe file, so its version is N
again and the parts inspected after it record N. Nothing here runs the recipe: the caller opens
the file, and the station takes the new version between parts.
"""

from __future__ import annotations

import difflib
import json
import logging
import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from pydantic import ValidationError

from inspection.errors import RecipeError
from inspection.recipe import Recipe, dump_recipe, load_recipe, parse_recipe
from inspection.tuning.recipe_changes import change_summary
from inspection.tuning.version_numbers import next_version, version_order

log = logging.getLogger(__name__)

ACTIONS = ("apply", "rollback", "save")
HISTORY_FILE = "history.jsonl"
FOUND_REASON = "in force before versions were kept"


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipeVersion:
    """One change of the recipe in force, as ``history.jsonl`` keeps it.

    ``time``: ISO 8601 in UTC; ``previous``: the version in force before (None for the first);
    ``who``: empty until users exist; ``summary``: e.g. "surface.threshold 0.50 → 0.62".
    """

    time: str
    version: str
    previous: str | None
    action: str
    reason: str
    who: str = ""
    summary: str = ""


def version_on_disk(target: Path) -> str | None:
    """The version of the recipe saved at ``target``, None when there is none that loads."""
    if not target.is_file():
        return None
    try:
        return load_recipe(target).version
    except RecipeError as exc:
        log.warning("recipe %s does not load (%s); its version is not counted on", target, exc)
        return None


# ---- the archive ---------------------------------------------------------------------------


def archive_dir(path: Path) -> Path:
    """Where the versions of the recipe file ``path`` are kept."""
    return path.parent / f"{path.stem}.versions"


def _version_file(path: Path, version: str) -> Path:
    # a version is free text (≤ 32 characters): quoted, so "a/b" cannot leave the folder
    return archive_dir(path) / f"{quote(version, safe='-_.+~')}.yaml"


def archived_versions(path: Path) -> list[str]:
    """The versions kept for ``path``, oldest first by version order."""
    folder = archive_dir(path)
    if not folder.is_dir():
        return []
    # the version each file says (not its quoted name); read as YAML only, so a version naming
    # a model file deleted since is still listed
    found = [
        _version_in_text(file.read_text(encoding="utf-8")) or file.stem
        for file in folder.glob("*.yaml")
    ]
    return sorted(set(found), key=version_order)


def _version_in_text(text: str) -> str | None:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    return str(doc["version"]) if isinstance(doc, dict) and "version" in doc else None


def archived_text(path: Path, version: str) -> str:
    """The recipe text of ``version`` as it was in force; RecipeError when it is not kept."""
    file = _version_file(path, version)
    if file.is_file():
        return file.read_text(encoding="utf-8")
    if path.is_file() and version_on_disk(path) == version:
        return path.read_text(encoding="utf-8")
    kept = ", ".join(archived_versions(path)) or "none"
    raise RecipeError(f"{path}: version {version!r} is not kept (kept: {kept})")


def version_after(path: Path, base: str) -> str:
    """A new version for the recipe at ``path``: the next after the highest of ``base``, the
    one on disk and the archived ones, never one that was used before."""
    kept = set(archived_versions(path))
    on_disk = version_on_disk(path)
    highest = max(kept | {base} | ({on_disk} if on_disk else set()), key=version_order)
    version = next_version(highest)
    for _ in range(10_000):  # only versions cut at 32 characters can meet a kept one
        if version not in kept:
            return version
        version = next_version(version)
    raise RecipeError(f"{path}: no free version after {highest!r}")


def _archive(path: Path, version: str, text: str) -> bool:
    """Keep ``text`` as ``version``; False when it was kept already. A kept version is never
    overwritten with other text (parts recorded under it must keep meaning that recipe)."""
    file = _version_file(path, version)
    if file.is_file():
        if file.read_text(encoding="utf-8") != text:
            raise RecipeError(
                f"{path}: version {version!r} is kept already with other settings; "
                "a changed recipe needs a new version"
            )
        return False
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(file)
    return True


def _log(path: Path, entry: RecipeVersion) -> RecipeVersion:
    folder = archive_dir(path)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / HISTORY_FILE).open("a", encoding="utf-8") as out:
        out.write(json.dumps(asdict(entry), ensure_ascii=False) + "\n")
    log.info(
        "recipe %s: %s %s (from %s): %s; %s",
        path,
        entry.action,
        entry.version,
        entry.previous,
        entry.reason or "no reason given",
        entry.summary,
    )
    return entry


def _settings_text(text: str, folder: Path) -> str:
    """``text`` read through the recipe schema and written back: defaults spelt out, comments
    gone, paths resolved, so a hand-written file and its saved copy compare equal. The text as
    it is when it does not load (e.g. a model file it names was deleted since)."""
    try:
        return dump_recipe(parse_recipe(yaml.safe_load(text), "<kept version>", folder))
    except (RecipeError, yaml.YAMLError):
        return text


def _summary(path: Path, old_text: str | None, new_text: str) -> str:
    if not old_text:
        return change_summary("", new_text)
    return change_summary(
        _settings_text(old_text, path.parent), _settings_text(new_text, path.parent)
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _keep_in_force(path: Path, fallback: Recipe | None = None) -> tuple[str | None, str | None]:
    """Archive the version in force at ``path`` (else ``fallback``, e.g. the shipped recipe it
    was opened from) if it is not kept yet; its version and text, (None, None) when none."""
    version = version_on_disk(path)
    if version is not None:
        text = path.read_text(encoding="utf-8")
        when = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
    elif fallback is not None and not path.exists():
        version, text, when = fallback.version, dump_recipe(fallback), _now()
    else:
        return None, None
    file = _version_file(path, version)
    if file.is_file():
        if file.read_text(encoding="utf-8") != text:
            # edited by hand under the same version: the kept text stays the version's
            log.warning("%s: version %s differs from the one kept in %s", path, version, file)
        return version, text
    _archive(path, version, text)
    _log(
        path,
        RecipeVersion(
            time=when,
            version=version,
            previous=None,
            action="save",
            reason=FOUND_REASON,
            summary="first version kept",
        ),
    )
    return version, text


def _write_recipe_text(path: Path, text: str) -> None:
    """Write ``text`` over ``path`` only once it loads (the old file kept as .bak).

    Raises RecipeError when the text does not load; the file in force is then untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    try:
        load_recipe(tmp)  # beside the file, so relative paths resolve the same way
    except RecipeError:
        tmp.unlink(missing_ok=True)
        raise
    if path.exists():
        backup = path.with_suffix(path.suffix + ".bak")
        backup.write_bytes(path.read_bytes())
    tmp.replace(path)  # never a half-written recipe, even on a power cut


def _require_reason(reason: str, what: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValueError(f"{what} needs a reason")
    return reason


# ---- changing the recipe in force --------------------------------------------------------------


def save_version(
    recipe: Recipe,
    path: Path,
    *,
    action: str = "save",
    reason: str = "",
    who: str = "",
    in_force: Recipe | None = None,
) -> RecipeVersion:
    """Write ``recipe`` (its version already new) to ``path``, keep it in the archive and log it.

    ``in_force``: the recipe running now, kept as the previous version when ``path`` does not
    exist yet (a shipped recipe saved to the user's folder). Raises RecipeError when the text
    does not load or the version is kept already with other settings, OSError when unwritable.
    """
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}, got {action!r}")
    previous, old_text = _keep_in_force(path, in_force)
    text = dump_recipe(recipe)
    kept = _version_file(path, recipe.version)
    if kept.is_file() and kept.read_text(encoding="utf-8") != text:
        raise RecipeError(
            f"{path}: version {recipe.version!r} is kept already with other settings; "
            "a changed recipe needs a new version"
        )
    _write_recipe_text(path, text)
    _archive(path, recipe.version, text)
    return _log(
        path,
        RecipeVersion(
            time=_now(),
            version=recipe.version,
            previous=previous,
            action=action,
            reason=reason.strip(),
            who=who,
            summary=_summary(path, old_text, text),
        ),
    )


def with_threshold(recipe: Recipe, tool_id: str, threshold: float) -> Recipe:
    """``recipe`` with tool ``tool_id``'s threshold set to ``threshold`` (score units of the tool),
    validated by the recipe schema. RecipeError names the tool and field when it has no threshold
    or the value is not valid for it."""
    where = f"recipe {recipe.name}"
    ids = [t.id for t in recipe.tools]
    if tool_id not in ids:
        raise RecipeError(f"{where}: no tool {tool_id!r}; tools are {ids}")
    index = ids.index(tool_id)
    tool = recipe.tools[index]
    field = f"{where}: tools[{index}] ({tool_id}).threshold"
    if "threshold" not in type(tool).model_fields:
        raise RecipeError(
            f"{where}: tool {tool_id!r} ({tool.type}) has no threshold; the defect tools "
            "(anomaly, anomalib) have one"
        )
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise RecipeError(f"{field}: {threshold!r} is not a number")
    if not math.isfinite(threshold):
        raise RecipeError(f"{field}: {threshold!r} is not a finite number")
    return with_tool(
        recipe,
        index,
        {**tool.model_dump(), "threshold": float(threshold)},
        f"{field}: {threshold!r}",
    )


def with_tool(recipe: Recipe, index: int, tool_data: dict[str, Any], what: str) -> Recipe:
    """``recipe`` with ``tools[index]`` made from ``tool_data`` (validated by the tool's schema,
    then the recipe's). RecipeError starts with ``what`` (where and which value) when the tool
    refuses it, with the recipe's name when the recipe does."""
    tool = recipe.tools[index]
    try:
        changed = type(tool).model_validate(tool_data)
    except ValidationError as exc:
        reasons = "; ".join(str(e["msg"]) for e in exc.errors())
        raise RecipeError(f"{what}: {reasons}") from None
    tools = [*recipe.tools[:index], changed, *recipe.tools[index + 1 :]]
    try:
        return Recipe.model_validate({**recipe.model_dump(), "tools": tools})
    except ValidationError as exc:
        reasons = "; ".join(str(e["msg"]) for e in exc.errors())
        raise RecipeError(f"recipe {recipe.name}: {reasons}") from None


def apply_as_next_version(
    path: Path, in_force: Recipe, changed: Recipe, reason: str, *, who: str = ""
) -> RecipeVersion:
    """Save ``changed`` (made from ``in_force``) to ``path`` as the next version, kept and
    logged as an apply with ``reason``; the caller opens ``path`` to run it."""
    return save_version(
        changed.model_copy(update={"version": version_after(path, in_force.version)}),
        path,
        action="apply",
        reason=reason,
        who=who,
        in_force=in_force,
    )


def apply_threshold(
    path: Path, recipe: Recipe, tool_id: str, threshold: float, reason: str, *, who: str = ""
) -> RecipeVersion:
    """Write ``recipe`` (the one in force) with a new threshold for ``tool_id`` to ``path`` as a
    new version, kept and logged with ``reason`` (required). The caller opens ``path`` to run it.
    """
    reason = _require_reason(reason, "applying a threshold")
    changed = with_threshold(recipe, tool_id, threshold)
    return apply_as_next_version(path, recipe, changed, reason, who=who)


def rollback(path: Path, to_version: str, reason: str, *, who: str = "") -> RecipeVersion:
    """Make the kept ``to_version`` the recipe in force at ``path`` again (its text, so parts
    record ``to_version``), logged with ``reason`` (required). The caller opens ``path``.

    RecipeError when the version is not kept, is in force already, or no longer loads (a model
    file it names was deleted): the recipe in force stays.
    """
    reason = _require_reason(reason, "a rollback")
    text = archived_text(path, to_version)
    current, current_text = _keep_in_force(path)
    if current == to_version and current_text == text:
        raise RecipeError(f"{path}: version {to_version!r} is in force already")
    _write_recipe_text(path, text)
    return _log(
        path,
        RecipeVersion(
            time=_now(),
            version=to_version,
            previous=current,
            action="rollback",
            reason=reason,
            who=who,
            summary=_summary(path, current_text, text),
        ),
    )


# ---- reading the history -----------------------------------------------------------------------


def versions(path: Path) -> list[RecipeVersion]:
    """Every change of the recipe in force at ``path``, newest first (a rollback is one too)."""
    file = archive_dir(path) / HISTORY_FILE
    if not file.is_file():
        return []
    entries = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            entries.append(
                RecipeVersion(
                    time=str(data["time"]),
                    version=str(data["version"]),
                    previous=None if data.get("previous") is None else str(data["previous"]),
                    action=str(data["action"]),
                    reason=str(data.get("reason", "")),
                    who=str(data.get("who", "")),
                    summary=str(data.get("summary", "")),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("%s line %d skipped: %s", file, number, exc)
    return entries[::-1]


def diff(path: Path, a: str, b: str) -> str:
    """The unified diff from version ``a``'s YAML text to version ``b``'s ('' when the same).

    Both are read through the recipe schema first, so a hand-written file's comments and
    left-out defaults do not show as changes; only settings that differ do.
    """
    old = _settings_text(archived_text(path, a), path.parent)
    new = _settings_text(archived_text(path, b), path.parent)
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"version {a}",
            tofile=f"version {b}",
        )
    )


def change_between(path: Path, a: str, b: str) -> str:
    """One line saying what going from version ``a`` to ``b`` changes, e.g.
    "surface.threshold 0.62 → 0.50"."""
    return _summary(path, archived_text(path, a), archived_text(path, b))
