"""The MQTT output against a real mosquitto on 127.0.0.1: results in part order, QoS 1, nothing
lost when the broker is killed mid-run, a retained status with a last will, alarms, credentials,
and every message checked against the JSON Schemas published in resources/schemas."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from support.mosquitto import Broker, Subscriber, mosquitto_binary
from support.mqtt_runner import mqtt_runner, wait_for
from support.tcp_gate import TcpGate

from inspection.integrations.output_runner import OutputRunner, OutputState
from inspection.paths import resources_dir
from inspection.types import Inspection, StatusLevel, StatusUpdate, ToolResult, Verdict

pytestmark = pytest.mark.skipif(
    mosquitto_binary() is None, reason="mosquitto is installed by installer/linux/setup.sh test"
)

STATION = "st-7"
ROOT = f"plant-a/line-2/{STATION}"


def part(seq: int) -> Inspection:
    verdict = Verdict.FAIL if seq % 5 == 0 else Verdict.PASS
    return Inspection(
        inspection_id=f"part-{seq:05d}",
        station=STATION,
        part_seq=seq,
        verdict=verdict,
        reason="surface: defect found" if verdict is Verdict.FAIL else "",
        tool_results=(
            ToolResult(
                tool_id="surface",
                tool_type="anomaly",
                verdict=verdict,
                reason="defect found" if verdict is Verdict.FAIL else "",
                measurements={"score": 0.1 + seq / 1000, "nan_is_left_out": float("nan")},
            ),
        ),
        frames=(),
        recipe_name="demo",
        recipe_version="3",
        wall_time=1_780_000_000.0 + seq,
        lot="L-42",
    )


def schema(name: str) -> dict:
    return json.loads((resources_dir() / "schemas" / f"mqtt-{name}.schema.json").read_text())


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    b = Broker(tmp_path / "broker")
    b.start()
    yield b
    b.kill()


@pytest.fixture
def gate(broker: Broker) -> Iterator[TcpGate]:
    """The cable between the station and the broker (open at first)."""
    g = TcpGate(broker.port)
    yield g
    g.stop()


def output(
    port: int, tmp_path: Path, states: list[OutputState] | None = None, **extra: object
) -> OutputRunner:
    return mqtt_runner(port, tmp_path, station=STATION, states=states, **extra)


def test_results_arrive_in_order_and_every_message_matches_its_schema(
    broker: Broker, tmp_path: Path, closing: list
) -> None:
    sub = Subscriber(broker.port, f"{ROOT}/#")
    closing.append(sub.close)
    states: list[OutputState] = []
    runner = output(broker.port, tmp_path, states)
    runner.start()
    closing.append(runner.stop)
    for seq in range(40):
        runner.on_inspection(part(seq))
    wait_for(lambda: len(sub.on("/result")) == 40)
    # alarms go while the broker is there (the station's alarm list keeps them otherwise)
    runner.on_status(StatusUpdate(level=StatusLevel.ALARM, source="cam1", message="camera lost"))

    results = sub.on("/result")
    assert [m["part_seq"] for m in results] == list(range(40))
    for m in results:
        jsonschema.validate(m, schema("result"))
    first = results[0]
    assert first["inspection_id"] == "part-00000" and first["verdict"] == "FAIL"
    assert first["tools"][0]["values"] == {"score": 0.1}  # NaN is not JSON: left out
    assert first["time"].startswith("2026-05-28T") and first["lot"] == "L-42"
    wait_for(lambda: len(sub.on("/alarm")) == 1)
    alarm = sub.on("/alarm")[0]
    jsonschema.validate(alarm, schema("alarm"))
    assert (alarm["level"], alarm["source"], alarm["message"]) == ("alarm", "cam1", "camera lost")
    online = sub.on("/status")
    assert online and online[0]["state"] == "online"
    jsonschema.validate(online[0], schema("status"))
    assert runner.state().state == "connected" and runner.state().sent == 40
    assert "connected" in [s.state for s in states]
    assert "failed" not in [s.state for s in states]

    # a clean stop says offline, retained: a subscriber that comes later reads it at once
    runner.stop()
    later = Subscriber(broker.port, f"{ROOT}/status")
    closing.append(later.close)
    wait_for(lambda: bool(later.on("/status")))
    assert later.on("/status")[-1]["state"] == "offline"
    assert later.messages[-1][2] is True  # retained


def test_a_result_that_cannot_be_told_is_counted_and_the_next_ones_go(
    broker: Broker, tmp_path: Path, closing: list
) -> None:
    """Messages are made on the output's own thread: a part whose values cannot be put into
    JSON is counted as lost to this output there, and never stops the parts behind it."""
    sub = Subscriber(broker.port, f"{ROOT}/result")
    closing.append(sub.close)
    runner = output(broker.port, tmp_path)
    runner.start()
    closing.append(runner.stop)
    broken = part(1)
    broken = Inspection(
        **{
            **{f: getattr(broken, f) for f in broken.__dataclass_fields__},
            "tool_results": (
                ToolResult(
                    tool_id="surface",
                    tool_type="anomaly",
                    verdict=Verdict.PASS,
                    reason="",
                    measurements=42,  # type: ignore[arg-type]  # not a mapping: no message
                ),
            ),
        }
    )
    for p in (part(0), broken, part(2)):
        runner.on_inspection(p)
    wait_for(lambda: len(sub.on("/result")) == 2)
    assert [m["part_seq"] for m in sub.on("/result")] == [0, 2]
    wait_for(lambda: runner.state().dropped == 1)
    assert runner.state().sent == 2


def test_a_broker_killed_mid_run_loses_nothing_and_order_holds(
    broker: Broker, gate: TcpGate, tmp_path: Path, closing: list
) -> None:
    sub = Subscriber(broker.port, f"{ROOT}/result")
    closing.append(sub.close)
    states: list[OutputState] = []
    runner = output(gate.port, tmp_path, states)
    runner.start()
    closing.append(runner.stop)
    for seq in range(100):
        runner.on_inspection(part(seq))
    wait_for(lambda: len(sub.on("/result")) >= 30)

    broker.kill()  # mid-run: results still being sent, more keep coming
    gate.close()
    for seq in range(100, 200):
        runner.on_inspection(part(seq))
    wait_for(lambda: runner.state().state == "failed")
    down = runner.state()
    assert down.waiting > 0 and "not reached" in down.describe()
    sub.close()

    # the broker is back; the subscriber is there before the station may reach it again
    broker.start()
    sub2 = Subscriber(broker.port, f"{ROOT}/result")
    closing.append(sub2.close)
    gate.open()
    wait_for(lambda: runner.state().waiting == 0 and runner.state().state == "connected")

    got = [m["inspection_id"] for m in sub.on("/result") + sub2.on("/result")]
    assert set(got) == {f"part-{s:05d}" for s in range(200)}  # nothing lost
    # at most the one result in flight at the kill reaches the broker twice (at-least-once)
    assert len(got) - len(set(got)) <= 1
    for received in (sub.on("/result"), sub2.on("/result")):
        seqs = [m["part_seq"] for m in received]
        assert seqs == sorted(seqs)  # in part order on each side of the outage
    assert "failed" in [s.state for s in states] and states[-1].state in {"connected", "buffering"}


def test_the_last_will_says_offline_when_the_station_vanishes(
    broker: Broker, gate: TcpGate, tmp_path: Path, closing: list
) -> None:
    runner = output(gate.port, tmp_path, keepalive_s=5)
    runner.start()
    closing.append(runner.stop)
    wait_for(lambda: runner.state().state == "connected")
    sub = Subscriber(broker.port, f"{ROOT}/status")
    closing.append(sub.close)
    wait_for(lambda: bool(sub.on("/status")))
    assert sub.on("/status")[-1]["state"] == "online"
    gate.close()  # the cable is pulled: no goodbye
    wait_for(lambda: sub.on("/status")[-1]["state"] == "offline", timeout_s=15)
    jsonschema.validate(sub.on("/status")[-1], schema("status"))


def test_an_outage_longer_than_the_outbox_drops_the_oldest_and_counts_them(
    broker: Broker, gate: TcpGate, tmp_path: Path, closing: list
) -> None:
    gate.close()
    runner = output(gate.port, tmp_path, outbox_max_parts=10)
    runner.start()
    closing.append(runner.stop)
    for seq in range(25):
        runner.on_inspection(part(seq))
    wait_for(lambda: runner.state().dropped == 15)
    state = runner.state()
    assert state.state == "failed" and state.waiting == 10
    assert "15 lost (outbox full)" in state.describe()
    sub = Subscriber(broker.port, f"{ROOT}/result")
    closing.append(sub.close)
    gate.open()
    wait_for(lambda: len(sub.on("/result")) == 10)
    assert [m["part_seq"] for m in sub.on("/result")] == list(range(15, 25))  # the newest kept


def test_results_kept_at_a_stop_go_first_at_the_next_start(
    broker: Broker, gate: TcpGate, tmp_path: Path, closing: list
) -> None:
    gate.close()
    first = output(gate.port, tmp_path)
    first.start()
    for seq in range(5):
        first.on_inspection(part(seq))
    wait_for(lambda: first.state().waiting == 5)
    assert first.stop()
    sub = Subscriber(broker.port, f"{ROOT}/result")
    closing.append(sub.close)
    gate.open()
    again = output(gate.port, tmp_path)  # the station started again (same outbox file)
    again.start()
    closing.append(again.stop)
    again.on_inspection(part(5))
    wait_for(lambda: len(sub.on("/result")) == 6)
    assert [m["part_seq"] for m in sub.on("/result")] == list(range(6))


def test_credentials_from_the_environment_and_a_refusal_named(
    tmp_path: Path, closing: list, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    b = Broker(tmp_path / "broker", passwords={"station": "s3cret-pw"})
    b.start()
    closing.append(b.kill)
    monkeypatch.setenv("LINESIDE_TEST_MQTT_PW", "s3cret-pw")
    caplog.set_level(logging.DEBUG)
    good = output(b.port, tmp_path / "a", username="station", password_env="LINESIDE_TEST_MQTT_PW")
    good.start()
    closing.append(good.stop)
    wait_for(lambda: good.state().state == "connected")

    bad = output(b.port, tmp_path / "b", username="station", password="wrong-pw", client_id="other")
    bad.start()
    closing.append(bad.stop)
    wait_for(lambda: bad.state().state == "failed")
    assert "refused" in bad.state().reason.lower()
    assert "s3cret-pw" not in caplog.text and "wrong-pw" not in caplog.text


def test_a_missing_password_variable_is_named(tmp_path: Path) -> None:
    from inspection.errors import LinesideError

    with pytest.raises(LinesideError, match="LINESIDE_NO_SUCH_VAR"):
        output(1883, tmp_path, username="u", password_env="LINESIDE_NO_SUCH_VAR")


def test_an_idle_output_stays_connected_past_its_keepalive_and_sees_a_broker_go(
    broker: Broker, tmp_path: Path, closing: list
) -> None:
    """Between results nothing is published, yet the broker is pinged (a client silent for 1.5
    keepalives is dropped by the broker) and a broker that goes away shows at once, not at the
    next part."""
    sub = Subscriber(broker.port, f"{ROOT}/result")
    closing.append(sub.close)
    states: list[OutputState] = []
    runner = output(broker.port, tmp_path, states, keepalive_s=5)
    runner.start()
    closing.append(runner.stop)
    runner.on_inspection(part(1))
    wait_for(lambda: len(sub.on("/result")) == 1)
    time.sleep(14.0)  # idle for well over 1.5 × 5 s (mosquitto checks now and then)
    assert [s.state for s in states if s.state != "starting"] == ["connected"]
    runner.on_inspection(part(2))
    wait_for(lambda: len(sub.on("/result")) == 2)
    assert [s.state for s in states if s.state != "starting"] == ["connected"]  # never lost

    broker.kill()
    gone = time.monotonic()
    wait_for(lambda: runner.state().state == "failed", timeout_s=10)
    assert time.monotonic() - gone < 5.0
    assert runner.state().sent == 2
