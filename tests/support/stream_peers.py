"""RTSP and MJPEG camera simulators for tests: child processes on a free 127.0.0.1 port.

A missing package fails the test with its name (never a skip): CI installs them, and a developer
learns what to install.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from inspection.simulators.peers import Peer, PeerKind, running_peer
from inspection.simulators.rtsp_server import GST_PACKAGES

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
