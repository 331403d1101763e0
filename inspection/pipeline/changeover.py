"""The running station of a line driven by its PLC or OPC UA clients, without the GUI
(``lineside run --headless``), and the changeover between recipes they select by number.

A changeover loads and checks the new recipe and builds its station first; only then does the
old station stop (it finishes the parts it has: the switch falls between parts) and the new one
start. A recipe that does not load, or a station that does not start, leaves the old recipe
running (restarted if it was already stopped) and the link that asked hears why (the PLC: Error
with its code). The GUI does the same through its station control (``app/station_control.py``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from inspection.errors import LinesideError, RecipeError
from inspection.integrations.line_links import LineLink
from inspection.pipeline.station import Station
from inspection.recipe import Recipe, load_recipe

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 10.0


class StationSwitcher:
    """Owns the station the links to the line talk to."""

    def __init__(
        self, make_station: Callable[[Recipe], Station], links: Sequence[LineLink]
    ) -> None:
        """``make_station`` builds a station that has ``links`` among its trigger inputs and
        line sinks."""
        self._make_station = make_station
        self._links = list(links)
        self._lock = threading.Lock()
        self.station: Station | None = None
        self.changeovers = 0

    def start(self, recipe: Recipe, recipe_file: Path | None = None) -> Station:
        """Build and start ``recipe``'s station (LinesideError when it cannot); ``recipe_file``
        gives the PLC its number in the station's table."""
        with self._lock:
            station = self._build(recipe)
            station.start()
            self.station = station
        if recipe_file is not None:
            for link in self._links:
                link.recipe_opened(recipe_file)
        return station

    def changeover(self, asked_by: LineLink, number: int, recipe_file: Path) -> None:
        """A changeover ``asked_by`` a link (called on its thread); answers that link, and
        tells the others which recipe now runs."""
        try:
            recipe = load_recipe(recipe_file)
        except RecipeError as exc:
            asked_by.changeover_done(number, str(exc))
            return
        with self._lock:
            old = self.station
            try:
                new = self._build(recipe)
            except (LinesideError, OSError) as exc:
                self._back_to(old)
                asked_by.changeover_done(number, str(exc))
                return
            if old is not None:
                old.stop(STOP_TIMEOUT_S)
            try:
                new.start()
            except (LinesideError, OSError) as exc:
                log.warning("changeover to recipe %d: %s; the old recipe goes on", number, exc)
                self._back_to(old)
                asked_by.changeover_done(number, str(exc))
                return
            self.station = new
            self.changeovers += 1
        for link in self._links:
            if link is not asked_by:
                link.recipe_opened(recipe_file)
        asked_by.changeover_done(number, None)

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        with self._lock:
            if self.station is not None:
                self.station.stop(timeout_s)

    def _build(self, recipe: Recipe) -> Station:
        station = self._make_station(recipe)
        try:
            station.restore_record()  # counts and part numbers go on from the records
        except LinesideError as exc:
            log.warning("station %s: records not read back: %s", recipe.station, exc)
        for link in self._links:
            link.attach(station, [t.id for t in recipe.tools])
        return station

    def _back_to(self, old: Station | None) -> None:
        if old is None:
            return
        for link in self._links:
            link.attach(old, [t.id for t in old.recipe.tools])
        if not old.running:
            old.start()
