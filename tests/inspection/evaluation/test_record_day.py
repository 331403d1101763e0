"""The bench's generated day: its counts are the database's, its rows the results store's."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from inspection.evaluation.record_day import DayFigures, generate_day
from inspection.pipeline.decide import decide
from inspection.recipe.station import ShiftCalendar, ShiftSettings
from inspection.storage.schema import codes_read, tool_result_row
from inspection.storage.tool_measures import measure_rows
from inspection.types import ToolResult, Verdict

DAY = dt.date(2026, 12, 4)
BERLIN = ShiftCalendar(timezone="Europe/Berlin")


@pytest.fixture(scope="module")
def hour(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DayFigures]:
    db = tmp_path_factory.mktemp("day") / "records.db"
    return db, generate_day(db, day=DAY, calendar=BERLIN, parts_per_s=2.0, hours=1.0)


def _db(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    return conn


def test_figures_are_the_databases_counts(hour: tuple[Path, DayFigures]):
    db, figures = hour
    conn = _db(db)
    by_verdict = dict(
        conn.execute("SELECT verdict, COUNT(*) FROM inspections GROUP BY verdict").fetchall()
    )
    assert figures.rows == 7200 == sum(by_verdict.values())
    assert (figures.passed, figures.failed, figures.errors) == (
        by_verdict["PASS"],
        by_verdict["FAIL"],
        by_verdict["ERROR"],
    )
    # a defect mix, not a clean line: ~3 % FAIL, ~0.3 % ERROR
    assert 0.02 < figures.failed / figures.rows < 0.045
    assert 0.001 < figures.errors / figures.rows < 0.01
    assert figures.tool_rows == 3 * figures.rows
    assert figures.tool_rows == conn.execute("SELECT COUNT(*) FROM tool_results").fetchone()[0]
    assert figures.code_rows == conn.execute("SELECT COUNT(*) FROM part_codes").fetchone()[0]
    assert figures.code_rows > 0.9 * figures.rows
    assert figures.events == conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    assert (
        conn.execute(
            "SELECT COUNT(*) FROM inspections i WHERE "
            "(SELECT COUNT(*) FROM tool_results t WHERE t.inspection = i.id) != 3"
        ).fetchone()[0]
        == 0
    )
    assert figures.shift_parts == (("2026-12-04/Early", 7200),)
    assert all(figures.start <= t < figures.end for (t,) in conn.execute(
        "SELECT wall_time FROM inspections"
    ))  # fmt: skip


def test_rows_are_what_the_results_store_writes(hour: tuple[Path, DayFigures]):
    db, _ = hour
    conn = _db(db)
    parts = conn.execute(
        "SELECT * FROM inspections WHERE verdict != 'PASS' OR id % 97 = 0 ORDER BY id"
    ).fetchall()
    reasons: set[str] = set()
    for part in parts:
        stored = conn.execute(
            "SELECT * FROM tool_results WHERE inspection = ? ORDER BY id", (part["id"],)
        ).fetchall()
        results = [
            ToolResult(
                tool_id=r["tool_id"],
                tool_type=r["tool_type"],
                verdict=Verdict(r["verdict"]),
                reason=r["reason"],
                measurements=json.loads(r["measurements"]),
                details=json.loads(r["details"]),
                unique_keys=tuple(json.loads(r["unique_keys"])),
                duration_ns=round(r["duration_ms"] * 1e6),
            )
            for r in stored
        ]
        assert [r.tool_type for r in results] == ["anomaly", "codes", "label"]
        for row, result in zip(stored, results, strict=True):
            # the store's own row for that result: same JSON text, score and threshold
            expected = tool_result_row(part["id"], result)
            assert tuple(row)[1:8] == expected[:7]
            assert tuple(row)[8:] == pytest.approx(expected[7:])
        assert (part["verdict"], part["reason"]) == tuple(map(str, decide(results)))
        codes = [c for (c,) in conn.execute(
            "SELECT code FROM part_codes WHERE inspection = ?", (part["id"],)
        )]  # fmt: skip
        assert codes == [c for r in results for c in codes_read(r)]
        # the numbers trends read: the ones the store takes out of the same results
        measures = conn.execute(
            "SELECT tool_id, measure, inspection, value FROM tool_measures WHERE inspection = ?",
            (part["id"],),
        ).fetchall()
        expected_measures = [m for r in results for m in measure_rows(part["id"], r)]
        assert sorted(map(tuple, measures)) == sorted(expected_measures)
        assert len(expected_measures) == (12 if part["verdict"] == "PASS" else len(measures))
        if part["verdict"] != "PASS":
            assert part["image_path"].endswith(f"{part['inspection_id']}__cam1.jpg")
            reasons.add(part["reason"].split(" (")[0])
        json.loads(part["model_hashes"])
    assert len(reasons) >= 5  # several distinct reasons for the Pareto
    assert any("no frame from camera cam1" in r for r in reasons)


def test_recipe_change_lot_change_and_alarms(hour: tuple[Path, DayFigures]):
    db, figures = hour
    conn = _db(db)
    versions = conn.execute(
        "SELECT i.recipe_version, t.threshold, MIN(i.wall_time) FROM inspections i "
        "JOIN tool_results t ON t.inspection = i.id WHERE t.tool_id = 'surface' "
        "AND t.threshold IS NOT NULL GROUP BY 1, 2 ORDER BY 3"
    ).fetchall()
    assert [(v, th) for v, th, _ in versions] == [("7", 0.5), ("8", 0.55)]
    lots = [lot for (lot,) in conn.execute("SELECT DISTINCT lot FROM inspections ORDER BY id")]
    assert lots == ["L261204-1", "L261204-2"]
    kinds = [k for (k,) in conn.execute("SELECT kind FROM events ORDER BY wall_time")]
    assert kinds.count("recipe") == 2 and kinds.count("batch") == 1
    assert kinds.count("alarm") == kinds.count("alarm_cleared") == 3
    cleared = [
        json.loads(d)
        for (d,) in conn.execute("SELECT details FROM events WHERE kind = 'alarm_cleared'")
    ]
    assert all(c["downtime_s"] > 0 and c["raised_at"] >= figures.start for c in cleared)
    # the camera is down during its alarms: those parts are ERROR, no frame
    for c in cleared:
        assert (
            conn.execute(
                "SELECT COUNT(*) FROM inspections WHERE wall_time >= ? AND wall_time < ? "
                "AND reason NOT LIKE '%no frame from camera cam1%'",
                (c["raised_at"], c["raised_at"] + c["downtime_s"]),
            ).fetchone()[0]
            == 0
        )


NIGHT_GAP = ShiftCalendar(
    timezone="Europe/Berlin",
    shifts=(
        ShiftSettings(name="Early", start=dt.time(6), end=dt.time(14)),
        ShiftSettings(name="Late", start=dt.time(14), end=dt.time(22)),
        ShiftSettings(name="Night", start=dt.time(22), end=dt.time(5)),  # 05-06: no shift
    ),
)


@pytest.mark.parametrize(
    "day", [DAY, dt.date(2026, 3, 28), dt.date(2026, 10, 24)], ids=["plain", "spring", "autumn"]
)
def test_shift_stamps_are_the_calendars(tmp_path: Path, day: dt.date):
    """Every part stamped as the store's calendar would, across midnight, a gap in the shifts
    and both daylight-saving nights."""
    db = tmp_path / "records.db"
    figures = generate_day(db, day=day, calendar=NIGHT_GAP, parts_per_s=0.05, hours=26.0)
    conn = _db(db)
    rows = conn.execute("SELECT wall_time, production_day, shift FROM inspections").fetchall()
    assert len(rows) == figures.rows == 4680
    for t, stamped_day, shift in rows:
        assert (stamped_day, shift) == NIGHT_GAP.attribute(t)
    assert {w.label for w in figures.windows} >= {f"{day}/Early", f"{day}/Late", f"{day}/Night"}
    counted = dict(
        conn.execute(
            "SELECT production_day || '/' || shift, COUNT(*) FROM inspections GROUP BY 1"
        ).fetchall()
    )
    assert dict(figures.shift_parts) == counted
    assert counted[f"{day + dt.timedelta(days=1)}/"] > 0  # the 05-06 gap has no shift
    night = NIGHT_GAP.window(day, "Night")
    assert night.hours == {DAY: 7.0, dt.date(2026, 3, 28): 6.0, dt.date(2026, 10, 24): 8.0}[day]


def test_more_days_go_on_after_the_last_part(tmp_path: Path):
    db = tmp_path / "records.db"
    first = generate_day(db, day=DAY, calendar=BERLIN, parts_per_s=1.0, hours=0.5)
    second = generate_day(
        db, day=DAY + dt.timedelta(days=1), calendar=BERLIN, parts_per_s=1.0, hours=0.5,
        with_tools=False,
    )  # fmt: skip
    conn = _db(db)
    seqs = [s for (s,) in conn.execute("SELECT part_seq FROM inspections ORDER BY id")]
    assert seqs == list(range(first.rows + second.rows))
    assert second.tool_rows == 0
    assert conn.execute("SELECT COUNT(*) FROM tool_results").fetchone()[0] == first.tool_rows
    assert conn.execute("SELECT COUNT(*) FROM part_codes").fetchone()[0] == (
        first.code_rows + second.code_rows
    )


def test_bad_rate_or_length_is_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="parts_per_s and hours must be > 0"):
        generate_day(tmp_path / "x.db", day=DAY, calendar=BERLIN, parts_per_s=0.0)
