"""The station's links to the line that outlive a recipe (the PLC, the OPC UA server): what they
share, and opening the ones the station settings ask for.

Each is a trigger input and a line sink of every station the program builds; ``attach`` says
which station that is, ``recipe_opened`` which recipe file it runs, and a changeover one of them
asks for is answered on it with ``changeover_done``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from inspection.integrations.base import FireTrigger
from inspection.integrations.output_runner import OutputState
from inspection.integrations.plc.handshake import LineStation
from inspection.types import Inspection, StatusUpdate


class LineLink(Protocol):
    name: str
    output_id: str

    def open(self) -> None: ...

    def close(self, timeout_s: float = 2.0) -> None: ...

    def attach(self, station: LineStation, tool_ids: list[str]) -> None: ...

    def recipe_opened(self, recipe_file: Path) -> None: ...

    def changeover_done(self, number: int, error: str | None) -> None: ...

    def start(self, fire: FireTrigger) -> None: ...

    def stop(self, timeout_s: float) -> None: ...

    def on_inspection(self, inspection: Inspection) -> None: ...

    def on_status(self, update: StatusUpdate) -> None: ...

    def state(self) -> OutputState: ...


AskChangeover = Callable[[LineLink, int, Path], None]
"""(the link that asks, recipe number, recipe file): load that recipe between parts."""


def open_line_links(station_file: Path, on_changeover: AskChangeover) -> list[LineLink]:
    """The links the station settings in ``station_file`` ask for, open (none: an empty list).
    RecipeError for settings that do not validate, LinesideError when one cannot listen (the
    ones opened before it are closed again)."""
    from inspection.recipe.station import load_station_settings

    settings = load_station_settings(station_file)
    base = station_file.parent
    links: list[LineLink] = []

    def asks(cell: list[LineLink]) -> Callable[[int, Path], None]:
        # the link is built with its callback, so the callback finds it in a cell filled next
        return lambda number, recipe_file: on_changeover(cell[0], number, recipe_file)

    try:
        if settings.plc is not None:
            from inspection.integrations.plc.link import PlcLink

            plc_cell: list[LineLink] = []
            plc = PlcLink(settings.plc.resolved(base), on_changeover=asks(plc_cell))
            plc_cell.append(plc)
            plc.open()
            links.append(plc)
        if settings.opcua is not None:
            from inspection.integrations.opcua_server import OpcUaLink  # asyncua: 0.5 s to load

            opcua_cell: list[LineLink] = []
            opcua = OpcUaLink(settings.opcua.resolved(base), on_changeover=asks(opcua_cell))
            opcua_cell.append(opcua)
            opcua.open()
            links.append(opcua)
    except BaseException:
        for link in links:
            link.close()
        raise
    return links
