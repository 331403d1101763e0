"""The PLC handshake: what the station does when the PLC sets a bit, and what it shows back.

Transport-free: the Modbus server and client (``modbus_server``, ``modbus_client``) move the two
register blocks of ``signals`` to and from the PLC, and this class keeps them. Thread-safe: the
transport, the station's dispatcher (results) and the link's ticker call it from their threads.

The cycle (the README (section "Telling the line") has the timing diagram):

1. Ready is on: the station runs, records, its cameras are connected, it is not changing over,
   no part is in hand, and the PLC has reset Trigger since its last one (so a station that
   polls never misses an edge).
2. The PLC sets Trigger (with its part id in the control block). The station takes the part:
   Busy on, Ready off, and the last result's bits cleared.
3. The part's result is recorded: OK, NG or Error (with the error code), the part ids and the
   tools' OK bits are written, then Result ready on and Busy off. The PLC hears of a part only
   once its record is committed.
4. The PLC reads the result and sets Result acknowledge: Result ready off, Ready on again.

A trigger while Busy or while a result waits for its acknowledge is refused: counted, and
answered with Error (code 2), never ignored. A result not acknowledged within ``ack_timeout_s``
raises an alarm (counted; the line may go on). A recipe number the table does not have, or a
recipe that does not load, gives Error with its code, and the running recipe stays.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from inspection.batch import BatchContext
from inspection.errors import LinesideError
from inspection.integrations.base import FireTrigger
from inspection.integrations.plc.signals import (
    CONTROL_BITS,
    CONTROL_REGISTERS,
    ERROR_TEXT,
    LOT_REGISTERS,
    STATUS_REGISTERS,
    TOOL_BITS,
    Control,
    ControlBit,
    ErrorCode,
    Status,
    StatusBit,
    lot_from_registers,
)
from inspection.recipe import Recipe
from inspection.recipe.plc import PlcSettings
from inspection.types import Inspection, StatusLevel, Verdict

log = logging.getLogger(__name__)

SOURCE = "plc"
"""The source of the handshake's messages on the operator screen."""
RESULT_TIMEOUT_S = 30.0
"""Busy longer than this (a part whose record was never committed) ends with Error, code 9."""


class LineStation(Protocol):
    """What the links to the line (PLC, OPC UA) ask of the running station."""

    @property
    def recipe(self) -> Recipe: ...

    @property
    def ready_for_parts(self) -> bool: ...

    def acknowledge_alarms(self) -> None: ...

    @property
    def batch(self) -> BatchContext: ...

    def post_status(self, level: StatusLevel, source: str, message: str) -> None: ...


@dataclass(frozen=True, slots=True)
class WriteRefused:
    """A PLC write the control block did not take: ``address`` (outside the block, or the
    station's own registers) or ``value`` (a value the register cannot hold)."""

    kind: Literal["address", "value"]
    message: str


class PlcHandshake:
    """The two register blocks and the rules between them."""

    def __init__(
        self,
        settings: PlcSettings,
        *,
        on_changeover: Callable[[int, Path], None],
        clock: Callable[[], float] = time.monotonic,
        result_timeout_s: float = RESULT_TIMEOUT_S,
    ) -> None:
        """``on_changeover(number, recipe file)`` loads that recipe between parts, off this
        object's lock (the link runs it on a thread of its own) and answers with
        ``changeover_done``."""
        self.settings = settings
        self._on_changeover = on_changeover
        self._clock = clock
        self._result_timeout_s = result_timeout_s
        self.lock = threading.RLock()
        self._control = [0] * CONTROL_REGISTERS
        self._bits = StatusBit(0)
        self._error = ErrorCode.NONE
        self._part_id_echo = 0
        self._part_number = 0
        self._tools_ok = 0
        self._recipe_number = 0
        self._refused = 0
        self._not_acked = 0
        self._heartbeats = 0
        self._next_beat = clock() + settings.heartbeat_s
        self._station: LineStation | None = None
        self._tool_ids: tuple[str, ...] = ()
        self._fire: FireTrigger | None = None
        self._pending: int | None = None  # trigger id of the part in hand
        self._pending_plc_id = 0
        self._busy_since = 0.0
        self._result_at: float | None = None  # a result waits for its acknowledge since then
        self._result_part = 0
        self._changing_to: int | None = None
        self._deferred_changeover: int | None = None
        self.triggers = 0
        """Triggers the station took from the PLC."""

    @property
    def recipe_number(self) -> int:
        """The running recipe's number in the station's table (0: not in it)."""
        with self.lock:
            return self._recipe_number

    @recipe_number.setter
    def recipe_number(self, number: int) -> None:
        with self.lock:
            self._recipe_number = number

    # ---- the station's side ------------------------------------------------------------

    def attach(self, station: LineStation, recipe_number: int, tool_ids: Sequence[str]) -> None:
        """A station for a recipe was built (at start or by a changeover)."""
        with self.lock:
            self._station = station
            self._recipe_number = recipe_number
            self._tool_ids = tuple(tool_ids)[:TOOL_BITS]

    def start(self, fire: FireTrigger) -> None:
        """The station runs and takes triggers through ``fire``."""
        with self.lock:
            self._fire = fire

    def stop(self) -> None:
        """The station stops: a part in hand gets no result, so it ends with Error."""
        with self.lock:
            self._fire = None
            if self._pending is not None:
                self._pending = None
                self._bits &= ~StatusBit.BUSY
                self._set_error(ErrorCode.STATION_STOPPED)

    def on_inspection(self, inspection: Inspection) -> None:
        """A recorded result; the one of the part in hand is shown to the PLC."""
        with self.lock:
            if self._pending is None or inspection.trigger_id != self._pending:
                return
            self._pending = None
            verdict = inspection.verdict
            passed = {r.tool_id for r in inspection.tool_results if r.verdict is Verdict.PASS}
            self._tools_ok = sum(1 << i for i, t in enumerate(self._tool_ids) if t in passed)
            self._part_id_echo = self._pending_plc_id
            self._part_number = (inspection.part_seq + 1) & 0xFFFFFFFF  # as the screen counts
            self._bits &= ~(StatusBit.BUSY | StatusBit.OK | StatusBit.NG | StatusBit.ERROR)
            if verdict is Verdict.PASS:
                self._bits |= StatusBit.OK
                self._error = ErrorCode.NONE
            elif verdict is Verdict.FAIL:
                self._bits |= StatusBit.NG
                self._error = ErrorCode.NONE
            else:
                self._bits |= StatusBit.ERROR
                self._error = ErrorCode.PART_NOT_INSPECTED
            self._bits |= StatusBit.RESULT_READY
            self._result_at = self._clock()
            self._result_part = self._part_number

    def changeover_done(self, number: int, error: str | None) -> None:
        """The changeover to recipe ``number`` ended: loaded (``attach`` came first), or not
        and why (the running recipe stays)."""
        with self.lock:
            if self._changing_to != number:
                return
            self._changing_to = None
            self._bits &= ~StatusBit.CHANGEOVER
            if error is not None:
                self._set_error(ErrorCode.RECIPE_NOT_LOADED, alarm=True)
                self._post(StatusLevel.WARNING, f"PLC recipe {number} not loaded: {error}")
            else:
                self._recipe_number = number
                self._post(StatusLevel.INFO, f"PLC changeover: recipe {number} running")

    # ---- the PLC's side ------------------------------------------------------------------

    def control_registers(self) -> list[int]:
        with self.lock:
            return list(self._control)

    def status_registers(self) -> list[int]:
        """The status block now (one consistent snapshot)."""
        with self.lock:
            bits = self._bits
            if self._is_ready():
                bits |= StatusBit.READY
            regs = [0] * STATUS_REGISTERS
            regs[Status.WORD] = int(bits)
            regs[Status.ERROR_CODE] = int(self._error)
            regs[Status.PART_ID] = self._part_id_echo
            regs[Status.PART_NUMBER_HIGH] = self._part_number >> 16
            regs[Status.PART_NUMBER_LOW] = self._part_number & 0xFFFF
            regs[Status.TOOLS_OK] = self._tools_ok
            regs[Status.RECIPE] = self._recipe_number
            regs[Status.TRIGGERS_REFUSED] = self._refused & 0xFFFF
            regs[Status.RESULTS_NOT_ACKNOWLEDGED] = self._not_acked & 0xFFFF
            regs[Status.HEARTBEAT_COUNT] = self._heartbeats & 0xFFFF
            return regs

    def write_control(self, offset: int, values: Sequence[int]) -> WriteRefused | None:
        """The PLC wrote ``values`` at ``offset`` of the control block. A write that is refused
        changes nothing, sets Error (code 7) and the Alarm bit, and says why."""
        refused = self._check_write(offset, values)
        with self.lock:
            if refused is not None:
                self._set_error(ErrorCode.BAD_WRITE, alarm=True)
                self._post(StatusLevel.WARNING, f"PLC write refused: {refused.message}")
                return refused
            before = list(self._control)
            self._control[offset : offset + len(values)] = [int(v) for v in values]
            self._react(before, self._control)
            return None

    def tick(self) -> None:
        """Time passing: the heartbeat, the acknowledge and result timeouts, a changeover that
        waited for the part in hand. The link calls it every few milliseconds."""
        now = self._clock()
        with self.lock:
            if now >= self._next_beat:
                self._heartbeats += 1
                self._bits ^= StatusBit.HEARTBEAT
                self._next_beat = now + self.settings.heartbeat_s
            if self._result_at is not None and now - self._result_at > self.settings.ack_timeout_s:
                self._result_at = None
                self._not_acked += 1
                self._bits &= ~StatusBit.RESULT_READY  # the line may go on; the alarm stays
                self._error = ErrorCode.NOT_ACKNOWLEDGED
                self._bits |= StatusBit.ALARM
                self._post(
                    StatusLevel.WARNING,
                    f"the PLC did not acknowledge part {self._result_part}'s result within "
                    f"{self.settings.ack_timeout_s:g} s ({self._not_acked} so far)",
                )
            if self._pending is not None and now - self._busy_since > self._result_timeout_s:
                part = self._pending
                self._pending = None
                self._bits &= ~StatusBit.BUSY
                self._set_error(ErrorCode.NO_RESULT, alarm=True)
                self._post(
                    StatusLevel.WARNING,
                    f"no recorded result for PLC trigger {part} within "
                    f"{self._result_timeout_s:g} s: answered with Error",
                )
            if self._deferred_changeover is not None and self._pending is None:
                number, self._deferred_changeover = self._deferred_changeover, None
                self._begin_changeover(number)

    def describe(self) -> str:
        """The handshake in a line, for the operator's tooltip."""
        regs = self.status_registers()
        bits = StatusBit(regs[Status.WORD])
        shown = [b.name for b in StatusBit if b in bits and b.name and b is not StatusBit.HEARTBEAT]
        text = " ".join(n.replace("_", " ").lower() for n in shown) or "not ready"
        if regs[Status.ERROR_CODE]:
            text += f"; error {regs[Status.ERROR_CODE]}: {ERROR_TEXT[ErrorCode(regs[1])]}"
        return (
            f"{text}; recipe {regs[Status.RECIPE] or '-'}; {self.triggers:,} triggers, "
            f"{self._refused:,} refused, {self._not_acked:,} results not acknowledged"
        )

    # ---- inside --------------------------------------------------------------------------

    @staticmethod
    def _check_write(offset: int, values: Sequence[int]) -> WriteRefused | None:
        end = offset + len(values)
        if not values or offset < 0 or end > CONTROL_REGISTERS:
            return WriteRefused(
                "address",
                f"control registers {offset}-{end - 1} asked; the block has 0-"
                f"{CONTROL_REGISTERS - 1}",
            )
        for i, v in enumerate(values):
            if not 0 <= int(v) <= 0xFFFF:
                return WriteRefused("value", f"register {offset + i}: {v} is not 0-65535")
        if offset <= Control.WORD < end:
            word = int(values[Control.WORD - offset])
            if word & ~CONTROL_BITS:
                return WriteRefused(
                    "value",
                    f"control word 0x{word:04X} sets undefined bits 0x{word & ~CONTROL_BITS:04X}",
                )
        lot = range(Control.LOT, Control.LOT + LOT_REGISTERS)
        written = [int(values[r - offset]) for r in lot if offset <= r < end]
        if written:
            try:
                lot_from_registers(written)
            except ValueError as exc:
                return WriteRefused("value", str(exc))
        return None

    def _react(self, before: list[int], after: list[int]) -> None:
        rose = ControlBit(after[Control.WORD] & ~before[Control.WORD])
        if ControlBit.RESET_ALARMS in rose:
            self._reset_alarms()
        if ControlBit.RESULT_ACK in rose and self._result_at is not None:
            self._result_at = None
            self._bits &= ~StatusBit.RESULT_READY
        lot = slice(Control.LOT, Control.LOT + LOT_REGISTERS)
        if after[lot] != before[lot]:
            self._set_lot(lot_from_registers(after[lot]))
        number = after[Control.RECIPE]
        if number != before[Control.RECIPE] and number not in (0, self._recipe_number):
            if self._pending is not None:
                self._deferred_changeover = number  # between parts: after the one in hand
            else:
                self._begin_changeover(number)
        if ControlBit.TRIGGER in rose:
            self._trigger(after[Control.PART_ID])

    def _trigger(self, plc_part_id: int) -> None:
        if self._pending is not None or self._result_at is not None:
            self._refused += 1
            self._set_error(ErrorCode.TRIGGER_WHILE_BUSY, alarm=True)
            why = "busy" if self._pending is not None else "the last result is not acknowledged"
            self._post(
                StatusLevel.WARNING, f"PLC trigger refused: {why} ({self._refused} refused so far)"
            )
            return
        fire = self._fire
        if fire is None or not self._is_ready(at_trigger=True):
            self._refused += 1
            self._set_error(ErrorCode.NOT_READY)
            return
        self._bits &= ~(StatusBit.OK | StatusBit.NG | StatusBit.ERROR | StatusBit.RESULT_READY)
        self._error = ErrorCode.NONE
        try:
            trigger_id = fire()
        except LinesideError as exc:
            self._refused += 1
            self._set_error(ErrorCode.NOT_READY)
            self._post(StatusLevel.WARNING, f"PLC trigger not taken: {exc}")
            return
        self.triggers += 1
        self._pending = trigger_id
        self._pending_plc_id = plc_part_id
        self._busy_since = self._clock()
        self._bits |= StatusBit.BUSY

    def _begin_changeover(self, number: int) -> None:
        path = self.settings.recipes.get(number)
        if path is None:
            self._set_error(ErrorCode.UNKNOWN_RECIPE, alarm=True)
            known = ", ".join(map(str, sorted(self.settings.recipes))) or "none"
            self._post(
                StatusLevel.WARNING,
                f"PLC asked for recipe {number}, which the station's table does not have "
                f"(numbers: {known}); recipe {self._recipe_number or '-'} stays",
            )
            return
        self._changing_to = number
        self._bits |= StatusBit.CHANGEOVER
        self._post(StatusLevel.INFO, f"PLC changeover to recipe {number} ({path.name})")
        self._on_changeover(number, path)

    def _reset_alarms(self) -> None:
        self._bits &= ~(StatusBit.ALARM | StatusBit.ERROR)
        self._error = ErrorCode.NONE
        station = self._station
        if station is not None:
            station.acknowledge_alarms()

    def _set_lot(self, lot: str) -> None:
        station = self._station
        if station is not None and lot:
            station.batch.set({"lot": lot})

    def _set_error(self, code: ErrorCode, *, alarm: bool = False) -> None:
        self._bits |= StatusBit.ERROR
        self._error = code
        if alarm:
            self._bits |= StatusBit.ALARM

    def _is_ready(self, *, at_trigger: bool = False) -> bool:
        """Ready as the PLC sees it; ``at_trigger``: for the rising edge being taken (the
        trigger bit is then set, and was released before)."""
        station = self._station
        return (
            self._fire is not None
            and (at_trigger or not self._control[Control.WORD] & ControlBit.TRIGGER)
            and station is not None
            and station.ready_for_parts
            and self._pending is None
            and self._result_at is None
            and self._changing_to is None
        )

    def _post(self, level: StatusLevel, message: str) -> None:
        station = self._station
        if station is not None:
            station.post_status(level, SOURCE, message)
        else:
            log.info("plc: %s", message)
