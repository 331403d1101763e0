"""The automatic report at each shift end: written, retried while the folder fails, never twice."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest
from support.report_records import PartSpec, default_tools, write_records

from inspection.recipe.station import (
    ReportExportSettings,
    ShiftCalendar,
    StationSettings,
)
from inspection.reports.shift_end import ShiftEndExporter

UTC = dt.UTC
EARLY_END = dt.datetime(2026, 12, 4, 14, 0, tzinfo=UTC).timestamp()
NOW = EARLY_END + 60.0  # a minute after 2026-12-04/Early ended
FORMATS = ("xlsx", "csv")


def _settings(folder: Path | None) -> StationSettings:
    return StationSettings(
        line="L1",
        calendar=ShiftCalendar(timezone="UTC"),  # the shipped 06-14, 14-22, 22-06
        reports=ReportExportSettings(folder=folder, formats=FORMATS, retry_s=5.0),
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Ten parts in 2026-12-04/Early (3 FAIL), nothing in any other shift."""
    path = tmp_path / "results.sqlite"
    start = EARLY_END - 8 * 3600.0
    parts = [
        PartSpec(
            wall_time=start + 600.0 * i,
            verdict="FAIL" if i % 3 == 0 and i else "PASS",
            reason="scratch" if i % 3 == 0 and i else "",
            tools=default_tools("FAIL" if i % 3 == 0 and i else "PASS"),
        )
        for i in range(10)
    ]
    write_records(path, parts, calendar=ShiftCalendar(timezone="UTC"))
    return path


class Statuses:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.alarmed = threading.Event()

    def __call__(self, level: str, message: str) -> None:
        self.calls.append((level, message))
        if level == "alarm":
            self.alarmed.set()


def _exporter(db: Path, folder: Path | None, state: Path, statuses: Statuses) -> ShiftEndExporter:
    return ShiftEndExporter(
        db, _settings(folder), "st1", on_status=statuses, state_file=state, clock=lambda: NOW
    )


def test_a_shift_that_ended_a_minute_ago_is_written(db: Path, tmp_path: Path) -> None:
    folder, state, statuses = tmp_path / "share", tmp_path / "state.json", Statuses()
    folder.mkdir()

    written = _exporter(db, folder, state, statuses).run_pending(NOW)

    names = sorted(p.name for p in written)
    assert names == [
        "lineside-st1-2026-12-04-Early-summary.csv",
        "lineside-st1-2026-12-04-Early.csv",
        "lineside-st1-2026-12-04-Early.xlsx",
    ]
    assert all(p.parent == folder and p.stat().st_size > 0 for p in written)
    parts_csv = (folder / "lineside-st1-2026-12-04-Early.csv").read_text(encoding="utf-8")
    assert len(parts_csv.strip().splitlines()) == 1 + 10  # header + the shift's ten parts
    saved = json.loads(state.read_text(encoding="utf-8"))
    assert list(saved["delivered"]) == ["2026-12-04/Early"]
    assert statuses.calls == []  # nothing to alarm about


def test_nothing_happens_before_the_grace_or_with_no_folder(db: Path, tmp_path: Path) -> None:
    folder, state = tmp_path / "share", tmp_path / "state.json"
    folder.mkdir()
    exporter = _exporter(db, folder, state, Statuses())
    # a first start delivers the latest shift finished before the grace: last night's, not
    # Early, whose last parts the writer may still be committing
    early = exporter.run_pending(EARLY_END + 5.0)
    assert exporter.delivered_shifts() == ("2026-12-03/Night",)
    assert all("Early" not in p.name for p in early)
    assert any("Early" in p.name for p in exporter.run_pending(NOW))
    off = _exporter(db, None, tmp_path / "off.json", Statuses())
    assert off.run_pending(NOW) == []
    assert not (tmp_path / "off.json").exists()


def test_an_unwritable_folder_alarms_is_retried_and_cleared(db: Path, tmp_path: Path) -> None:
    folder, state, statuses = tmp_path / "share", tmp_path / "state.json", Statuses()
    folder.write_text("a file where the folder should be", encoding="utf-8")
    exporter = _exporter(db, folder, state, statuses)

    assert exporter.run_pending(NOW) == []
    assert exporter.run_pending(NOW + 5.0) == []  # the same problem is not alarmed twice

    assert len(statuses.calls) == 1
    level, message = statuses.calls[0]
    assert level == "alarm"
    assert str(folder) in message and "2026-12-04/Early" in message
    assert exporter.delivered_shifts() == ()
    assert "2026-12-04/Early" not in json.loads(state.read_text(encoding="utf-8"))["delivered"]

    folder.unlink()  # the share is back
    written = exporter.run_pending(NOW + 10.0)

    assert {p.name for p in written} >= {"lineside-st1-2026-12-04-Early.xlsx"}
    assert statuses.calls[-1][0] == "info" and "2026-12-04/Early" in statuses.calls[-1][1]
    assert exporter.delivered_shifts() == ("2026-12-04/Early",)


def test_an_unmounted_share_is_not_replaced_by_a_local_folder(db: Path, tmp_path: Path) -> None:
    folder, statuses = tmp_path / "mnt" / "share" / "reports", Statuses()
    exporter = _exporter(db, folder, tmp_path / "state.json", statuses)

    assert exporter.run_pending(NOW) == []

    assert not (tmp_path / "mnt").exists()
    assert statuses.calls[0][0] == "alarm" and "cannot be reached" in statuses.calls[0][1]


def test_after_a_restart_nothing_is_written_twice(db: Path, tmp_path: Path) -> None:
    folder, state = tmp_path / "share", tmp_path / "state.json"
    folder.mkdir()
    first = _exporter(db, folder, state, Statuses()).run_pending(NOW)
    stamps = {p: p.stat().st_mtime_ns for p in first}

    again = _exporter(db, folder, state, Statuses()).run_pending(NOW + 120.0)

    assert again == []
    assert {p: p.stat().st_mtime_ns for p in first} == stamps


def test_shifts_missed_while_stopped_are_caught_up_in_order(db: Path, tmp_path: Path) -> None:
    folder, state = tmp_path / "share", tmp_path / "state.json"
    folder.mkdir()
    _exporter(db, folder, state, Statuses()).run_pending(NOW)
    later = dt.datetime(2026, 12, 5, 15, 0, tzinfo=UTC).timestamp()  # stopped ~25 h

    restarted = _exporter(db, folder, state, Statuses())
    written = restarted.run_pending(later)

    assert restarted.delivered_shifts() == (
        "2026-12-04/Early",
        "2026-12-04/Late",
        "2026-12-04/Night",
        "2026-12-05/Early",
    )
    assert {p.name for p in written if p.suffix == ".xlsx"} == {
        "lineside-st1-2026-12-04-Late.xlsx",
        "lineside-st1-2026-12-04-Night.xlsx",
        "lineside-st1-2026-12-05-Early.xlsx",
    }
    # a shift with no parts still has its report, and it says so
    summary = (folder / "lineside-st1-2026-12-04-Late-summary.csv").read_text(encoding="utf-8")
    assert "no parts inspected" in summary.lower()


def test_the_thread_alarms_and_stops(db: Path, tmp_path: Path) -> None:
    folder, statuses = tmp_path / "share", Statuses()
    folder.write_text("in the way", encoding="utf-8")
    exporter = _exporter(db, folder, tmp_path / "state.json", statuses)

    exporter.start()
    try:
        assert statuses.alarmed.wait(10.0)
    finally:
        assert exporter.stop(5.0)
    assert statuses.calls[0][0] == "alarm" and str(folder) in statuses.calls[0][1]
