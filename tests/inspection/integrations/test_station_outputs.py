"""A recipe's ``outputs:`` as the station runs them: every part to a real mosquitto in part
order, the output's state in the alarm book, and an output that cannot work stopping the start."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from support.mosquitto import Broker, Subscriber, mosquitto_binary
from support.pipeline_tools import BrightnessTool, frames, make_recipe

from inspection.errors import LinesideError
from inspection.pipeline.station import Station
from inspection.sources.memory import MemorySource

pytestmark = pytest.mark.skipif(
    mosquitto_binary() is None, reason="mosquitto is installed by installer/linux/setup.sh test"
)


def _mqtt(port: int, **extra: object) -> dict:
    return {"type": "mqtt", "port": port, "site": "s", "line": "l", "retry_s": 0.2, **extra}


def _wait(what, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not what():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_every_part_goes_to_the_broker_in_order(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "broker")
    broker.start()
    sub = Subscriber(broker.port, "s/l/+/result")
    try:
        station = Station(
            make_recipe(workers=2, outputs=[_mqtt(broker.port)]),
            store_results=False,
            sources=[MemorySource(frames(30))],
            make_tools=lambda: [BrightnessTool(work_s=0.002)],
        )
        station.start()
        try:
            assert station.wait_finished(30.0)
            _wait(lambda: len(sub.on("/result")) == 30)
            # the output's own count follows (from its process, a moment later)
            _wait(lambda: station.outputs()[0].sent == 30)
            assert station.outputs()[0].output_id == "mqtt"
        finally:
            station.stop(timeout_s=10.0)
        got = sub.on("/result")
        assert [m["part_seq"] for m in got] == list(range(30))
        assert {m["station"] for m in got} == {"station-1"}
        assert [o.state for o in station.outputs()] == ["stopped"]
    finally:
        sub.close()
        broker.kill()


def test_a_broker_away_is_a_warning_that_clears_when_it_is_back(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "broker")  # not started yet
    station = Station(
        make_recipe(workers=1, outputs=[_mqtt(broker.port)]),
        store_results=False,
        sources=[MemorySource(frames(5))],
        make_tools=lambda: [BrightnessTool()],
    )
    station.start()
    try:
        assert station.wait_finished(30.0)  # the line never waits for the broker
        _wait(lambda: any(a.source == "output:mqtt" for a in station.alarms()))
        (alarm,) = [a for a in station.alarms() if a.source == "output:mqtt"]
        assert "MQTT broker 127.0.0.1" in alarm.message and "not reached" in alarm.message
        # the network's word (the count kept on disk follows when parts came first)
        assert "not reached: connection refused" in alarm.message
        _wait(lambda: station.outputs()[0].waiting == 5)  # kept, for the operator screen
        assert "5 result(s) kept on disk" in station.outputs()[0].describe()
        broker.start()
        _wait(lambda: not any(a.source == "output:mqtt" for a in station.alarms()))
        _wait(lambda: station.outputs()[0].sent == 5)
    finally:
        station.stop(timeout_s=10.0)
        broker.kill()


def test_an_output_that_cannot_work_stops_the_start_with_its_reason() -> None:
    station = Station(
        make_recipe(
            workers=1, outputs=[_mqtt(1883, username="u", password_env="LINESIDE_UNSET_PW")]
        ),
        store_results=False,
        sources=[MemorySource(frames(2))],
        make_tools=lambda: [BrightnessTool()],
    )
    with pytest.raises(LinesideError, match="LINESIDE_UNSET_PW"):
        station.start()


def test_an_outbox_that_cannot_be_opened_stops_the_start_and_leaves_nothing_running(
    tmp_path: Path,
) -> None:
    from inspection.paths import user_paths

    paths = user_paths({"LINESIDE_HOME": str(tmp_path / "home")}).ensure()
    (paths.data / "outbox").write_text("a file where the outbox folder goes")
    station = Station(
        make_recipe(workers=1, outputs=[_mqtt(1883)]),
        paths=paths,
        sources=[MemorySource(frames(2))],
        make_tools=lambda: [BrightnessTool()],
    )
    with pytest.raises(LinesideError, match="outbox"):
        station.start()
    assert station.outputs() == []  # and no thread is left (the test's fixture checks)


def test_output_ids_are_unique_in_a_recipe() -> None:
    with pytest.raises(Exception, match="output ids must be unique"):
        make_recipe(outputs=[_mqtt(1883), _mqtt(1884)])
