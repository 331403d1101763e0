"""RTSP and MJPEG camera simulators for tests: child processes on a free 127.0.0.1 port, and
what the tests of both stream cameras do with them (read frames, kill the server mid-stream).

A missing package fails the test with its name (never a skip): CI installs them, and a developer
learns what to install.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from inspection.errors import SourceError
from inspection.simulators.peers import Peer, PeerKind, running_peer
from inspection.simulators.rtsp_server import GST_PACKAGES
from inspection.sources.base import BadFrameError, Source
from inspection.types import Frame

AV_PACKAGE = "pip: av (PyAV, bundles FFmpeg)"


def require_rtsp_peer() -> None:
    """Fail the calling test, naming what to install, when the RTSP simulator cannot run here."""
    missing = []
    try:
        import av  # noqa: F401
    except ImportError:
        missing.append(AV_PACKAGE)
    # In a child: GStreamer's initialisation is process-wide state the test run should not carry.
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "from inspection.simulators.rtsp_server import load_gstreamer; load_gstreamer()",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if probe.returncode != 0:
        missing.append(probe.stderr.strip().splitlines()[-1] if probe.stderr else GST_PACKAGES)
    if missing:
        pytest.fail("RTSP tests need: " + "; ".join(missing), pytrace=False)


PeerFactory = Callable[..., Peer]


def peer_factory(kind: PeerKind) -> Iterator[PeerFactory]:
    """A fixture body: ``start(width=..., extra=[...])`` starts a simulator; all are killed at
    the end of the test."""
    if kind == "rtsp":
        require_rtsp_peer()
    with contextlib.ExitStack() as stack:

        def start(**kw: Any) -> Peer:
            return stack.enter_context(running_peer(kind, **kw))

        yield start


def frames(source: Source, n: int, timeout_s: float = 2.0) -> list[Frame]:
    """The next ``n`` frames, each within ``timeout_s``."""
    got: list[Frame] = []
    while len(got) < n:
        frame = source.read(timeout_s)
        assert frame is not None
        got.append(frame)
    return got


def read_until_error(source: Source, limit_s: float) -> tuple[SourceError, float]:
    """The SourceError a lost stream gives, and how long after the call it came."""
    start = time.monotonic()
    while time.monotonic() - start < limit_s:
        try:
            source.read(0.2)
        except (TimeoutError, BadFrameError):
            continue
        except SourceError as exc:
            return exc, time.monotonic() - start
    pytest.fail(f"read() raised no SourceError within {limit_s:g} s of the server's death")


def lost_and_back(
    cam: Source, peer: Peer, limit_s: float, timeout_s: float = 2.0
) -> tuple[list[Frame], Frame]:
    """Kill the peer mid-stream and start it again: ``read()`` must say the stream is lost within
    2.5 s, and the camera, reopened, must give a frame within 2 s of the restart.

    The frames before and the first one after; ``limit_s`` bounds the wait for the error,
    ``timeout_s`` each read."""
    cam.open()
    try:
        before = frames(cam, 3, timeout_s)
        peer.kill()
        error, took = read_until_error(cam, limit_s)
        assert "stream" in str(error) and took < 2.0 + 0.5
        cam.close()
        peer.start()
        back = time.monotonic()
        cam.open()
        after = frames(cam, 1, timeout_s)[0]
        assert time.monotonic() - back < 2.0
    finally:
        cam.close()
    return before, after


def restarted_with(
    cam: Source, peer: Peer, args: list[str], limit_s: float, timeout_s: float = 2.0
) -> tuple[str, Frame]:
    """Kill the peer mid-stream and start it with ``args`` (another picture): the first read after
    reopening must fail; reopened once more, as the station does, the camera goes on.

    That failure's message and the first frame of the new picture."""
    cam.open()
    try:
        frames(cam, 2, timeout_s)
        peer.kill()
        read_until_error(cam, limit_s)
        cam.close()
        peer.start(args)
        cam.open()
        with pytest.raises(SourceError) as err:
            frames(cam, 1, timeout_s)
        cam.close()
        cam.open()  # the station reconnects and goes on with the new picture
        after = frames(cam, 1, timeout_s)[0]
    finally:
        cam.close()
    return str(err.value), after
