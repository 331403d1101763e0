"""Recipes: what a station inspects and how, as YAML validated by pydantic.

One document in four rooms: ``sources`` (cameras and where their frames come from), ``triggers``
(how frames become parts), ``tools`` (what is checked, where, with which parameters) and
``document`` (the recipe itself, archive and pipeline sizing, reading and writing YAML).
Sources, triggers and tools are discriminated unions on ``type:``; the modules under
``sources/``, ``pipeline/`` and ``tools/`` build the running objects from these settings. A recipe
that does not validate is refused with ``RecipeError`` naming the file, the field path and the
reason.
"""

from __future__ import annotations

from inspection.recipe.common import Identifier, RegionSettings, Strict
from inspection.recipe.document import (
    MIGRATIONS,
    SCHEMA_VERSION,
    AlarmSettings,
    ArchiveSettings,
    PipelineSettings,
    Recipe,
    dump_recipe,
    load_recipe,
    parse_recipe,
)
from inspection.recipe.drift import DriftAlertSettings
from inspection.recipe.outputs import (
    OUTPUT_TYPES,
    MqttOutputSettings,
    OutputSettings,
    PostgresOutputSettings,
)
from inspection.recipe.sources import (
    SIMULATED_DEFECTS,
    SIMULATED_SURFACE_DEFECTS,
    SOURCE_TYPES,
    CameraHealthSettings,
    CameraSettings,
    FolderSourceSettings,
    GenICamSettings,
    GenTLSourceSettings,
    GigESourceSettings,
    HttpSourceSettings,
    RtspSourceSettings,
    SourceSettings,
    SyntheticSourceSettings,
    UsbSourceSettings,
    VideoSourceSettings,
)
from inspection.recipe.tools import (
    TOOL_TYPES,
    AnomalibToolSettings,
    AnomalyToolSettings,
    CodeToolSettings,
    DetectorToolSettings,
    LabelToolSettings,
    TextFieldSettings,
    ToolSettings,
)
from inspection.recipe.triggers import (
    EveryFrameTrigger,
    PresenceTrigger,
    SoftwareTrigger,
    TriggerSettings,
)

__all__ = [
    "MIGRATIONS",
    "OUTPUT_TYPES",
    "SCHEMA_VERSION",
    "SIMULATED_DEFECTS",
    "SIMULATED_SURFACE_DEFECTS",
    "SOURCE_TYPES",
    "TOOL_TYPES",
    "AlarmSettings",
    "AnomalibToolSettings",
    "AnomalyToolSettings",
    "ArchiveSettings",
    "CameraHealthSettings",
    "CameraSettings",
    "CodeToolSettings",
    "DetectorToolSettings",
    "DriftAlertSettings",
    "EveryFrameTrigger",
    "FolderSourceSettings",
    "GenICamSettings",
    "GenTLSourceSettings",
    "GigESourceSettings",
    "HttpSourceSettings",
    "Identifier",
    "LabelToolSettings",
    "MqttOutputSettings",
    "OutputSettings",
    "PipelineSettings",
    "PostgresOutputSettings",
    "PresenceTrigger",
    "Recipe",
    "RegionSettings",
    "RtspSourceSettings",
    "SoftwareTrigger",
    "SourceSettings",
    "Strict",
    "SyntheticSourceSettings",
    "TextFieldSettings",
    "ToolSettings",
    "TriggerSettings",
    "UsbSourceSettings",
    "VideoSourceSettings",
    "dump_recipe",
    "load_recipe",
    "parse_recipe",
]
