"""The station as a Modbus TCP server (pymodbus): the PLC polls the status block and writes the
control block.

Holding registers only (function codes 3, 6, 16 and 23): every PLC's Modbus client block has
them, and one kind of register keeps the map one table. Any other function, any address outside
the two blocks, and any write to the status block is answered with a Modbus exception (illegal
function, illegal address) and named on the operator screen; a write the control block cannot
take (undefined bits, a lot number that is not ASCII) gets "illegal data value". Nothing a PLC
sends can stop the server or pass a part.

pymodbus runs its asyncio loop on a thread of its own; every request reaches ``_on_request`` on
it, which reads or writes the handshake (thread-safe) and never blocks for long.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from inspection.errors import LinesideError
from inspection.integrations.plc.handshake import PlcHandshake
from inspection.integrations.plc.signals import CONTROL_REGISTERS, STATUS_REGISTERS
from inspection.integrations.server_thread import ServerThread
from inspection.types import StatusLevel

log = logging.getLogger(__name__)

READS = frozenset({3})
WRITES = frozenset({6, 16})
READ_WRITE = 23  # write then read, in one request
START_TIMEOUT_S = 5.0

Report = Callable[[StatusLevel, str], None]


class ModbusServer:
    """Serves ``handshake``'s two blocks on ``host``:``port``; ``report`` hears of refused
    requests and of PLCs connecting and going away."""

    def __init__(self, handshake: PlcHandshake, host: str, port: int, report: Report) -> None:
        self.handshake = handshake
        self.host = host
        self.port = port  # 0: any free port; the bound one after start
        self._report = report
        settings = handshake.settings
        self._control = range(
            settings.control_address, settings.control_address + CONTROL_REGISTERS
        )
        self._status = range(settings.status_address, settings.status_address + STATUS_REGISTERS)
        # every address exists for pymodbus, so that each request outside the blocks reaches
        # _answer and is refused with a reason the operator sees (not silently by pymodbus)
        self._size = 1 << 16
        self._server: ModbusTcpServer | None = None
        self._thread = ServerThread("plc-modbus-server", self._serve, self._crashed)
        self.connections = 0
        self.had_plc = False
        """A PLC has connected since the server started (so none now means it went away)."""
        self.last_request_at = 0.0
        """``time.monotonic()`` of the PLC's latest request (0: none yet)."""
        self.refused = 0
        """Requests answered with an exception."""

    def start(self) -> None:
        """Listen; LinesideError naming the address when it cannot (in use, not this PC's)."""
        try:
            self._thread.start(START_TIMEOUT_S)
        except Exception as exc:
            raise LinesideError(
                f"PLC Modbus server cannot listen on {self.host}:{self.port}: {exc}"
            ) from None

    def stop(self, timeout_s: float = 2.0) -> None:
        server = self._server
        if server is not None:
            done = self._thread.call(server.shutdown())
            try:
                if done is not None:
                    done.result(timeout_s)
            except Exception as exc:  # closing is best effort; the thread is a daemon
                log.info("PLC Modbus server: shutdown: %s", exc)
        self._thread.join(timeout_s)
        self._server = None

    def _crashed(self, exc: Exception) -> None:
        self._report(StatusLevel.ALARM, f"PLC Modbus server stopped: {exc}")

    async def _serve(self, started: Future[None]) -> None:
        device = SimDevice(
            id=0,  # every unit id: a server on its own port answers whatever the PLC sends
            simdata=[SimData(0, count=self._size, values=0, datatype=DataType.REGISTERS)],
            action=self._on_request,
        )
        server = ModbusTcpServer(
            device, address=(self.host, self.port), trace_connect=self._on_connect
        )
        self._server = server
        if not await server.listen():
            raise OSError("address in use or not this PC's")
        sockets = getattr(server.transport, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        started.set_result(None)
        await server.serving

    def _on_connect(self, connected: bool) -> None:
        self.connections += 1 if connected else -1
        if connected:
            self.had_plc = True
            self.last_request_at = time.monotonic()  # its silence is counted from here
            self._report(StatusLevel.INFO, "PLC connected to the station's Modbus server")
        elif self.connections <= 0:
            self._report(
                StatusLevel.ALARM,
                "PLC gone: no verdicts reach the line (it closed its connection to the "
                "station's Modbus server)",
            )

    async def _on_request(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        self.last_request_at = time.monotonic()
        try:
            return self._answer(function_code, start_address, address, count, registers, values)
        except Exception as exc:  # a request must never take the server down
            log.exception("PLC Modbus request failed")
            self._refuse(f"request failed inside the station: {exc}")
            return ExcCodes.DEVICE_FAILURE

    def _answer(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        values: Any,
    ) -> ExcCodes | None:
        span = range(address, address + count)
        if function_code not in READS | WRITES | {READ_WRITE}:
            return self._refuse(
                f"function code {function_code} not served (holding registers only: 3, 6, 16, 23)",
                ExcCodes.ILLEGAL_FUNCTION,
            )
        if values is not None:
            if not _within(span, self._control):
                return self._refuse(
                    f"write to registers {span.start}-{span.stop - 1}: the PLC writes only the "
                    f"control block, {self._control.start}-{self._control.stop - 1}",
                    ExcCodes.ILLEGAL_ADDRESS,
                )
            refused = self.handshake.write_control(
                address - self._control.start, [int(v) for v in values]
            )
            if refused is not None:
                self.refused += 1
                return (
                    ExcCodes.ILLEGAL_VALUE if refused.kind == "value" else ExcCodes.ILLEGAL_ADDRESS
                )
            return None
        for block, now in (
            (self._status, self.handshake.status_registers),
            (self._control, self.handshake.control_registers),
        ):
            if _within(span, block):
                offset = block.start - start_address
                registers[offset : offset + len(block)] = now()
                return None
        return self._refuse(
            f"read of registers {span.start}-{span.stop - 1}: outside the control block "
            f"({self._control.start}-{self._control.stop - 1}) and the status block "
            f"({self._status.start}-{self._status.stop - 1})",
            ExcCodes.ILLEGAL_ADDRESS,
        )

    def _refuse(self, message: str, code: ExcCodes = ExcCodes.DEVICE_FAILURE) -> ExcCodes:
        self.refused += 1
        self._report(StatusLevel.WARNING, f"PLC request refused: {message}")
        return code


def _within(span: range, block: range) -> bool:
    return len(span) > 0 and span.start >= block.start and span.stop <= block.stop
