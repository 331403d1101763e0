"""The running station of a PLC-driven line without the GUI (``lineside run --plc``), and the
changeover between recipes the PLC selects by number.

A changeover loads and checks the new recipe and builds its station first; only then does the
old station stop (it finishes the parts it has: the switch falls between parts) and the new one
start. A recipe that does not load, or a station that does not start, leaves the old recipe
running (restarted if it was already stopped) and the PLC sees Error with its code. The GUI does
the same through its station control (``app/station_control.py``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from inspection.errors import LinesideError, RecipeError
from inspection.integrations.plc.link import PlcLink
from inspection.pipeline.station import Station
from inspection.recipe import Recipe, load_recipe

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 10.0


class StationSwitcher:
    """Owns the station the PLC link talks to."""

    def __init__(self, make_station: Callable[[Recipe], Station], link: PlcLink) -> None:
        """``make_station`` builds a station that has ``link`` among its trigger inputs and
        line sinks."""
        self._make_station = make_station
        self._link = link
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
            self._link.recipe_opened(recipe_file)
        return station

    def changeover(self, number: int, recipe_file: Path) -> None:
        """The PLC's changeover (called on the link's thread); answers the link."""
        try:
            recipe = load_recipe(recipe_file)
        except RecipeError as exc:
            self._link.changeover_done(number, str(exc))
            return
        with self._lock:
            old = self.station
            try:
                new = self._build(recipe)
            except (LinesideError, OSError) as exc:
                self._back_to(old)
                self._link.changeover_done(number, str(exc))
                return
            if old is not None:
                old.stop(STOP_TIMEOUT_S)
            try:
                new.start()
            except (LinesideError, OSError) as exc:
                log.warning("PLC changeover to recipe %d: %s; the old recipe goes on", number, exc)
                self._back_to(old)
                self._link.changeover_done(number, str(exc))
                return
            self.station = new
            self.changeovers += 1
        self._link.changeover_done(number, None)

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
        self._link.attach(station, [t.id for t in recipe.tools])
        return station

    def _back_to(self, old: Station | None) -> None:
        if old is None:
            return
        self._link.attach(old, [t.id for t in old.recipe.tools])
        if not old.running:
            old.start()
