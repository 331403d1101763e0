"""The Review page: a queue of recorded parts for the quality engineer to label, fast.

A thin view over ``inspection.tuning.queue`` and ``labels``. The queue (rejects of a range, passes
near a tool's threshold, a seeded sample of passes, one tool's findings) is read in a job; the
current part is shown big by the History page's ``PartDetail``. D / G / E / U label it (defect,
good, escape, unsure) and move on at once: the next parts' records and images are read ahead in
the job pool, so the next picture is there when the key is pressed. Labels are written in the
background, in order (``LabelWriter``); Backspace or Z takes the last one back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.jobs_bridge import PageJobs
from app.pages.history_detail import PartDetail
from app.pages.review_filters import QueueBar
from app.pages.review_import import ImportPanel
from app.pages.review_queue import (
    GivenLabel,
    LabelWriter,
    Loaded,
    QueueModel,
    ReadAhead,
    counts_text,
)
from inspection.errors import LinesideError
from inspection.jobs import Job, JobPool
from inspection.paths import Paths
from inspection.recipe.station import ShiftCalendar, station_calendar
from inspection.tuning.label_import import LabelImport
from inspection.tuning.labels import Label, labels_for
from inspection.tuning.queue import QueueKind, ReviewFilter, review_page
from inspection.tuning.queue import ReviewPage as QueuePage

log = logging.getLogger(__name__)

PAGE_SIZE = 100
READ_AHEAD = 2  # parts read ahead of the current one
QUEUE_WIDTH_PX = 560
MORE_WHEN_LEFT = 10  # the queue's next page is read when this few rows are left
EMPTY: dict[QueueKind, str] = {
    "rejects": "No rejects in this range.",
    "near_threshold": "No passes of this tool within the band below its threshold here.",
    "sample_passes": "No passed parts in this range.",
    "tool_findings": "This tool found nothing in this range.",
}
K = Qt.Key
LABEL_KEYS = {
    Label.DEFECT: K.Key_D,
    Label.GOOD: K.Key_G,
    Label.ESCAPE: K.Key_E,
    Label.UNSURE: K.Key_U,
}
BUTTON_TEXT = {
    Label.DEFECT: "Defect (D)",
    Label.GOOD: "Good (G)",
    Label.ESCAPE: "Escape (E)",
    Label.UNSURE: "Unsure (U)",
}


class ReviewPage(QWidget):
    """The queue chooser, the queue's table, the current part big, label keys and buttons."""

    queueLoaded = Signal(object)  # the core's ReviewPage, once its rows are in the table
    partShown = Signal(object, bool)  # PartRecord shown; True when it had been read ahead
    labelChanged = Signal(object)  # GivenLabel whose write state changed

    def __init__(
        self,
        paths: Paths,
        jobs: JobPool,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("reviewPage")
        self.paths = paths
        self.jobs = jobs
        self.filter: ReviewFilter | None = None
        self.current: int | None = None
        self.next_before: int | None = None
        self.given: list[GivenLabel] = []  # this session's labels, in order
        self._undo: list[GivenLabel] = []
        self._gen = 0
        self._loading = False
        self._seen = False
        self._jobs = PageJobs(jobs, self)
        self.writer = LabelWriter(paths.results_db, self._jobs, self)
        self.writer.changed.connect(self._on_label_changed)
        self.writer.failed.connect(self._on_write_failed)
        self.ahead = ReadAhead(paths, self._jobs, self)
        self.ahead.read.connect(self._on_part_read)
        self.ahead.failed.connect(self._say)

        self.bar = QueueBar(paths.results_db, self._jobs, self._calendar(), clock)
        self.bar.loadRequested.connect(self.load_queue)
        self.bar.toolsListed.connect(self._on_tools)
        self.bar.problem.connect(self._say)
        self.imports = ImportPanel(paths.results_db, self._jobs)
        self.imports.importEnded.connect(self._on_import)
        self.bar.grid.addWidget(self.imports.button, 0, 5)

        self.model = QueueModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # its arrow keys are the page's
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(self._on_row_clicked)
        self.counts_label = QLabel("")
        self.detail = PartDetail()

        self._keys: dict[int, Callable[[], None]] = {}
        self.label_buttons: dict[Label, QPushButton] = {}
        label_row = QHBoxLayout()
        for label, key in LABEL_KEYS.items():
            self.label_buttons[label] = self._button(label_row, BUTTON_TEXT[label])
            self.label_buttons[label].clicked.connect(partial(self.give, label))
            self._keys[key] = partial(self.give, label)
        self.undo_button = self._button(label_row, "Undo (Z)", self.undo)
        self.previous_button = self._button(label_row, "◀ Previous (K)", self.previous_part)
        self.next_button = self._button(label_row, "Next (J) ▶", self.next_part)
        self.retry_button = self._button(label_row, "Retry saving", self.writer.retry)
        self.retry_button.hide()
        for keys, action in (
            ((K.Key_Backspace, K.Key_Z), self.undo),
            ((K.Key_Right, K.Key_Down, K.Key_J), self.next_part),
            ((K.Key_Left, K.Key_Up, K.Key_K), self.previous_part),
        ):
            self._keys.update(dict.fromkeys(keys, action))
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText("Reason (optional): kept for the next labels")
        self.reason_edit.returnPressed.connect(self.setFocus)  # back to labelling by key
        reason_row = QHBoxLayout()
        reason_row.addWidget(self.reason_edit, 1)
        self.clear_reason_button = self._button(reason_row, "Clear reason", self.reason_edit.clear)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.table, 1)
        left_layout.addWidget(self.counts_label)
        left_layout.addWidget(self.imports)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.detail, 1)
        right_layout.addLayout(label_row)
        right_layout.addLayout(reason_row)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setSizes([QUEUE_WIDTH_PX, 2 * QUEUE_WIDTH_PX])  # the table's five columns show
        layout = QVBoxLayout(self)
        layout.addWidget(self.bar)
        layout.addWidget(split, 1)
        layout.addWidget(self.status_label)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._update_counts()

    def _button(
        self, row: QHBoxLayout, text: str, action: Callable[[], None] | None = None
    ) -> QPushButton:
        button = QPushButton(text)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keys keep going to the page
        if action is not None:
            button.clicked.connect(action)
        row.addWidget(button)
        return button

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """The labelling keys: they reach the page unless a text field or chooser has focus
        (the table and the buttons never take it)."""
        plain = not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        action = self._keys.get(event.key()) if plain else None
        if action is None:
            super().keyPressEvent(event)
            return
        event.accept()
        action()

    def _calendar(self) -> ShiftCalendar:
        return station_calendar(self.paths.station_file)

    def _say(self, text: str) -> None:
        self.status_label.setText(text)

    # ---- the queue ----------------------------------------------------------------------------

    def _read_job(self, name: str, fn: Callable[[], Any], done: Callable[[Job[Any]], None]) -> None:
        """``fn()`` in the pool, or None without a database; ``done(job)`` on the GUI thread."""
        db = self.paths.results_db

        def run(_progress: Any, _cancel: threading.Event) -> Any:
            return fn() if db.is_file() else None

        self._jobs.submit(name, run, done)

    def _on_tools(self, _tools: list[str]) -> None:
        if self.filter is None:
            self.load_queue()  # the first queue, once its tools are known

    def load_queue(self) -> None:
        """Read the chosen queue anew from its newest part."""
        try:
            f = self.bar.current_filter()
        except (LinesideError, ValueError) as exc:
            self._say(str(exc))
            return
        self.filter = f
        self._gen += 1
        self.model.clear()
        self.ahead.clear()
        self.current, self.next_before = None, None
        sample = f" (sample #{f.seed})" if f.kind == "sample_passes" else ""
        self._say(f"Reading the queue{sample}…")
        self._load_page(None)
        self.setFocus()

    def _load_page(self, before: int | None) -> None:
        assert self.filter is not None
        self._loading = True
        db, f, gen = self.paths.results_db, self.filter, self._gen
        self._read_job(
            "review-queue",
            lambda: review_page(db, f, before=before, limit=PAGE_SIZE),
            partial(self._on_page, gen),
        )

    def _on_page(self, gen: int, job: Job[QueuePage | None]) -> None:
        if gen != self._gen:
            return  # a newer queue replaced this one
        self._loading = False
        if job.error is not None:
            self._say(f"Queue not readable: {job.error}")
            return
        page = job.result()
        if page is None:
            self._say("No parts recorded yet: the results database is empty.")
            return
        self.model.append(page.items)
        self.next_before = page.next_before
        if not self.model.items and self.filter is not None:
            self._say(EMPTY[self.filter.kind])
        elif self.current is None:
            self._say("")
            self.go_to(0)
        self._update_counts()
        self.queueLoaded.emit(page)

    def _on_import(self, result: LabelImport | None) -> None:
        """Imported labels show on the rows already loaded (unless a label here is on its way)."""
        if result is None or not result.stored or not self.model.items:
            return
        ids = [i.part_id for i in self.model.items]
        tool = self.filter.tool.strip() if self.filter is not None else ""
        db, gen = self.paths.results_db, self._gen
        self._read_job(
            "review-relabel",
            lambda: labels_for(db, ids, tool=tool or None),
            partial(self._on_relabel, gen),
        )

    def _on_relabel(self, gen: int, job: Job[Any]) -> None:
        if gen != self._gen or job.error is not None or job.result() is None:
            return
        for part_id, stored in job.result().items():
            if self.model.labels.get(part_id, (None, ""))[1] == "":
                self.model.set_label(part_id, stored.label, "")
        self._update_counts()

    # ---- moving through the queue ---------------------------------------------------------------

    def _on_row_clicked(self, current: Any, _previous: Any) -> None:
        if current.isValid() and current.row() != self.current:
            self.go_to(current.row())

    def go_to(self, row: int) -> None:
        """Make ``row`` the current part: shown at once when read ahead, else read now."""
        items = self.model.items
        if not 0 <= row < len(items):
            return
        self.current = row
        if self.table.currentIndex().row() != row:
            self.table.selectRow(row)
        self.ahead.keep_only({i.part_id for i in items[max(0, row - 1) : row + READ_AHEAD + 1]})
        loaded = self.ahead.get(items[row].part_id)
        if loaded is not None:
            self._show(items[row].part_id, loaded, read_ahead=True)
        for item in items[row : row + READ_AHEAD + 1]:
            self.ahead.request(item)  # the current one first when it was not read ahead
        near_end = len(items) - row <= MORE_WHEN_LEFT
        if near_end and self.next_before is not None and not self._loading:
            self._load_page(self.next_before)
        self._update_counts()

    def next_part(self) -> None:
        if self.current is not None:
            if self.current + 1 >= len(self.model.items):
                self._say("This is the last part of the queue.")
            self.go_to(self.current + 1)

    def previous_part(self) -> None:
        if self.current is not None:
            self.go_to(self.current - 1)

    def has_read(self, part_id: int) -> bool:
        """Whether the part's record and image are in memory (read ahead)."""
        return self.ahead.get(part_id) is not None

    def _on_part_read(self, part_id: int, loaded: Loaded) -> None:
        if self.current is not None and self.model.items[self.current].part_id == part_id:
            self._show(part_id, loaded, read_ahead=False)

    def _show(self, part_id: int, loaded: Loaded, *, read_ahead: bool) -> None:
        record, image = loaded
        if record is None:
            self._say(f"Part {part_id} is no longer in the results database.")
            return
        self.detail.show_record(record, image)
        self.partShown.emit(record, read_ahead)

    # ---- labels ---------------------------------------------------------------------------------

    def give(self, label: Label) -> None:
        """Label the current part and move on to the next at once (written in the background)."""
        if self.current is None:
            self._say("No part to label: load a queue first.")
            return
        item = self.model.items[self.current]
        given = GivenLabel(
            part_id=item.part_id,
            inspection_id=item.inspection_id,
            label=label,
            reason=self.reason_edit.text().strip(),
            tool=self.bar.judged_tool,
            previous=self.model.label_of(self.current),
        )
        self.given.append(given)
        self._undo.append(given)
        self.writer.give(given)
        self._on_label_changed(given)
        self.next_part()

    def undo(self) -> None:
        """Take the last label back and show its part again."""
        if not self._undo:
            self._say("Nothing to undo.")
            return
        given = self._undo.pop()
        self.writer.take_back(given)
        self._on_label_changed(given)
        row = next((r for r, i in enumerate(self.model.items) if i.part_id == given.part_id), -1)
        self.go_to(row)

    def _on_label_changed(self, given: GivenLabel) -> None:
        self.model.set_label(given.part_id, *given.shown())
        self.retry_button.setVisible(self.writer.held)
        if not self.writer.held and "not saved" in self.status_label.text():
            self._say("No label is waiting to be saved any more.")
        self._update_counts()
        self.labelChanged.emit(given)

    def _on_write_failed(self, message: str) -> None:
        self._say(f"{message}. It is kept and tried again with the next label or Retry.")

    def _update_counts(self) -> None:
        left = self.model.unlabelled_from(self.current or 0)
        self.counts_label.setText(
            counts_text(self.given, left, self.next_before is not None, self.writer.unsaved)
        )

    # ---- life ---------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._seen:
            self._seen = True
            self.bar.list_tools()  # then the first queue

    def detach(self) -> None:
        """Stop every pending answer from reaching this page (before it goes away)."""
        self._jobs.detach()
        self._gen += 1
