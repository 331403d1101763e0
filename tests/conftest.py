"""Fixtures for every test: a private LINESIDE_HOME, and no thread may outlive its test."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from inspection.offline import keep_offline

keep_offline()  # as every entry point does, before any test loads onnxruntime


@pytest.fixture(autouse=True)
def lineside_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "lineside-home"
    monkeypatch.setenv("LINESIDE_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def no_thread_outlives_its_test() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5.0
    left: list[threading.Thread] = []
    for t in set(threading.enumerate()) - before:
        t.join(max(deadline - time.monotonic(), 0.0))
        if t.is_alive():
            left.append(t)
    assert not left, f"threads still running after the test: {[t.name for t in left]}"
