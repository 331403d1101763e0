"""The operator's trend strip, live: yields over the last hour and the shift, top reject reasons,
a new shift and a new count, the ring of intervals, and the figures back after a restart."""

from __future__ import annotations

import datetime as dt
import math
import threading
from pathlib import Path

import pytest
from support.pipeline_tools import BrightnessTool, Collector, frames, make_recipe

from inspection.paths import user_paths
from inspection.pipeline.shift_trend import ReasonCount, ShiftTrend, read_trend_record
from inspection.pipeline.station import Station
from inspection.recipe.station import ShiftCalendar, StationSettings, save_station_settings
from inspection.sources.memory import MemorySource
from inspection.types import Inspection, Verdict

CALENDAR = ShiftCalendar(timezone="Europe/Berlin")  # the shipped 06-14, 14-22, 22-06 shifts
ZONE = CALENDAR.zone
# 2026-12-04 (a Friday), Early shift 06:00-14:00 Berlin
EARLY_9AM = dt.datetime(2026, 12, 4, 9, 0, tzinfo=ZONE).timestamp()
LATE_START = dt.datetime(2026, 12, 4, 14, 0, tzinfo=ZONE).timestamp()


def part(seq: int, verdict: Verdict, reason: str = "", *, at: float) -> Inspection:
    return Inspection(
        inspection_id=f"id-{seq}",
        station="bench",
        part_seq=seq,
        verdict=verdict,
        reason=reason,
        tool_results=(),
        frames=(),
        recipe_name="r",
        recipe_version="1",
        wall_time=at,
    )


# (verdict, reason) of 20 parts: 12 pass, 5 surface defects with their own scores, 2 serials
# unread, 1 ERROR (camera), so the top three are surface 5, serial 2, camera 1
KNOWN = (
    [(Verdict.PASS, "")] * 12
    + [(Verdict.FAIL, f"surface: defect found (score 0.{70 + i}, 1 region)") for i in range(5)]
    + [(Verdict.FAIL, "serial: no code read")] * 2
    + [(Verdict.ERROR, "cam1: no frame in time (timeout 1.0 s)")]
)


def feed(trend: ShiftTrend, start: float, step_s: float, known=KNOWN, first_seq: int = 0) -> float:
    """Parts ``step_s`` apart from ``start``; returns the time of the last one."""
    t = start
    for i, (verdict, reason) in enumerate(known):
        t = start + i * step_s
        trend.part_done(part(first_seq + i, verdict, reason, at=t))
    return t


def test_yields_and_top_three_reasons_after_known_parts() -> None:
    trend = ShiftTrend(CALENDAR)
    last = feed(trend, EARLY_9AM, 10.0)  # 20 parts in 200 s: one 5-minute interval
    snap = trend.snapshot(last + 1)

    assert snap.shift == "2026-12-04/Early"
    assert (snap.parts, snap.passed, snap.rejects) == (20, 12, 8)
    assert snap.yield_shift == pytest.approx(60.0)
    assert (snap.parts_last_hour, snap.passed_last_hour) == (20, 12)
    assert snap.yield_last_hour == pytest.approx(60.0)
    assert snap.top_reasons == (
        ReasonCount("surface: defect found", 5),  # five scores, one category
        ReasonCount("serial: no code read", 2),
        ReasonCount("cam1: no frame in time", 1),
    )
    assert len(snap.interval_yields) == 12 == len(snap.interval_starts) == len(snap.interval_parts)
    assert snap.interval_yields[-1] == pytest.approx(60.0) and snap.interval_parts[-1] == 20
    assert all(math.isnan(y) for y in snap.interval_yields[:-1])
    assert snap.interval_starts[-1] <= last < snap.interval_starts[-1] + 300
    assert list(snap.interval_starts) == sorted(snap.interval_starts)


def test_yield_per_interval_over_the_last_hour() -> None:
    trend = ShiftTrend(CALENDAR)
    start = EARLY_9AM  # 09:00 is an interval boundary
    # interval k (5 minutes each): 12 parts, k of them rejects
    for k in range(12):
        known = [(Verdict.FAIL, "label: lot unreadable")] * k + [(Verdict.PASS, "")] * (12 - k)
        feed(trend, start + k * 300, 20.0, known, first_seq=k * 12)
    snap = trend.snapshot(start + 11 * 300 + 299)
    assert snap.interval_parts == (12,) * 12
    assert snap.interval_yields == pytest.approx(tuple(100.0 * (12 - k) / 12 for k in range(12)))
    assert snap.parts_last_hour == 144 and snap.passed_last_hour == 144 - sum(range(12))
    # five minutes on, the first interval left the hour; the current one has no parts yet
    later = trend.snapshot(start + 12 * 300 + 1)
    assert later.interval_parts == (*(12,) * 11, 0)
    assert math.isnan(later.interval_yields[-1])
    assert later.parts_last_hour == 132
    assert later.parts == 144  # the shift keeps them all


def test_the_ring_wraps_and_reuses_its_slots() -> None:
    trend = ShiftTrend(CALENDAR, interval_s=60.0, window_s=300.0)  # 5 slots of a minute
    start = EARLY_9AM
    for minute in range(13):  # wraps twice and a bit
        verdict = Verdict.PASS if minute % 2 == 0 else Verdict.FAIL
        trend.part_done(part(minute, verdict, "x", at=start + minute * 60 + 1))
        trend.part_done(part(100 + minute, Verdict.PASS, at=start + minute * 60 + 2))
    snap = trend.snapshot(start + 12 * 60 + 30)
    # minutes 8..12: 2 parts each; odd minutes had one reject
    assert snap.interval_parts == (2, 2, 2, 2, 2)
    assert snap.interval_yields == pytest.approx((100.0, 50.0, 100.0, 50.0, 100.0))
    assert snap.interval_starts == tuple(start + m * 60 for m in range(8, 13))
    # a part older than the ring is counted in the shift, not in an interval it no longer holds
    trend.part_done(part(999, Verdict.FAIL, "late", at=start + 60))
    again = trend.snapshot(start + 12 * 60 + 30)
    assert again.interval_parts == snap.interval_parts and again.parts == snap.parts + 1
    # after a gap longer than the ring, every stale slot is empty
    trend.part_done(part(1000, Verdict.PASS, at=start + 60 * 60))
    gap = trend.snapshot(start + 60 * 60 + 1)
    assert gap.interval_parts == (0, 0, 0, 0, 1)


def test_a_new_shift_starts_at_zero_and_the_last_hour_goes_on() -> None:
    trend = ShiftTrend(CALENDAR)
    feed(trend, LATE_START - 200, 10.0)  # the last 200 s of the Early shift
    assert trend.snapshot(LATE_START - 1).parts == 20
    # no part yet: a snapshot in the Late shift shows the new shift empty
    empty = trend.snapshot(LATE_START + 1)
    assert empty.shift == "2026-12-04/Late"
    assert empty.parts == 0 and math.isnan(empty.yield_shift) and empty.top_reasons == ()
    assert empty.parts_last_hour == 20  # the rolling hour knows no shifts
    trend.part_done(part(20, Verdict.FAIL, "serial: no code read", at=LATE_START + 5))
    late = trend.snapshot(LATE_START + 6)
    assert (late.parts, late.passed) == (1, 0)
    assert late.top_reasons == (ReasonCount("serial: no code read", 1),)
    # a part captured before the boundary but published after it stays in the new shift's count
    trend.part_done(part(21, Verdict.PASS, at=LATE_START - 0.5))
    assert trend.snapshot(LATE_START + 7).parts == 2


def test_a_new_count_zeroes_everything() -> None:
    trend = ShiftTrend(CALENDAR)
    last = feed(trend, EARLY_9AM, 1.0)
    trend.reset()
    snap = trend.snapshot(last + 1)
    assert snap.parts == 0 and snap.parts_last_hour == 0 and snap.top_reasons == ()
    assert snap.shift == "2026-12-04/Early"
    trend.part_done(part(50, Verdict.PASS, at=last + 2))
    assert trend.snapshot(last + 3).yield_shift == 100.0


def test_a_new_calendar_moves_the_part_to_its_shift() -> None:
    trend = ShiftTrend(CALENDAR)
    feed(trend, EARLY_9AM, 1.0)
    # one long day shift from 06:00: same day, another name, so another shift's figures
    day = ShiftCalendar.model_validate(
        {"timezone": "Europe/Berlin", "shifts": [{"name": "Day", "start": "06:00", "end": "18:00"}]}
    )
    trend.use_calendar(day)
    trend.part_done(part(99, Verdict.PASS, at=EARLY_9AM + 100))
    snap = trend.snapshot(EARLY_9AM + 101)
    assert snap.shift == "2026-12-04/Day" and snap.parts == 1


def test_snapshots_are_consistent_while_parts_arrive() -> None:
    trend = ShiftTrend(CALENDAR)
    done = threading.Event()

    def writer() -> None:
        for i in range(3000):
            trend.part_done(part(i, Verdict.PASS if i % 4 else Verdict.FAIL, "x", at=EARLY_9AM))
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    while not done.is_set():
        snap = trend.snapshot(EARLY_9AM + 1)
        assert snap.parts == snap.parts_last_hour  # one lock: both figures of the same parts
        assert snap.parts - snap.passed == sum(r.count for r in snap.top_reasons)
    thread.join()
    assert trend.snapshot(EARLY_9AM + 1).parts == 3000


def test_bad_intervals_are_refused() -> None:
    with pytest.raises(ValueError, match="interval_s=0"):
        ShiftTrend(CALENDAR, interval_s=0)


# ---- through the station, and back after a restart -----------------------------------------


def _station(images) -> tuple[Station, Collector]:
    collector = Collector()
    station = Station(
        make_recipe(workers=1),
        paths=user_paths().ensure(),
        sources=[MemorySource(images)],
        make_tools=lambda: [BrightnessTool()],
    )
    station.add_listener(collector)
    return station, collector


def _run(station: Station) -> None:
    station.start()
    try:
        assert station.wait_finished(30.0)
    finally:
        station.stop(10.0)


def _day_and_night_calendar() -> ShiftCalendar:
    # one shift around the clock, so the test's "now" is always inside the same shift
    return ShiftCalendar.model_validate(
        {"timezone": "UTC", "shifts": [{"name": "All", "start": "00:00", "end": "23:59:59"}]}
    )


def test_the_station_feeds_the_strip_and_a_restart_brings_the_shift_back(
    lineside_home: Path,
) -> None:
    save_station_settings(
        user_paths().ensure().station_file, StationSettings(calendar=_day_and_night_calendar())
    )
    images = frames(6) + frames(3, value=40)  # 6 bright (PASS), 3 dark: "too dark (40)"
    station, collector = _station(images)
    _run(station)
    snap = station.shift_trend()
    assert len(collector.inspections) == 9
    assert (snap.parts, snap.passed) == (9, 6)
    assert snap.top_reasons == (ReasonCount("bright: too dark", 3),)
    assert snap.parts_last_hour == 9

    restarted, _ = _station(frames(2, value=40))
    _run(restarted)
    after = restarted.shift_trend()
    assert (after.parts, after.passed) == (11, 6)
    assert after.top_reasons == (ReasonCount("bright: too dark", 5),)
    assert after.parts_last_hour == 11
    assert after.yield_shift == pytest.approx(100 * 6 / 11)

    # the new count: zero now, and zero again after a restart (only parts of the count)
    restarted.reset_counts()
    assert restarted.shift_trend().parts == 0
    third, _ = _station(frames(1))
    _run(third)
    assert (third.shift_trend().parts, third.shift_trend().passed) == (1, 1)
    record = read_trend_record(
        user_paths().results_db, "station-1", _day_and_night_calendar(), first_part=0
    )
    assert record.parts == 12  # the whole shift, for a reader that asks for it


def test_no_database_yet_gives_an_empty_record(tmp_path: Path) -> None:
    record = read_trend_record(tmp_path / "none.db", "s", CALENDAR)
    assert record.shift is None and record.parts == 0
