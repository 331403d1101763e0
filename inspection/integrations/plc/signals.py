"""The signal map between the PLC and the station: which holding register and bit means what.

Two blocks of holding registers, each at an address the station settings give (``plc:``):

* the **control block**, written by the PLC: a control word (Trigger, Result acknowledge, Reset
  alarms), the recipe number (changeover), the PLC's own part id (echoed back with the result)
  and the batch/lot number as 16 ASCII characters;
* the **status block**, written by the station: a status word (Ready, Busy, Result ready, OK,
  NG, Error, Alarm, Heartbeat, Changeover), the error code, the echoed part id, the station's
  part number, one OK bit per tool, the running recipe's number and three counters.

Bits are named by their value in the word (bit 0 = 1). The README (section "Telling the line")
shows the same map with a timing diagram; a test holds the two together.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

OUTPUT_ID = "PLC"
"""The id the PLC link's state goes under, beside the outputs' (the operator screen looks for
it); here, beside the signal map, so a reader need not load pymodbus."""

LOT_REGISTERS = 8
LOT_CHARS = 2 * LOT_REGISTERS


class Control(IntEnum):
    """Offsets in the control block (PLC → station)."""

    WORD = 0
    RECIPE = 1
    PART_ID = 2
    LOT = 3  # .. LOT + LOT_REGISTERS - 1


CONTROL_REGISTERS = Control.LOT + LOT_REGISTERS


class ControlBit(IntFlag):
    """Bits of the control word. Each acts on its rising edge (0 → 1)."""

    TRIGGER = 1 << 0
    RESULT_ACK = 1 << 1
    RESET_ALARMS = 1 << 2


CONTROL_BITS = int(ControlBit.TRIGGER | ControlBit.RESULT_ACK | ControlBit.RESET_ALARMS)


class Status(IntEnum):
    """Offsets in the status block (station → PLC)."""

    WORD = 0
    ERROR_CODE = 1
    PART_ID = 2
    PART_NUMBER_HIGH = 3
    PART_NUMBER_LOW = 4
    TOOLS_OK = 5
    RECIPE = 6
    TRIGGERS_REFUSED = 7
    RESULTS_NOT_ACKNOWLEDGED = 8
    HEARTBEAT_COUNT = 9


STATUS_REGISTERS = Status.HEARTBEAT_COUNT + 1


class StatusBit(IntFlag):
    """Bits of the status word."""

    READY = 1 << 0
    BUSY = 1 << 1
    RESULT_READY = 1 << 2
    OK = 1 << 3
    NG = 1 << 4
    ERROR = 1 << 5
    ALARM = 1 << 6
    HEARTBEAT = 1 << 7
    CHANGEOVER = 1 << 8


class ErrorCode(IntEnum):
    """The error code register: why the Error bit is set (0: it is not)."""

    NONE = 0
    PART_NOT_INSPECTED = 1
    TRIGGER_WHILE_BUSY = 2
    NOT_READY = 3
    UNKNOWN_RECIPE = 4
    RECIPE_NOT_LOADED = 5
    NOT_ACKNOWLEDGED = 6
    BAD_WRITE = 7
    STATION_STOPPED = 8
    NO_RESULT = 9


ERROR_TEXT: dict[ErrorCode, str] = {
    ErrorCode.NONE: "no error",
    ErrorCode.PART_NOT_INSPECTED: "the part could not be inspected (ERROR): treat as a reject",
    ErrorCode.TRIGGER_WHILE_BUSY: "trigger while busy or while a result waits for its acknowledge",
    ErrorCode.NOT_READY: "trigger while not ready (stopped, changing over or not recording)",
    ErrorCode.UNKNOWN_RECIPE: "recipe number not in the station's recipe table",
    ErrorCode.RECIPE_NOT_LOADED: "the recipe of that number could not be loaded",
    ErrorCode.NOT_ACKNOWLEDGED: "a result was not acknowledged in time",
    ErrorCode.BAD_WRITE: "a write to the control block was refused",
    ErrorCode.STATION_STOPPED: "the station stopped before the part's result",
    ErrorCode.NO_RESULT: "no recorded result for the trigger in time: treat as a reject",
}

TOOL_BITS = 16
"""Tools with an OK bit: the recipe's first 16, in recipe order (bit 0 = the first)."""


def lot_from_registers(registers: list[int]) -> str:
    """The lot number the PLC wrote: two ASCII characters a register, high byte first, padded
    with NUL or spaces. ValueError naming the register when a character is not printable."""
    chars: list[str] = []
    for i, reg in enumerate(registers):
        for byte in (reg >> 8, reg & 0xFF):
            if byte == 0:
                continue
            if not 0x20 <= byte < 0x7F:
                raise ValueError(
                    f"lot register {i + 1} of {LOT_REGISTERS} holds byte 0x{byte:02X}, "
                    "not a printable ASCII character"
                )
            chars.append(chr(byte))
    return "".join(chars).strip()


def lot_to_registers(lot: str) -> list[int]:
    """``lot`` as the PLC writes it (for tests and the PLC programmer's reference)."""
    data = lot.encode("ascii")
    if len(data) > LOT_CHARS:
        raise ValueError(f"a lot number has at most {LOT_CHARS} characters, got {len(data)}")
    data = data.ljust(LOT_CHARS, b"\0")
    return [(data[i] << 8) | data[i + 1] for i in range(0, LOT_CHARS, 2)]
