"""The station as a Modbus TCP client (pymodbus): it reads the PLC's control registers every
``poll_ms`` and writes its status registers into the PLC, for PLCs that only serve registers.

One thread does both, so a PLC sees the station's answers in the order it caused them. A result
wakes it at once (not at the next poll), so trigger-to-OK/NG costs at most one poll of the PLC's
registers. A PLC that is away, refuses the connection or answers with an exception fails the link
with the reason (shown to the operator); the station keeps inspecting and tries again every
``retry_s``. While the link is down the PLC sees no Ready: its own timeout stops the line.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ModbusException

from inspection.integrations.plc.handshake import PlcHandshake
from inspection.integrations.plc.signals import CONTROL_REGISTERS
from inspection.types import StatusLevel

log = logging.getLogger(__name__)

Report = Callable[[StatusLevel, str], None]


class ModbusClient:
    """Polls ``handshake``'s control block from the PLC and writes its status block there."""

    def __init__(self, handshake: PlcHandshake, host: str, port: int, report: Report) -> None:
        self.handshake = handshake
        self.host = host
        self.port = port
        self._report = report
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = False
        self.reason = ""
        """Why the link is down ("" while it is up)."""
        self.polls = 0

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="plc-modbus-client", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def wake(self) -> None:
        """A result is ready: write it now, not at the next poll."""
        self._wake.set()

    def _run(self) -> None:
        settings = self.handshake.settings
        while not self._stop.is_set():
            client = ModbusTcpClient(
                self.host, port=self.port, timeout=settings.timeout_s, retries=0
            )
            try:
                if not client.connect():
                    raise ConnectionError("connection refused or no answer")
                self._serve(client)
            except (ModbusException, ConnectionError, OSError, ValueError) as exc:
                self._down(str(exc) or type(exc).__name__)
            finally:
                client.close()
            self._stop.wait(settings.retry_s)

    def _serve(self, client: ModbusTcpClient) -> None:
        settings = self.handshake.settings
        unit = settings.unit_id
        written: list[int] | None = None
        last_write = 0.0
        seen: list[int] | None = None
        while not self._stop.is_set():
            got = client.read_holding_registers(
                settings.control_address, count=CONTROL_REGISTERS, device_id=unit
            )
            if got.isError():
                raise ConnectionError(f"the PLC refused to read its control registers: {got}")
            regs = list(got.registers)
            if len(regs) != CONTROL_REGISTERS:
                raise ValueError(
                    f"the PLC sent {len(regs)} control registers, not {CONTROL_REGISTERS}"
                )
            self.polls += 1
            if not self.connected:
                self.connected, self.reason = True, ""
                self._report(StatusLevel.INFO, f"PLC at {self.host}:{self.port} reached")
            if regs != seen:
                # what the PLC changed since the last poll (a refused write is the handshake's
                # to tell: the Error bit and code, and the operator's message)
                self.handshake.write_control(0, regs)
                seen = regs
            self.handshake.tick()
            status = self.handshake.status_registers()
            now = time.monotonic()
            if status != written or now - last_write >= settings.heartbeat_s:
                put = client.write_registers(settings.status_address, status, device_id=unit)
                if put.isError():
                    raise ConnectionError(f"the PLC refused the status registers: {put}")
                written, last_write = status, now
            self._wake.wait(settings.poll_ms / 1000.0)
            self._wake.clear()

    def _down(self, reason: str) -> None:
        was = self.connected
        self.connected = False
        if reason != self.reason or was:
            self.reason = reason
            self._report(
                StatusLevel.WARNING, f"PLC at {self.host}:{self.port} not reached: {reason}"
            )
