"""Starts, stops and swaps the running station without blocking the GUI thread.

Building a station, starting it (tools and sources are built there) and stopping it (threads are
joined with a timeout) can each take seconds, so they run one after another on a single worker
thread. Results come back as signals, which Qt delivers on the GUI thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from app.bridge import StationBridge
from inspection.errors import LinesideError
from inspection.recipe import Recipe

if TYPE_CHECKING:
    from inspection.pipeline.station import Station

log = logging.getLogger(__name__)

StationFactory = Callable[[Recipe], "Station"]

STOP_TIMEOUT_S = 5.0


class StationControl(QObject):
    """Owns the current station; every lifecycle step runs on the ``station-control`` thread."""

    stationChanged = Signal(object)  # the new Station, after a recipe was loaded
    stateChanged = Signal(bool, bool)  # running, busy
    failed = Signal(str, str)  # title, message
    triggered = Signal(int, str)  # trigger id (0 when refused), why it was refused
    # emitted by the worker thread when a step ends; handled on the GUI thread
    _done = Signal(object, object, object)  # step name, new station or None, (title, message)

    def __init__(
        self, factory: StationFactory, bridge: StationBridge, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._factory = factory
        self._bridge = bridge
        self._station: Station | None = None
        self._pending = 0  # steps queued or running; busy while > 0 (GUI thread only)
        self._shut = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="station-control")
        self._last: Future[None] | None = None
        self._done.connect(self._on_done)

    @property
    def station(self) -> Station | None:
        return self._station

    @property
    def busy(self) -> bool:
        return self._pending > 0

    @property
    def running(self) -> bool:
        return self._station is not None and self._station.running

    # ---- requests (GUI thread) -----------------------------------------------------------------

    def load(self, recipe: Recipe, *, start: bool) -> None:
        """Build a station for ``recipe``; only once that worked, stop the old one and swap.

        If the new station cannot be built the old one keeps running untouched.
        """
        old = self._station

        def step() -> object:
            new = self._factory(recipe)
            try:
                # counts and part numbers go on from the records, also while stopped
                new.restore_record()
            except LinesideError as exc:
                log.warning("station %s: records not read back: %s", recipe.station, exc)
            was_running = old is not None and old.running
            if old is not None:
                old.stop(STOP_TIMEOUT_S)
                old.remove_listener(self._bridge)
            new.add_listener(self._bridge)
            if start:
                try:
                    new.start()  # builds tools and sources: raises ToolError / SourceError
                except BaseException:
                    new.remove_listener(self._bridge)
                    if old is not None:
                        old.add_listener(self._bridge)
                        if was_running:
                            old.start()  # the recipe in force stays in force
                    raise
            return new

        self._submit("load", step, f"Recipe {recipe.name} not started")

    def start(self) -> None:
        station = self._station
        if station is not None:
            self._submit("start", station.start, f"Station {station.recipe.station} not started")

    def stop(self) -> None:
        station = self._station
        if station is not None:
            self._submit(
                "stop", lambda: station.stop(STOP_TIMEOUT_S), "Station did not stop cleanly"
            )

    def reset_counts(self) -> None:
        """Start a new shift count (zero counts, forget serials). Recording it is disk I/O, so it
        runs on the control thread; the screen sees the new count on its next poll."""
        station = self._station
        if station is None or self._shut:
            return

        def reset() -> None:
            # not a lifecycle step: the station keeps running and Start/Stop stays as it is
            try:
                station.reset_counts()
            except LinesideError as exc:
                log.warning("new count not recorded: %s", exc)
                self.failed.emit(
                    "New count not recorded",
                    f"The counts were zeroed, but a restart would bring the old ones back: {exc}",
                )

        self._executor.submit(reset)

    def trigger(self) -> None:
        """One part now (software-triggered recipes). Telling a camera to take a frame is camera
        I/O, so it runs on the control thread; the answer comes back as ``triggered``."""
        station = self._station
        if station is None or self._shut:
            return

        def fire() -> None:
            try:
                self.triggered.emit(station.trigger(), "")
            except LinesideError as exc:
                self.triggered.emit(0, str(exc))

        self._executor.submit(fire)

    def shutdown(self, timeout_s: float = STOP_TIMEOUT_S + 1.0) -> bool:
        """Stop the station and the worker thread, waiting at most ``timeout_s``; True if done."""
        if self._shut:
            return True
        self._shut = True
        station = self._station
        if station is not None:
            self._executor.submit(station.stop, max(timeout_s - 1.0, 0.5))
        done = threading.Event()
        self._executor.submit(done.set)
        self._executor.shutdown(wait=False, cancel_futures=False)
        finished = done.wait(timeout_s)
        if not finished:
            log.warning("station did not stop within %.1f s; leaving it behind", timeout_s)
        if station is not None:
            station.remove_listener(self._bridge)
        self._bridge.detach()
        return finished

    # ---- internals -----------------------------------------------------------------------------

    def _submit(self, name: str, fn: Callable[[], object], failure_title: str) -> None:
        if self._shut:
            log.warning("station control is shut down; %s ignored", name)
            return
        self._pending += 1
        self._emit_state()

        def run() -> None:
            try:
                result = fn()
            except LinesideError as exc:
                log.warning("%s failed: %s", name, exc)
                self._done.emit(name, None, (failure_title, str(exc)))
                return
            except Exception as exc:  # e.g. a bug in a tool's setup: report it, keep the GUI
                log.exception("%s failed", name)
                self._done.emit(name, None, (failure_title, f"{type(exc).__name__}: {exc}"))
                return
            self._done.emit(name, result if name == "load" else None, None)

        self._last = self._executor.submit(run)

    def _on_done(self, name: str, new_station: object, error: tuple[str, str] | None) -> None:
        self._pending -= 1
        if name == "load" and error is None and new_station is not None:
            self._station = new_station  # type: ignore[assignment]
            self.stationChanged.emit(new_station)
        self._emit_state()
        if error is not None:
            self.failed.emit(*error)

    def _emit_state(self) -> None:
        self.stateChanged.emit(self.running, self.busy)
