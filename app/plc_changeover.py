"""A PLC changeover on the operator's screen: the PLC link asks (on its own thread) for a recipe
by number; the GUI thread loads and checks it and hands it to the station control, which
builds the new station before it stops the old one (between parts). The link hears how it
ended: the new station running, or why the old recipe stays. No dialog is ever shown: the PLC
waits for no one, and the operator sees the outcome in the alarm list and the title bar.
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
from inspection.integrations.local_control import LocalTriggerSocket
from inspection.integrations.plc.link import PlcLink, open_plc_link
from inspection.paths import Paths
from inspection.pipeline.station import Station
from inspection.recipe import Recipe, load_recipe

if TYPE_CHECKING:
    from app.main_window import MainWindow

log = logging.getLogger(__name__)


class PlcChangeover(QObject):
    """Carries the link's changeovers to the GUI thread and their outcome back."""

    requested = Signal(int, str)  # recipe number, recipe file (emitted from the link's thread)
    recipeChosen = Signal(object)  # the recipe file now loading (the window remembers it)

    def __init__(self, control: StationControl, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._control = control
        self.link: PlcLink | None = None
        self._pending: int | None = None
        self.requested.connect(self._load)
        control.stationChanged.connect(self._loaded)
        control.failed.connect(self._failed)

    def request(self, number: int, recipe_file: Path) -> None:
        """The link's ``on_changeover``: any thread, returns at once."""
        self.requested.emit(number, str(recipe_file))

    def _load(self, number: int, recipe_file: str) -> None:
        link = self.link
        if link is None:
            return
        try:
            recipe = load_recipe(Path(recipe_file))
        except RecipeError as exc:
            log.warning("PLC changeover to recipe %d refused: %s", number, exc)
            link.changeover_done(number, str(exc))
            return
        self._pending = number
        self.recipeChosen.emit(Path(recipe_file))
        self._control.load(recipe, start=True)

    def _loaded(self, _station: object) -> None:
        if self._pending is not None and self.link is not None:
            number, self._pending = self._pending, None
            self.link.changeover_done(number, None)

    def _failed(self, title: str, message: str) -> None:
        if self._pending is not None and self.link is not None:
            number, self._pending = self._pending, None
            self.link.changeover_done(number, f"{title}: {message}")


def station_factory(paths: Paths, plc: Callable[[], PlcLink | None]) -> Callable[[Recipe], Station]:
    """The window's station factory: the local trigger socket, and the PLC link when there is
    one (``plc()``), as trigger input and line sink, told which station it now serves."""

    def make_station(recipe: Recipe) -> Station:
        link = plc()
        inputs: list[TriggerInput] = [LocalTriggerSocket(paths.trigger_socket)]
        if link is not None:
            inputs.append(link)
        station = Station(
            recipe,
            paths=paths,
            trigger_inputs=inputs,
            line_sinks=[link] if link is not None else [],
        )
        if link is not None:
            link.attach(station, [t.id for t in recipe.tools])
        return station

    return make_station


def open_plc(window: MainWindow, paths: Paths) -> tuple[PlcLink | None, str]:
    """Open the station settings' PLC link for ``window`` (its changeovers load recipes in
    it). Returns the link (None when the settings have none, or it could not open) and, when
    it could not, why: the screen runs without it and says so."""
    changeover = PlcChangeover(window.control, window)
    changeover.recipeChosen.connect(window.recipe_file_loading)
    try:
        link = open_plc_link(paths.station_file, changeover.request)
    except LinesideError as exc:  # the station file, or a port in use
        log.warning("PLC link not opened: %s", exc)
        return None, f"The PLC link is not open: {exc}"
    if link is not None:
        changeover.link = link
        window.recipeOpened.connect(link.recipe_opened)
    return link, ""
