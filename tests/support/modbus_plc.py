"""A PLC for the tests, over real Modbus TCP on 127.0.0.1 (pymodbus on both ends).

``PlcPlayer`` is the PLC program: it sets the control bits and reads the status block. Against
the station's server it talks to the station; for the client role, ``PlcRegisters`` is the
PLC's own register memory (a pymodbus server the station connects to) and the player reads and
writes it there, as a PLC program writes its own memory.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future

from pymodbus.client import ModbusTcpClient
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from inspection.evaluation.peers import free_port
from inspection.integrations.plc.signals import (
    CONTROL_REGISTERS,
    STATUS_REGISTERS,
    Control,
    ControlBit,
    Status,
    StatusBit,
    lot_to_registers,
)


class PlcRegisters:
    """The PLC's register memory, served on 127.0.0.1 (the station's client role connects)."""

    def __init__(self, port: int | None = None, size: int = 256) -> None:
        self.port = port or free_port()
        self.size = size
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: ModbusTcpServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> PlcRegisters:
        started: Future[None] = Future()

        async def serve() -> None:
            device = SimDevice(
                id=0,
                simdata=[SimData(0, count=self.size, values=0, datatype=DataType.REGISTERS)],
            )
            self._server = ModbusTcpServer(device, address=("127.0.0.1", self.port))
            if not await self._server.listen():
                raise OSError(f"PLC registers cannot listen on {self.port}")
            started.set_result(None)
            await self._server.serving

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(serve())
            except Exception as exc:
                if not started.done():
                    started.set_exception(exc)
            finally:
                self._loop.close()

        self._thread = threading.Thread(target=run, name="test-plc-registers", daemon=True)
        self._thread.start()
        started.result(5.0)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._server is not None and not self._loop.is_closed():
            asyncio.run_coroutine_threadsafe(self._server.shutdown(), self._loop).result(5.0)
        if self._thread is not None:
            self._thread.join(5.0)


class PlcPlayer:
    """The PLC program's side of the handshake."""

    def __init__(
        self,
        port: int,
        *,
        control_address: int = 0,
        status_address: int = 100,
        hold_s: float = 0.0,
    ) -> None:
        """``hold_s``: how long each control write stands before the next (a PLC's scan holds
        a bit at least that long; a station that polls needs one poll to see it)."""
        self.hold_s = hold_s
        self.client = ModbusTcpClient("127.0.0.1", port=port, timeout=2.0, retries=0)
        assert self.client.connect(), f"nothing listens on 127.0.0.1:{port}"
        self.control_address = control_address
        self.status_address = status_address
        self.word = 0

    def close(self) -> None:
        self.client.close()

    # ---- writing the control block --------------------------------------------------------

    def write(self, offset: int, values: list[int]):
        got = self.client.write_registers(self.control_address + offset, values)
        if self.hold_s:
            time.sleep(self.hold_s)
        return got

    def set_word(self, word: int):
        self.word = word
        return self.write(Control.WORD, [word])

    def trigger(self, part_id: int) -> None:
        """Trigger with the PLC's part id, in one write (as a PLC's block move does)."""
        self.word = (self.word & ~ControlBit.TRIGGER) | ControlBit.TRIGGER
        got = self.write(Control.WORD, [self.word, self.read_control()[Control.RECIPE], part_id])
        assert not got.isError(), got

    def release(self, bit: ControlBit) -> None:
        got = self.set_word(self.word & ~bit)
        assert not got.isError(), got

    def pulse(self, bit: ControlBit) -> None:
        got = self.set_word(self.word | bit)
        assert not got.isError(), got

    def select_recipe(self, number: int) -> None:
        got = self.write(Control.RECIPE, [number])
        assert not got.isError(), got

    def set_lot(self, lot: str) -> None:
        got = self.write(Control.LOT, lot_to_registers(lot))
        assert not got.isError(), got

    def read_control(self) -> list[int]:
        got = self.client.read_holding_registers(self.control_address, count=CONTROL_REGISTERS)
        assert not got.isError(), got
        return list(got.registers)

    # ---- reading the status block ---------------------------------------------------------

    def status(self) -> list[int]:
        got = self.client.read_holding_registers(self.status_address, count=STATUS_REGISTERS)
        assert not got.isError(), got
        return list(got.registers)

    def bits(self) -> StatusBit:
        return StatusBit(self.status()[Status.WORD])

    def wait_for(
        self, want: StatusBit, timeout_s: float = 5.0, *, clear: bool = False
    ) -> list[int]:
        """The status block once ``want`` is all set (or all clear, with ``clear``)."""
        deadline = time.monotonic() + timeout_s
        while True:
            regs = self.status()
            bits = StatusBit(regs[Status.WORD])
            if (bits & want == want) if not clear else not (bits & want):
                return regs
            assert time.monotonic() < deadline, (
                f"status {bits!r} (error {regs[Status.ERROR_CODE]}) never "
                f"{'cleared' if clear else 'set'} {want!r}"
            )
            time.sleep(0.005)

    def cycle(self, part_id: int, timeout_s: float = 5.0) -> list[int]:
        """One whole handshake: wait Ready, trigger, wait Result ready, acknowledge, release.
        Returns the status block with the result."""
        self.wait_for(StatusBit.READY, timeout_s)
        self.trigger(part_id)
        result = self.wait_for(StatusBit.RESULT_READY, timeout_s)
        self.pulse(ControlBit.RESULT_ACK)
        self.wait_for(StatusBit.RESULT_READY, timeout_s, clear=True)
        self.release(ControlBit.TRIGGER | ControlBit.RESULT_ACK)
        return result
