"""The Trends page's range: a preset (last hour, this shift...) or From/To in the station's time
zone, and Live, which only ranges that end now may follow."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QDate, QDateTime, QTime, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QDateTimeEdit, QGridLayout, QLabel, QWidget

from inspection.recipe.station import ShiftCalendar
from inspection.trends.chart_load import FOLLOWS_NOW, PRESETS, preset_range


class RangeBar(QWidget):
    """``changed`` when another range is chosen; ``liveChanged(bool)`` when Live goes on or off;
    ``problem(str)`` says why a choice was not taken."""

    changed = Signal()
    liveChanged = Signal(bool)
    problem = Signal(str)

    def __init__(
        self, calendar: ShiftCalendar, clock: Callable[[], float], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.calendar = calendar
        self.clock = clock
        self.combo = QComboBox()
        self.combo.addItems(PRESETS)
        self.combo.setCurrentText("Last hour")
        self.combo.currentTextChanged.connect(self._on_preset)
        self.from_edit = QDateTimeEdit()
        self.to_edit = QDateTimeEdit()
        for edit in (self.from_edit, self.to_edit):
            edit.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
            edit.setCalendarPopup(True)
        self.live_box = QCheckBox("Live")
        self.live_box.toggled.connect(self._on_live)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.addWidget(QLabel("Range"), 0, 0)
        self.grid.addWidget(self.combo, 0, 1)
        self.grid.addWidget(self.live_box, 0, 2)
        self.grid.addWidget(QLabel("From"), 1, 0)
        self.grid.addWidget(self.from_edit, 1, 1)
        self.grid.addWidget(QLabel("To"), 1, 2)
        self.grid.addWidget(self.to_edit, 1, 3)
        self._show_preset(self.combo.currentText())

    def _to_edit_time(self, t: float) -> QDateTime:
        local = dt.datetime.fromtimestamp(t, tz=self.calendar.zone)
        return QDateTime(
            QDate(local.year, local.month, local.day),
            QTime(local.hour, local.minute, local.second),
        )

    def _from_edit_time(self, edit: QDateTimeEdit, what: str) -> float:
        text = edit.dateTime().toString("yyyy-MM-ddTHH:mm:ss")
        return self.calendar.parse_local_time(text, what)

    def current_range(self) -> tuple[float, float]:
        """The chosen range as instants (ValueError saying why there is none)."""
        preset = self.combo.currentText()
        if preset != "Custom":
            return preset_range(self.calendar, preset, self.clock())
        start = self._from_edit_time(self.from_edit, "From")
        end = self._from_edit_time(self.to_edit, "To")
        if end <= start:
            raise ValueError("the range's To is not after its From")
        return start, end

    def set_range(self, start: float, end: float) -> None:
        """Show a custom range (Live goes off: a fixed range does not follow now)."""
        self.live_box.setChecked(False)
        self.combo.blockSignals(True)
        self.combo.setCurrentText("Custom")
        self.combo.blockSignals(False)
        self.from_edit.setDateTime(self._to_edit_time(start))
        self.to_edit.setDateTime(self._to_edit_time(end))

    def choose_custom(self) -> None:
        """From/To as edited become the range."""
        self.combo.blockSignals(True)
        self.combo.setCurrentText("Custom")
        self.combo.blockSignals(False)
        self._on_preset("Custom")

    def _show_preset(self, preset: str) -> bool:
        if preset == "Custom":
            return True
        try:
            start, end = preset_range(self.calendar, preset, self.clock())
        except ValueError as exc:
            self.problem.emit(str(exc))
            return False
        self.from_edit.setDateTime(self._to_edit_time(start))
        self.to_edit.setDateTime(self._to_edit_time(end))
        return True

    def _on_preset(self, preset: str) -> None:
        if not self._show_preset(preset):
            return
        if preset not in FOLLOWS_NOW and self.live_box.isChecked():
            self.live_box.setChecked(False)
        self.changed.emit()

    def _on_live(self, on: bool) -> None:
        if on and self.combo.currentText() not in FOLLOWS_NOW:
            self.problem.emit("Live follows ranges that end now; choose one of those.")
            self.live_box.setChecked(False)
            return
        self.liveChanged.emit(on)
