"""Re-score a defect tool: run a re-taught model on the archived images of a period, as a job
with progress and Cancel, and show the recorded and new scores side by side with the flips.

A thin view over ``inspection.tuning.rescore``. Nothing changes on the line here: applying the
new model is a recipe change, a new version (``inspection.tuning.model_apply``); the dialog asks
for it through ``applyModelRequested(tool_id, model_path)``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QColor
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.jobs_bridge import PageJobs
from app.pages.trend_range import RangeBar
from inspection.errors import LinesideError
from inspection.inference.anomaly.model_file import SUFFIX
from inspection.jobs import Cancelled, Job, JobPool, JobProgress
from inspection.paths import Paths
from inspection.recipe import Recipe
from inspection.recipe.station import ShiftCalendar, station_calendar
from inspection.tuning.rescore import (
    RescoredPart,
    RescoreResult,
    model_in_force,
    rescore,
    retaught_models,
)

log = logging.getLogger(__name__)

COLUMNS = (
    "Part",
    "Time",
    "Old score",
    "Old threshold",
    "Old verdict",
    "New score",
    "New threshold",
    "New verdict",
    "Flip",
)
# a dark tint of the verdict colours: the row's text stays readable on it
NEWLY_REJECTED = QColor(120, 30, 30)
NEWLY_PASSED = QColor(25, 95, 45)
APPLY_NOTE = (
    "Nothing here changes the line. Apply the new model… asks why, then saves the recipe as its "
    "next version with this model (and the model's own threshold); Recipe → Versions… brings "
    "the model in force now back."
)


class _Number(QTableWidgetItem):
    """A cell that sorts by its number (empty cells last), shown with 4 significant digits."""

    def __init__(self, value: float | None) -> None:
        super().__init__("" if value is None else f"{value:.4g}")
        self.value = value
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        if isinstance(other, _Number):
            a, b = self.value, other.value
            if a is None or b is None:
                return a is not None and b is None
            return a < b
        return super().__lt__(other)


class RescoreDialog(QDialog):
    """Period and new model file, Run (a job with progress and Cancel), then the table.

    ``rescored(RescoreResult)`` when a run ends with its result; ``ended(str)``: "done",
    "cancelled" or "failed"; ``partRequested(str)``: a double-clicked part's inspection id;
    ``applyModelRequested(tool_id, model_path)``: the engineer asks to apply the new model."""

    rescored = Signal(object)
    ended = Signal(str)
    partRequested = Signal(str)
    applyModelRequested = Signal(str, str)

    def __init__(
        self,
        paths: Paths,
        jobs: JobPool,
        recipe: Recipe,
        tool_id: str,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Re-score {tool_id} — {recipe.name}")
        self.setObjectName("rescoreDialog")
        self.paths = paths
        self.recipe = recipe
        self.tool_id = tool_id
        self.job: Job[RescoreResult] | None = None
        self.result: RescoreResult | None = None
        self._jobs = PageJobs(jobs, self)
        self.calendar = self._calendar()

        in_force = model_in_force(recipe, tool_id, paths)  # TuningError: not a defect tool
        self.in_force = in_force
        intro = QLabel(
            f"Runs a re-taught model of <b>{tool_id}</b> on the archived images of the period "
            "(every reject, 1 in N passes) and compares with what was recorded. Model in force: "
            f"{in_force if in_force is not None else 'none'}. Archived images are JPEG: a score "
            "of the model in force on them differs a little from the one recorded at inspection."
        )
        intro.setWordWrap(True)

        self.range_bar = RangeBar(self.calendar, clock)
        self.range_bar.live_box.hide()  # recorded images only: nothing to follow
        self.range_bar.problem.connect(self._say)

        self.model_edit = QLineEdit()
        self.model_edit.setPlaceholderText(f"the re-taught model file (*{SUFFIX})")
        found = retaught_models(in_force) if in_force is not None else []
        if found:
            self.model_edit.setText(str(found[0]))
        choose = QPushButton("Choose…")
        choose.clicked.connect(self.choose_model)
        model_row = QHBoxLayout()
        model_row.addWidget(QLabel("New model"))
        model_row.addWidget(self.model_edit, 1)
        model_row.addWidget(choose)

        self.run_button = QPushButton("Run")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.apply_button = QPushButton("Apply the new model…")
        self.apply_button.setToolTip(APPLY_NOTE)
        self.apply_button.clicked.connect(self._ask_apply)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.apply_button)

        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("%v / %m")
        self.progress_bar.setTextVisible(False)
        self.message_label = QLabel("Choose the period and the new model, then Run.")
        self.message_label.setWordWrap(True)
        self.summary_label = QLabel("")
        self.summary_label.setObjectName("rescoreSummary")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        note = QLabel(APPLY_NOTE)
        note.setWordWrap(True)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.setSortingEnabled(True)
        self.table.setToolTip("Click a heading to sort; double-click a part to open it in History")
        self.table.cellDoubleClicked.connect(self._on_double_click)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.range_bar)
        layout.addLayout(model_row)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.message_label)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(note)
        layout.addLayout(buttons)
        self.resize(1100, 700)
        self._update_buttons()

    # ---- what the engineer chose ---------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.job is not None and not self.job.done

    def model_path(self) -> Path | None:
        text = self.model_edit.text().strip()
        return Path(text) if text else None

    def choose_model(self) -> None:
        start = str(self.in_force.parent) if self.in_force is not None else str(self.paths.models)
        name, _ = QFileDialog.getOpenFileName(
            self, "The re-taught model", start, f"Defect models (*{SUFFIX});;All files (*)"
        )
        if name:
            self.model_edit.setText(name)

    # ---- running -------------------------------------------------------------------------------

    def run(self) -> None:
        """Re-score the period with the chosen model as a job of the window's pool."""
        if self.busy:
            return
        model = self.model_path()
        if model is None:
            self._say("Choose the re-taught model file first.")
            return
        try:
            start, end = self.range_bar.current_range()
        except ValueError as exc:
            self._say(str(exc))
            return
        db, archive, recipe, tool = (
            self.paths.results_db,
            self.paths.archive,
            self.recipe,
            self.tool_id,
        )

        def work(progress: Any, cancel: threading.Event) -> RescoreResult:
            return rescore(
                db, archive, recipe, tool, model, start, end, progress=progress, cancel=cancel
            )

        self.result = None
        self.table.setRowCount(0)
        self.summary_label.setText("")
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self._say(f"Re-scoring {tool} with {model.name}…")
        log.info("re-scoring %s with %s over [%s, %s)", tool, model, start, end)
        self.job = self._jobs.submit(
            f"rescore-{tool}", work, self._on_finished, on_progress=self._on_progress
        )
        self._update_buttons()

    def cancel(self) -> None:
        """Cancel a running re-score (nothing is changed); when idle, close the dialog."""
        if self.busy and self.job is not None:
            self._say("Cancelling…")
            self.cancel_button.setEnabled(False)
            self.job.cancel()
        else:
            self.reject()

    def abandon(self) -> None:
        """The dialog goes away: no answer reaches it, and a running job is cancelled."""
        self._jobs.detach()
        if self.job is not None:
            self.job.cancel()

    def reject(self) -> None:
        # Escape while re-scoring cancels first; the dialog stays until the job has ended
        if self.busy:
            self.cancel()
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.busy:
            self.cancel()
            event.ignore()
            return
        super().closeEvent(event)

    # ---- answers -------------------------------------------------------------------------------

    def _on_progress(self, progress: JobProgress) -> None:
        total = max(progress.total, 1)
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(min(progress.done, total))
        if not self.cancel_button.isEnabled():
            return  # "Cancelling…" stays until the job has ended
        self._say(f"{progress.message}")

    def _on_finished(self, job: Job[RescoreResult]) -> None:
        error = job.error
        if error is None:
            result = job.result()
            self.result = result
            self._fill(result)
            self.summary_label.setText(result.summary.line())
            self._say(
                f"Done: {result.model_path.name} on {result.summary.rescored} archived parts. "
                "Nothing has changed on the line."
            )
            self.rescored.emit(result)
            outcome = "done"
        elif isinstance(error, Cancelled):
            self._say("Re-scoring cancelled; nothing was changed.")
            outcome = "cancelled"
        else:
            why = str(error) if isinstance(error, LinesideError) else repr(error)
            self._say(f"Re-scoring failed: {why}")
            outcome = "failed"
        self._update_buttons()
        self.ended.emit(outcome)

    def _fill(self, result: RescoreResult) -> None:
        self.table.setSortingEnabled(False)  # else every row inserted is sorted at once
        self.table.setRowCount(len(result.parts))
        for row, part in enumerate(result.parts):
            cells = self._cells(part)
            for col, item in enumerate(cells):
                if part.flip:
                    item.setBackground(
                        NEWLY_REJECTED if part.flip == "newly rejected" else NEWLY_PASSED
                    )
                self.table.setItem(row, col, item)
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()

    def _cells(self, part: RescoredPart) -> list[QTableWidgetItem]:
        when = dt.datetime.fromtimestamp(part.wall_time, tz=self.calendar.zone)
        name = QTableWidgetItem(part.inspection_id)
        name.setData(Qt.ItemDataRole.UserRole, part.inspection_id)
        return [
            name,
            QTableWidgetItem(when.strftime("%Y-%m-%d %H:%M:%S")),
            _Number(part.old_score),
            _Number(part.old_threshold),
            QTableWidgetItem(part.old_verdict.value),
            _Number(part.new_score),
            _Number(part.new_threshold),
            QTableWidgetItem(part.new_verdict.value),
            QTableWidgetItem(part.flip),
        ]

    def flipped_rows(self) -> list[int]:
        """Rows (as shown now) whose verdict flips."""
        col = COLUMNS.index("Flip")
        return [
            r
            for r in range(self.table.rowCount())
            if (item := self.table.item(r, col)) is not None and item.text()
        ]

    # ---- internals -----------------------------------------------------------------------------

    def _ask_apply(self) -> None:
        if self.result is None:
            return
        self.applyModelRequested.emit(self.tool_id, str(self.result.model_path))

    def _on_double_click(self, row: int, _col: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.partRequested.emit(str(item.data(Qt.ItemDataRole.UserRole)))

    def _update_buttons(self) -> None:
        busy = self.busy
        self.run_button.setEnabled(not busy)
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Cancel" if busy else "Close")  # one button for both
        self.apply_button.setEnabled(not busy and self.result is not None)

    def _say(self, text: str) -> None:
        self.message_label.setText(text)

    def _calendar(self) -> ShiftCalendar:
        return station_calendar(self.paths.station_file)

    def done(self, code: int) -> None:
        # the dialog is closing: let go of a job's answer and cancel it
        self.abandon()
        super().done(code)
