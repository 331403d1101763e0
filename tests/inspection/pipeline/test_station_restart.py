"""A station through a shift: stop/start, a new Station on the same records (an application
restart, a recipe or camera change), and the operator's new count."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from support.pipeline_tools import BrightnessTool, Collector, frames, make_recipe
from support.recipes import demo_with_tools

from inspection.evaluation.headless import limit_parts
from inspection.evaluation.truth import TruthTally, covered_defects
from inspection.paths import user_paths
from inspection.pipeline.station import Station
from inspection.recipe import Recipe, parse_recipe
from inspection.sources.memory import MemorySource
from inspection.types import Verdict


def run_to_end(station: Station, timeout_s: float = 60.0) -> None:
    station.start()
    try:
        assert station.wait_finished(timeout_s), "station did not finish"
    finally:
        station.stop(10.0)


def simulated_codes_line(parts: int) -> Recipe:
    """The demo's simulated line (seed 7, a quarter of the packs defective) with its serial
    check alone: every part has a serial, and duplicates are a defect the line makes on purpose."""
    doc = demo_with_tools("codes")
    return limit_parts(parse_recipe(doc), parts)


def recorded_part_numbers(station: str) -> list[int]:
    with sqlite3.connect(user_paths().results_db) as conn:
        rows = conn.execute(
            "SELECT part_seq FROM inspections WHERE station = ? ORDER BY part_seq", (station,)
        )
        return [r[0] for r in rows]


def run_simulated(recipe: Recipe) -> tuple[Collector, TruthTally, Station]:
    collector = Collector()
    station = Station(recipe, paths=user_paths().ensure())
    station.add_listener(collector)
    run_to_end(station)
    return collector, TruthTally(covered_defects(recipe)).extend(collector.inspections), station


def test_a_restarted_station_goes_on_with_new_parts_numbers_and_counts(lineside_home: Path):
    recipe = simulated_codes_line(24)
    first, _, _ = run_simulated(recipe)
    second, truth, station = run_simulated(recipe)

    # the simulated line went on: new packs, new serials, no false "duplicate serial"
    indices = [i.truth.part_index for i in second.inspections if i.truth is not None]
    assert indices == list(range(24, 48))
    assert truth.fp == 0, truth.false_alarms
    assert not any(
        "duplicate serial" in i.reason
        for i in second.inspections
        if i.truth and "duplicate_serial" not in i.truth.defects
    )
    # part numbers go on; the database never holds one twice
    assert [i.part_seq for i in second.inspections] == list(range(24, 48))
    numbers = recorded_part_numbers(recipe.station)
    assert numbers == list(range(48))
    # the count of the shift survived the restart
    snap = station.counters()
    assert snap.parts == 48 and snap.last_part == 47 and snap.first_part == 0
    both = first.inspections + second.inspections
    assert snap.failed + snap.errors == sum(i.verdict.is_reject for i in both)


def test_stop_and_start_go_on_where_the_line_stopped(lineside_home: Path):
    recipe = simulated_codes_line(16)
    collector = Collector()
    station = Station(recipe, paths=user_paths().ensure())
    station.add_listener(collector)
    run_to_end(station)
    run_to_end(station)  # Stop → Start on the same station

    indices = [i.truth.part_index for i in collector.inspections if i.truth is not None]
    assert indices == list(range(32))
    assert [i.part_seq for i in collector.inspections] == list(range(32))
    tally = TruthTally(covered_defects(recipe)).extend(collector.inspections)
    assert tally.fp == 0, tally.false_alarms
    assert station.counters().parts == 32


def _serial_station(images: list, *, store: bool = True) -> tuple[Station, Collector]:
    collector = Collector()
    station = Station(
        make_recipe(workers=1),
        paths=user_paths().ensure(),
        store_results=store,
        sources=[MemorySource(images)],
        make_tools=lambda: [BrightnessTool(serial_from_pixel=True)],
    )
    station.add_listener(collector)
    return station, collector


def test_serials_of_the_shift_are_remembered_across_a_restart(lineside_home: Path):
    station, _ = _serial_station(frames(3))  # serials S0, S1, S2
    run_to_end(station)

    repeat = frames(3)
    repeat[0].flat[2] = 1  # S1 again, after the restart
    restarted, collector = _serial_station(repeat)
    run_to_end(restarted)

    first = collector.inspections[0]
    assert first.part_seq == 3
    assert first.verdict is Verdict.FAIL
    assert "duplicate serial 'S1' (first seen on part 2)" in first.reason


def test_a_new_count_is_recorded_zeroes_counts_and_forgets_serials(lineside_home: Path):
    station, _ = _serial_station(frames(3))
    run_to_end(station)
    assert station.counters().parts == 3

    assert station.reset_counts() == 3  # the new count starts with part number 3
    snap = station.counters()
    assert (snap.parts, snap.first_part, snap.last_part) == (0, 3, 2)
    assert snap.count_started > 0

    # an application restart keeps the new count, and S1 may be seen again in it
    repeat = frames(2)
    repeat[0].flat[2] = 1  # S1, seen in the old count
    repeat[1].flat[2] = 9
    restarted, collector = _serial_station(repeat)
    restarted.restore_record()
    snap = restarted.counters()
    assert (snap.parts, snap.first_part) == (0, 3)
    run_to_end(restarted)
    assert [i.verdict for i in collector.inspections] == [Verdict.PASS, Verdict.PASS]
    assert [i.part_seq for i in collector.inspections] == [3, 4]
    assert restarted.counters().parts == 2


def test_without_records_numbers_still_go_on_across_stop_and_start(lineside_home: Path):
    station, collector = _serial_station(frames(2), store=False)
    run_to_end(station)
    run_to_end(station)
    assert [i.part_seq for i in collector.inspections] == [0, 1, 2, 3]
    assert not user_paths().results_db.exists()


def test_a_run_of_rejects_raises_an_alarm_that_a_passing_part_clears(lineside_home: Path):
    dark = frames(8, value=20)  # too dark: each one FAILs
    station = Station(
        make_recipe(workers=2, alarms={"consecutive_rejects": 6}),
        store_results=False,
        sources=[MemorySource([*dark[:5], frames(1)[0], *dark, frames(1)[0]])],
        make_tools=lambda: [BrightnessTool()],
    )
    statuses: list[tuple[str, str, str]] = []

    class Listener(Collector):
        def on_status(self, update) -> None:
            if update.source == "rejects":
                statuses.append((str(update.level), update.message, str(len(self.inspections))))

    station.add_listener(Listener())
    station.start()
    try:
        assert station.wait_finished(30.0)
        history = station.alarm_history()
    finally:
        station.stop(10.0)

    # 5 rejects then a pass: no alarm; then 8 in a row: alarm at the 6th, refreshed at 7 and 8,
    # and the passing part after them clears it
    assert [s[0] for s in statuses] == ["alarm", "alarm", "alarm", "info"]
    assert statuses[0][1] == "6 rejects in a row (6 FAIL) — check the line"
    assert statuses[0][2] == "11"  # raised with part 12, before the screen hears of that part
    assert [e.source for e in history] == ["rejects"]
    assert history[0].cleared_at is not None
    assert not station.alarms()


def test_the_run_of_rejects_alarm_can_be_switched_off():
    recipe = make_recipe(alarms={"consecutive_rejects": 0})
    assert recipe.alarms.consecutive_rejects == 0
    assert make_recipe().alarms.consecutive_rejects == 8  # the default
