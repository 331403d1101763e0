"""The Review page's CSV import: labels from a downstream station's list, the outcome shown
under the queue with every wrong line, and "import the good lines anyway" when some were wrong.

The import itself is the core's (all or nothing by default), run as a job of the window's pool.
"""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.jobs_bridge import PageJobs
from inspection.jobs import Job
from inspection.tuning.label_import import LabelImport, import_labels_csv


def outcome_text(result: LabelImport, *, partial_import: bool) -> str:
    """One line saying what an import did."""
    name = Path(result.file).name
    per_label = ", ".join(f"{n} {word}" for word, n in sorted(result.by_label.items()))
    stored = f"{result.stored} label{'s' if result.stored != 1 else ''} stored"
    if per_label:
        stored += f" ({per_label})"
    if result.ok:
        return f"{name}: {result.lines} lines, {stored}."
    wrong = f"{result.errors_total} wrong line{'s' if result.errors_total != 1 else ''}"
    if partial_import:
        return f"{name}: {result.lines} lines, {stored}; {wrong} left out."
    return f"{name}: {wrong} of {result.lines}; nothing stored (all or nothing)."


class ImportPanel(QWidget):
    """The import button's outcome: a line, the wrong lines, and the offer to import the rest.

    ``importEnded(LabelImport | None)`` when an import ended (None: the file was refused whole).
    """

    importEnded = Signal(object)

    def __init__(self, db: Path, jobs: PageJobs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self._jobs = jobs
        self.last_file: Path | None = None
        self.button = QPushButton("Import labels (CSV)…")
        self.button.clicked.connect(self.choose_file)
        self.outcome = QLabel("")
        self.outcome.setWordWrap(True)
        self.errors = QListWidget()
        self.errors.setMaximumHeight(110)
        self.anyway_button = QPushButton("Import the good lines anyway")
        self.anyway_button.clicked.connect(self.import_good_lines)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.hide_outcome)
        buttons = QHBoxLayout()
        buttons.addWidget(self.outcome, 1)
        buttons.addWidget(self.anyway_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.errors)
        self.hide_outcome()

    def hide_outcome(self) -> None:
        for w in (self.outcome, self.errors, self.anyway_button, self.close_button):
            w.hide()

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Import labels from a CSV file",
            str(self.last_file.parent if self.last_file else Path.home()),
            "CSV (*.csv *.txt);;All files (*)",
            options=QFileDialog.Option.DontUseNativeDialog,
        )
        if path:
            self.import_file(Path(path))

    def import_file(self, path: Path, *, partial_import: bool = False) -> None:
        """Import ``path`` in a job; ``partial_import``: store the good lines even when some
        are wrong."""
        self.last_file = path
        self.button.setEnabled(False)
        self.anyway_button.setEnabled(False)
        self._say(f"Importing {path.name}…")
        db = self.db

        def run(_progress: Any, _cancel: threading.Event) -> LabelImport:
            return import_labels_csv(db, path, partial=partial_import)

        self._jobs.submit("review-import", run, partial(self._on_end, partial_import))

    def import_good_lines(self) -> None:
        if self.last_file is not None:
            self.import_file(self.last_file, partial_import=True)

    def _say(self, text: str) -> None:
        self.outcome.setText(text)
        self.outcome.show()
        self.close_button.show()

    def _on_end(self, partial_import: bool, job: Job[LabelImport]) -> None:
        self.button.setEnabled(True)
        self.anyway_button.setEnabled(True)
        self.errors.clear()
        if job.error is not None:
            self._say(f"Import refused: {job.error}")
            self.errors.hide()
            self.anyway_button.hide()
            self.importEnded.emit(None)
            return
        result = job.result()
        self._say(outcome_text(result, partial_import=partial_import))
        self.errors.addItems(list(result.errors))
        if result.errors_total > len(result.errors):
            self.errors.addItem(f"… and {result.errors_total - len(result.errors)} more")
        self.errors.setVisible(bool(result.errors_total))
        good_lines = result.lines - result.errors_total
        self.anyway_button.setVisible(not partial_import and not result.ok and good_lines > 0)
        self.anyway_button.setText(
            f"Import the {good_lines} good line{'s' if good_lines != 1 else ''} anyway"
        )
        self.importEnded.emit(result)
