"""The History page's list: a table model over the pages loaded so far (newest first)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from app import theme
from app.part_facts import when
from inspection.history.pages import PartRow

ModelIndex = QModelIndex | QPersistentModelIndex

COLUMNS: tuple[tuple[str, str], ...] = (
    ("Time", "time"),
    ("Part", "part_number"),
    ("Verdict", "verdict"),
    ("Reason", "reason"),
    ("Day / shift", "shift"),
    ("Lot", "lot"),
    ("Recipe v", "recipe_version"),
    ("Codes", "codes"),
    ("Station", "station"),
)
"""Header and the PartRow fact of each column; none names a person (DESIGN §10)."""

# What each column usually holds, for its first width; the reason gets room for a short one.
COLUMN_SAMPLES = {
    "time": "2026-12-07 20:11:53",
    "part_number": "#0000000",
    "verdict": "Verdict",
    "reason": "label: lot reads 'L2507D', batch is 'L2",
    "shift": "2026-12-07 Early",
    "lot": "L0000000",
    "recipe_version": "Recipe v",
    "codes": "SN-0000-000000",
    "station": "station-00",
}
CELL_PAD_PX = 18  # the cell's margins and the header's sort arrow


def cell(row: PartRow, key: str) -> str:
    if key == "time":
        return when(row.wall_time)
    if key == "part_number":
        return f"#{row.part_number}"
    if key == "verdict":
        return row.verdict.value
    if key == "shift":
        return f"{row.production_day} {row.shift}".strip()
    if key == "codes":
        return ", ".join(row.codes)
    return str(getattr(row, key))


class PartsModel(QAbstractTableModel):
    """Rows of the current selection; ``append`` adds the next page at the bottom."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[PartRow] = []

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's default
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        key = COLUMNS[index.column()][1]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return cell(row, key)
        if role == Qt.ItemDataRole.ForegroundRole and key == "verdict":
            return QBrush(QColor(theme.VERDICT_BACKGROUND[row.verdict]))
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        return None

    def clear(self) -> None:
        self.beginResetModel()
        self.rows = []
        self.endResetModel()

    def append(self, rows: Sequence[PartRow]) -> None:
        if not rows:
            return
        first = len(self.rows)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        self.rows.extend(rows)
        self.endInsertRows()

    def row_of(self, inspection_id: str) -> int:
        """The row showing that part, -1 when it is not loaded."""
        return next((i for i, r in enumerate(self.rows) if r.inspection_id == inspection_id), -1)
