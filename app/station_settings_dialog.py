"""Station settings: the line's name, the shift calendar and where shift reports go by themselves.

The form is validated by the core's pydantic model (``StationSettings``), so the dialog accepts
exactly what ``config/station.yaml`` accepts; a refusal is shown next to the field it concerns.
Saving writes the file; whoever opened the dialog passes ``saved``'s settings to the running
station (the calendar then applies to parts recorded from that moment on).
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import Qt, QTime, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from app import confirm, theme
from app.storage_settings_box import StorageSettingsBox
from inspection.errors import LinesideError
from inspection.paths import Paths
from inspection.recipe.station import (
    REPORT_FORMATS,
    WEEKDAYS,
    ShiftSettings,
    StationSettings,
    load_station_settings,
    save_station_settings,
)

log = logging.getLogger(__name__)

CALENDAR_NOTE = (
    "A change to the shifts or the time zone applies to parts recorded from the moment you "
    "save. Parts recorded before keep their production day and shift, and reports already "
    "made are never rewritten."
)
_ERROR_STYLE = "color: #ff6b6b;"
_COLUMNS = ("Name", "Start", "End", "Weekdays")


class WeekdayPicker(QWidget):
    """Seven ticks, Mon ... Sun: the days a shift starts on."""

    def __init__(self, days: tuple[str, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 0, 4, 0)
        self.boxes: dict[str, QCheckBox] = {}
        for day in WEEKDAYS:
            box = QCheckBox(day.capitalize())
            box.setChecked(day in days)
            self.boxes[day] = box
            row.addWidget(box)

    def days(self) -> list[str]:
        return [day for day, box in self.boxes.items() if box.isChecked()]


def _qtime(value: dt.time) -> QTime:
    return QTime(value.hour, value.minute)


def _clock(value: QTime) -> str:
    return f"{value.hour():02d}:{value.minute():02d}"


def _error_label() -> QLabel:
    label = QLabel("")
    label.setStyleSheet(_ERROR_STYLE)
    label.setWordWrap(True)
    label.setVisible(False)
    return label


def _say(label: QLabel, text: str) -> None:
    label.setText(text)
    label.setVisible(bool(text))


class StationSettingsDialog(QDialog):
    """Edit ``config/station.yaml``; ``saved(StationSettings)`` after a successful save."""

    saved = Signal(object)  # StationSettings

    def __init__(self, paths: Paths, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Station settings")
        self.setObjectName("stationSettingsDialog")
        self.paths = paths
        self.file_error = _error_label()
        try:
            settings = load_station_settings(paths.station_file)
        except LinesideError as exc:
            # Show what is wrong and start from the defaults; Save replaces the broken file.
            settings = StationSettings()
            _say(self.file_error, f"{exc}\nThe defaults are shown; Save replaces the file.")

        self.line_edit = QLineEdit(settings.line)
        self.line_edit.setPlaceholderText("e.g. Line 3")
        self.line_error = _error_label()

        self.zone_combo = QComboBox()
        self.zone_combo.setEditable(True)
        self.zone_combo.addItems(sorted(zoneinfo.available_timezones()))
        self.zone_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        completer = QCompleter(self.zone_combo.model(), self.zone_combo)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.zone_combo.setCompleter(completer)
        self.zone_combo.setCurrentText(settings.calendar.timezone)
        self.zone_error = _error_label()

        self.shift_table = QTableWidget(0, len(_COLUMNS))
        self.shift_table.setObjectName("shiftTable")
        self.shift_table.setHorizontalHeaderLabels(list(_COLUMNS))
        self.shift_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.shift_table.verticalHeader().setVisible(False)
        header = self.shift_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        for shift in settings.calendar.shifts:
            self.add_shift(shift)
        self.add_shift_button = QPushButton("Add shift")
        self.add_shift_button.clicked.connect(lambda: self.add_shift())
        self.remove_shift_button = QPushButton("Remove shift")
        self.remove_shift_button.clicked.connect(self.remove_shift)
        self.shifts_error = _error_label()

        folder = settings.reports.folder
        self.folder_edit = QLineEdit("" if folder is None else str(folder))
        self.folder_edit.setPlaceholderText("empty: no automatic report")
        self.choose_folder_button = QPushButton("Choose…")
        self.choose_folder_button.clicked.connect(self._choose_folder)
        self.format_boxes: dict[str, QCheckBox] = {}
        for fmt in REPORT_FORMATS:
            box = QCheckBox(fmt)
            box.setChecked(fmt in settings.reports.formats)
            self.format_boxes[fmt] = box
        self.retry_spin = QSpinBox()
        self.retry_spin.setRange(1, 3600)
        self.retry_spin.setSuffix(" s")
        self.retry_spin.setValue(round(settings.reports.retry_s))
        self.reports_error = _error_label()
        self.storage_box = StorageSettingsBox(settings.storage)

        self.save_error = _error_label()
        self.save_button = QPushButton("Save")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)

        self._layout()
        self._shown = self.form_values()

    def _layout(self) -> None:
        station_form = QFormLayout()
        station_form.addRow("Line:", self.line_edit)
        station_form.addRow("", self.line_error)

        calendar_box = QGroupBox("Shift calendar")
        calendar_layout = QVBoxLayout(calendar_box)
        zone_form = QFormLayout()
        zone_form.addRow("Time zone:", self.zone_combo)
        zone_form.addRow("", self.zone_error)
        calendar_layout.addLayout(zone_form)
        calendar_layout.addWidget(self.shift_table)
        shift_buttons = QHBoxLayout()
        shift_buttons.addWidget(self.add_shift_button)
        shift_buttons.addWidget(self.remove_shift_button)
        shift_buttons.addStretch(1)
        calendar_layout.addLayout(shift_buttons)
        calendar_layout.addWidget(self.shifts_error)
        note = QLabel(CALENDAR_NOTE)
        note.setObjectName("calendarNote")
        note.setWordWrap(True)
        note.setStyleSheet(f"color: {theme.MUTED_TEXT};")
        calendar_layout.addWidget(note)

        reports_box = QGroupBox("Automatic report at each shift end")
        reports_form = QFormLayout(reports_box)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.choose_folder_button)
        reports_form.addRow("Folder:", folder_row)
        formats_row = QHBoxLayout()
        for box in self.format_boxes.values():
            formats_row.addWidget(box)
        formats_row.addStretch(1)
        reports_form.addRow("Formats:", formats_row)
        reports_form.addRow("Retry every:", self.retry_spin)
        reports_form.addRow("", self.reports_error)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.save_button, self.cancel_button):
            button.setMinimumHeight(theme.BUTTON_MIN_PX)
            button.setMinimumWidth(theme.BUTTON_MIN_PX * 2)
            buttons.addWidget(button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.file_error)
        layout.addLayout(station_form)
        layout.addWidget(calendar_box, 1)
        layout.addWidget(reports_box)
        layout.addWidget(self.storage_box)
        layout.addWidget(self.save_error)
        layout.addLayout(buttons)
        self.setMinimumWidth(860)

    # ---- the shifts table ----------------------------------------------------------------

    def add_shift(self, shift: ShiftSettings | None = None) -> int:
        """Append a row (a blank 8-hour shift when ``shift`` is None); its row index."""
        row = self.shift_table.rowCount()
        self.shift_table.insertRow(row)
        name = shift.name if shift is not None else ""
        start = shift.start if shift is not None else dt.time(6)
        end = shift.end if shift is not None else dt.time(14)
        days = shift.weekdays if shift is not None else WEEKDAYS
        self.shift_table.setItem(row, 0, QTableWidgetItem(name))
        for col, value in ((1, start), (2, end)):
            edit = QTimeEdit(_qtime(value))
            edit.setDisplayFormat("HH:mm")
            self.shift_table.setCellWidget(row, col, edit)
        self.shift_table.setCellWidget(row, 3, WeekdayPicker(tuple(days)))
        self.shift_table.resizeRowToContents(row)
        if shift is None:
            self.shift_table.setCurrentCell(row, 0)
            self.shift_table.editItem(self.shift_table.item(row, 0))
        return row

    def remove_shift(self) -> None:
        row = self.shift_table.currentRow()
        if row < 0:
            row = self.shift_table.rowCount() - 1
        if row >= 0:
            self.shift_table.removeRow(row)

    def set_shift(
        self,
        row: int,
        *,
        name: str | None = None,
        start: str | None = None,
        end: str | None = None,
        weekdays: tuple[str, ...] | None = None,
    ) -> None:
        """Fill a row's cells as a user would (name text, HH:MM times, ticked days)."""
        if name is not None:
            item = self.shift_table.item(row, 0)
            assert item is not None
            item.setText(name)
        for col, text in ((1, start), (2, end)):
            if text is not None:
                widget = self.shift_table.cellWidget(row, col)
                assert isinstance(widget, QTimeEdit)
                widget.setTime(QTime.fromString(text, "HH:mm"))
        if weekdays is not None:
            picker = self.shift_table.cellWidget(row, 3)
            assert isinstance(picker, WeekdayPicker)
            for day, box in picker.boxes.items():
                box.setChecked(day in weekdays)

    def _shift_rows(self) -> list[dict[str, Any]]:
        rows = []
        for row in range(self.shift_table.rowCount()):
            item = self.shift_table.item(row, 0)
            start = self.shift_table.cellWidget(row, 1)
            end = self.shift_table.cellWidget(row, 2)
            picker = self.shift_table.cellWidget(row, 3)
            assert isinstance(start, QTimeEdit) and isinstance(end, QTimeEdit)
            assert isinstance(picker, WeekdayPicker)
            rows.append(
                {
                    "name": item.text().strip() if item is not None else "",
                    "start": _clock(start.time()),
                    "end": _clock(end.time()),
                    "weekdays": picker.days(),
                }
            )
        return rows

    # ---- the whole form ------------------------------------------------------------------

    def form_values(self) -> dict[str, Any]:
        """The form as the station file's fields (before validation)."""
        folder = self.folder_edit.text().strip()
        return {
            "line": self.line_edit.text().strip(),
            "calendar": {
                "timezone": self.zone_combo.currentText().strip(),
                "shifts": self._shift_rows(),
            },
            "reports": {
                "folder": folder or None,
                "formats": [fmt for fmt, box in self.format_boxes.items() if box.isChecked()],
                "retry_s": float(self.retry_spin.value()),
            },
            "storage": self.storage_box.values(),
        }

    def has_unsaved_changes(self) -> bool:
        return self.form_values() != self._shown

    def settings(self) -> StationSettings | None:
        """The form validated by the core's model; None with the reasons shown by the fields."""
        errors = (self.line_error, self.zone_error, self.shifts_error, self.reports_error)
        for label in (*errors, self.storage_box.error):
            _say(label, "")
        _say(self.save_error, "")
        values = self.form_values()
        problems: dict[QLabel, list[str]] = {}
        reports = values["reports"]
        if reports["folder"] is not None and not reports["formats"]:
            problems.setdefault(self.reports_error, []).append(
                "Formats: choose at least one format for the automatic report"
            )
        try:
            settings = StationSettings.model_validate(values)
        except ValidationError as exc:
            settings = None
            for error in exc.errors():
                label, text = self._place(error, values)
                problems.setdefault(label, []).append(text)
        for label, texts in problems.items():
            _say(label, "\n".join(texts))
        return settings if not problems else None

    def _place(self, error: Any, values: dict[str, Any]) -> tuple[QLabel, str]:
        """Which field's label shows a pydantic error, and its text in the user's words."""
        loc = tuple(error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        if loc[:1] == ("line",):
            return self.line_error, f"Line: {message}"
        if loc[:2] == ("calendar", "timezone"):
            return self.zone_error, f"Time zone: {message}"
        if loc[:2] == ("calendar", "shifts"):
            if len(loc) > 2 and isinstance(loc[2], int):
                row = loc[2]
                name = values["calendar"]["shifts"][row]["name"] or "(no name)"
                field = f" {loc[3]}" if len(loc) > 3 else ""
                return self.shifts_error, f"Shift row {row + 1} ({name}){field}: {message}"
            return self.shifts_error, f"Shifts: {message}"
        if loc[:1] == ("reports",):
            field = str(loc[1]) if len(loc) > 1 else "reports"
            return self.reports_error, f"{field.replace('_', ' ')}: {message}"
        if loc[:1] == ("storage",):
            field = str(loc[1]) if len(loc) > 1 else "storage"
            return self.storage_box.error, f"{field.replace('_', ' ')}: {message}"
        return self.save_error, f"{'.'.join(str(p) for p in loc)}: {message}"

    # ---- actions -------------------------------------------------------------------------

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Shift reports folder", self.folder_edit.text() or str(self.paths.reports)
        )
        if folder:
            self.folder_edit.setText(folder)

    def save(self) -> StationSettings | None:
        """Validate and write the station file; emits ``saved`` and closes. None if refused."""
        settings = self.settings()
        if settings is None:
            return None
        path: Path = self.paths.station_file
        try:
            save_station_settings(path, settings)
        except OSError as exc:
            _say(self.save_error, f"{path} could not be written: {exc}")
            return None
        log.info("station settings saved to %s", path)
        self._shown = self.form_values()
        self.saved.emit(settings)
        self.accept()
        return settings

    def reject(self) -> None:
        # Cancel, Escape and the window's close button: edits are not dropped without asking
        if self.has_unsaved_changes():
            answer = confirm.unsaved_changes(
                self, "the station settings", "Discard drops the edits made in this dialog."
            )
            if answer is confirm.Unsaved.CANCEL:
                return
            if answer is confirm.Unsaved.SAVE and self.save() is None:
                return
            if answer is confirm.Unsaved.SAVE:
                return  # save() closed the dialog already
        super().reject()
