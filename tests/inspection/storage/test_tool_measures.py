"""Per-part tool measures as rows of their own: written with each part, and filled in for the
parts a version-6 database already holds."""

from __future__ import annotations

import json
import math
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np

from inspection.storage.batch import Pending, write_batch
from inspection.storage.schema import (
    INSERT_TOOL_RESULT,
    INSPECTION_COLUMNS,
    MIGRATIONS,
    SCHEMA_VERSION,
    inspection_row,
    migrate,
    open_writer,
    tool_result_row,
    user_version,
)
from inspection.storage.tool_measures import measure_rows
from inspection.types import Inspection, Timing, ToolResult, Verdict


def _results(i: int) -> tuple[ToolResult, ...]:
    return (
        ToolResult(
            tool_id="surface",
            tool_type="anomaly",
            verdict=Verdict.PASS,
            measurements={"score": 0.2, "max_region_px": np.float32(40.0 + i), "regions": 1.0},
        ),
        ToolResult(
            tool_id="serial",
            tool_type="codes",
            verdict=Verdict.PASS,
            # attempts as a numpy int, quality_min NaN: no row for it
            measurements={"attempts": np.int64(2), "quality_min": math.nan, "codes_read": 1.0},
        ),
        ToolResult(
            tool_id="label",
            tool_type="label",
            verdict=Verdict.PASS,
            measurements={
                "lot_contrast": 0.61 + i / 1000,
                "date_sharpness": 40,
                "lot_confidence": math.inf,  # not finite: no row
                "_contrast": 0.5,  # no field name: not a field's measure
                "contrast": 0.5,
                "flag_confidence": True,  # a boolean is not a measure
            },
            details={"offset_px": 1.5, "rotation_deg": -0.25, "match": None, "scale": 1.0},
        ),
        # a tool type with no stored measures, and a field-like key on a non-label tool
        ToolResult(
            tool_id="presence",
            tool_type="presence",
            verdict=Verdict.PASS,
            measurements={"score": 0.9, "lot_contrast": 0.3},
        ),
    )


def _part(i: int) -> Inspection:
    return Inspection(
        inspection_id=f"p{i}",
        station="st1",
        part_seq=i,
        verdict=Verdict.PASS,
        reason="",
        tool_results=_results(i),
        frames=(),
        recipe_name="demo",
        recipe_version="1",
        timing=Timing(captured_ns=10**12),
        wall_time=1_780_000_000.0 + i,
    )


EXPECTED_PER_PART = {
    ("surface", "max_region_px"),
    ("serial", "attempts"),
    ("label", "lot_contrast"),
    ("label", "date_sharpness"),
    ("label", "offset_px"),
    ("label", "rotation_deg"),
}


def _measures(conn: sqlite3.Connection) -> list[tuple[str, str, int, float]]:
    return [
        tuple(r)
        for r in conn.execute(
            "SELECT tool_id, measure, inspection, value FROM tool_measures "
            "ORDER BY inspection, tool_id, measure"
        )
    ]


def _json_value(conn: sqlite3.Connection, part: int, tool_id: str, measure: str) -> float:
    row = conn.execute(
        "SELECT measurements, details FROM tool_results WHERE inspection = ? AND tool_id = ?",
        (part, tool_id),
    ).fetchone()
    found = {**json.loads(row[1]), **json.loads(row[0])}
    return float(found[measure])


def test_the_writer_stores_each_finite_measure_with_its_part(tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite"
    with closing(open_writer(db)) as conn:
        assert not write_batch(conn, [Pending(_part(i), None, None) for i in range(3)], "run")
        rows = _measures(conn)
        assert {(t, m) for t, m, _, _ in rows} == EXPECTED_PER_PART
        assert len(rows) == 3 * len(EXPECTED_PER_PART)
        for tool_id, measure, part, value in rows:
            # the same number the tool result's JSON holds
            assert value == _json_value(conn, part, tool_id, measure)
        assert ("label", "lot_contrast", 3, 0.61 + 2 / 1000) in rows  # part 2 is row 3
        assert ("serial", "attempts", 1, 2.0) in rows


def test_migration_to_7_fills_in_the_measures_of_recorded_parts(tmp_path: Path) -> None:
    db = tmp_path / "v6.sqlite"
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        assert migrate(conn, db, MIGRATIONS[:6]) == 6
        conn.execute("BEGIN")
        for i in range(4):
            part = _part(i)
            # a version-6 table: the columns later versions added are not there yet
            row = dict(zip(INSPECTION_COLUMNS, inspection_row(part, None, "run", 0), strict=True))
            old = {k: v for k, v in row.items() if k != "image_note"}
            insert = (
                f"INSERT INTO inspections ({', '.join(old)}) VALUES ({', '.join('?' * len(old))})"
            )
            rowid = conn.execute(insert, tuple(old.values())).lastrowid
            for result in part.tool_results:
                conn.execute(INSERT_TOOL_RESULT, tool_result_row(rowid, result))
        conn.execute("COMMIT")
        assert "tool_measures" not in {
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        assert migrate(conn, db) == SCHEMA_VERSION
        assert user_version(conn) == SCHEMA_VERSION
        # the same step adds the cameras' per-minute frame counts, empty
        assert conn.execute("SELECT COUNT(*) FROM camera_intervals").fetchone()[0] == 0
        # exactly what the writer would have stored for the same results
        expected = sorted(m for i in range(4) for r in _results(i) for m in measure_rows(i + 1, r))
        assert sorted(_measures(conn)) == expected
        assert len(expected) == 4 * len(EXPECTED_PER_PART)
