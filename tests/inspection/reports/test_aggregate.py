"""The shift report's figures against SQL counts on the same database, shifts across midnight and
both daylight-saving nights, an empty shift, and a report made while parts are being written."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from support.report_records import (
    ACCENTED_REASON,
    PartSpec,
    berlin_calendar,
    default_tools,
    write_records,
    write_sample_day,
)

from inspection.jobs import Cancelled
from inspection.reasons import reason_category
from inspection.recipe.station import ShiftCalendar, StationSettings
from inspection.reports.aggregate import (
    build_report,
    last_shift_period,
    period_filter,
    range_period,
    shift_period,
)


@pytest.fixture
def sample_db(tmp_path: Path) -> tuple[Path, StationSettings]:
    db = tmp_path / "results.sqlite"
    calendar = write_sample_day(db)
    return db, StationSettings(line="L1", calendar=calendar)


def sql(db: Path, query: str, *params: object) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(query, params).fetchall()
    finally:
        conn.close()


SHIFT = "production_day = '2026-12-04' AND shift = 'Early'"


def test_every_count_of_a_shift_equals_a_sql_count(sample_db):
    db, settings = sample_db
    report = build_report(
        db, shift_period(settings.calendar, "2026-12-04/Early"), settings=settings
    )

    by_verdict = dict(
        sql(db, f"SELECT verdict, COUNT(*) FROM inspections WHERE {SHIFT} GROUP BY 1")
    )
    assert report.parts == sum(by_verdict.values()) == 200
    assert (report.passed, report.failed, report.errors) == (
        by_verdict["PASS"],
        by_verdict["FAIL"],
        by_verdict["ERROR"],
    )
    assert report.yield_ == pytest.approx(by_verdict["PASS"] / 200)
    assert report.station == "st1" and report.line == "L1"
    assert report.timezone == "Europe/Berlin"
    assert report.recipe_versions == ("demo v1", "demo v2")
    assert report.lots == ("L-A", "L-B")

    reasons = dict(
        sql(
            db,
            f"SELECT reason, COUNT(*) FROM inspections WHERE {SHIFT} AND verdict != 'PASS' GROUP BY 1",
        )
    )
    by_category: dict[str, int] = {}
    for reason, n in reasons.items():
        key = reason_category(reason)
        by_category[key] = by_category.get(key, 0) + n
    assert {r.reason: r.count for r in report.reasons} == by_category
    assert [r.count for r in report.reasons] == sorted(by_category.values(), reverse=True)
    assert report.reasons[-1].cumulative == pytest.approx(1.0)
    assert ACCENTED_REASON in reasons

    for tool in report.tools:
        counts = dict(
            sql(
                db,
                f"SELECT t.verdict, COUNT(*) FROM tool_results t JOIN inspections i "
                f"ON t.inspection = i.id WHERE {SHIFT} AND t.tool_id = ? GROUP BY 1",
                tool.tool_id,
            )
        )
        assert (tool.passed, tool.failed, tool.errors) == (
            counts.get("PASS", 0),
            counts.get("FAIL", 0),
            counts.get("ERROR", 0),
        )
        (top,) = sql(
            db,
            f"SELECT MAX(t.score) FROM tool_results t JOIN inspections i ON t.inspection = i.id "
            f"WHERE {SHIFT} AND t.tool_id = ?",
            tool.tool_id,
        )[0]
        assert tool.score_max == pytest.approx(top)
    tools = {t.tool_id: t for t in report.tools}
    assert tools["surface"].thresholds == (0.5, 0.6)
    assert dict(tools["code"].quality)["code quality min"] == pytest.approx(0.5)
    assert "OCR confidence median" in dict(tools["label"].quality)

    rejects = sql(db, f"SELECT COUNT(*) FROM inspections WHERE {SHIFT} AND verdict != 'PASS'")[0][0]
    assert len(report.rejects) == rejects
    first = report.rejects[0]
    assert first.part_number == 4 and first.codes == "SN00003"
    assert first.image_path == "images/part-3.png" and first.lot == "L-A"

    assert len(report.hourly) == 8
    assert sum(h.parts for h in report.hourly) == 200
    assert sum(h.failed for h in report.hourly) == report.failed
    assert [report.local(h.start).hour for h in report.hourly] == list(range(6, 14))
    assert report.last_row_id == sql(db, "SELECT MAX(id) FROM inspections")[0][0]


def test_changes_and_alarms_of_a_shift(sample_db):
    db, settings = sample_db
    report = build_report(
        db, shift_period(settings.calendar, "2026-12-04/Early"), settings=settings
    )
    kinds = [c.kind for c in report.changes]
    assert kinds.count("recipe") == 1 and kinds.count("batch") == 1
    assert kinds.count("teaching") == 1 and kinds.count("threshold") == 1
    assert kinds.count("alarm") == 2 and kinds.count("alarm_cleared") == 1
    batch = next(c for c in report.changes if c.kind == "batch")
    assert "L-A → L-B" in batch.text
    assert report.local(batch.wall_time) == dt.datetime(2026, 12, 4, 6, 0, 30) + dt.timedelta(
        seconds=120 * 120
    )
    assert [c.wall_time for c in report.changes] == sorted(c.wall_time for c in report.changes)

    top, plc = report.alarms
    assert (top.source, top.message, top.downtime_s) == ("top", "camera lost", 600.0)
    assert plc.cleared_at is None and plc.downtime_s == pytest.approx(1800.0)
    assert report.downtime_s == pytest.approx(2400.0)


def test_night_shift_across_midnight_and_an_empty_shift(sample_db):
    db, settings = sample_db
    night = build_report(db, shift_period(settings.calendar, "2026-12-04/Night"), settings=settings)
    stamped = sql(
        db,
        "SELECT COUNT(*) FROM inspections WHERE production_day = '2026-12-04' AND shift = 'Night'",
    )
    assert night.parts == stamped[0][0] == 100
    assert night.failed == 5
    # The PLC alarm raised in Early never cleared: it still stands through the whole night.
    (plc,) = night.alarms
    assert plc.source == "plc" and plc.downtime_s == pytest.approx(8 * 3600)
    assert [night.local(h.start).hour for h in night.hourly] == [22, 23, 0, 1, 2, 3, 4, 5]
    assert sum(h.parts for h in night.hourly) == 100

    late = build_report(db, shift_period(settings.calendar, "2026-12-04/Late"), settings=settings)
    assert (late.parts, late.passed, late.failed, late.errors) == (0, 0, 0, 0)
    assert late.yield_ is None and late.tools == () and late.reasons == () and late.rejects == ()
    assert len(late.hourly) == 8 and all(h.parts == 0 for h in late.hourly)
    assert late.station == "st1"


def test_a_range_covers_the_same_parts_as_its_shift(sample_db):
    db, settings = sample_db
    by_range = build_report(
        db,
        range_period(settings.calendar, "2026-12-04T06:00", "2026-12-04T14:00"),
        settings=settings,
    )
    assert by_range.period.label == "2026-12-04 06:00 to 2026-12-04 14:00"
    assert not by_range.period.is_shift
    assert (by_range.parts, by_range.failed, by_range.errors) == (200, 37, 8)
    whole_day = build_report(
        db,
        range_period(settings.calendar, "2026-12-04T00:00", "2026-12-05T06:00"),
        settings=settings,
    )
    assert whole_day.parts == sql(db, "SELECT COUNT(*) FROM inspections")[0][0] == 300
    assert len(whole_day.hourly) == 30


@pytest.mark.parametrize(
    ("shift", "hours", "clock"),
    [
        ("2026-03-28/Night", 7, [22, 23, 0, 1, 3, 4, 5]),
        ("2026-10-24/Night", 9, [22, 23, 0, 1, 2, 2, 3, 4, 5]),
    ],
)
def test_daylight_saving_nights_have_7_and_9_hours(tmp_path: Path, shift, hours, clock):
    calendar = berlin_calendar()
    period = shift_period(calendar, shift)
    assert period.end - period.start == hours * 3600
    # One part every 10 minutes of the real (not the clock's) night.
    parts = [
        PartSpec(wall_time=period.start + 600.0 * k + 1, tools=default_tools())
        for k in range(hours * 6)
    ]
    db = tmp_path / "dst.sqlite"
    write_records(db, parts, calendar=calendar)
    report = build_report(db, period, settings=StationSettings(calendar=calendar))
    assert report.parts == hours * 6
    assert len(report.hourly) == hours
    assert [h.parts for h in report.hourly] == [6] * hours
    assert [report.local(h.start).hour for h in report.hourly] == clock


def test_stations_are_all_listed_or_one_is_chosen(sample_db):
    db, settings = sample_db
    period = shift_period(settings.calendar, "2026-12-04/Early")
    write_records(
        db,
        [
            PartSpec(
                wall_time=period.start + 60.0 * k, station="st2", verdict="FAIL", reason="dent"
            )
            for k in range(7)
        ],
        calendar=settings.calendar,
    )
    both = build_report(db, period, settings=settings)
    assert both.station == "st1, st2" and both.parts == 207
    only = build_report(db, period, settings=settings, station="st2")
    assert (only.station, only.parts, only.failed) == ("st2", 7, 7)
    assert [r.reason for r in only.reasons] == ["dent"]
    assert only.alarms == ()  # the alarms were st1's


def test_a_report_made_while_parts_are_written_is_consistent(tmp_path: Path):
    calendar = berlin_calendar()
    settings = StationSettings(calendar=calendar)
    period = shift_period(calendar, "2026-12-04/Early")
    db = tmp_path / "busy.sqlite"
    write_records(
        db, [PartSpec(wall_time=period.start + 1, tools=default_tools())], calendar=calendar
    )
    stop = threading.Event()
    failure: list[BaseException] = []

    def line() -> None:
        k = 0
        try:
            while not stop.is_set():
                batch = [
                    PartSpec(
                        wall_time=period.start + 2 + (k + j) % 20000,
                        verdict="FAIL" if (k + j) % 3 == 0 else "PASS",
                        reason="scratch" if (k + j) % 3 == 0 else "",
                        tools=default_tools(),
                    )
                    for j in range(50)
                ]
                write_records(db, batch, calendar=calendar, batch=10)
                k += 50
        except BaseException as exc:  # reported by the test below
            failure.append(exc)

    writer = threading.Thread(target=line, name="test-line")
    writer.start()
    reports = []
    deadline = time.monotonic() + 30
    try:
        # Until the report has seen the shift grow three times while it was being written.
        while len({r.parts for r in reports}) < 4 and time.monotonic() < deadline and not failure:
            reports.append(build_report(db, period, settings=settings))
    finally:
        stop.set()
        writer.join(10)
    assert not failure, failure
    assert len({r.parts for r in reports}) >= 4  # the line really was writing meanwhile
    for report in reports:
        bound = report.last_row_id
        parts, failed = sql(
            db,
            f"SELECT COUNT(*), SUM(verdict = 'FAIL') FROM inspections WHERE {SHIFT} AND id <= ?",
            bound,
        )[0]
        assert (report.parts, report.failed) == (parts, failed)
        tools = sql(
            db,
            f"SELECT COUNT(*) FROM tool_results t JOIN inspections i ON t.inspection = i.id "
            f"WHERE {SHIFT} AND i.id <= ? AND t.tool_id = 'surface'",
            bound,
        )[0][0]
        assert next(t for t in report.tools if t.tool_id == "surface").parts == tools
        assert sum(h.parts for h in report.hourly) == parts
        assert len(report.rejects) == failed


def test_cancel_and_progress(sample_db):
    db, settings = sample_db
    period = shift_period(settings.calendar, "2026-12-04/Early")
    seen: list[tuple[int, int]] = []
    build_report(db, period, settings=settings, progress=lambda d, t, m: seen.append((d, t)))
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1]
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        build_report(db, period, settings=settings, cancel=cancel)


def test_periods_from_what_the_user_typed():
    calendar = ShiftCalendar(timezone="Europe/Berlin")
    early = shift_period(calendar, "2026-12-04/Early")
    assert (early.day, early.shift, early.label) == (
        dt.date(2026, 12, 4),
        "Early",
        "2026-12-04/Early",
    )
    assert early.end - early.start == 8 * 3600
    span = range_period(calendar, "2026-12-05T06:00", "2026-12-05T14:00")
    assert span.start == dt.datetime(2026, 12, 5, 5, 0, tzinfo=dt.UTC).timestamp()
    aware = range_period(calendar, "2026-12-05T05:00+00:00", "2026-12-05T14:00")
    assert aware.start == span.start
    now = dt.datetime(2026, 12, 5, 15, 0, tzinfo=calendar.zone).timestamp()
    assert last_shift_period(calendar, now).label == "2026-12-05/Early"
    for bad, message in [
        (lambda: shift_period(calendar, "2026-12-04"), "DAY/NAME"),
        (lambda: shift_period(calendar, "2026-13-04/Early"), "not a date"),
        (lambda: shift_period(calendar, "2026-12-04/Lunch"), "Lunch"),
        (lambda: range_period(calendar, "yesterday", "2026-12-05T14:00"), "yesterday"),
        (lambda: range_period(calendar, "2026-12-05T14:00", "2026-12-05T06:00"), "not after"),
        (lambda: last_shift_period(calendar.model_copy(update={"shifts": ()}), now), "no shift"),
    ]:
        with pytest.raises(ValueError, match=message):
            bad()


def test_pareto_counts_a_reason_once_whatever_the_parts_own_figures(tmp_path: Path) -> None:
    calendar = berlin_calendar()
    start = calendar.window(dt.date(2026, 12, 4), "Early").start
    reasons = [
        "surface: defect found (score 0.71 > 0.50, 1 region)",
        "surface: defect found (score 0.93 > 0.50, 2 regions)",
        "serial: code 'SN-12' does not match the expected format",
        "serial: code 'SN-99' does not match the expected format",
        "surface: defect found (score 0.64 > 0.50, 1 region)",
    ]
    parts = [
        PartSpec(wall_time=start + 60 + i, verdict="FAIL", reason=r) for i, r in enumerate(reasons)
    ]
    db = tmp_path / "results.sqlite"
    write_records(db, parts, calendar=calendar)
    report = build_report(
        db, shift_period(calendar, "2026-12-04/Early"), settings=StationSettings(calendar=calendar)
    )
    assert [(r.reason, r.count) for r in report.reasons] == [
        ("surface: defect found", 3),
        ("serial: code '…' does not match the expected format", 2),
    ]
    assert [r.reason for r in report.rejects] == reasons  # each part's own reason, as written


def test_a_shift_or_range_query_reads_its_parts_by_index_never_the_whole_table(sample_db):
    db, settings = sample_db
    shift = shift_period(settings.calendar, "2026-12-04/Early")
    span = range_period(settings.calendar, "2026-12-04T06:00", "2026-12-04T14:00")
    with sqlite3.connect(db) as conn:
        for period in (shift, span):
            where, params = period_filter(period, 10**9, station="st1")
            for sql_text in (
                f"SELECT COUNT(*) FROM inspections i WHERE {where}",
                f"SELECT i.verdict, i.reason, COUNT(*) FROM inspections i WHERE {where} GROUP BY 1, 2",
                f"SELECT t.tool_id, t.score FROM inspections i JOIN tool_results t "
                f"ON t.inspection = i.id WHERE {where}",
            ):
                plan = [r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql_text}", params)]
                assert not [
                    p
                    for p in plan
                    if p.startswith(("SCAN i", "SCAN t", "SCAN inspections", "SCAN tool_results"))
                ], (sql_text, plan)
                # an index of inspections (a covering one reads no row at all)
                assert any(
                    "USING INDEX inspections_" in p or "USING COVERING INDEX inspections_" in p
                    for p in plan
                ), plan


def test_tool_score_statistics_equal_numpy_on_the_same_scores(sample_db):
    import numpy as np

    db, settings = sample_db
    report = build_report(
        db, shift_period(settings.calendar, "2026-12-04/Early"), settings=settings
    )
    assert report.tools
    for tool in report.tools:
        scores = np.array(
            [
                r[0]
                for r in sql(
                    db,
                    f"SELECT t.score FROM inspections i JOIN tool_results t ON t.inspection = i.id "
                    f"WHERE {SHIFT} AND t.tool_id = ? AND t.score IS NOT NULL",
                    tool.tool_id,
                )
            ]
        )
        assert len(scores) > 10, tool.tool_id
        assert tool.score_median == pytest.approx(float(np.quantile(scores, 0.5)))
        assert tool.score_p95 == pytest.approx(float(np.quantile(scores, 0.95)))
        assert tool.score_max == pytest.approx(float(scores.max()))
