"""The GigE Vision peer for tests: Aravis's fake camera in a network namespace of the test's own.

A missing package fails the test with its name (never a skip): CI installs them, and a developer
learns what to install.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from inspection.errors import SourceError
from inspection.simulators.gige_camera import FakeGigECamera, missing_commands
from inspection.sources.gige import load_aravis


def require_gige_peer() -> None:
    """Fail the calling test, naming what to install, when the fake camera cannot run here."""
    missing = missing_commands()
    try:
        load_aravis()
    except SourceError as exc:
        missing.append(str(exc))
    if os.geteuid() != 0:
        missing.append("root (network namespaces for the fake camera)")
    if missing:
        pytest.fail("GigE tests need: " + "; ".join(missing), pytrace=False)


def running_fake_camera(serial: str) -> Iterator[FakeGigECamera]:
    """A started fake camera, stopped (namespace deleted) afterwards; for fixtures."""
    require_gige_peer()
    camera = FakeGigECamera(serial)
    camera.start()
    try:
        yield camera
    finally:
        camera.stop()
