"""The station's PLC link (``plc:`` in ``config/station.yaml``): Modbus TCP, either role, and the
table of recipes the PLC selects by number.

It belongs to the station, not to a recipe: the link stays up while the PLC changes recipes, and
a recipe travels between stations whose PLCs number their products differently. The signal map
(which register and bit means what) is in ``inspection/integrations/plc/signals.py`` and in
the README (section "Telling the line").
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from inspection.recipe.common import HostName, Strict

CONTROL_REGISTERS = 11
"""Holding registers the PLC writes (the signal map, ``inspection/integrations/plc/signals.py``,
lays them out; a test holds the two counts together)."""
STATUS_REGISTERS = 10
"""Holding registers the station writes."""
RECIPE_NUMBERS = range(1, 1000)
"""Numbers the PLC may select (0 in the recipe register means "no change")."""


def _recipe_numbers(v: dict[int, Path]) -> dict[int, Path]:
    bad = sorted(n for n in v if n not in RECIPE_NUMBERS)
    if bad:
        raise ValueError(
            f"recipe numbers must be {RECIPE_NUMBERS.start}-{RECIPE_NUMBERS.stop - 1}: "
            f"{', '.join(map(str, bad))}"
        )
    return v


RecipeTable = Annotated[dict[int, Path], AfterValidator(_recipe_numbers)]
"""Recipe number → recipe file: what a PLC or an OPC UA client selects by number."""


class PlcSettings(Strict):
    """How the PLC and the station talk.

    ``role: server``: the station listens on ``host``:``port`` and the PLC reads and writes its
    holding registers. ``role: client``: the station connects to the PLC at ``host``:``port``,
    reads the PLC's control registers every ``poll_ms`` and writes its status registers there.
    """

    role: Literal["server", "client"] = "server"
    host: HostName = "127.0.0.1"
    """Server: the address to listen on (the line network's, e.g. 192.168.0.10; 0.0.0.0: all).
    Client: the PLC's address. The default reaches nothing beyond this PC."""
    port: int = Field(default=502, ge=1, le=65535)
    unit_id: int = Field(default=1, ge=0, le=247)
    """The Modbus unit (slave) id; a server answers every id."""
    control_address: int = Field(default=0, ge=0, le=65000)
    """First holding register of the block the PLC writes (Trigger, Acknowledge, ...)."""
    status_address: int = Field(default=100, ge=0, le=65000)
    """First holding register of the block the station writes (Ready, Busy, OK, NG, ...)."""
    ack_timeout_s: float = Field(default=2.0, gt=0.0, le=600.0)
    """A result the PLC has not acknowledged within this time raises an alarm."""
    heartbeat_s: float = Field(default=1.0, ge=0.1, le=60.0)
    """The heartbeat bit toggles (and its counter counts) this often."""
    poll_ms: int = Field(default=10, ge=2, le=1000)
    """Client role: how often the PLC's control registers are read."""
    timeout_s: float = Field(default=1.0, gt=0.0, le=30.0)
    """Client role: a request the PLC has not answered within this time fails the link."""
    retry_s: float = Field(default=2.0, gt=0.0, le=300.0)
    """Client role: time between two attempts to reach a PLC that is away."""
    watchdog_s: float = Field(default=5.0, ge=0.5, le=600.0)
    """Server role: a connected PLC that has sent no request for this long counts as lost (a
    PLC polls every few ms; one that stopped leaves the line without verdicts)."""
    recipes: RecipeTable = Field(default_factory=dict)
    """Recipe number → recipe file, for changeovers the PLC asks for (a relative file is taken
    from the folder of the station file)."""

    @model_validator(mode="after")
    def _blocks_apart(self) -> PlcSettings:
        control = range(self.control_address, self.control_address + CONTROL_REGISTERS)
        status = range(self.status_address, self.status_address + STATUS_REGISTERS)
        if control.start < status.stop and status.start < control.stop:
            raise ValueError(
                f"control registers {control.start}-{control.stop - 1} and status registers "
                f"{status.start}-{status.stop - 1} overlap"
            )
        return self

    def resolved(self, base: Path) -> PlcSettings:
        """These settings with relative recipe files taken from ``base`` (the folder of the
        station file they were read from)."""
        return self.model_copy(
            update={
                "recipes": {
                    n: base / p if not p.is_absolute() else p for n, p in self.recipes.items()
                }
            }
        )

    def number_of(self, recipe_file: Path) -> int:
        """The number the table gives ``recipe_file`` (0: not in the table)."""
        wanted = recipe_file.resolve()
        for number, path in sorted(self.recipes.items()):
            if path.resolve() == wanted:
                return number
        return 0
