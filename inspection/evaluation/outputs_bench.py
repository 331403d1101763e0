"""The MQTT and PostgreSQL figures of ``lineside bench --links``, against a mosquitto broker and a
PostgreSQL server started here on 127.0.0.1.

The line is the demo's code reader on its simulated line, every frame a part, as fast as the
station inspects (CPU-bound, so a cost the outputs add shows as fewer parts per second), recording
to its local SQLite as a station does.

1. The line without outputs and with both, in turns (``ROUNDS`` of each, ``PHASE_S`` in all for
   each): ``inspection_slowdown`` is 1 - (parts/s with) / (parts/s without), the same recipe and
   machine, one run. The broker, the database and the subscriber that checks what arrived run
   on this PC too (the subscriber in a process of its own, not sharing the station's interpreter
   lock), so their own CPU counts against the station here; on a line they are the plant's
   machines. ``waiting_at_round_end``: what each output still had to send as each round ended
   (an output that fell behind would flatter the slowdown).
2. Both peers stop for ``outage_s`` while the line runs (the broker with a clean stop, keeping
   its sessions; PostgreSQL with pg_ctl's fast stop), then start again. ``catch_up_s`` is from the
   peer's return until the output has nothing waiting; ``*_per_s`` is the rate the output sent at
   while it caught up (results/s, the line running and SQLite writing beside it): what one
   station's output sustains. ``lost`` and ``duplicates`` compare what arrived (a subscriber
   with a persistent session; the database's rows) with every part the station recorded, less
   what was still in an output's outbox when the station stopped (``kept_at_stop``: it goes
   first at the next start).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspection.evaluation.peers import Broker, PostgresServer, SubscriberProcess
from inspection.integrations.outbox import Outbox
from inspection.integrations.output_runner import OutputState
from inspection.paths import Paths, demo_recipe
from inspection.pipeline.station import Station
from inspection.recipe import Recipe, load_recipe
from inspection.types import Inspection, StatusUpdate

log = logging.getLogger(__name__)

PHASE_S = 60.0
"""Seconds of the line without outputs, and as many with them, in ``ROUNDS`` turns each."""
ROUNDS = 2
OUTAGE_S = 60.0
CATCH_UP_LIMIT_S = 300.0
ARRIVAL_WAIT_S = 10.0
"""After the station stopped, how long the subscriber may go without a new result before
whatever has not arrived counts as lost."""
MIN_RATE_S = 0.5
"""An output that sent all it had in less than this after its first result is timed from its
peer's return instead (a short outage on a loaded PC: all of it between two looks)."""
PLANT_DB = "plant"
SCHEMA = "bench"

Say = Callable[[str], None]


def line_recipe(
    outputs: list[dict[str, Any]],
    *,
    rate_hz: float = 0.0,
    trigger: dict[str, Any] | None = None,
) -> Recipe:
    """The demo's code reader on its simulated line (``rate_hz`` 0: as fast as it inspects;
    ``trigger``: every frame a part unless given) with ``outputs``."""
    demo = load_recipe(demo_recipe())
    data = demo.model_dump()
    cam = data["cameras"][0]
    cam["source"] = {**cam["source"], "rate_hz": rate_hz, "parts": None}
    data["tools"] = [t.model_dump() for t in demo.tools if t.type == "codes"]
    data["drift"] = []  # the demo watches its surface tool, which is not here
    data["outputs"] = outputs
    if trigger is not None:
        data["trigger"] = trigger
    return Recipe.model_validate(data)


@dataclass
class _Parts:
    """Every part the station dispatched (a listener: core threads)."""

    ids: list[str] = field(default_factory=list)

    def on_inspection(self, inspection: Inspection) -> None:
        self.ids.append(inspection.inspection_id)

    def on_status(self, update: StatusUpdate) -> None:
        pass


def _run(recipe: Recipe, paths: Paths, seconds: float) -> tuple[Station, _Parts, float]:
    """Start the station and count parts for ``seconds`` after its first part."""
    parts = _Parts()
    station = Station(recipe, paths=paths)
    station.add_listener(parts)
    station.start()
    deadline = time.monotonic() + 60
    while not parts.ids:
        if time.monotonic() > deadline:
            station.stop(10)
            raise RuntimeError("the line gave no part within 60 s")
        time.sleep(0.05)
    n0, t0 = len(parts.ids), time.monotonic()
    time.sleep(seconds)
    return station, parts, (len(parts.ids) - n0) / (time.monotonic() - t0)


def _state(station: Station, output_id: str) -> OutputState:
    return next(s for s in station.outputs() if s.output_id == output_id)


def _catch_up(station: Station, back_at: dict[str, float]) -> dict[str, dict[str, float]]:
    """For each output, watched side by side: seconds from its peer's return (``back_at``)
    until nothing waits, and the rate it sent at meanwhile (from its first result sent)."""
    start_sent = {o: _state(station, o).sent for o in back_at}
    first: dict[str, tuple[float, int]] = {}
    done: dict[str, dict[str, float]] = {}
    while len(done) < len(back_at):
        now = time.monotonic()
        for output_id, back in back_at.items():
            if output_id in done:
                continue
            state = _state(station, output_id)
            if output_id not in first and state.sent > start_sent[output_id]:
                first[output_id] = (now, state.sent)
            if state.state != "failed" and state.waiting == 0 and output_id in first:
                t0, sent0 = first[output_id]
                if now - t0 < MIN_RATE_S:  # all sent between two looks: timed from the return
                    t0, sent0 = back, start_sent[output_id]
                rate = (state.sent - sent0) / (now - t0)
                done[output_id] = {"catch_up_s": now - back, "per_s": rate}
            elif now - back > CATCH_UP_LIMIT_S:
                raise RuntimeError(f"{output_id} did not catch up within {CATCH_UP_LIMIT_S:g} s")
        time.sleep(0.02)
    return done


def bench_outputs(
    folder: Path,
    *,
    phase_s: float = PHASE_S,
    outage_s: float = OUTAGE_S,
    mqtt_qos: int = 1,
    say: Say = lambda _m: None,
) -> dict[str, Any]:
    """MQTT and PostgreSQL: slowdown, sustained rate and an outage of each (see the module)."""
    say("starting mosquitto and PostgreSQL on 127.0.0.1")
    broker = Broker(folder / "broker", persistence=True)
    broker.start()
    pg = PostgresServer().init().start()
    subscriber: SubscriberProcess | None = None
    try:
        pg.sql(f"CREATE DATABASE {PLANT_DB}")
        # in a process of its own, as the plant's would be on another machine
        subscriber = SubscriberProcess(broker.port, "bench/line/#", session=True, qos=mqtt_qos)
        outputs = [
            {"type": "mqtt", "port": broker.port, "site": "bench", "line": "line", "qos": mqtt_qos},
            {
                "type": "postgres",
                "port": pg.port,
                "dbname": PLANT_DB,
                "user": "lineside",
                "password": pg.password,
                "db_schema": SCHEMA,
            },
        ]
        # without and with outputs taken in turns, so that the machine's own drift (other
        # work, memory reclaim) weighs on both alike
        rates: dict[str, list[float]] = {"without": [], "with": []}
        peers_busy: list[float] = []  # CPU seconds of the broker and the database per second
        behind: list[dict[str, int]] = []
        for i in range(ROUNDS):
            say(f"round {i + 1} of {ROUNDS}: the line without outputs, {phase_s / ROUNDS:g} s")
            plain, _, rate = _run(line_recipe([]), _paths(folder / f"plain{i}"), phase_s / ROUNDS)
            plain.stop(10)
            rates["without"].append(rate)
            say(f"round {i + 1} of {ROUNDS}: with MQTT and PostgreSQL, {phase_s / ROUNDS:g} s")
            peer_cpu = broker.cpu_seconds() + pg.cpu_seconds() + subscriber.cpu_seconds()
            t0 = time.monotonic()
            station, parts, rate = _run(
                line_recipe(outputs), _paths(folder / f"out{i}"), phase_s / ROUNDS
            )
            rates["with"].append(rate)
            # an output that fell behind the line would flatter the slowdown: say what waited
            behind.append({o.output_id: o.waiting for o in station.outputs()})
            peers_busy.append(
                (broker.cpu_seconds() + pg.cpu_seconds() + subscriber.cpu_seconds() - peer_cpu)
                / (time.monotonic() - t0)
            )
            if i < ROUNDS - 1:
                station.stop(30)
        without = sum(rates["without"]) / ROUNDS
        with_outputs = sum(rates["with"]) / ROUNDS
        try:
            say(f"both peers away for {outage_s:g} s, the line running")
            broker.stop()
            pg.stop("fast")
            time.sleep(outage_s)
            waiting = {o.output_id: o.waiting for o in station.outputs()}
            broker.start()
            mqtt_back = time.monotonic()
            pg.start()
            pg_back = time.monotonic()
            say("catching up")
            caught = _catch_up(station, {"mqtt": mqtt_back, "postgres": pg_back})
            mqtt, postgres = caught["mqtt"], caught["postgres"]
        finally:
            station.stop(30)
        recorded = set(parts.ids)
        # what an output had not sent when the station stopped stays in its outbox and goes
        # first at the next start: kept, not lost
        kept = {o: _kept(folder / f"out{ROUNDS - 1}", o) for o in ("mqtt", "postgres")}
        received = _arrived(subscriber, recorded - kept["mqtt"])
        rows = [
            r[0] for r in pg.sql(f"SELECT inspection_id FROM {SCHEMA}.inspections", dbname=PLANT_DB)
        ]
    finally:
        if subscriber is not None:
            subscriber.close()
        broker.kill()
        pg.remove()
    return {
        "mqtt_per_s": round(mqtt["per_s"], 1),
        "postgres_per_s": round(postgres["per_s"], 1),
        "inspection_slowdown": round(1.0 - with_outputs / without, 4),
        "outage": {
            "mqtt": _outage(recorded - kept["mqtt"], received, mqtt["catch_up_s"]),
            "postgres": _outage(recorded - kept["postgres"], rows, postgres["catch_up_s"]),
        },
        "outage_s": outage_s,
        "outage_waiting": waiting,
        "kept_at_stop": {o: len(k) for o, k in kept.items()},
        "parts_per_s_no_outputs": round(without, 2),
        "parts_per_s_outputs": round(with_outputs, 2),
        "parts_per_s_rounds": {k: [round(r, 2) for r in v] for k, v in rates.items()},
        "waiting_at_round_end": behind,
        # the peers run on this PC here, taking CPU from the line that a plant's would not
        "peers_cpu_s_per_s": round(sum(peers_busy) / len(peers_busy), 3),
        "parts_recorded": len(recorded),
        "mqtt_qos": mqtt_qos,
    }


def _kept(home: Path, output_id: str) -> set[str]:
    """Inspection ids still waiting in an output's outbox (the station stopped)."""
    # only read here: the cap (max_items) applies to what is put in
    outbox = Outbox(_paths(home).data / "outbox" / f"{output_id}.sqlite", max_items=1)
    try:
        return {item.key for item in outbox.oldest(len(outbox))}
    finally:
        outbox.close()


def _arrived(subscriber: SubscriberProcess, expected: set[str]) -> list[str]:
    """Inspection ids the subscriber received: once all ``expected`` are there, or when none
    more came for ``ARRIVAL_WAIT_S`` (on a loaded PC the last ones take their time)."""
    count, deadline = -1, 0.0
    while True:
        received = [m["inspection_id"] for m in subscriber.on("/result")]
        if expected <= set(received):
            return received
        if len(received) > count:
            count, deadline = len(received), time.monotonic() + ARRIVAL_WAIT_S
        elif time.monotonic() > deadline:
            return received
        time.sleep(0.5)


def _outage(recorded: set[str], arrived: list[str], catch_up_s: float) -> dict[str, Any]:
    return {
        "lost": len(recorded - set(arrived)),
        "duplicates": len(arrived) - len(set(arrived)),
        "catch_up_s": round(catch_up_s, 2),
    }


def _paths(home: Path) -> Paths:
    return Paths(home / "config", home / "data", home / "logs", home / "cache").ensure()
