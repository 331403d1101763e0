"""The batch the line runs (lot, product, ...): entered by the operator, shown on the screen.

Label fields with rule ``batch`` compare their printed text with these values, so a typo here
rejects every part: each value is checked where it is typed and the reason shown beside it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app import theme
from inspection.recipe import LabelToolSettings, Recipe

log = logging.getLogger(__name__)

MAX_VALUE_LENGTH = 64


def batch_keys(recipe: Recipe) -> list[str]:
    """The batch values the recipe's label fields check (rule ``batch``), in recipe order."""
    keys: list[str] = []
    for tool in recipe.tools:
        if not isinstance(tool, LabelToolSettings):
            continue
        for field in tool.fields:
            key = field.batch_key or field.name
            if field.rule == "batch" and key not in keys:
                keys.append(key)
    return keys


def value_problem(value: str) -> str:
    """Why ``value`` cannot be a batch value, or "" when it can."""
    if not value:
        return "required"
    if value != value.strip():
        return "no spaces at the start or end"
    if len(value) > MAX_VALUE_LENGTH:
        return f"at most {MAX_VALUE_LENGTH} characters ({len(value)} typed)"
    if not value.isprintable():
        return "printable characters only"
    return ""


def batch_summary(keys: Sequence[str], values: Mapping[str, str]) -> str:
    """One line for the screen, e.g. ``lot L2417 · product PX-20``."""
    if not keys:
        return ""
    return "  ·  ".join(f"{key} {values.get(key) or '—'}" for key in keys)


class BatchDialog(QDialog):
    """One field per batch value; OK only when every value is valid."""

    def __init__(
        self, keys: Sequence[str], values: Mapping[str, str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch")
        self.setObjectName("batchDialog")
        self.edits: dict[str, QLineEdit] = {}
        self.problems: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        big = theme.font(theme.BUTTON_TEXT_PX)
        for row, key in enumerate(keys):
            caption = QLabel(key.capitalize())
            caption.setFont(big)
            edit = QLineEdit(values.get(key, ""))
            edit.setObjectName(f"batch_{key}")
            edit.setFont(big)
            edit.setMinimumHeight(theme.button_height(self))
            edit.setMinimumWidth(360)
            problem = QLabel("")
            problem.setObjectName("batchProblem")
            problem.setStyleSheet(f"color: {theme.ALARM_BACKGROUND};")
            problem.setFont(theme.font(theme.CAPTION_PX, bold=True))
            edit.textChanged.connect(lambda text, k=key: self._check(k, text))
            grid.addWidget(caption, row, 0)
            grid.addWidget(edit, row, 1)
            grid.addWidget(problem, row, 2)
            self.edits[key] = edit
            self.problems[key] = problem

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        for button in buttons.buttons():
            button.setMinimumHeight(theme.button_height(self))
            button.setMinimumWidth(theme.button_height(self) * 2)
            button.setFont(big)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)

        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(buttons)
        if self.edits:
            next(iter(self.edits.values())).setFocus()

    def values(self) -> dict[str, str]:
        return {key: edit.text() for key, edit in self.edits.items()}

    def accept(self) -> None:
        problems = [key for key, edit in self.edits.items() if self._check(key, edit.text())]
        if problems:
            self.edits[problems[0]].setFocus()
            return
        super().accept()

    def _check(self, key: str, text: str) -> str:
        problem = value_problem(text)
        self.problems[key].setText(problem)
        return problem


class BatchBar(QWidget):
    """The running batch in large type, with a glove-sized button to change it."""

    batchRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("batchBar")
        self.label = QLabel("")
        self.label.setObjectName("batchLabel")
        self.label.setFont(theme.font(theme.CAPTION_PX + 6, bold=True))
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.label.setAlignment(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
        self.button = QPushButton("Batch…")
        self.button.setObjectName("batchButton")
        self.button.setFont(theme.font(theme.BUTTON_TEXT_PX, bold=True))
        self.button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.button.clicked.connect(self.batchRequested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 0, 12, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        self.set_button_height(theme.button_height(self))

    def set_button_height(self, px: int) -> None:
        self.button.setMinimumHeight(px)
        self.button.setMinimumWidth(px * 3)

    def show_batch(self, keys: Sequence[str], values: Mapping[str, str]) -> None:
        """Show the values the recipe checks; hidden when the recipe checks none."""
        self.label.setText(f"Batch: {batch_summary(keys, values)}" if keys else "")
        self.setVisible(bool(keys))
