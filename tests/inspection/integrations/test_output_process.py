"""An output in a process of its own, against a real mosquitto on 127.0.0.1: its work is not in
the station's process, its results arrive in order, its log reaches the station's, what was handed
over survives a stop, and a child that dies is started again without losing what it kept."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import sqlite3
import threading
from pathlib import Path

import pytest
from support.mosquitto import Broker, Subscriber, mosquitto_binary
from support.mqtt_runner import passing_part, wait_for
from support.tcp_gate import TcpGate

from inspection.errors import LinesideError
from inspection.integrations.mqtt import mqtt_output
from inspection.integrations.output_process import OutputProcess
from inspection.integrations.output_runner import OutputState
from inspection.pipeline.priority import behind_the_screen
from inspection.recipe import MqttOutputSettings
from inspection.types import Inspection, StatusLevel, StatusUpdate

pytestmark = pytest.mark.skipif(
    mosquitto_binary() is None, reason="mosquitto is installed by installer/linux/setup.sh test"
)

STATION = "st-9"


def part(seq: int) -> Inspection:
    return passing_part(seq, STATION)


def make(port: int, tmp_path: Path, **extra: object) -> functools.partial:
    settings = MqttOutputSettings.model_validate(
        {"type": "mqtt", "port": port, "site": "p", "line": "l", "retry_s": 0.2, **extra}
    )
    return functools.partial(
        mqtt_output, settings, station=STATION, recipe="demo", outbox_folder=tmp_path / "outbox"
    )


def on_disk(tmp_path: Path) -> int:
    """Results in the output's outbox file, read beside the child that writes it."""
    path = tmp_path / "outbox" / "mqtt.sqlite"
    if not path.exists():
        return 0
    with contextlib.closing(sqlite3.connect(path, timeout=5)) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])


@pytest.fixture
def broker(tmp_path: Path):
    b = Broker(tmp_path / "broker")
    b.start()
    yield b
    b.kill()


def test_the_output_works_in_another_process_and_its_results_arrive_in_order(
    broker: Broker, tmp_path: Path, closing: list, caplog: pytest.LogCaptureFixture
) -> None:
    sub = Subscriber(broker.port, f"p/l/{STATION}/+")
    closing.append(sub.close)
    states: list[OutputState] = []
    output = OutputProcess(make(broker.port, tmp_path), on_state=states.append)
    with caplog.at_level(logging.INFO):
        output.start(on_thread=lambda: behind_the_screen(7))
        closing.append(output.stop)
        for seq in range(200):
            output.on_inspection(part(seq))
        wait_for(lambda: len(sub.on("/result")) == 200)
        wait_for(lambda: output.state().sent == 200 and output.state().waiting == 0)
        # an alarm goes by the feed thread too, once the child is connected
        output.on_status(
            StatusUpdate(level=StatusLevel.ALARM, source="cam1", message="camera lost")
        )
        wait_for(lambda: len(sub.on("/alarm")) == 1)
    assert sub.on("/alarm")[0]["message"] == "camera lost"
    assert [m["part_seq"] for m in sub.on("/result")] == list(range(200))
    # the network client and the outbox are the child's: no runner thread here
    child = output._process
    assert child is not None and child.is_alive() and child.pid != os.getpid()
    names = {t.name for t in threading.enumerate()}
    assert "output-mqtt" not in names and "output-mqtt-feed" in names
    # behind the line's threads, as the station asks (the child takes the feed thread's nice)
    assert os.getpriority(os.PRIO_PROCESS, child.pid) >= os.getpriority(os.PRIO_PROCESS, 0) + 7
    # the child's log is the station's log
    assert any("connected to MQTT broker" in r.getMessage() for r in caplog.records)
    assert states[-1].state == "connected"
    assert output.stop(10.0)
    assert not child.is_alive() and output.state().state == "stopped"


def test_results_handed_over_just_before_a_stop_go_at_the_next_start(
    broker: Broker, tmp_path: Path, closing: list
) -> None:
    gate = TcpGate(broker.port)
    closing.append(gate.stop)
    gate.close()  # the broker is out of reach: every result waits
    sub = Subscriber(broker.port, f"p/l/{STATION}/result")
    closing.append(sub.close)
    first = OutputProcess(make(gate.port, tmp_path))
    first.start()
    for seq in range(40):
        first.on_inspection(part(seq))
    assert first.stop(10.0)  # at once: most are still in the station's queue or the pipe
    second = OutputProcess(make(gate.port, tmp_path))
    second.start()
    closing.append(second.stop)
    # once started, the station knows what the child's outbox holds (not 0 for a moment)
    assert second.state().waiting == 40
    gate.open()
    wait_for(lambda: len(sub.on("/result")) == 40)
    assert [m["part_seq"] for m in sub.on("/result")] == list(range(40))
    wait_for(lambda: second.state().waiting == 0)


def test_a_child_that_dies_is_started_again_and_loses_nothing_it_kept(
    broker: Broker, tmp_path: Path, closing: list
) -> None:
    gate = TcpGate(broker.port)
    closing.append(gate.stop)
    gate.close()  # the cable is out: results wait on the child's disk
    sub = Subscriber(broker.port, f"p/l/{STATION}/result")
    closing.append(sub.close)
    states: list[OutputState] = []
    output = OutputProcess(make(gate.port, tmp_path, ack_timeout_s=0.5), on_state=states.append)
    output.start()
    closing.append(output.stop)
    for seq in range(30):
        output.on_inspection(part(seq))
    wait_for(lambda: output.state().waiting == 30 and output.state().state == "failed")
    wait_for(lambda: on_disk(tmp_path) == 30)  # all of them in the child's outbox
    child = output._process
    assert child is not None and child.pid is not None
    os.kill(child.pid, signal.SIGKILL)
    wait_for(lambda: output._process is not child and output._process.is_alive())
    assert any("ended unexpectedly" in s.reason for s in states)
    gate.open()  # the new child has the 30 on its disk
    wait_for(lambda: len(sub.on("/result")) == 30)
    assert [m["part_seq"] for m in sub.on("/result")] == list(range(30))
    assert output.state().dropped == 0


def test_an_outbox_that_cannot_be_opened_is_named_and_the_child_ends(tmp_path: Path) -> None:
    (tmp_path / "outbox").write_text("a file where the outbox folder goes")
    output = OutputProcess(make(1883, tmp_path))
    with pytest.raises(LinesideError, match="outbox"):
        output.start()
    assert output._process is not None and not output._process.is_alive()
