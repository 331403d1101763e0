"""The main window driven through the timed phases of ``lineside bench --gui`` (app/gui_bench.py).

One window for every windowed phase, the operator screen in front all along. Trends on: the
operator screen's trend strip pulls the station as usual, and the engineer's Trends page, set up
once (its "Last 15 min" with ``TRENDS_SERIES`` checked), reloads Live in the job pool behind the
operator screen. Trends off: the strip has no source and is hidden, the page is not Live.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QWidget

from inspection.evaluation.trends_bench import TRENDS_SERIES
from inspection.paths import Paths
from inspection.pipeline.station import Station
from inspection.recipe import Recipe

log = logging.getLogger(__name__)

PROBE_MS = 10
SETTLE_PARTS = 3  # parts published before a phase's clock starts: models loaded, caches warm
START_TIMEOUT_S = 180.0
SWITCH_SETTLE_S = 1.0  # untimed, after trends are switched: the first reload is not a phase's
WINDOW_SIZE = (1280, 800)
TRENDS_PRESET = "Last 15 min"
STATION_THREADS = ("acq-", "worker-", "dispatcher", "parts-timer", "storage")


@dataclass(frozen=True, slots=True, kw_only=True)
class Phase:
    """One timed stretch of a station: ``kind`` is "trends", "no_trends", "live_view" (the
    free-running camera, trends on) or "no_window" (a plain Station, no Qt at all)."""

    kind: str
    seconds: float
    parts: int
    frames_in: int  # frames the camera delivered
    frames_shown: int = 0  # distinct frames the live view put on screen
    trends_loads: int = 0  # loads the Trends page drew
    lags_ms: tuple[float, ...] = ()  # how late each probe tick ran


def frames_in(station: Station) -> int:
    return sum(station.counters().frames_in.values())


def wait_for_station_threads(timeout_s: float = 60.0) -> bool:
    """Wait until the last phase's station threads are gone, so a straggler finishing its part
    does not take CPU from the next phase's clock (a stop may give up waiting and log it)."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = [t for t in threading.enumerate() if t.name.startswith(STATION_THREADS)]
        if not left:
            return True
        if time.monotonic() > deadline:
            log.warning("station threads still running: %s", [t.name for t in left])
            return False
        left[0].join(0.1)


def spin_until(predicate: Callable[[], bool], timeout_s: float) -> bool:
    """Run the Qt event loop until ``predicate()`` holds (checked every 50 ms) or time is up."""
    loop = QEventLoop()
    deadline = time.monotonic() + timeout_s

    def check() -> None:
        if predicate() or time.monotonic() > deadline:
            loop.quit()

    timer = QTimer()
    timer.setInterval(50)
    timer.timeout.connect(check)
    timer.start()
    if not predicate():
        loop.exec()
    timer.stop()
    return predicate()


def spin_for(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    loop.exec()


class LagProbe:
    """How late the GUI thread serves a timer: each tick is armed for ``interval_ms`` and the
    delay past that is recorded. Re-armed by hand, so a stall is measured in full, not hidden by
    the next period's catch-up."""

    def __init__(self, interval_ms: int = PROBE_MS) -> None:
        self.interval_ms = interval_ms
        self.lags_ms: list[float] = []
        self._armed_ns = 0
        self._timer = QTimer()
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._armed_ns = time.perf_counter_ns()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter_ns()
        self.lags_ms.append((now - self._armed_ns) / 1e6 - self.interval_ms)
        self._armed_ns = now
        self._timer.start()


def timer_interval_ms(widget: QWidget) -> int | None:
    """The shortest interval of the widget's own repeating timers (the live view has one: its
    refresh; its single-shot timers only put off work to the next turn of the event loop)."""
    timers = widget.findChildren(QTimer, "", Qt.FindChildOption.FindDirectChildrenOnly)
    return min((t.interval() for t in timers if not t.isSingleShot()), default=None)


class BenchWindow:
    """A shown MainWindow whose station and trends the bench switches between phases."""

    def __init__(self, paths: Paths) -> None:
        from app.main_window import MainWindow
        from app.settings import AppSettings

        self.window = MainWindow(lambda r: Station(r, paths=paths), AppSettings(), paths=paths)
        self.window.resize(*WINDOW_SIZE)
        self.window.show()
        self.trends_loads = 0
        self._page_set_up = False
        self.window.trends_page.loaded.connect(self._on_trends_loaded)

    def __enter__(self) -> BenchWindow:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _on_trends_loaded(self, _charts: Any) -> None:
        self.trends_loads += 1

    @property
    def station(self) -> Station:
        station = self.window.station
        if station is None:
            raise RuntimeError("the main window has no station")
        return station

    def open(self, recipe_file: Path, settled: Callable[[Station], bool]) -> Station:
        """Run ``recipe_file`` and wait until its (new) station is ``settled``."""
        old = self.window.station
        if not self.window.open_recipe(recipe_file, start=True):
            raise RuntimeError(f"the main window refused {recipe_file}")

        def ready() -> bool:
            s = self.window.station
            return s is not None and s is not old and s.running and settled(s)

        if not spin_until(ready, START_TIMEOUT_S):
            raise RuntimeError(f"{recipe_file.name}: not settled within {START_TIMEOUT_S:.0f} s")
        return self.station

    def set_trends(self, on: bool) -> None:
        """Trends on (the strip fed, the page Live) or off (no strip, page not Live)."""
        strip = self.window.screen_widget.trend
        page = self.window.trends_page
        if on:
            strip.set_source(self.station.shift_trend)
            strip.show()
            if not self._page_set_up:
                self._set_up_trends_page()
            page.live_box.setChecked(True)
            page.load()  # now, not a Live interval from now
        else:
            page.live_box.setChecked(False)
            strip.set_source(None)
            strip.hide()
            # a reload under way would otherwise run into the phase without trends
            if not spin_until(lambda: not self.window.jobs.running(), 60.0):
                log.warning("a trends job was still running 60 s after Live was switched off")
        spin_for(SWITCH_SETTLE_S)

    def _set_up_trends_page(self) -> None:
        """As an engineer would: open Trends, choose the range and series, go back to Operator."""
        page = self.window.trends_page
        listed: list[object] = []
        page.seriesListed.connect(listed.append)
        page.range_combo.setCurrentText(TRENDS_PRESET)
        self.window.pages.show_page("Trends")  # its first showing lists the series (a job)
        if not spin_until(lambda: bool(listed), 60.0):
            raise RuntimeError("the Trends page listed no series within 60 s")
        page.seriesListed.disconnect(listed.append)
        page.check_series(list(TRENDS_SERIES))
        missing = set(TRENDS_SERIES) - set(page.checked_series())
        if missing:
            raise RuntimeError(f"the Trends page does not list {sorted(missing)}")
        self.window.pages.show_page("Operator")
        self._page_set_up = True

    def timed(self, kind: str, seconds: float) -> Phase:
        """Run the event loop for ``seconds`` with the lag probe on; what the station did."""
        station = self.station
        view = self.window.screen_widget.live_view
        probe = LagProbe()
        parts0, frames0, shown0 = station.counters().parts, frames_in(station), view.frames_shown
        loads0 = self.trends_loads
        t0 = time.perf_counter()
        probe.start()
        spin_for(seconds)
        probe.stop()
        elapsed = time.perf_counter() - t0
        return Phase(
            kind=kind,
            seconds=elapsed,
            parts=station.counters().parts - parts0,
            frames_in=frames_in(station) - frames0,
            frames_shown=view.frames_shown - shown0,
            trends_loads=self.trends_loads - loads0,
            lags_ms=tuple(probe.lags_ms),
        )

    def close(self) -> None:
        window = self.window
        window.close()  # from code: no question asked; the station stops off the GUI thread
        if not spin_until(lambda: not window.isVisible(), 30.0):
            log.warning("the main window was still open 30 s after close()")
        window.deleteLater()
        spin_for(0.05)
        wait_for_station_threads()


def run_headless(recipe: Recipe, paths: Paths, seconds: float) -> Phase:
    """The same station with no window at all, for ``seconds``."""
    station = Station(recipe, paths=paths)
    station.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while station.counters().parts < SETTLE_PARTS:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no {SETTLE_PARTS} parts within {START_TIMEOUT_S:.0f} s")
            time.sleep(0.02)
        parts0, frames0 = station.counters().parts, frames_in(station)
        t0 = time.perf_counter()
        time.sleep(seconds)
        elapsed = time.perf_counter() - t0
        return Phase(
            kind="no_window",
            seconds=elapsed,
            parts=station.counters().parts - parts0,
            frames_in=frames_in(station) - frames0,
        )
    finally:
        station.stop(timeout_s=10.0)
        wait_for_station_threads()
