"""A recipe's versions: each change with when, how (apply, rollback, save), why and what changed,
the differences of a version against the one before it, and the way back to any of them.

A thin view over inspection/tuning/versions.py. Rolling back is asked twice, as the house asks
before an action that changes the line: first the reason (required), then what will happen.
The window does the rollback (``rollbackRequested``) and opens the restored version, so the
station takes it between parts.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import confirm, theme
from inspection.errors import RecipeError
from inspection.tuning import versions as recipe_versions
from inspection.tuning.versions import RecipeVersion

log = logging.getLogger(__name__)

COLUMNS = ("Version", "Time", "Action", "Reason", "What changed")
VERSION, TIME, ACTION, REASON, CHANGE = range(len(COLUMNS))
ACTION_WORDS = {"apply": "applied", "rollback": "rolled back", "save": "saved"}


class ReasonDialog(QDialog):
    """Says what will happen and takes the reason; OK stays disabled until a reason is typed."""

    def __init__(
        self, title: str, question: str, what_happens: str, ok: str, parent: QWidget | None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(520)
        heading = QLabel(question)
        heading.setStyleSheet("font-weight: bold;")
        heading.setWordWrap(True)
        info = QLabel(what_happens)
        info.setWordWrap(True)
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText("Why (required), e.g. false rejects on batch L-100")
        self.buttons = QDialogButtonBox()
        self.ok_button = self.buttons.addButton(ok, QDialogButtonBox.ButtonRole.AcceptRole)
        cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setDefault(True)
        self.ok_button.setEnabled(False)
        self.reason_edit.textChanged.connect(
            lambda text: self.ok_button.setEnabled(bool(text.strip()))
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(info)
        layout.addWidget(QLabel("Reason:"))
        layout.addWidget(self.reason_edit)
        layout.addWidget(self.buttons)

    def reason(self) -> str:
        return self.reason_edit.text().strip()


def ask_reason(
    parent: QWidget | None, title: str, question: str, what_happens: str, *, ok: str
) -> str | None:
    """Ask for the reason of a recipe change, saying what happens; None when cancelled.

    Every such question goes through this function, so tests answer it in one place.
    """
    dialog = ReasonDialog(title, question, what_happens, ok, parent)
    answered = dialog.exec() == QDialog.DialogCode.Accepted and bool(dialog.reason())
    log.info("asked %r: %s", title, "answered" if answered else "cancelled")
    return dialog.reason() if answered else None


def local_time(iso: str) -> str:
    """``2026-03-05 14:02`` in this PC's time zone (the history keeps UTC)."""
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def entry_cells(entry: RecipeVersion) -> tuple[str, ...]:
    """One row of the list, in ``COLUMNS`` order."""
    action = ACTION_WORDS.get(entry.action, entry.action)
    if entry.action == "rollback" and entry.previous:
        action = f"rolled back from {entry.previous}"
    return (entry.version, local_time(entry.time), action, entry.reason, entry.summary)


class RecipeVersionsDialog(QDialog):
    """The versions of the recipe file ``path``, newest first, and the way back to one."""

    rollbackRequested = Signal(str, str)  # version, reason: asked and confirmed already

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.entries: list[RecipeVersion] = []
        self.setWindowTitle(f"Versions of {path.stem}")
        self.resize(1000, 680)

        self.place_label = QLabel()
        self.place_label.setStyleSheet(f"color: {theme.MUTED_TEXT};")
        self.place_label.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        for column in (VERSION, TIME, ACTION):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(REASON, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.setColumnWidth(REASON, 240)
        self.table.itemSelectionChanged.connect(self._show_selected)

        self.diff_label = QLabel()
        self.diff_view = QPlainTextEdit()
        self.diff_view.setReadOnly(True)
        self.diff_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setStyleHint(QFont.StyleHint.Monospace)  # also where no fixed font is configured
        self.diff_view.setFont(mono)

        self.rollback_button = QPushButton("Roll back to this version…")
        self.rollback_button.setEnabled(False)
        self.rollback_button.clicked.connect(self.ask_rollback)
        close = QPushButton("Close")
        close.clicked.connect(self.close)

        diff_box = QWidget()
        diff_layout = QVBoxLayout(diff_box)
        diff_layout.setContentsMargins(0, 0, 0, 0)
        diff_layout.addWidget(self.diff_label)
        diff_layout.addWidget(self.diff_view)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(diff_box)
        splitter.setSizes([280, 400])
        buttons = QHBoxLayout()
        buttons.addWidget(self.rollback_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.place_label)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)
        self.refresh()

    # ---- showing -------------------------------------------------------------------------------

    @property
    def in_force(self) -> str | None:
        """The version the recipe file holds now."""
        return recipe_versions.version_on_disk(self.path)

    def refresh(self) -> None:
        """Read the history again (after a change) and select the newest entry."""
        self.entries = recipe_versions.versions(self.path)
        in_force = self.in_force
        self.place_label.setText(
            f"{self.path} · version in force: {in_force or '—'} · "
            f"{len(self.entries)} change(s) kept in {recipe_versions.archive_dir(self.path).name}"
            if self.entries
            else f"{self.path}: no versions kept yet. Versions are kept from the first Apply "
            "or saved change of this recipe on."
        )
        self.table.setRowCount(len(self.entries))
        for row, entry in enumerate(self.entries):
            for column, text in enumerate(entry_cells(entry)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if column == VERSION and entry.version == in_force and row == 0:
                    item.setText(f"{text} (in force)")
                self.table.setItem(row, column, item)
        if self.entries:
            self.table.selectRow(0)
        else:
            self._show_selected()

    def selected(self) -> RecipeVersion | None:
        rows = self.table.selectionModel().selectedRows()
        return self.entries[rows[0].row()] if rows else None

    def select_version(self, version: str) -> bool:
        """Select the newest entry of ``version``; False when it has none."""
        for row, entry in enumerate(self.entries):
            if entry.version == version:
                self.table.selectRow(row)
                return True
        return False

    def _show_selected(self) -> None:
        entry = self.selected()
        self.rollback_button.setEnabled(entry is not None and entry.version != self.in_force)
        if entry is None:
            self.diff_label.setText("")
            self.diff_view.setPlainText("")
            return
        if entry.previous is None:
            self.diff_label.setText(f"Version {entry.version}: the first version kept")
            self.diff_view.setPlainText("Nothing before it to compare with.")
            return
        self.diff_label.setText(
            f"Version {entry.version} against version {entry.previous}, the one before it"
        )
        try:
            text = recipe_versions.diff(self.path, entry.previous, entry.version)
        except (OSError, RecipeError) as exc:
            log.warning("diff of %s not shown: %s", self.path, exc)
            text = f"Cannot compare: {exc}"
        self.diff_view.setPlainText(text or "No setting differs.")

    # ---- rolling back --------------------------------------------------------------------------

    def ask_rollback(self) -> bool:
        """Ask why, then whether, and request the rollback to the selected version."""
        entry = self.selected()
        in_force = self.in_force
        if entry is None or entry.version == in_force:
            return False
        now = f"version {in_force}" if in_force else "the version in force"
        try:
            change = (
                recipe_versions.change_between(self.path, in_force, entry.version)
                if in_force
                else "as kept"
            )
        except (OSError, RecipeError) as exc:
            change = f"cannot compare: {exc}"
        what_happens = (
            f"The recipe goes back to version {entry.version} ({change}). "
            f"Parts from the next one on are inspected with version {entry.version} and record "
            f"it; a part being inspected now finishes with {now}. {now.capitalize()} stays kept "
            "and can be brought back the same way."
        )
        reason = ask_reason(
            self,
            "Roll back",
            f"Roll back to version {entry.version}?",
            what_happens,
            ok="Next…",
        )
        if reason is None:
            return False
        if not confirm.ask(
            self,
            "Roll back",
            f"Roll back from {now} to version {entry.version}?",
            f"{what_happens}\n\nReason: {reason}",
            yes=f"Roll back to {entry.version}",
            no="Keep " + (in_force or "the version in force"),
        ):
            return False
        self.rollbackRequested.emit(entry.version, reason)
        self.refresh()
        return True
