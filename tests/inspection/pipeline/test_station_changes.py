"""What changes while the line runs reaches the records a report's Changes sheet reads: the recipe
version started, batch changes, new counts and alarms; and the station's calendar stamps parts."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path

from support.pipeline_tools import BrightnessTool, frames, make_recipe

from inspection.paths import user_paths
from inspection.pipeline.station import Station
from inspection.recipe.station import ShiftCalendar, StationSettings, save_station_settings
from inspection.sources.memory import MemorySource
from inspection.types import StatusLevel


def events(db: Path) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT kind, text FROM events ORDER BY id").fetchall()


def test_station_records_its_changes_and_stamps_parts_with_its_line(lineside_home: Path) -> None:
    paths = user_paths().ensure()
    save_station_settings(
        paths.station_file,
        StationSettings(line="Line 3", calendar=ShiftCalendar(timezone="Europe/Berlin")),
    )
    station = Station(
        make_recipe(workers=1),
        paths=paths,
        sources=[MemorySource(frames(4))],
        make_tools=lambda: [BrightnessTool(minimum=0)],
    )
    station.start()
    try:
        station.batch.set({"lot": "L-100"})
        assert station.wait_finished(20.0)
        station.reset_counts("new shift")
        station._status(StatusLevel.ALARM, "camera cam1", "camera cam1: no frame within 1 s")
        station._status(StatusLevel.INFO, "camera cam1", "camera cam1 connected")
    finally:
        station.stop(10.0)
    kinds = [k for k, _ in events(paths.results_db)]
    assert kinds[0] == "recipe"
    assert {"batch", "count_reset", "alarm", "alarm_cleared"} <= set(kinds)
    texts = dict(events(paths.results_db))
    assert "lot - → L-100" in texts["batch"]
    assert texts["alarm"] == "camera cam1: camera cam1: no frame within 1 s"
    assert texts["alarm_cleared"].startswith("camera cam1: cleared after ")
    with closing(sqlite3.connect(paths.results_db)) as conn:
        lines = conn.execute("SELECT DISTINCT line, shift IS NOT NULL FROM inspections").fetchall()
    assert lines == [("Line 3", 1)]


def test_station_delivers_the_last_shift_report_and_alarms_when_it_cannot(
    lineside_home: Path, tmp_path: Path
) -> None:
    from inspection.recipe.station import ReportExportSettings

    paths = user_paths().ensure()
    blocked = tmp_path / "share-file"
    blocked.write_text("a file where the report folder should be", encoding="utf-8")
    settings = StationSettings(
        calendar=ShiftCalendar(timezone="Europe/Berlin"),
        reports=ReportExportSettings(folder=blocked / "reports", formats=("csv",), retry_s=1.0),
    )
    save_station_settings(paths.station_file, settings)
    station = Station(
        make_recipe(workers=1),
        paths=paths,
        sources=[MemorySource(frames(2))],
        make_tools=lambda: [BrightnessTool(minimum=0)],
    )
    station.start()
    try:
        deadline = time.monotonic() + 60.0
        while not any(a.source == "shift report" for a in station.alarms()):
            assert time.monotonic() < deadline, "no alarm for the unreachable report folder"
            time.sleep(0.05)
        (alarm,) = [a for a in station.alarms() if a.source == "shift report"]
        assert str(blocked) in alarm.message
        # the engineer points it at a folder that works: the report is delivered, the alarm clears
        good = tmp_path / "reports"
        station.use_station_settings(
            settings.model_copy(
                update={"reports": settings.reports.model_copy(update={"folder": good})}
            )
        )
        while not list(good.glob("*.csv")) or any(
            a.source == "shift report" for a in station.alarms()
        ):
            assert time.monotonic() < deadline, "the report was not delivered to the new folder"
            time.sleep(0.05)
    finally:
        station.stop(10.0)
