"""The recipe as one document (cameras, trigger, tools, archive, pipeline) and reading it from YAML."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from inspection.errors import RecipeError
from inspection.recipe.common import Identifier, Strict
from inspection.recipe.drift import DriftAlertSettings
from inspection.recipe.outputs import OUTPUT_TYPES, OutputSettings
from inspection.recipe.sources import (
    SOURCE_TYPES,
    CameraSettings,
    FolderSourceSettings,
    GenTLSourceSettings,
    VideoSourceSettings,
)
from inspection.recipe.tools import TOOL_TYPES, ToolSettings
from inspection.recipe.triggers import EveryFrameTrigger, TriggerSettings

SCHEMA_VERSION: Final = 1

# Migrations turn a recipe dict of version N into version N + 1. Forward only.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


class ArchiveSettings(Strict):
    """Which part images are kept, and for how long."""

    failed: bool = True
    pass_every: int = Field(default=50, ge=0)
    """Keep 1 in N passed parts (0 = none)."""
    roi_crops_only: bool = False
    jpeg_quality: int = Field(default=90, ge=30, le=100)
    retention_days: float = Field(default=30.0, gt=0.0)


class PipelineSettings(Strict):
    workers: int = Field(default=2, ge=1, le=16)
    queue_size: int = Field(default=8, ge=1, le=1024)
    tool_threads: int = Field(default=1, ge=1, le=16)
    """Threads each worker's inference sessions may use (keep one core for the GUI)."""
    tools_side_by_side: bool = True
    """Run a part's tools at once (each on a thread of the worker's) when it is the only part
    being inspected or waiting, so its verdict comes after the slowest tool rather than after
    all of them in turn; with other parts about, one after another (the cores are theirs);
    false: always one after another."""


class AlarmSettings(Strict):
    """When the line is told that something is wrong beyond one part."""

    consecutive_rejects: int = Field(default=8, ge=0, le=10_000)
    """Alarm after this many rejected parts (FAIL or ERROR) in a row; 0 = never."""


class Recipe(Strict):
    schema_version: Literal[1] = SCHEMA_VERSION
    name: Identifier
    version: str = Field(default="1", min_length=1, max_length=32)
    station: Identifier = "station-1"
    description: str = ""
    cameras: list[CameraSettings] = Field(min_length=1, max_length=16)
    trigger: TriggerSettings = Field(default_factory=EveryFrameTrigger)
    tools: list[ToolSettings] = Field(default_factory=list, max_length=64)
    archive: ArchiveSettings = Field(default_factory=ArchiveSettings)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    alarms: AlarmSettings = Field(default_factory=AlarmSettings)
    drift: list[DriftAlertSettings] = Field(default_factory=list, max_length=32)
    """Trend series watched for drift while the station runs (a warning, never a reject)."""
    outputs: list[OutputSettings] = Field(default_factory=list, max_length=16)
    """Where results go beyond this PC (MQTT, ...); none: only the screen and the records."""

    @model_validator(mode="after")
    def _cross_references(self) -> Recipe:
        cams = [c.id for c in self.cameras]
        if len(set(cams)) != len(cams):
            raise ValueError(f"camera ids must be unique, got {cams}")
        tools = [t.id for t in self.tools]
        if len(set(tools)) != len(tools):
            raise ValueError(f"tool ids must be unique, got {tools}")
        for t in self.tools:
            if t.camera is not None and t.camera not in cams:
                raise ValueError(f"tool {t.id!r} names camera {t.camera!r}; cameras are {cams}")
        on_command = [c.id for c in self.cameras if getattr(c.source, "trigger", "") == "software"]
        if on_command and self.trigger.type != "software":
            raise ValueError(
                f"camera(s) {on_command} take a frame on a software trigger, so the recipe's "
                f"trigger must be type: software (it is {self.trigger.type})"
            )
        outputs = [o.id for o in self.outputs]
        if len(set(outputs)) != len(outputs):
            raise ValueError(f"output ids must be unique, got {outputs}")
        trigger_cam = getattr(self.trigger, "camera", None)
        if trigger_cam is not None and trigger_cam not in cams:
            raise ValueError(f"the trigger names camera {trigger_cam!r}; cameras are {cams}")
        self._check_drift()
        return self

    def _check_drift(self) -> None:
        # here, not in DriftAlertSettings: the measures a series may name depend on its tool
        from inspection.trends.measures import STATION, describe, tool_measure

        by_id = {t.id: t for t in self.tools}
        seen: set[str] = set()
        for i, alert in enumerate(self.drift):
            where = f"drift[{i}].series"
            if alert.series in seen:
                raise ValueError(f"{where}: {alert.series!r} is watched twice")
            seen.add(alert.series)
            tool_id, _, measure = alert.series.partition(".")
            try:
                if tool_id == STATION:
                    if not describe(measure).per_part:
                        raise ValueError(
                            f"station.{measure} is counted per interval; drift alerts watch "
                            "per-part measures (station.cycle_ms, or a tool's)"
                        )
                elif tool_id not in by_id:
                    raise ValueError(f"no tool {tool_id!r}; tools are {sorted(by_id)}")
                else:
                    tool = by_id[tool_id]
                    names = [f.name for f in getattr(tool, "fields", ())]
                    fields = {
                        f"{n}{suffix}"
                        for n in names
                        for suffix in ("_contrast", "_sharpness", "_confidence")
                    }
                    tool_measure(tool.type, measure, fields)
            except ValueError as exc:
                raise ValueError(f"{where}: {exc}") from None

    def camera_for(self, tool: ToolSettings) -> str:
        return tool.camera or self.cameras[0].id


# ---- loading -------------------------------------------------------------------------------


_UNION_TAGS = frozenset(
    {*SOURCE_TYPES, *TOOL_TYPES, *OUTPUT_TYPES, "every_frame", "presence", "software"}
)


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            # discriminated-union tags ("synthetic", "codes") are pydantic's, not the user's
            if part in _UNION_TAGS:
                continue
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _migrate(data: dict[str, Any], where: str) -> dict[str, Any]:
    version = data.get("schema_version", SCHEMA_VERSION)
    if not isinstance(version, int):
        raise RecipeError(f"{where}: schema_version: must be a whole number, got {version!r}")
    if version > SCHEMA_VERSION:
        raise RecipeError(
            f"{where}: schema_version: {version} was written by a newer Lineside "
            f"(this one reads up to {SCHEMA_VERSION})"
        )
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise RecipeError(f"{where}: schema_version: {version} is not supported")
        data = step(dict(data))
        version += 1
        data["schema_version"] = version
    return data


def parse_recipe(data: object, where: str = "<recipe>", base_dir: Path | None = None) -> Recipe:
    """Validate a recipe already parsed from YAML; ``where`` names it in error messages.

    Relative paths (folder sources) are resolved against ``base_dir`` and must exist.
    """
    if not isinstance(data, dict):
        raise RecipeError(
            f"{where}: (top level): expected a mapping of fields, got {type(data).__name__}"
        )
    data = _migrate(data, where)
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as exc:
        lines = [f"{where}: {_field_path(tuple(e['loc']))}: {e['msg']}" for e in exc.errors()[:10]]
        raise RecipeError("\n".join(lines)) from None
    return _resolve_paths(recipe, where, base_dir)


def _resolve_paths(recipe: Recipe, where: str, base_dir: Path | None) -> Recipe:
    cams = []
    for i, cam in enumerate(recipe.cameras):
        src = cam.source
        if isinstance(src, FolderSourceSettings):
            p = src.path if src.path.is_absolute() or base_dir is None else base_dir / src.path
            if not p.is_dir():
                raise RecipeError(
                    f"{where}: cameras[{i}].source.path: folder {str(src.path)!r} does not exist"
                )
            cam = cam.model_copy(update={"source": src.model_copy(update={"path": p.resolve()})})
        elif isinstance(src, VideoSourceSettings | GenTLSourceSettings):
            name = "path" if isinstance(src, VideoSourceSettings) else "producer"
            given: Path = getattr(src, name)
            full = given if given.is_absolute() or base_dir is None else base_dir / given
            if not full.is_file():
                raise RecipeError(
                    f"{where}: cameras[{i}].source.{name}: file {str(given)!r} does not exist"
                )
            cam = cam.model_copy(update={"source": src.model_copy(update={name: full.resolve()})})
        cams.append(cam)
    tools = []
    for i, tool in enumerate(recipe.tools):
        update: dict[str, Path] = {}
        for name in ("model", "metadata", "reference"):
            file: Path | None = getattr(tool, name, None)
            if file is None:
                continue
            given = file
            full = given if given.is_absolute() or base_dir is None else base_dir / given
            if not full.is_file():
                raise RecipeError(f"{where}: tools[{i}].{name}: file {str(given)!r} does not exist")
            update[name] = full.resolve()
        tools.append(tool.model_copy(update=update) if update else tool)
    return recipe.model_copy(update={"cameras": cams, "tools": tools})


def load_recipe(path: str | Path) -> Recipe:
    """Read and validate a recipe file; raises RecipeError naming file, field path and reason."""
    path = Path(path)
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecipeError(f"{where}: no such recipe file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(f"{where}: cannot be read: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise RecipeError(f"{where}: {at}not valid YAML ({problem})") from None
    except (RecursionError, ValueError) as exc:  # "[[[[…", or an int past 4300 digits
        raise RecipeError(f"{where}: not valid YAML ({type(exc).__name__}: {exc})") from None
    return parse_recipe(data, where, base_dir=path.parent)


def dump_recipe(recipe: Recipe) -> str:
    """The recipe as YAML text (what ``load_recipe`` reads back)."""
    return yaml.safe_dump(recipe.model_dump(mode="json", exclude_none=True), sort_keys=False)
