"""Recipes: what a station inspects and how, as YAML validated by pydantic.

A recipe is one document, so its whole schema lives here: cameras and their sources, the trigger,
the tools with their ROIs and parameters, the image archive policy and the pipeline's sizing.
Sources and tools are discriminated unions on ``type:``; the modules under ``sources/`` and
``tools/`` build the running objects from these settings. A recipe that does not validate is
refused with ``RecipeError`` naming the file, the field path and the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from inspection.errors import RecipeError
from inspection.types import Region

SCHEMA_VERSION: Final = 1

# Migrations turn a recipe dict of version N into version N + 1. Forward only.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegionSettings(_Strict):
    """A rectangle in frame pixels."""

    x: int = Field(ge=0)
    y: int = Field(ge=0)
    w: int = Field(gt=0)
    h: int = Field(gt=0)

    def to_region(self) -> Region:
        return Region(x=self.x, y=self.y, w=self.w, h=self.h)


# ---- sources -------------------------------------------------------------------------------


SIMULATED_DEFECTS = (
    "scratch",
    "stain",
    "dent",
    "missing_label",
    "skewed_label",
    "misprinted_lot",
    "damaged_code",
    "wrong_serial_format",
    "duplicate_serial",
)
SIMULATED_SURFACE_DEFECTS = ("scratch", "stain", "dent")
"""The simulated line's defects on the pack's surface (what a defect tool is meant to catch)."""


class SyntheticSourceSettings(_Strict):
    """The built-in simulated line: seeded, deterministic, with ground truth for every part."""

    type: Literal["synthetic"]
    seed: int = 1
    mode: Literal["triggered", "video"] = "triggered"
    width: int = Field(default=1280, ge=320, le=4096)
    height: int = Field(default=1024, ge=240, le=4096)
    defect_rate: float = Field(default=0.25, ge=0.0, le=1.0)
    defects: list[Literal[SIMULATED_DEFECTS]] | None = None  # type: ignore[valid-type]
    codes: Literal["datamatrix", "code128", "both"] = "both"
    parts: int | None = Field(default=None, ge=1)
    rate_hz: float = Field(default=0.0, ge=0.0, le=1000.0)
    """Frames per second to pace at like a real camera; 0 = as fast as the line consumes."""
    speed_px_per_frame: float = Field(default=40.0, gt=0.0, le=1000.0)
    """Conveyor speed in video mode."""
    color: bool = False


class FolderSourceSettings(_Strict):
    """Images from a folder, in name order; each image is one part."""

    type: Literal["folder"]
    path: Path
    pattern: str = "*"
    loop: bool = False


SourceSettings = Annotated[
    SyntheticSourceSettings | FolderSourceSettings, Field(discriminator="type")
]


class CameraSettings(_Strict):
    id: Identifier
    source: SourceSettings
    privacy_masks: list[list[tuple[float, float]]] = Field(default_factory=list)
    """Polygons (x, y in frame pixels) blacked out at acquisition, before anything sees the frame."""

    @field_validator("privacy_masks")
    @classmethod
    def _polygons(cls, v: list[list[tuple[float, float]]]) -> list[list[tuple[float, float]]]:
        for i, poly in enumerate(v):
            if len(poly) < 3:
                raise ValueError(f"mask {i} has {len(poly)} points; a polygon needs at least 3")
        return v


# ---- trigger -------------------------------------------------------------------------------


class EveryFrameTrigger(_Strict):
    """Each frame is one part: triggered cameras, the simulated line, files and folders."""

    type: Literal["every_frame"] = "every_frame"


TriggerSettings = Annotated[EveryFrameTrigger, Field(discriminator="type")]


# ---- tools ---------------------------------------------------------------------------------


class _ToolBase(_Strict):
    """What every tool names: its id, the camera it looks through, and where in the frame."""

    id: Identifier
    camera: Identifier | None = None
    """Default: the recipe's first camera."""
    roi: RegionSettings | None = None
    """Where in the frame the tool looks (default: the whole frame)."""

    def region(self) -> Region | None:
        """The ROI in frame pixels, or None for the whole frame."""
        return self.roi.to_region() if self.roi is not None else None


class CodeToolSettings(_ToolBase):
    """Reads 1D/2D codes with zxing-cpp and checks their content."""

    type: Literal["codes"]
    formats: list[str] = Field(min_length=1)
    """zxing-cpp format names, e.g. DataMatrix, Code128, QRCode. Searching all is ~20× slower."""
    expected: str | None = None
    """Regular expression every code's text must match in full."""
    min_count: int = Field(default=1, ge=0, le=100)
    unique: bool = True
    """FAIL a part whose code text was already seen in this shift (duplicate serial)."""
    time_budget_ms: float = Field(default=150.0, gt=0.0, le=10_000.0)
    retries: bool = True

    @field_validator("formats")
    @classmethod
    def _known_formats(cls, v: list[str]) -> list[str]:
        import zxingcpp  # the format names are zxing-cpp's own

        for name in v:
            try:
                fmt = zxingcpp.barcode_format_from_str(name)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"unknown code format {name!r}") from exc
            if not fmt:
                raise ValueError(f"unknown code format {name!r}")
        return v

    @field_validator("expected")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from exc
        return v


class AnomalyToolSettings(_ToolBase):
    """Defects learnt from good parts only: anything unlike the taught good parts is a finding."""

    type: Literal["anomaly"]
    model: Path | None = None
    """Model file written by ``lineside train``; relative to the recipe. Default: the station's
    model folder (``<data>/models/<recipe>/<tool id>.lsam``), where teaching writes it."""
    threshold: float | None = Field(default=None, gt=0.0)
    """Overrides the threshold calibrated at teaching (score units of the model)."""
    min_area_px: int = Field(default=0, ge=0)
    """Findings smaller than this (frame pixels) are ignored."""
    align: Literal["none", "part"] = "none"
    """``part``: locate the part (the largest region standing out from the background) and cut
    the ROI with the part turned and shifted to its pose when taught: parts that lie a little
    differently on the conveyor are not mistaken for defects."""
    tile_px: int | None = Field(default=None, ge=32)
    """Cut a ROI larger than this into overlapping tiles of at most ``tile_px`` px, each taught
    and scored at full resolution: small defects in large frames (slower by the tile count)."""


class DetectorToolSettings(_ToolBase):
    """The user's own detection model: ONNX in the Ultralytics YOLOv8/11 export layout."""

    type: Literal["detector"]
    model: Path
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")
    class_names: list[str] | None = None
    """Names of the model's classes in order; default: the model's own metadata."""
    confidence: float = Field(default=0.25, gt=0.0, le=1.0)
    class_confidence: dict[str, float] = Field(default_factory=dict)
    fail_classes: list[str] | None = None
    """Classes whose detection fails the part; default: any detection fails it."""
    iou: float = Field(default=0.45, gt=0.0, le=1.0)


class AnomalibToolSettings(_ToolBase):
    """The user's own anomaly model exported by anomalib to ONNX."""

    type: Literal["anomalib"]
    model: Path
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")
    metadata: Path | None = None
    """anomalib's metadata.json (thresholds, normalisation) when the ONNX does not carry them."""
    threshold: float | None = None
    min_area_px: int = Field(default=0, ge=0)


class TextFieldSettings(_Strict):
    """One printed text on a label and the rule it must meet."""

    name: Identifier
    region: RegionSettings | None = None
    """Where the text sits, in pixels of the taught label reference; None: search the label."""
    rule: Literal["exact", "regex", "batch", "date", "any"] = "any"
    value: str | None = None
    """The exact text (rule exact) or a regular expression (rule regex)."""
    batch_key: str | None = None
    """Batch value to compare with (rule batch), e.g. ``lot``; default: the field's name."""
    date_formats: list[str] = Field(default_factory=list)
    """Accepted date layouts (rule date), e.g. ``EXP %Y-%m``, ``%d %b``, ``%m/%y``."""
    min_days_ahead: int | None = None
    """For dates: at least this many days after today (expiry)."""
    allow_confusions: bool = False
    """Tolerate the usual OCR confusions (O/0, I/1, S/5, B/8, Z/2, G/6) when comparing."""
    min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)


class LabelToolSettings(_ToolBase):
    """A label: present, placed within tolerance, and its printed text verified by OCR."""

    type: Literal["label"]
    reference: Path | None = None
    """Label reference taught from a good part; default: the station's model folder."""
    max_offset_px: float = Field(default=40.0, gt=0.0)
    mm_per_px: float | None = Field(default=None, gt=0.0)
    max_offset_mm: float | None = Field(default=None, gt=0.0)
    max_rotation_deg: float = Field(default=4.0, gt=0.0, le=90.0)
    min_match: float = Field(default=0.5, gt=0.0, le=1.0)
    fields: list[TextFieldSettings] = Field(default_factory=list)


ToolSettings = Annotated[
    CodeToolSettings
    | AnomalyToolSettings
    | DetectorToolSettings
    | AnomalibToolSettings
    | LabelToolSettings,
    Field(discriminator="type"),
]


# ---- archive, pipeline, recipe -------------------------------------------------------------


class ArchiveSettings(_Strict):
    """Which part images are kept, and for how long."""

    failed: bool = True
    pass_every: int = Field(default=50, ge=0)
    """Keep 1 in N passed parts (0 = none)."""
    roi_crops_only: bool = False
    jpeg_quality: int = Field(default=90, ge=30, le=100)
    retention_days: float = Field(default=30.0, gt=0.0)


class PipelineSettings(_Strict):
    workers: int = Field(default=2, ge=1, le=16)
    queue_size: int = Field(default=8, ge=1, le=1024)
    tool_threads: int = Field(default=1, ge=1, le=16)
    """Threads each worker's inference sessions may use (keep one core for the GUI)."""


class Recipe(_Strict):
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
        return self

    def camera_for(self, tool: ToolSettings) -> str:
        return tool.camera or self.cameras[0].id


# ---- loading -------------------------------------------------------------------------------


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            # discriminated-union tags ("synthetic", "codes") are pydantic's, not the user's
            if part in {
                "synthetic",
                "folder",
                "codes",
                "anomaly",
                "detector",
                "anomalib",
                "every_frame",
            }:
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
        cams.append(cam)
    tools = []
    for i, tool in enumerate(recipe.tools):
        update: dict[str, Path] = {}
        for name in ("model", "metadata", "reference"):
            given: Path | None = getattr(tool, name, None)
            if given is None:
                continue
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
    return parse_recipe(data, where, base_dir=path.parent)


def dump_recipe(recipe: Recipe) -> str:
    """The recipe as YAML text (what ``load_recipe`` reads back)."""
    return yaml.safe_dump(recipe.model_dump(mode="json", exclude_none=True), sort_keys=False)
