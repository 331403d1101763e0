"""Every recorded part carries its production day, shift, line and lot; a calendar change applies
from the moment of change and never moves parts already recorded; changes are recorded too."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from contextlib import closing
from pathlib import Path

from inspection.recipe.station import ShiftCalendar, ShiftSettings
from inspection.storage.batch import StationEvent
from inspection.types import ToolResult, Verdict

BERLIN = ShiftCalendar(timezone="Europe/Berlin")
EARLY_0700 = BERLIN.local_time(dt.datetime(2026, 12, 4, 7, 0))
NIGHT_2330 = BERLIN.local_time(dt.datetime(2026, 12, 4, 23, 30))


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql).fetchall()


def test_parts_are_stamped_with_day_shift_line_and_lot(
    store_factory, make_inspection, tmp_path: Path
) -> None:
    store = store_factory(calendar=BERLIN, line="Line 2")
    early = dataclasses.replace(make_inspection(0, wall_time=EARLY_0700), lot="L-7")
    night = make_inspection(1, wall_time=NIGHT_2330 - 1)
    store.submit(early)
    store.submit(night)
    assert store.flush()
    got = rows(
        tmp_path / "results.sqlite",
        "SELECT part_seq, production_day, shift, line, lot FROM inspections ORDER BY part_seq",
    )
    assert got == [
        (0, "2026-12-04", "Early", "Line 2", "L-7"),
        (1, "2026-12-04", "Night", "Line 2", ""),
    ]


def test_a_calendar_change_applies_to_later_parts_only(
    store_factory, make_inspection, tmp_path: Path
) -> None:
    store = store_factory(calendar=BERLIN)
    store.submit(make_inspection(0, wall_time=EARLY_0700))
    assert store.flush()
    one_long_day = ShiftCalendar(
        timezone="Europe/Berlin",
        shifts=(ShiftSettings(name="Day", start=dt.time(5), end=dt.time(17)),),
    )
    store.use_calendar(one_long_day, line="Line 9")
    store.submit(make_inspection(1, wall_time=EARLY_0700))  # the same time of day, recorded later
    assert store.flush()
    got = rows(tmp_path / "results.sqlite", "SELECT shift, line FROM inspections ORDER BY part_seq")
    assert got == [("Early", ""), ("Day", "Line 9")]


def test_parts_recorded_before_shifts_existed_are_stamped_once(
    store_factory, make_inspection, tmp_path: Path
) -> None:
    db = tmp_path / "results.sqlite"
    store = store_factory(calendar=BERLIN)
    store.submit(make_inspection(0, wall_time=NIGHT_2330))
    store.submit(make_inspection(1, wall_time=EARLY_0700))
    assert store.flush()
    store.stop()
    with closing(sqlite3.connect(db)) as conn:  # as a schema-3 database left them
        conn.execute(
            "UPDATE inspections SET production_day = NULL, shift = NULL WHERE part_seq = 0"
        )
        conn.commit()
    store_factory(db, calendar=BERLIN).stop()
    got = rows(db, "SELECT part_seq, production_day, shift FROM inspections ORDER BY part_seq")
    assert got == [(0, "2026-12-04", "Night"), (1, "2026-12-04", "Early")]


def test_headline_score_threshold_and_codes_are_recorded(
    store_factory, make_inspection, tmp_path: Path
) -> None:
    store = store_factory(calendar=BERLIN)
    part = make_inspection(0, details={"codes": [{"text": "SN-42"}, {"text": "SN-42"}, {"x": 1}]})
    defects = ToolResult(
        tool_id="defects",
        tool_type="anomaly",
        verdict=Verdict.FAIL,
        measurements={"score": 3.5, "threshold": 2.0, "regions": 1.0},
    )
    label = ToolResult(
        tool_id="label2",
        tool_type="label",
        verdict=Verdict.PASS,
        measurements={"lot_confidence": 0.91, "date_confidence": 0.64, "offset_mm": 0.2},
    )
    part = dataclasses.replace(part, tool_results=(*part.tool_results, defects, label))
    store.submit(part)
    assert store.flush()
    db = tmp_path / "results.sqlite"
    scores = rows(db, "SELECT tool_id, score, threshold FROM tool_results ORDER BY id")
    assert scores == [
        ("code", 0.75, None),
        ("label", None, None),  # measures nothing a score could stand for
        ("defects", 3.5, 2.0),
        ("label2", 0.64, None),  # the weakest OCR confidence
    ]
    assert rows(db, "SELECT code FROM part_codes") == [("SN-42",)]  # once, however often read


def test_events_are_written_with_the_next_batch_or_when_idle(store_factory, tmp_path: Path) -> None:
    store = store_factory(calendar=BERLIN)
    store.record_event(
        StationEvent(
            station="station-1",
            wall_time=EARLY_0700,
            kind="batch",
            text="batch changed: lot L-1 → L-2",
            details={"after": {"lot": "L-2"}},
        )
    )
    store.stop()  # stopping writes what is waiting
    got = rows(tmp_path / "results.sqlite", "SELECT station, kind, text, details FROM events")
    assert got == [
        ("station-1", "batch", "batch changed: lot L-1 → L-2", '{"after": {"lot": "L-2"}}')
    ]
