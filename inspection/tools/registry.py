"""Tool kinds by their recipe ``type:``; each tool's module is imported only when used."""

from __future__ import annotations

from collections.abc import Callable

from inspection.errors import ToolError
from inspection.recipe import CodeToolSettings, ToolSettings
from inspection.tools.base import Tool


def _codes(settings: ToolSettings, camera: str) -> Tool:
    from inspection.tools.codes import CodeTool

    assert isinstance(settings, CodeToolSettings)
    return CodeTool(settings, camera)


TOOL_KINDS: dict[str, Callable[[ToolSettings, str], Tool]] = {
    "codes": _codes,
}


def build_tool(settings: ToolSettings, camera: str) -> Tool:
    """A new tool instance for one worker; raises ToolError when its settings cannot be used."""
    factory = TOOL_KINDS.get(settings.type)
    if factory is None:
        raise ToolError(f"tool {settings.id!r}: no tool of type {settings.type!r}")
    return factory(settings, camera)
