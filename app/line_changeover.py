"""Changeovers the line asks for (the PLC, an OPC UA client), on the operator's screen.

A link asks (on its own thread) for a recipe by number; the GUI thread loads and checks it and
hands it to the station control, which builds the new station before it stops the old one
(between parts). The link that asked hears how it ended: the new station running, or why the old
recipe stays. No dialog is ever shown: the line waits for no one, and the operator sees the
outcome in the alarm list and the title bar.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from app.station_control import StationControl
from inspection.errors import LinesideError, RecipeError
from inspection.integrations.base import TriggerInput
from inspection.integrations.line_links import LineLink, open_line_links
from inspection.integrations.local_control import LocalTriggerSocket
from inspection.paths import Paths
from inspection.pipeline.station import Station
from inspection.recipe import Recipe, load_recipe

if TYPE_CHECKING:
    from app.main_window import MainWindow

log = logging.getLogger(__name__)


class LineChangeover(QObject):
    """Carries the links' changeovers to the GUI thread and their outcome back."""

    requested = Signal(object, int, str)  # the link, recipe number, recipe file (any thread)
    recipeChosen = Signal(object)  # the recipe file now loading (the window remembers it)

    def __init__(self, control: StationControl, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._control = control
        self.links: list[LineLink] = []
        self._pending: tuple[LineLink, int, Path] | None = None
        self.requested.connect(self._load)
        control.stationChanged.connect(self._loaded)
        control.failed.connect(self._failed)

    def request(self, link: LineLink, number: int, recipe_file: Path) -> None:
        """The links' ``on_changeover``: any thread, returns at once."""
        self.requested.emit(link, number, str(recipe_file))

    def _load(self, link: LineLink, number: int, recipe_file: str) -> None:
        if self._pending is not None:
            link.changeover_done(number, "another changeover is under way")
            return
        try:
            recipe = load_recipe(Path(recipe_file))
        except RecipeError as exc:
            log.warning("changeover to recipe %d refused: %s", number, exc)
            link.changeover_done(number, str(exc))
            return
        self._pending = (link, number, Path(recipe_file))
        self.recipeChosen.emit(Path(recipe_file))
        self._control.load(recipe, start=True)

    def _loaded(self, _station: object) -> None:
        if self._pending is not None:
            (link, number, recipe_file), self._pending = self._pending, None
            for other in self.links:
                if other is not link:
                    other.recipe_opened(recipe_file)
            link.changeover_done(number, None)

    def _failed(self, title: str, message: str) -> None:
        if self._pending is not None:
            (link, number, _file), self._pending = self._pending, None
            link.changeover_done(number, f"{title}: {message}")


def station_factory(
    paths: Paths, links: Callable[[], list[LineLink]]
) -> Callable[[Recipe], Station]:
    """The window's station factory: the local trigger socket, and the links to the line
    (``links()``) as trigger inputs and line sinks, each told which station it now serves."""

    def make_station(recipe: Recipe) -> Station:
        line = links()
        inputs: list[TriggerInput] = [LocalTriggerSocket(paths.trigger_socket), *line]
        station = Station(recipe, paths=paths, trigger_inputs=inputs, line_sinks=line)
        for link in line:
            link.attach(station, [t.id for t in recipe.tools])
        return station

    return make_station


def open_links(window: MainWindow, paths: Paths) -> tuple[list[LineLink], str]:
    """Open the station settings' links to the line for ``window`` (their changeovers load
    recipes in it). Returns the links and, when they could not open, why: the screen then runs
    without them and says so."""
    changeover = LineChangeover(window.control, window)
    changeover.recipeChosen.connect(window.recipe_file_loading)
    try:
        links = open_line_links(paths.station_file, changeover.request)
    except LinesideError as exc:  # the station file, or a port in use
        log.warning("links to the line not opened: %s", exc)
        return [], f"The links to the line (PLC, OPC UA) are not open: {exc}"
    changeover.links = links
    for link in links:
        window.recipeOpened.connect(link.recipe_opened)
    return links, ""
