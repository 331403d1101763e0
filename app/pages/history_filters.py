"""The History page's filter bar: what the quality engineer is looking for, as a PartFilter.

Every field names a fact of the part (time, shift, verdict, reason, tool, lot, recipe version,
its id or a code read); none names a person (DESIGN §10).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QDate, QDateTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QWidget,
)

from inspection.history.filters import PartFilter
from inspection.recipe.station import ShiftSettings
from inspection.types import Verdict


class FilterBar(QWidget):
    """The filter fields; ``searchRequested`` when Enter is pressed in a text field."""

    searchRequested = Signal()

    def __init__(self, shifts: Sequence[ShiftSettings], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.from_box, self.from_edit = QCheckBox("From"), QDateTimeEdit()
        self.to_box, self.to_edit = QCheckBox("To"), QDateTimeEdit()
        now = QDateTime.currentDateTime()
        self.from_edit.setDateTime(now.addDays(-1))
        self.to_edit.setDateTime(now)
        for edit in (self.from_edit, self.to_edit):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.shift_box, self.day_edit = QCheckBox("Shift"), QDateEdit(QDate.currentDate())
        self.day_edit.setCalendarPopup(True)
        self.day_edit.setDisplayFormat("yyyy-MM-dd")
        self.shift_combo = QComboBox()
        self.shift_combo.addItems([s.name for s in shifts])
        self.verdict_boxes = {v: QCheckBox(v.value) for v in Verdict}
        self.reason_edit = self._line("reason contains…")
        self.tool_edit = self._line("tool id (its rejects)")
        self.lot_edit = self._line("lot")
        self.version_edit = self._line("recipe version")
        self.text_edit = self._line("inspection id, code or part number")

        bar = self.grid = QGridLayout(self)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.from_box, 0, 0)
        bar.addWidget(self.from_edit, 0, 1)
        bar.addWidget(self.to_box, 0, 2)
        bar.addWidget(self.to_edit, 0, 3)
        bar.addWidget(self.shift_box, 0, 4)
        bar.addWidget(self.day_edit, 0, 5)
        bar.addWidget(self.shift_combo, 0, 6)
        verdicts = QHBoxLayout()
        for box in self.verdict_boxes.values():
            verdicts.addWidget(box)
        bar.addLayout(verdicts, 0, 7)
        for col, line in enumerate(
            (self.reason_edit, self.tool_edit, self.lot_edit, self.version_edit)
        ):
            bar.addWidget(line, 1, col * 2, 1, 2)
        bar.addWidget(self.text_edit, 2, 0, 1, 4)

    def _line(self, placeholder: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setPlaceholderText(placeholder)
        edit.returnPressed.connect(self.searchRequested)
        return edit

    def current_filter(self) -> PartFilter:
        """The filter the bar describes; FilterError names a field that makes no sense."""
        shift = self.shift_box.isChecked()
        lot = self.lot_edit.text().strip()
        return PartFilter(
            start=self.from_edit.dateTime().toSecsSinceEpoch()
            if self.from_box.isChecked()
            else None,
            end=self.to_edit.dateTime().toSecsSinceEpoch() if self.to_box.isChecked() else None,
            production_day=self.day_edit.date().toString("yyyy-MM-dd") if shift else None,
            shift=self.shift_combo.currentText() if shift else None,
            verdicts=frozenset(v for v, box in self.verdict_boxes.items() if box.isChecked()),
            reason=self.reason_edit.text(),
            tool=self.tool_edit.text(),
            lot=lot or None,
            recipe_version=self.version_edit.text(),
            text=self.text_edit.text(),
        )

    def clear(self) -> None:
        for box in (self.from_box, self.to_box, self.shift_box, *self.verdict_boxes.values()):
            box.setChecked(False)
        for edit in (
            self.reason_edit,
            self.tool_edit,
            self.lot_edit,
            self.version_edit,
            self.text_edit,
        ):
            edit.clear()
