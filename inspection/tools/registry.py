"""Tool kinds by their recipe ``type:``; each tool's module is imported only when used."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inspection.batch import BatchContext
from inspection.errors import ToolError
from inspection.recipe import (
    AnomalibToolSettings,
    AnomalyToolSettings,
    CodeToolSettings,
    DetectorToolSettings,
    LabelToolSettings,
    ToolSettings,
)
from inspection.tools.base import Tool


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolContext:
    """What a tool may need beyond its own settings.

    ``models_dir``: where taught models of this recipe live (``<data>/models/<recipe>``);
    ``threads``: intra-op threads each of its inference sessions may use;
    ``batch``: the running batch (lot, product...), read at inspection time.
    """

    recipe_name: str = ""
    models_dir: Path | None = None
    threads: int = 1
    batch: BatchContext | None = None


def _codes(settings: ToolSettings, camera: str, context: ToolContext) -> Tool:
    from inspection.tools.codes import CodeTool

    assert isinstance(settings, CodeToolSettings)
    return CodeTool(settings, camera)


def _detector(settings: ToolSettings, camera: str, context: ToolContext) -> Tool:
    from inspection.tools.detector import DetectorTool

    assert isinstance(settings, DetectorToolSettings)
    return DetectorTool(settings, camera, context)


def _anomalib(settings: ToolSettings, camera: str, context: ToolContext) -> Tool:
    from inspection.tools.anomalib_tool import AnomalibTool

    assert isinstance(settings, AnomalibToolSettings)
    return AnomalibTool(settings, camera, context)


def _anomaly(settings: ToolSettings, camera: str, context: ToolContext) -> Tool:
    from inspection.tools.anomaly import AnomalyTool

    assert isinstance(settings, AnomalyToolSettings)
    return AnomalyTool(settings, camera, context)


def _label(settings: ToolSettings, camera: str, context: ToolContext) -> Tool:
    from inspection.tools.label import LabelTool

    assert isinstance(settings, LabelToolSettings)
    return LabelTool(settings, camera, context)


TOOL_KINDS: dict[str, Callable[[ToolSettings, str, ToolContext], Tool]] = {
    "codes": _codes,
    "anomaly": _anomaly,
    "label": _label,
    "detector": _detector,
    "anomalib": _anomalib,
}


def build_tool(settings: ToolSettings, camera: str, context: ToolContext | None = None) -> Tool:
    """A new tool instance for one worker; raises ToolError (or ModelError) when its settings or
    model cannot be used."""
    factory = TOOL_KINDS.get(settings.type)
    if factory is None:
        raise ToolError(f"tool {settings.id!r}: no tool of type {settings.type!r} in this version")
    return factory(settings, camera, context or ToolContext())
