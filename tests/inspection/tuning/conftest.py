"""The tuning tests' results database lives in a temporary folder (see support/tuning_parts.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "results.sqlite"
