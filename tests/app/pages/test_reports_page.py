"""The Reports page: a shift's figures as SQL counts them, an empty shift, export and Cancel."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDate, QDateTime, QTime
from support.report_records import PartSpec, default_tools, write_records

from app.pages.reports import NO_PARTS, ReportsPage
from inspection.jobs import JobPool, ProgressFn
from inspection.paths import Paths, user_paths
from inspection.recipe.station import ShiftCalendar, StationSettings, save_station_settings

EARLY_START = dt.datetime(2026, 12, 4, 6, 0, tzinfo=dt.UTC).timestamp()
REASONS = ("scratch", "scratch", "dent", "scratch", "", "dent", "", "", "", "", "", "")


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    """A station on UTC shifts with twelve parts in 2026-12-04/Early, one of them an ERROR."""
    p = user_paths({"LINESIDE_HOME": str(tmp_path / "home")}).ensure()
    calendar = ShiftCalendar(timezone="UTC")
    save_station_settings(p.station_file, StationSettings(line="L1", calendar=calendar))
    parts = []
    for i, reason in enumerate(REASONS):
        verdict = "ERROR" if i == 5 else ("FAIL" if reason else "PASS")
        parts.append(
            PartSpec(
                wall_time=EARLY_START + 1500.0 * i,  # spread over five hours
                verdict=verdict,
                reason=reason,
                tools=default_tools(verdict, reason),
            )
        )
    write_records(p.results_db, parts, calendar=calendar)
    return p


@pytest.fixture
def page(qtbot, paths: Paths) -> Iterator[ReportsPage]:
    widget = ReportsPage(paths)
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    yield widget
    assert widget.shutdown(5.0)


def _choose_shift(page: ReportsPage, name: str) -> None:
    page.shift_radio.setChecked(True)
    page.day_edit.setDate(QDate(2026, 12, 4))
    page.shift_combo.setCurrentText(name)


def _sql_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT verdict, COUNT(*) FROM inspections "
            "WHERE production_day = '2026-12-04' AND shift = 'Early' GROUP BY verdict"
        ).fetchall()
    return {str(v): int(n) for v, n in rows}


def test_shows_a_shifts_figures_as_sql_counts_them(qtbot, page: ReportsPage, paths: Paths) -> None:
    _choose_shift(page, "Early")

    with qtbot.waitSignal(page.reportShown, timeout=20_000) as blocker:
        page.show_button.click()

    report = blocker.args[0]
    counts = _sql_counts(paths.results_db)
    values = {name: label.text() for name, label in page.headline.values.items()}
    assert values["Parts"] == str(sum(counts.values())) == "12"
    assert values["PASS"] == str(counts["PASS"])
    assert values["FAIL"] == str(counts["FAIL"])
    assert values["ERROR"] == str(counts["ERROR"])
    assert values["Yield"] == f"{counts['PASS'] / 12 * 100:.1f} %"
    assert values["Downtime"] == "0 min"
    parts, rejects = page.hourly_chart.hour_heights()
    assert sum(parts) == 12 and sum(rejects) == counts["FAIL"] + counts["ERROR"]
    assert page.pareto_chart.bar_heights()[0] == 3.0  # scratch, the most frequent reason
    assert page.top_reasons.rows()[0] == ("scratch", "3")
    assert report.period.label == "2026-12-04/Early"
    assert NO_PARTS not in page.status_label.text()


def test_an_empty_shift_says_no_parts_inspected(qtbot, page: ReportsPage) -> None:
    _choose_shift(page, "Late")

    with qtbot.waitSignal(page.reportShown, timeout=20_000):
        page.show_button.click()

    assert NO_PARTS in page.status_label.text()
    assert page.headline.values["Parts"].text() == "0"
    assert page.headline.values["Yield"].text() == "—"
    assert page.pareto_chart.bar_heights() == []


def test_a_range_ending_before_it_starts_is_refused_plainly(qtbot, page: ReportsPage) -> None:
    page.range_radio.setChecked(True)
    page.from_edit.setDateTime(QDateTime(QDate(2026, 12, 4), QTime(14, 0)))
    page.to_edit.setDateTime(QDateTime(QDate(2026, 12, 4), QTime(6, 0)))

    with qtbot.waitSignal(page.showFailed) as blocker:
        page.show_button.click()

    assert "not after start" in blocker.args[0]
    assert "not after start" in page.status_label.text()


def test_a_missing_database_is_named(qtbot, page: ReportsPage, paths: Paths) -> None:
    paths.results_db.unlink()
    _choose_shift(page, "Early")

    with qtbot.waitSignal(page.showFailed, timeout=20_000):
        page.show_button.click()

    assert str(paths.results_db) in page.status_label.text()
    assert "does not exist" in page.status_label.text()


def test_exports_xlsx_csv_and_pdf_with_progress(
    qtbot, page: ReportsPage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "exports"
    page.folder_edit.setText(str(out))
    for box in page.format_boxes.values():
        box.setChecked(True)
    _choose_shift(page, "Early")
    seen: list[int] = []
    page.export_progress.valueChanged.connect(seen.append)

    with qtbot.waitSignal(page.exportEnded, timeout=60_000) as blocker:
        page.export_button.click()

    assert blocker.args == ["exported"], page.export_message.text()
    names = {p.name for p in out.iterdir()}
    assert {
        "lineside-st1-2026-12-04-Early.xlsx",
        "lineside-st1-2026-12-04-Early.csv",
        "lineside-st1-2026-12-04-Early.pdf",
    } <= names
    assert seen and page.export_progress.value() == page.export_progress.maximum()
    assert page.open_folder_button.isEnabled()
    opened: list[str] = []
    monkeypatch.setattr(
        "app.pages.reports.QDesktopServices.openUrl", lambda url: opened.append(url.toLocalFile())
    )
    page.open_folder_button.click()
    assert opened == [str(out)]


class HeldPool(JobPool):
    """Holds each job at its first progress report until it is cancelled (or 10 s passed), so
    the test's Cancel lands in the middle of a real export, whatever the machine's speed."""

    def submit(self, name: str, fn: Callable[[ProgressFn, threading.Event], Any]) -> Any:
        def held(progress: ProgressFn, cancel: threading.Event) -> Any:
            first = threading.Event()

            def report(done: int, total: int, message: str = "") -> None:
                progress(done, total, message)
                if not first.is_set():
                    first.set()
                    cancel.wait(10.0)

            return fn(report, cancel)

        return super().submit(name, held)


def test_cancel_leaves_no_half_written_file(qtbot, paths: Paths, tmp_path: Path) -> None:
    pool = HeldPool()
    page = ReportsPage(paths, pool=pool)
    qtbot.addWidget(page)
    page.show()
    out = tmp_path / "exports"
    page.folder_edit.setText(str(out))
    _choose_shift(page, "Early")

    with qtbot.waitSignal(page.exportEnded, timeout=30_000) as blocker:
        page.export_button.click()
        assert page.cancel_export_button.isEnabled()
        page.cancel_export_button.click()

    assert blocker.args == ["cancelled"]
    assert "cancelled" in page.export_message.text()
    assert not out.exists() or list(out.iterdir()) == []
    assert not page.open_folder_button.isEnabled()
    assert page.shutdown(5.0) and pool.shutdown(5.0)


def test_a_report_made_while_the_line_inspects_is_paced(qtbot, page: ReportsPage) -> None:
    from inspection.reports.export import WHILE_INSPECTING_SHARE

    assert page._share() == 1.0  # the line stands: as fast as the PC allows
    page.line_running = lambda: True
    assert page._share() == WHILE_INSPECTING_SHARE < 1.0
