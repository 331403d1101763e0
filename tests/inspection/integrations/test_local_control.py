"""`lineside trigger` reaches the running station through its local socket; bad requests don't."""

from __future__ import annotations

import json
import socket
import time

import pytest
from support.pipeline_tools import BrightnessTool, Collector, make_recipe

from inspection.cli import main
from inspection.integrations.local_control import LocalTriggerSocket
from inspection.paths import user_paths
from inspection.pipeline.station import Station
from inspection.types import Verdict


def software_recipe():
    recipe = make_recipe(cameras=1, trigger={"type": "software", "timeout_s": 1.0})
    cam = recipe.cameras[0]
    source = cam.source.model_copy(update={"parts": None, "rate_hz": 50.0})
    return recipe.model_copy(update={"cameras": [cam.model_copy(update={"source": source})]})


@pytest.fixture
def station():
    collector = Collector()
    st = Station(
        software_recipe(),
        store_results=False,
        make_tools=lambda: [BrightnessTool(minimum=0)],
        trigger_inputs=[LocalTriggerSocket(user_paths().trigger_socket)],
    )
    st.add_listener(collector)
    st.start()
    deadline = time.monotonic() + 5
    while not st.camera_connected("cam1"):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    yield st, collector
    st.stop()


def test_lineside_trigger_takes_one_part(station, capsys: pytest.CaptureFixture[str]):
    _, collector = station
    assert main(["trigger", "--json"]) == 0
    assert main(["trigger", "--json"]) == 0
    ids = [json.loads(line)["trigger_id"] for line in capsys.readouterr().out.splitlines()]
    assert ids == [1, 2]
    deadline = time.monotonic() + 5
    while len(collector.inspections) < 2:
        assert time.monotonic() < deadline, "the triggered parts never arrived"
        time.sleep(0.01)
    assert [i.verdict for i in collector.inspections] == [Verdict.PASS, Verdict.PASS], [
        i.reason for i in collector.inspections
    ]
    assert all(i.frames[0].truth is not None for i in collector.inspections)


def test_a_garbled_request_gets_a_reason_and_the_socket_keeps_serving(station):
    st, collector = station
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
        c.connect(str(user_paths().trigger_socket))
        c.sendall(b"\xff\xfegarbage\n")
        reply = json.loads(c.recv(4096))
    assert reply["ok"] is False and "not a line of JSON" in reply["error"]
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
        c.connect(str(user_paths().trigger_socket))
        c.sendall(b'{"cmd": "shutdown"}\n')
        reply = json.loads(c.recv(4096))
    assert reply == {"ok": False, "error": 'unknown request; send {"cmd": "trigger"}'}
    assert main(["trigger"]) == 0
    deadline = time.monotonic() + 5
    while not collector.inspections:
        assert time.monotonic() < deadline, "the trigger after garbage took no part"
        time.sleep(0.01)
    assert st.running and len(collector.inspections) == 1


def test_trigger_without_a_station_says_so(capsys: pytest.CaptureFixture[str]):
    # the command could not do its work (1); it was not given bad input (2)
    assert main(["trigger"]) == 1
    assert "no station is running with a software trigger" in capsys.readouterr().err


def test_a_free_running_station_opens_no_trigger_socket():
    recipe = make_recipe(cameras=1)
    path = user_paths().trigger_socket
    st = Station(
        recipe,
        store_results=False,
        make_tools=lambda: [],
        trigger_inputs=[LocalTriggerSocket(path)],
    )
    st.start()
    try:
        assert not path.exists()
    finally:
        st.stop()
    assert not path.exists()
