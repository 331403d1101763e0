"""Which tools of a range can be tuned: those that record a threshold with their score."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from support.tuning_parts import T0, THRESHOLD, Part, write_parts

from inspection.storage.queries import open_reader
from inspection.tuning.scores import NEWEST_THRESHOLD_SQL, TuningError, tunable_tools


def test_only_tools_recording_a_threshold_are_tunable(db: Path) -> None:
    # the last part's surface result is an ERROR (no threshold): an earlier one still counts
    write_parts(db, [Part(0.2), Part(0.7, label_fails=True), Part(math.nan)])
    found = tunable_tools(db, T0, T0 + 30)
    assert [(t.tool_id, t.tool_type, t.threshold) for t in found] == [
        ("surface", "anomaly", THRESHOLD)
    ]


def test_a_range_with_no_parts(db: Path) -> None:
    write_parts(db, [Part(0.2)])
    with pytest.raises(TuningError, match="no recorded parts"):
        tunable_tools(db, T0 + 100, T0 + 200)


def test_the_threshold_is_read_from_the_covering_index(db: Path) -> None:
    write_parts(db, [Part(0.2), Part(0.3)])
    conn = open_reader(db)
    try:
        plan = " | ".join(
            str(r[3])
            for r in conn.execute(f"EXPLAIN QUERY PLAN {NEWEST_THRESHOLD_SQL}", ("label", 1, 2))
        )
    finally:
        conn.close()
    assert "COVERING INDEX tool_results_scores" in plan and "SCAN tool_results" not in plan
