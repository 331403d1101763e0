"""The MQTT output with ``qos: 2`` against a real mosquitto on 127.0.0.1: every result exactly
once and in part order at a subscriber, through many cut connections, a broker stopped and
started again with its sessions kept, and a station started again against a broker that kept
an old session."""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import time
from pathlib import Path

import pytest
from support.mosquitto import Broker, Subscriber, mosquitto_binary
from support.mqtt_runner import mqtt_runner, passing_part, wait_for
from support.tcp_gate import PUBREL, MqttGate, TcpGate

from inspection.integrations.mqtt import QOS2_WINDOW
from inspection.integrations.output_runner import OutputRunner, OutputState
from inspection.types import Inspection

pytestmark = pytest.mark.skipif(
    mosquitto_binary() is None, reason="mosquitto is installed by installer/linux/setup.sh test"
)

STATION = "st-9"
ROOT = f"plant-a/line-2/{STATION}"
CLIENT_ID = f"lineside-{STATION}"


def part(seq: int) -> Inspection:
    return passing_part(seq, STATION)


def output(
    port: int, tmp_path: Path, states: list[OutputState] | None = None, **extra: object
) -> OutputRunner:
    return mqtt_runner(
        port, tmp_path, station=STATION, states=states, **{"retry_s": 0.1, "qos": 2, **extra}
    )


def received_ids(*subs: Subscriber) -> list[str]:
    return [m["inspection_id"] for sub in subs for m in sub.on("/result")]


def assert_exactly_once_in_order(got: list[str], n: int) -> None:
    expected = [f"part-{s:05d}" for s in range(n)]
    missing = sorted(set(expected) - set(got))
    repeated = sorted({i for i in got if got.count(i) > 1})
    assert not missing, f"lost: {missing[:10]}"
    assert not repeated, f"arrived more than once: {repeated[:10]}"
    assert got == expected  # and in part order


def test_connections_cut_many_times_while_results_flow_deliver_each_once_in_order(
    tmp_path: Path, closing: list
) -> None:
    broker = Broker(tmp_path / "broker")
    broker.start()
    closing.append(broker.kill)
    gate = TcpGate(broker.port)  # the cable, cut again and again
    closing.append(gate.stop)
    sub = Subscriber(broker.port, f"{ROOT}/result", qos=2)
    closing.append(sub.close)
    states: list[OutputState] = []
    runner = output(gate.port, tmp_path, states)
    runner.start()
    closing.append(runner.stop)

    total, cuts = 600, 0
    for seq in range(total):
        runner.on_inspection(part(seq))
        if seq % 20 == 19:
            # cut while the output is busy sending: results under way at every stage of the
            # four-packet handshake when the cable goes
            wait_for(lambda: runner.state().sent > 0 and runner.state().state != "failed")
            time.sleep(0.003 * (cuts % 7))
            gate.cut()
            cuts += 1
        time.sleep(0.001)
    wait_for(lambda: runner.state().waiting == 0 and runner.state().state == "connected")
    with contextlib.suppress(AssertionError):  # (what is missing is named below)
        wait_for(lambda: len(received_ids(sub)) >= total, timeout_s=5)
    time.sleep(0.3)  # a late copy would have come by now

    assert_exactly_once_in_order(received_ids(sub), total)
    assert sub.redelivered == 0
    log = (tmp_path / "broker" / "mosquitto.log").read_text(errors="replace")
    # the cuts did bite: the station came back each time with its session
    assert log.count(f"as {CLIENT_ID} (p2, c0") >= cuts // 3
    assert runner.state().sent == total


def test_a_broker_stopped_and_started_again_with_its_sessions_delivers_each_once(
    tmp_path: Path, closing: list
) -> None:
    broker = Broker(tmp_path / "broker", persistence=True)
    broker.start()
    closing.append(broker.kill)
    # a subscriber with a session of its own: what the broker takes while it is away waits
    sub = Subscriber(broker.port, f"{ROOT}/result", session=True, qos=2)
    closing.append(sub.close)
    states: list[OutputState] = []
    runner = output(broker.port, tmp_path, states)
    runner.start()
    closing.append(runner.stop)

    for seq in range(150):
        runner.on_inspection(part(seq))
    wait_for(lambda: len(received_ids(sub)) >= 40)
    broker.stop()  # SIGTERM mid-run: it saves its sessions, the results it took among them
    for seq in range(150, 300):
        runner.on_inspection(part(seq))
    wait_for(lambda: runner.state().state == "failed")
    broker.start()
    wait_for(lambda: runner.state().waiting == 0 and runner.state().state == "connected")
    wait_for(lambda: len(received_ids(sub)) >= 300)
    time.sleep(0.3)

    assert_exactly_once_in_order(received_ids(sub), 300)
    assert "failed" in [s.state for s in states]


# ---- a session an earlier run left at the broker ----------------------------------------------------


def _utf8(text: str) -> bytes:
    data = text.encode()
    return struct.pack("!H", len(data)) + data


def _packet(first: int, body: bytes) -> bytes:
    length, size = b"", len(body)
    while True:
        byte, size = size % 128, size // 128
        length += bytes([byte | (0x80 if size else 0)])
        if not size:
            return bytes([first]) + length + body


def leave_a_session(port: int, stale: int) -> None:
    """Be an earlier run of the station that vanished mid-handshake: a persistent session whose
    QoS 2 results 1..``stale`` the broker took (PUBREC) and never saw released (no PUBREL)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(
            _packet(
                0x10, _utf8("MQTT") + bytes([4, 0x00]) + struct.pack("!H", 60) + _utf8(CLIENT_ID)
            )
        )
        assert s.recv(4)[:2] == b"\x20\x02"  # CONNACK
        for mid in range(1, stale + 1):
            body = _utf8(f"{ROOT}/result") + struct.pack("!H", mid) + b'{"stale": %d}' % mid
            s.sendall(_packet(0x34, body))  # PUBLISH, QoS 2
            assert s.recv(4) == b"\x50\x02" + struct.pack("!H", mid)  # PUBREC
        # gone without a word: the session and its packet ids stay at the broker


def test_a_station_started_again_does_not_collide_with_the_session_an_earlier_run_left(
    tmp_path: Path, closing: list
) -> None:
    broker = Broker(tmp_path / "broker")
    broker.start()
    closing.append(broker.kill)
    sub = Subscriber(broker.port, f"{ROOT}/result", qos=2)
    closing.append(sub.close)
    # mosquitto hands a QoS 2 message on at its PUBREL: the ones taken here never arrive
    leave_a_session(broker.port, stale=30)
    time.sleep(0.3)
    assert sub.messages == []

    first = output(broker.port, tmp_path)
    first.start()
    for seq in range(20):
        first.on_inspection(part(seq))
    wait_for(lambda: first.state().sent == 20)
    assert first.stop()
    again = output(broker.port, tmp_path)  # the station started again: a new client, same id
    again.start()
    closing.append(again.stop)
    for seq in range(20, 60):
        again.on_inspection(part(seq))
    wait_for(lambda: again.state().sent == 40)
    time.sleep(0.3)

    assert_exactly_once_in_order(received_ids(sub), 60)
    assert all("stale" not in m[1] for m in sub.messages)
    # each new client wiped the old session first: the broker never saw a new result under a
    # packet id that session still held (mosquitto happens to notice and say so; a broker
    # that does not would take the new result for the old copy and drop it)
    log = (tmp_path / "broker" / "mosquitto.log").read_text(errors="replace")
    assert "Reused message ID" not in log


def test_a_broker_killed_without_persistence_loses_only_what_it_had_acknowledged(
    tmp_path: Path, closing: list
) -> None:
    """SIGKILL and no persistence: the broker forgets its sessions and every message it held.
    What it had completed (PUBCOMP) and not yet handed to the subscriber dies with it; the
    station loses nothing it was still responsible for, and repeats at most what was under
    way."""
    broker = Broker(tmp_path / "broker")
    broker.start()
    closing.append(broker.kill)
    gate = TcpGate(broker.port)
    closing.append(gate.stop)
    sub = Subscriber(broker.port, f"{ROOT}/result", qos=2)
    closing.append(sub.close)
    runner = output(gate.port, tmp_path)
    runner.start()
    closing.append(runner.stop)
    for seq in range(200):
        runner.on_inspection(part(seq))
    wait_for(lambda: len(received_ids(sub)) >= 40)
    broker.kill()
    gate.close()
    for seq in range(200, 300):
        runner.on_inspection(part(seq))
    wait_for(lambda: runner.state().state == "failed")
    acknowledged_before_the_kill = runner.state().sent  # results 0 .. this - 1
    sub.close()
    broker.start()
    sub2 = Subscriber(broker.port, f"{ROOT}/result", qos=2)
    closing.append(sub2.close)
    gate.open()  # the station comes back once the subscriber is there
    wait_for(lambda: runner.state().waiting == 0 and runner.state().state == "connected")
    time.sleep(0.3)

    got = received_ids(sub, sub2)
    missing = sorted({f"part-{s:05d}" for s in range(300)} - set(got))
    # lost, if any: only results the broker had completed (its backlog to the subscriber)
    assert all(int(m[5:]) < acknowledged_before_the_kill for m in missing), missing
    assert len(got) - len(set(got)) <= QOS2_WINDOW
    for one in (sub, sub2):
        seqs = [m["part_seq"] for m in one.on("/result")]
        assert seqs == sorted(seqs)


def test_a_result_the_broker_took_but_forgot_is_published_again_not_lost(
    tmp_path: Path, closing: list, caplog: pytest.LogCaptureFixture
) -> None:
    """The broker took a result (PUBREC) and then, before the station's PUBREL reached it, was
    gone: the station comes back to a broker at the same address without its session and
    without the result (one restarted without persistence; here a second broker the cable now
    leads to, so the station's first try to connect again is the one that gets through).
    Releasing the result then would be answered PUBCOMP for nothing and lose it; the station
    publishes it again."""
    first, second = Broker(tmp_path / "first"), Broker(tmp_path / "second")
    for broker in (first, second):
        broker.start()
        closing.append(broker.kill)
    gate = MqttGate(first.port)
    closing.append(gate.stop)
    sub, sub2 = (Subscriber(b.port, f"{ROOT}/result", qos=2) for b in (first, second))
    closing.extend((sub.close, sub2.close))
    runner = output(gate.port, tmp_path, ack_timeout_s=1.0)
    runner.start()
    closing.append(runner.stop)
    for seq in range(10):
        runner.on_inspection(part(seq))
    wait_for(lambda: len(received_ids(sub)) == 10)

    gate.dropping = PUBREL  # the broker takes part 10 and never hears it released
    with caplog.at_level(logging.WARNING, logger="inspection.integrations.mqtt"):
        runner.on_inspection(part(10))
        wait_for(lambda: gate.dropped == 1)
        gate.dropping = None
        gate.target_port = second.port  # no PUBCOMP comes: the station connects again, here
        for seq in range(11, 20):
            runner.on_inspection(part(seq))
        wait_for(lambda: len(received_ids(sub2)) >= 10)
        time.sleep(0.3)

    assert received_ids(sub) == [f"part-{s:05d}" for s in range(10)]
    assert_exactly_once_in_order(received_ids(sub, sub2), 20)
    assert "1 result(s) it had taken are published again" in caplog.text
