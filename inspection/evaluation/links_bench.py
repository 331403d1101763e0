"""``lineside bench --links``: what telling the line costs, measured against real peers started
here on 127.0.0.1.

``plc_ms`` is trigger-to-OK/NG on the PLC beyond the inspection's own time, over ``parts`` parts:
a PLC (a pymodbus client, polling as fast as the link answers) writes Trigger with its part id,
polls the status block until Result ready, acknowledges and releases, as a PLC program does. For
each part, the station's own time, from the trigger to the decision (``Timing.triggered_ns`` to
``decided_ns``: the camera's next frame and the tools), is taken from the round trip; what is left
is the link's: the Modbus write, the handshake, dispatching and committing the record (the PLC
hears only of recorded parts) and the status read. Both ends share this process's monotonic
clock, so the subtraction is exact. The station is the demo's simulated line with its code
reader, software-triggered, recording to a scratch database as on a station.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from pymodbus.client import ModbusTcpClient

from inspection.evaluation.outputs_bench import OUTAGE_S, PHASE_S, bench_outputs, line_recipe
from inspection.evaluation.peers import free_port
from inspection.integrations.plc.link import PlcLink
from inspection.integrations.plc.signals import (
    STATUS_REGISTERS,
    Control,
    ControlBit,
    Status,
    StatusBit,
)
from inspection.paths import Paths
from inspection.pipeline.station import Station
from inspection.recipe import Recipe
from inspection.recipe.plc import PlcSettings
from inspection.types import Inspection, StatusUpdate

log = logging.getLogger(__name__)

LINK_PARTS = 1000
CAMERA_HZ = 20.0
"""The simulated camera's free-running rate: a trigger waits for its next frame (at most 50 ms,
part of the station's own time), and rendering frames leaves the tools most of two cores."""
WAIT_S = 10.0

Say = Callable[[str], None]


def plc_recipe() -> Recipe:
    """The demo station's code reader on its simulated line, taking parts by software trigger."""
    return line_recipe([], rate_hz=CAMERA_HZ, trigger={"type": "software", "timeout_s": 2.0})


class _ByTrigger:
    """The station's parts by trigger id (a listener: core threads)."""

    def __init__(self) -> None:
        self.parts: dict[int, Inspection] = {}
        self.arrived = threading.Condition()

    def on_inspection(self, inspection: Inspection) -> None:
        if inspection.trigger_id is not None:
            with self.arrived:
                self.parts[inspection.trigger_id] = inspection
                self.arrived.notify_all()

    def on_status(self, update: StatusUpdate) -> None:
        pass


def _new_parts(parts: dict[int, Inspection], before: set[int]) -> set[int]:
    return set(parts) - before


def _wait_bits(client: ModbusTcpClient, address: int, want: StatusBit, clear: bool) -> list[int]:
    deadline = time.monotonic() + WAIT_S
    while True:
        got = client.read_holding_registers(address, count=STATUS_REGISTERS)
        if got.isError():
            raise RuntimeError(f"the station refused the status read: {got}")
        regs = list(got.registers)
        bits = StatusBit(regs[Status.WORD])
        if (not bits & want) if clear else (bits & want == want):
            return regs
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"the station's status {bits!r} (error {regs[Status.ERROR_CODE]}) never "
                f"{'cleared' if clear else 'set'} {want!r} within {WAIT_S:g} s"
            )


def bench_plc(folder: Path, parts: int = LINK_PARTS, say: Say = lambda _m: None) -> dict[str, Any]:
    """Trigger-to-OK/NG over ``parts`` handshakes against the station's Modbus server."""
    home = folder / "home"
    paths = Paths(home / "config", home / "data", home / "logs", home / "cache").ensure()
    recipe = plc_recipe()
    settings = PlcSettings(role="server", port=free_port(), ack_timeout_s=30.0)
    link = PlcLink(settings, on_changeover=lambda n, p: None)
    seen = _ByTrigger()
    link.open()
    station = Station(recipe, paths=paths, trigger_inputs=[link], line_sinks=[link])
    link.attach(station, [t.id for t in recipe.tools])
    station.add_listener(seen)
    station.start()
    client = ModbusTcpClient("127.0.0.1", port=link.port, timeout=5.0, retries=0)
    round_ms: list[float] = []
    own_ms: list[float] = []
    link_ms: list[float] = []
    try:
        if not client.connect():
            raise RuntimeError(f"the station's PLC server on port {link.port} did not answer")
        control, status = settings.control_address, settings.status_address
        for i in range(parts):
            if i % 100 == 0:
                say(f"PLC handshake {i + 1} of {parts}")
            _wait_bits(client, status, StatusBit.READY, clear=False)
            before = set(seen.parts)
            t0 = time.monotonic_ns()
            client.write_registers(control + Control.WORD, [int(ControlBit.TRIGGER), 0, i & 0xFFFF])
            result = _wait_bits(client, status, StatusBit.RESULT_READY, clear=False)
            t1 = time.monotonic_ns()
            if result[Status.PART_ID] != i & 0xFFFF:
                raise RuntimeError(f"part {i}: the station echoed part id {result[Status.PART_ID]}")
            client.write_registers(control + Control.WORD, [int(ControlBit.RESULT_ACK)])
            _wait_bits(client, status, StatusBit.RESULT_READY, clear=True)
            client.write_registers(control + Control.WORD, [0])
            with seen.arrived:
                seen.arrived.wait_for(partial(_new_parts, seen.parts, before), WAIT_S)
                (trigger_id,) = _new_parts(seen.parts, before)
                part = seen.parts[trigger_id]
            own = (part.timing.decided_ns - part.timing.triggered_ns) / 1e6
            total = (t1 - t0) / 1e6
            round_ms.append(total)
            own_ms.append(own)
            link_ms.append(total - own)
    finally:
        client.close()
        station.stop(10.0)
        link.close()
    return {
        "plc_ms": _percentiles(link_ms),
        "plc_round_trip_ms": _percentiles(round_ms),
        "plc_inspection_ms": _percentiles(own_ms),
        "plc_parts": len(link_ms),
    }


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None}
    a = np.asarray(values)
    return {
        "p50": round(float(np.percentile(a, 50)), 3),
        "p99": round(float(np.percentile(a, 99)), 3),
    }


def bench_links(
    parts: int = LINK_PARTS,
    *,
    outage_s: float = OUTAGE_S,
    phase_s: float = PHASE_S,
    mqtt_qos: int = 1,
    say: Say = lambda _m: None,
) -> dict[str, Any]:
    """Every ``--links`` figure: the PLC's, then MQTT's and PostgreSQL's (``outputs_bench``)."""
    with tempfile.TemporaryDirectory(prefix="lineside-bench-links-") as tmp:
        plc = bench_plc(Path(tmp) / "plc", parts, say)
        outputs = bench_outputs(
            Path(tmp) / "outputs", phase_s=phase_s, outage_s=outage_s, mqtt_qos=mqtt_qos, say=say
        )
    return {"plc_ms": plc.pop("plc_ms")} | outputs | plc
