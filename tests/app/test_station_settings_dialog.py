"""The station settings dialog: refuses what the station file refuses, saves what it reads back."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel

from app.station_settings_dialog import CALENDAR_NOTE, StationSettingsDialog
from inspection.paths import Paths, user_paths
from inspection.recipe.station import (
    ShiftCalendar,
    ShiftSettings,
    StationSettings,
    load_station_settings,
    save_station_settings,
)


@pytest.fixture(autouse=True)
def _no_modal_questions(questions) -> None:
    """A dialog left with edits asks on close; answered by the fixture, not a blocking box."""


def _paths(tmp_path: Path) -> Paths:
    return user_paths({"LINESIDE_HOME": str(tmp_path / "home")}).ensure()


def _open(qtbot, paths: Paths) -> StationSettingsDialog:
    dialog = StationSettingsDialog(paths)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_shows_the_saved_settings_and_says_a_calendar_change_rewrites_nothing(
    qtbot, tmp_path: Path
) -> None:
    paths = _paths(tmp_path)
    calendar = ShiftCalendar(
        timezone="Europe/Berlin",
        shifts=(
            ShiftSettings(name="Day", start=dt.time(7), end=dt.time(19), weekdays=("mon", "tue")),
        ),
    )
    save_station_settings(paths.station_file, StationSettings(line="Line 7", calendar=calendar))

    dialog = _open(qtbot, paths)

    assert dialog.line_edit.text() == "Line 7"
    assert dialog.zone_combo.currentText() == "Europe/Berlin"
    assert dialog.shift_table.rowCount() == 1
    assert dialog.form_values()["calendar"]["shifts"] == [
        {"name": "Day", "start": "07:00", "end": "19:00", "weekdays": ["mon", "tue"]}
    ]
    notes = [w.text() for w in dialog.findChildren(QLabel) if w.isVisible()]
    assert CALENDAR_NOTE in notes
    assert "never rewritten" in CALENDAR_NOTE
    assert not dialog.has_unsaved_changes()


def test_refuses_a_duplicate_shift_name_with_a_visible_message(qtbot, tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    dialog = _open(qtbot, paths)
    assert dialog.shift_table.rowCount() == 3  # the shipped Early / Late / Night
    dialog.set_shift(1, name="Early")

    with qtbot.assertNotEmitted(dialog.saved):
        dialog.save_button.click()

    assert dialog.isVisible()
    assert dialog.shifts_error.isVisible()
    assert "Early given twice" in dialog.shifts_error.text()
    assert not paths.station_file.exists()


def test_refuses_a_shift_that_starts_when_it_ends_naming_the_row(qtbot, tmp_path: Path) -> None:
    dialog = _open(qtbot, _paths(tmp_path))
    dialog.set_shift(2, start="22:00", end="22:00")

    assert dialog.save() is None

    text = dialog.shifts_error.text()
    assert dialog.shifts_error.isVisible()
    assert "row 3" in text and "Night" in text and "22:00" in text


def test_refuses_an_unknown_time_zone_and_a_folder_without_formats(qtbot, tmp_path: Path) -> None:
    dialog = _open(qtbot, _paths(tmp_path))
    dialog.zone_combo.setCurrentText("Mars/Olympus")
    dialog.folder_edit.setText(str(tmp_path / "reports"))
    for box in dialog.format_boxes.values():
        box.setChecked(False)

    assert dialog.save() is None

    assert dialog.zone_error.isVisible() and "Mars/Olympus" in dialog.zone_error.text()
    assert dialog.reports_error.isVisible() and "format" in dialog.reports_error.text()
    assert not dialog.shifts_error.isVisible()


def test_saves_a_valid_calendar_that_the_station_file_reads_back(qtbot, tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    dialog = _open(qtbot, paths)
    dialog.line_edit.setText("Line 3")
    dialog.zone_combo.setCurrentText("America/New_York")
    while dialog.shift_table.rowCount():
        dialog.shift_table.selectRow(0)
        dialog.remove_shift()
    day = dialog.add_shift()
    dialog.set_shift(day, name="Day", start="06:30", end="18:30", weekdays=("mon", "wed", "fri"))
    night = dialog.add_shift()
    dialog.set_shift(night, name="Night", start="18:30", end="06:30")
    dialog.folder_edit.setText(str(tmp_path / "share" / "reports"))
    dialog.format_boxes["csv"].setChecked(False)
    dialog.retry_spin.setValue(120)

    with qtbot.waitSignal(dialog.saved) as blocker:
        dialog.save_button.click()

    emitted = blocker.args[0]
    read_back = load_station_settings(paths.station_file)
    assert read_back == emitted
    assert read_back.line == "Line 3"
    assert read_back.calendar.timezone == "America/New_York"
    assert [(s.name, s.start, s.end, s.weekdays) for s in read_back.calendar.shifts] == [
        ("Day", dt.time(6, 30), dt.time(18, 30), ("mon", "wed", "fri")),
        (
            "Night",
            dt.time(18, 30),
            dt.time(6, 30),
            tuple(ShiftSettings.model_fields["weekdays"].default),
        ),
    ]
    assert read_back.reports.folder == tmp_path / "share" / "reports"
    assert read_back.reports.formats == ("xlsx", "pdf")
    assert read_back.reports.retry_s == 120.0
    assert not dialog.isVisible()  # closed after saving


def test_cancel_with_edits_asks_before_dropping_them(qtbot, tmp_path: Path, questions) -> None:
    paths = _paths(tmp_path)
    dialog = _open(qtbot, paths)
    dialog.line_edit.setText("Line 9")

    dialog.cancel_button.click()  # the fixture answers Cancel: stay, edits kept

    assert questions.titles == ["Unsaved changes"]
    assert dialog.isVisible() and dialog.line_edit.text() == "Line 9"
    assert not paths.station_file.exists()


def test_disk_and_recording_limits_are_kept_and_saved(qtbot, tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    save_station_settings(
        paths.station_file,
        StationSettings.model_validate({"storage": {"min_free_gb": 7.5, "record_within_s": 30}}),
    )
    dialog = _open(qtbot, paths)
    box = dialog.storage_box
    assert box.isVisible()
    assert (box.free_gb.value(), box.record_within.value()) == (7.5, 30.0)
    box.free_percent.setValue(12.0)
    box.queue_mb.setValue(256)
    with qtbot.waitSignal(dialog.saved):
        dialog.save_button.click()
    storage = load_station_settings(paths.station_file).storage
    # what the dialog did not touch is kept, not reset to the defaults
    assert (storage.min_free_gb, storage.record_within_s) == (7.5, 30.0)
    assert (storage.min_free_percent, storage.queue_max_mb) == (12.0, 256)
