"""The trends tests' results database (see support/trend_parts.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.trend_parts import write_trend_parts


@pytest.fixture
def trend_db(tmp_path: Path) -> Path:
    db = tmp_path / "results.sqlite"
    write_trend_parts(db)
    return db
