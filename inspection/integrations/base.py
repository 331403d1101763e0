"""What a trigger input is: something outside the station that says "a part is here, now"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

FireTrigger = Callable[[], int]
"""Asks the station for one part now; returns its trigger id. Raises LinesideError when the
station cannot take a trigger (stopped, or not software-triggered)."""


class TriggerInput(Protocol):
    """A source of software triggers: the local command socket, later a PLC input (a Modbus coil,
    an OPC UA node). The station starts it when it runs with a software trigger and stops it
    first when it stops. ``fire`` may be called from any thread; it never blocks for long."""

    name: str

    def start(self, fire: FireTrigger) -> None: ...

    def stop(self, timeout_s: float) -> None: ...
