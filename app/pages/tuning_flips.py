"""The Tuning page's list of parts whose verdict the candidate threshold would change: passes it
would reject, rejects it would pass. Each is opened (double-click) as its inspection id."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QListWidget, QListWidgetItem, QWidget

FLIPS_SHOWN = 500  # of each kind; the rest are counted, not listed


class FlipList(QWidget):
    """Two lists of parts (row id, score, inspection id once known). ``partChosen(int)`` with
    the row id of a double-clicked part."""

    partChosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.value_name = "score"  # what the listed numbers are (the tuned limit's value)
        self.rejected_title = QLabel()
        self.passed_title = QLabel()
        self.rejected = QListWidget()
        self.passed = QListWidget()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.rejected_title, 0, 0)
        grid.addWidget(self.passed_title, 0, 1)
        grid.addWidget(self.rejected, 1, 0)
        grid.addWidget(self.passed, 1, 1)
        for box in (self.rejected, self.passed):
            box.setToolTip("Double-click a part to open it in History")
            box.itemDoubleClicked.connect(self._on_double_click)
        self.show_parts((), (), 0, 0, {}, {})

    @staticmethod
    def _title(what: str, listed: int, total: int) -> str:
        more = f" (the first {listed:,} listed; {total - listed:,} more)" if total > listed else ""
        return f"{what}: {total:,}{more}"

    def _text(self, row_id: int, score: float, names: dict[int, str]) -> str:
        return f"{names.get(row_id, f'part #{row_id}')}    {self.value_name} {score:.5g}"

    def show_parts(
        self,
        rejected: Sequence[int] | np.ndarray,
        passed: Sequence[int] | np.ndarray,
        rejected_total: int,
        passed_total: int,
        scores: dict[int, float],
        names: dict[int, str],
    ) -> None:
        """List the parts (row ids, at most FLIPS_SHOWN each) with their scores and names."""
        for box, ids in ((self.rejected, rejected), (self.passed, passed)):
            box.clear()
            for row_id in (int(i) for i in ids):
                item = QListWidgetItem(self._text(row_id, scores[row_id], names))
                item.setData(Qt.ItemDataRole.UserRole, row_id)
                item.setData(Qt.ItemDataRole.UserRole + 1, scores[row_id])
                box.addItem(item)
        self.rejected_title.setText(
            self._title("Passes that would be rejected", len(rejected), rejected_total)
        )
        self.passed_title.setText(self._title("Rejects that would pass", len(passed), passed_total))

    def name_parts(self, names: dict[int, str]) -> None:
        """Show the inspection ids now known for listed parts."""
        for box in (self.rejected, self.passed):
            for i in range(box.count()):
                item = box.item(i)
                row_id = int(item.data(Qt.ItemDataRole.UserRole))
                if row_id in names:
                    score = float(item.data(Qt.ItemDataRole.UserRole + 1))
                    item.setText(self._text(row_id, score, names))

    def row_ids(self) -> tuple[list[int], list[int]]:
        """The row ids listed: (would be rejected, would pass)."""
        return tuple(  # type: ignore[return-value]
            [int(box.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(box.count())]
            for box in (self.rejected, self.passed)
        )

    def _on_double_click(self, item: QListWidgetItem) -> None:
        self.partChosen.emit(int(item.data(Qt.ItemDataRole.UserRole)))
