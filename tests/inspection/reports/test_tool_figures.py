"""Per-tool report figures: read from the covering index, and threshold changes that are real."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from support.report_records import PartSpec, ToolSpec, write_records

from inspection.recipe.station import ShiftCalendar, StationSettings
from inspection.reports.aggregate import build_report, period_filter, range_period
from inspection.reports.tool_figures import period_tools, tool_rows

UTC = ShiftCalendar(timezone="UTC")
T0 = dt.datetime(2026, 12, 4, 7, 0, tzinfo=dt.UTC).timestamp()


def _part(k: int, threshold: float | None, verdict: str = "PASS", station: str = "st1"):
    surface = ToolSpec(
        "surface",
        "anomaly",
        verdict,
        "" if verdict == "PASS" else "camera lost",
        None if verdict == "ERROR" else 0.1 + k / 1000,
        threshold,
    )
    code = ToolSpec("code", "codes", "PASS", "", 0.9)
    return PartSpec(T0 + k, verdict, surface.reason, (code, surface), station=station)


def _report(db: Path):
    period = range_period(UTC, "2026-12-04T06:00", "2026-12-04T14:00")
    return build_report(db, period, settings=StationSettings(calendar=UTC))


def test_a_tool_without_a_threshold_on_an_error_part_is_no_threshold_change(tmp_path):
    db = tmp_path / "r.db"
    parts = [_part(k, 0.5) for k in range(10)]
    parts += [_part(10, None, "ERROR"), _part(11, 0.5), _part(12, None, "ERROR")]
    parts += [_part(k, 0.7) for k in range(13, 20)]
    write_records(db, parts, calendar=UTC)
    report = _report(db)
    changes = [c for c in report.changes if c.kind == "threshold"]
    assert [c.text for c in changes] == ["st1: surface threshold 0.5 → 0.7"]
    assert changes[0].wall_time == pytest.approx(T0 + 13)
    surface = next(t for t in report.tools if t.tool_id == "surface")
    assert surface.thresholds == (0.5, 0.7) and surface.errors == 2


def test_threshold_changes_are_per_station_when_stations_interleave(tmp_path):
    db = tmp_path / "r.db"
    parts = []
    for k in range(20):
        # st1 changes at part 10; st2 keeps 0.5 throughout, interleaved with st1
        parts.append(_part(2 * k, 0.5 if k < 10 else 0.6, station="st1"))
        parts.append(_part(2 * k + 1, 0.5, station="st2"))
    write_records(db, parts, calendar=UTC)
    report = _report(db)
    assert [c.text for c in report.changes if c.kind == "threshold"] == [
        "st1: surface threshold 0.5 → 0.6"
    ]


def test_tools_come_in_the_order_they_first_ran_and_from_the_covering_index(tmp_path):
    db = tmp_path / "r.db"
    write_records(db, [_part(k, 0.5) for k in range(30)], calendar=UTC)
    period = range_period(UTC, "2026-12-04T06:00", "2026-12-04T14:00")
    with sqlite3.connect(db) as conn:
        where, params = period_filter(period, 10**9)
        lo, hi, n = conn.execute(
            f"SELECT MIN(i.id), MAX(i.id), COUNT(*) FROM inspections i WHERE {where}", params
        ).fetchone()
        for source in (
            tool_rows(conn, where, params, (lo, hi), n),  # one unbroken run of parts
            tool_rows(conn, where, params, (lo, hi), n + 1),  # forced: the join
        ):
            assert period_tools(conn, source) == ["code", "surface"]
            for select in ("COUNT(*), SUM(t.verdict = 'FAIL'), MAX(t.score)", "t.score"):
                plan = " | ".join(
                    r[3]
                    for r in conn.execute(
                        f"EXPLAIN QUERY PLAN {source.sql(select)}", ("surface", *source.params)
                    )
                )
                assert "COVERING INDEX tool_results_scores" in plan, plan
                assert "SCAN t" not in plan and "SCAN tool_results" not in plan, plan
    assert [t.tool_id for t in _report(db).tools] == ["code", "surface"]
