"""Fuzzed requests on the station's local trigger socket: each gets an answer (an error for all
but a trigger request), and the station and its socket stay up.

The station is the real one, running the demo's camera and code tool by software trigger.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.fuzz_support import fuzz_settings, outcome
from support.recipes import demo_with_tools

from inspection.integrations.local_control import LocalTriggerSocket, send_trigger
from inspection.pipeline.station import Station
from inspection.recipe import parse_recipe

FUZZ = fuzz_settings()


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Station, Path]]:
    doc = demo_with_tools("codes")
    doc["trigger"] = {"type": "software", "timeout_s": 1.0}
    doc["cameras"][0]["source"].update({"rate_hz": 50.0, "mode": "triggered"})
    sock = tmp_path_factory.mktemp("sock") / "trigger.sock"
    st = Station(
        parse_recipe(doc, "fuzz"), store_results=False, trigger_inputs=[LocalTriggerSocket(sock)]
    )
    st.start()
    deadline = time.monotonic() + 10
    while not st.camera_connected("cam1"):
        assert time.monotonic() < deadline, "the simulated camera never connected"
        time.sleep(0.01)
    yield st, sock
    st.stop()


def _ask(sock: Path, request: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
        c.settimeout(5.0)
        c.connect(str(sock))
        try:
            c.sendall(request)
            c.shutdown(socket.SHUT_WR)  # the request ends here, newline or not
        except (BrokenPipeError, ConnectionResetError):
            pass  # a request past the size limit: the station answered and hung up early
        answer = b""
        while chunk := c.recv(4096):
            answer += chunk
    return answer


JSON_TEXT = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
).map(lambda v: json.dumps(v).encode())
REQUESTS = st.one_of(
    st.binary(max_size=600),
    st.binary(min_size=4000, max_size=9000),
    JSON_TEXT,
    st.builds(
        lambda cmd, extra: json.dumps({"cmd": cmd, **extra}).encode(),
        st.sampled_from(["trigger", "Trigger", "stop", "", "trigger\x00"]),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    ),
    st.integers(min_value=1, max_value=100_000).map(lambda n: b"[" * n),
    st.integers(min_value=1, max_value=3000).map(lambda n: b'{"cmd": ' * n),
    st.sampled_from([b"", b"\n", b"\r\n", b"null", b"\xef\xbb\xbf{}", b"\xff\xfe{}", b"9" * 4095]),
)


@FUZZ
@given(request=REQUESTS, newline=st.booleans())
def test_every_request_gets_an_answer_and_the_station_stays_up(
    station: tuple[Station, Path], request: bytes, newline: bool
) -> None:
    st, sock = station
    answer = _ask(sock, request + (b"\n" if newline else b""))
    assert answer.endswith(b"\n"), f"no answer to {request[:60]!r}"
    reply = json.loads(answer)
    if reply["ok"]:
        outcome("triggered")
        line = request.split(b"\n", 1)[0]
        assert json.loads(line)["cmd"] == "trigger" and isinstance(reply["trigger_id"], int)
    else:
        outcome("refused")
        assert isinstance(reply["error"], str) and reply["error"]
    assert st.running
    assert json.loads(_ask(sock, b'{"cmd": "status"}\n'))["ok"] is False  # still serving


@pytest.mark.parametrize(
    ("request_", "why"),
    [
        (b"[" * 4000 + b"\n", "nested too deeply"),  # once ended the socket's thread
        (b"{" * 2000 + b"\n", "not a line of JSON"),
        (b" " * 10_000 + b'{"cmd": "trigger"}\n', "longer than 4096 bytes"),  # answer was reset
    ],
)
def test_a_hostile_request_is_answered_and_the_socket_keeps_serving(
    station: tuple[Station, Path], request_: bytes, why: str
) -> None:
    st, sock = station
    reply = json.loads(_ask(sock, request_))
    assert reply["ok"] is False and why in reply["error"]
    assert send_trigger(sock) >= 1 and st.running


def test_after_the_fuzzing_a_trigger_still_takes_a_part(station: tuple[Station, Path]) -> None:
    st, sock = station
    assert send_trigger(sock) >= 1
    assert st.running
