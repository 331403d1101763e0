"""Shared by the integrations' tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest


@pytest.fixture
def closing() -> Iterator[list[Callable[[], object]]]:
    """Things to close at the end of the test, last first."""
    done: list[Callable[[], object]] = []
    yield done
    for close in reversed(done):
        close()
