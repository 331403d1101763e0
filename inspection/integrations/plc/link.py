"""The station's PLC link: the handshake and its Modbus transport, for as long as the program
runs, across recipe changes.

The program (the GUI's launcher, ``lineside run --plc``) opens it once and gives it to each
station it builds, as a trigger input (the PLC's triggers) and a line sink (the recorded results
the PLC hears of); ``attach`` tells it which station that is. A changeover the PLC asks for runs
``on_changeover(number, recipe file)`` on a thread of the link's, which loads the recipe between
parts and answers with ``changeover_done``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from inspection.errors import LinesideError
from inspection.integrations.base import FireTrigger
from inspection.integrations.output_runner import OutputState
from inspection.integrations.plc.handshake import LineStation, PlcHandshake
from inspection.integrations.plc.modbus_client import ModbusClient
from inspection.integrations.plc.modbus_server import ModbusServer
from inspection.integrations.plc.signals import OUTPUT_ID
from inspection.recipe.plc import PlcSettings
from inspection.types import Inspection, StatusLevel, StatusUpdate

log = logging.getLogger(__name__)

TICK_S = 0.005
"""How often the server role's ticker looks at the clock (heartbeat, acknowledge timeout)."""

Changeover = Callable[[int, Path], None]


class PlcLink:
    """One PLC, either role. Thread-safe."""

    output_id = "plc"

    def __init__(self, settings: PlcSettings, *, on_changeover: Changeover) -> None:
        self.settings = settings
        self._on_changeover = on_changeover
        self.handshake = PlcHandshake(settings, on_changeover=self._changeover_thread)
        self._station: LineStation | None = None
        self._early: list[tuple[StatusLevel, str]] = []  # reports before a station was attached
        self._server: ModbusServer | None = None
        self._client: ModbusClient | None = None
        if settings.role == "server":
            self._server = ModbusServer(self.handshake, settings.host, settings.port, self._report)
        else:
            self._client = ModbusClient(self.handshake, settings.host, settings.port, self._report)
        self.name = (
            f"PLC (Modbus server {settings.host}:{settings.port})"
            if settings.role == "server"
            else f"PLC (Modbus client to {settings.host}:{settings.port})"
        )
        """The link in the operator's words (a trigger input's name)."""
        self._ticker: threading.Thread | None = None
        self._closing = threading.Event()
        self._silent = False  # server role: the connected PLC stopped sending (reported once)

    @property
    def port(self) -> int:
        """The port served (the bound one when the settings said 0)."""
        return self._server.port if self._server is not None else self.settings.port

    # ---- the program's side --------------------------------------------------------------

    def open(self) -> None:
        """Listen for the PLC (server) or start reaching it (client). LinesideError when the
        server cannot listen (the address is in use or not this PC's)."""
        self._closing.clear()
        if self._server is not None:
            self._server.start()
            self._ticker = threading.Thread(target=self._tick, name="plc-ticker", daemon=True)
            self._ticker.start()
        elif self._client is not None:
            self._client.start()

    def close(self, timeout_s: float = 2.0) -> None:
        self._closing.set()
        if self._ticker is not None:
            self._ticker.join(timeout_s)
            self._ticker = None
        if self._server is not None:
            self._server.stop(timeout_s)
        if self._client is not None:
            self._client.stop(timeout_s)

    def attach(self, station: LineStation, tool_ids: list[str]) -> None:
        """``station`` is the one the PLC now talks to (built, not necessarily started)."""
        with self.handshake.lock:
            self._station = station
            self.handshake.attach(station, self.handshake.recipe_number, tool_ids)
            early, self._early = self._early, []
        for level, message in early:
            station.post_status(level, "plc", message)

    def recipe_opened(self, recipe_file: Path) -> None:
        """A recipe was opened by hand: Status shows its number in the table (0: none)."""
        self.handshake.recipe_number = self.settings.number_of(recipe_file)

    def changeover_done(self, number: int, error: str | None) -> None:
        self.handshake.changeover_done(number, error)

    # ---- the station's side: a trigger input and a line sink ---------------------------------

    def start(self, fire: FireTrigger) -> None:
        self.handshake.start(fire)

    def stop(self, timeout_s: float) -> None:
        self.handshake.stop()

    def on_inspection(self, inspection: Inspection) -> None:
        self.handshake.on_inspection(inspection)
        if self._client is not None:
            self._client.wake()

    def on_status(self, update: StatusUpdate) -> None:
        """Station alarms reach the PLC as Ready (a station not recording is not ready)."""

    def state(self) -> OutputState:
        """The link for the operator screen, as the outputs show theirs."""
        state: Literal["starting", "connected", "failed"]
        if self._server is not None:
            state, reason = self._server_state()
        else:
            assert self._client is not None
            up = self._client.connected
            state = "connected" if up else "failed"
            reason = "" if up else (self._client.reason or "not reached yet")
        return OutputState(
            output_id=OUTPUT_ID,
            link=self.name,
            state=state,
            waiting=0,
            sent=self.handshake.triggers,
            dropped=0,
            reason=reason or self.handshake.describe(),
        )

    # ---- inside ------------------------------------------------------------------------------

    def _report(self, level: StatusLevel, message: str) -> None:
        station = self._station
        if station is None:
            log.info("plc: %s", message)
            self._early.append((level, message))
            del self._early[:-20]
            return
        station.post_status(level, "plc", message)

    def _changeover_thread(self, number: int, path: Path) -> None:
        def run() -> None:
            try:
                self._on_changeover(number, path)
            except LinesideError as exc:
                self.changeover_done(number, str(exc))
            except Exception as exc:  # the link must answer the PLC whatever happened
                log.exception("PLC changeover to recipe %d failed", number)
                self.changeover_done(number, f"{type(exc).__name__}: {exc}")

        threading.Thread(target=run, name=f"plc-changeover-{number}", daemon=True).start()

    def _server_state(self) -> tuple[Literal["starting", "connected", "failed"], str]:
        server = self._server
        assert server is not None
        if server.connections <= 0:
            if server.had_plc:
                return "failed", "the PLC closed its connection"
            return "starting", "no PLC connected yet"
        if self._silent:
            return "failed", f"no request from the PLC for over {self.settings.watchdog_s:g} s"
        return "connected", ""

    def _watch_silence(self) -> None:
        """Server role: a connected PLC that stopped polling is an alarm, and its return news."""
        server = self._server
        if server is None or server.connections <= 0:
            self._silent = False  # a closed connection is reported by the server itself
            return
        silent = time.monotonic() - server.last_request_at > self.settings.watchdog_s
        if silent and not self._silent:
            self._report(
                StatusLevel.ALARM,
                "PLC silent: no verdicts reach the line (no request from it for over "
                f"{self.settings.watchdog_s:g} s)",
            )
        elif self._silent and not silent:
            self._report(StatusLevel.INFO, "PLC polling the station again")
        self._silent = silent

    def _tick(self) -> None:
        while not self._closing.wait(TICK_S):
            try:
                self.handshake.tick()
                self._watch_silence()
            except Exception:  # the ticker must not die; the handshake logs its own causes
                log.exception("PLC handshake tick failed")
