"""The History page: find any recorded part, see its full record, export the selection to CSV.

A thin view over ``inspection.history``. Every query runs as a job of the window's job pool with
a read-only connection of its own (DESIGN §4, §7): the GUI thread never touches the database or
the image files, and the results come back by signal. A newer search makes the answers of older
ones stale; they are dropped when they arrive.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QDateTime, Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.jobs_bridge import PageJobs
from app.pages.history_detail import PartDetail
from app.pages.history_filters import FilterBar
from app.pages.history_table import CELL_PAD_PX, COLUMN_SAMPLES, COLUMNS, PartsModel
from inspection.errors import LinesideError
from inspection.history.export import export_csv
from inspection.history.filters import PartFilter
from inspection.history.pages import PAGE_SIZE, PartPage, count_matches, find_parts
from inspection.history.record import PartRecord, part_record, record_from_inspection
from inspection.jobs import Job, JobPool, JobProgress
from inspection.paths import Paths
from inspection.recipe.station import ShiftCalendar, station_calendar
from inspection.storage.archive import read_archived
from inspection.storage.queries import open_reader
from inspection.types import Inspection

log = logging.getLogger(__name__)

LOOKUP_RETRY_MS = 250
LOOKUP_RETRIES = 20  # a part just decided is committed within a batch or two (≤ 5 s)


def load_image(path: Path | None) -> np.ndarray | None:
    """The archived picture as uint8 (H, W) or BGR (H, W, 3); None when absent or unreadable."""
    if path is None or not path.is_file():
        return None
    image = read_archived(path)
    if image is None:
        log.warning("archived image %s could not be read", path)
    return image


_SHARE_PX = 1000  # a unit of the splitter's proportions (scaled to the page)


class HistoryPage(QWidget):
    """Filters, the list of matching parts (paged), the chosen part's detail, CSV export."""

    pageLoaded = Signal(object)  # PartPage, after its rows are in the table
    recordShown = Signal(object)  # PartRecord now in the detail pane
    exportEnded = Signal(object)  # the export Job: done, failed or cancelled

    def __init__(self, paths: Paths, jobs: JobPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyPage")
        self.paths = paths
        self.jobs = jobs
        self.filter = PartFilter()
        self.next_before: int | None = None
        self._search_gen = 0
        self._detail_gen = 0
        self._loading = False
        self._searched = False
        self._jobs = PageJobs(jobs, self)
        self._export: Job[Any] | None = None

        self.filters = FilterBar(self._calendar().shifts)
        self.filters.searchRequested.connect(self.search)
        self.search_button = QPushButton("Search")
        self.search_button.clicked.connect(self.search)
        self.clear_button = QPushButton("Clear filters")
        self.clear_button.clicked.connect(self.clear_filters)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(self.choose_export)
        self.filters.grid.addWidget(self.search_button, 2, 4)
        self.filters.grid.addWidget(self.clear_button, 2, 5)
        self.filters.grid.addWidget(self.export_button, 2, 6)

        self.model = PartsModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        # every column began 100 px wide: times and shifts wrapped onto two lines and reasons
        # were cut while the part number and recipe version wasted room; each now starts as wide
        # as what it usually holds (the engineer can still drag it)
        metrics = self.table.fontMetrics()
        for column, (_title, key) in enumerate(COLUMNS):
            sample = COLUMN_SAMPLES.get(key, "")
            self.table.setColumnWidth(column, metrics.horizontalAdvance(sample) + CELL_PAD_PX)
        self.table.selectionModel().currentRowChanged.connect(self._on_row)
        self.table.verticalScrollBar().valueChanged.connect(self._on_scroll)
        self.count_label = QLabel("")
        self.load_more_button = QPushButton("Load more")
        self.load_more_button.clicked.connect(self.load_more)
        self.load_more_button.setEnabled(False)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel export")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel_export)
        self.detail = PartDetail()

        under = QHBoxLayout()
        under.addWidget(self.count_label, 1)
        under.addWidget(self.load_more_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.table, 1)
        left_layout.addLayout(under)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        # the stretch shares out only what is left over the panes' preferred widths, and the
        # detail's image asks for much: the list got little over a third at 1920 px, its times
        # and reasons wrapped. Sizes given in proportion are scaled to the page's width.
        split.setSizes([3 * _SHARE_PX, 2 * _SHARE_PX])
        self.split = split
        foot = QHBoxLayout()
        foot.addWidget(self.status_label, 1)
        foot.addWidget(self.progress)
        foot.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filters)
        layout.addWidget(split, 1)
        layout.addLayout(foot)

    def _calendar(self) -> ShiftCalendar:
        return station_calendar(self.paths.station_file)

    # ---- the filter --------------------------------------------------------------------------

    def clear_filters(self) -> None:
        self.filters.clear()
        self.search()

    # ---- queries (each a job with its own read-only connection) ------------------------------

    def _query(
        self,
        name: str,
        fn: Callable[[Any], Any],
        done: Callable[[Job[Any]], None],
        empty: Any,
    ) -> None:
        """Run ``fn(reader connection)`` as a job; ``done(job)`` on the GUI thread. ``empty`` is
        the answer while no part was ever recorded (no database yet: not an error)."""
        db = self.paths.results_db

        def job(progress: Any, cancel: threading.Event) -> Any:
            if not db.is_file():
                return empty
            conn = open_reader(db)
            try:
                return fn(conn)
            finally:
                conn.close()

        self._jobs.submit(name, job, done)

    def search(self) -> None:
        """Run the filter anew: first page and the (capped) count."""
        try:
            self.filter = self.filters.current_filter()
        except LinesideError as exc:
            self.status_label.setText(str(exc))
            return
        self._searched = True
        self._search_gen += 1
        self.model.clear()
        self.next_before = None
        self.count_label.setText("searching…")
        self.status_label.setText("")
        self._load(None)
        gen, f = self._search_gen, self.filter
        self._query(
            "history-count",
            lambda conn: count_matches(conn, f),
            partial(self._on_count, gen),
            (0, False),
        )

    def load_more(self) -> None:
        if self.next_before is not None and not self._loading:
            self._load(self.next_before)

    def _load(self, before: int | None) -> None:
        self._loading = True
        self.load_more_button.setEnabled(False)
        gen, f = self._search_gen, self.filter
        self._query(
            "history-page",
            lambda conn: find_parts(conn, f, before=before, limit=PAGE_SIZE),
            partial(self._on_page, gen),
            PartPage(rows=(), next_before=None),
        )

    def _on_page(self, gen: int, job: Job[PartPage]) -> None:
        if gen != self._search_gen:
            return  # a newer search is under way
        self._loading = False
        if job.error is not None:
            self.status_label.setText(f"History unavailable: {job.error}")
            self.count_label.setText("")
            return
        page = job.result()
        self.model.append(page.rows)
        self.next_before = page.next_before
        self.load_more_button.setEnabled(page.next_before is not None)
        self.pageLoaded.emit(page)

    def _on_count(self, gen: int, job: Job[tuple[int, bool]]) -> None:
        if gen != self._search_gen or job.error is not None:
            return
        n, capped = job.result()
        self.count_label.setText(f"{n:,}{'+' if capped else ''} part{'s' if n != 1 else ''}")

    def _on_scroll(self, value: int) -> None:
        bar = self.table.verticalScrollBar()
        if value >= bar.maximum() > 0:
            self.load_more()

    # ---- one part ----------------------------------------------------------------------------

    def _on_row(self, current: Any, _previous: Any) -> None:
        if current.isValid() and current.row() < len(self.model.rows):
            self.open_record(self.model.rows[current.row()].inspection_id)

    def open_record(
        self, inspection_id: str, *, image: np.ndarray | None = None, retries: int = 0
    ) -> None:
        """Show the stored record of a part; ``retries``: how often to look again (every
        ``LOOKUP_RETRY_MS``) while it is not committed yet; ``image``: its picture in memory."""
        self._detail_gen += 1
        gen, archive = self._detail_gen, self.paths.archive

        def read(conn: Any) -> tuple[PartRecord | None, np.ndarray | None]:
            record = part_record(conn, inspection_id, archive)
            return record, load_image(record.image) if record is not None else None

        self._query(
            "history-part",
            read,
            partial(self._on_record, gen, inspection_id, image, retries),
            (None, None),
        )

    def _on_record(
        self, gen: int, inspection_id: str, memory: np.ndarray | None, retries: int, job: Job[Any]
    ) -> None:
        if gen != self._detail_gen:
            return
        if job.error is not None:
            self.status_label.setText(f"Part {inspection_id} not readable: {job.error}")
            return
        record, image = job.result()
        if record is None:
            if retries > 0:
                again = partial(self._look_again, gen, inspection_id, memory, retries - 1)
                QTimer.singleShot(LOOKUP_RETRY_MS, again)
            else:
                self.status_label.setText(f"Part {inspection_id} is not in the results database.")
            return
        # the frame in memory is the same picture when the archive kept none of this part
        self.detail.show_record(record, image if image is not None else memory)
        self.recordShown.emit(record)

    def _look_again(
        self, gen: int, inspection_id: str, memory: np.ndarray | None, retries: int
    ) -> None:
        if gen == self._detail_gen:  # nobody chose another part meanwhile
            self.open_record(inspection_id, image=memory, retries=retries)

    def show_part(self, inspection: Inspection) -> None:
        """A part from the operator screen: shown at once from memory, then from its stored
        record as soon as the storage writer has committed it (a batch or two later)."""
        memory = inspection.frames[0].image if inspection.frames else None
        self.detail.show_record(record_from_inspection(inspection), memory)
        row = self.model.row_of(inspection.inspection_id)
        if row >= 0:
            self.table.selectRow(row)  # selecting asks for the stored record too
        self.open_record(inspection.inspection_id, image=memory, retries=LOOKUP_RETRIES)

    # ---- export ------------------------------------------------------------------------------

    def choose_export(self) -> None:
        name = f"lineside-parts-{QDateTime.currentDateTime().toString('yyyyMMdd-HHmm')}.csv"
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Export the selection to CSV",
            str(self.paths.reports / name),
            "CSV (*.csv)",
            options=QFileDialog.Option.DontUseNativeDialog,
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> Job[int] | None:
        """Write the current selection to ``path`` as a job (progress bar and Cancel)."""
        if self._export is not None and not self._export.done:
            self.status_label.setText("An export is running; cancel it or wait for it.")
            return None
        job = self.jobs.submit(
            "history-export", partial(export_csv, self.paths.results_db, self.filter, path)
        )
        self._export = job
        self.progress.setRange(0, 0)
        self.progress.show()
        self.cancel_button.show()
        self.export_button.setEnabled(False)
        self.status_label.setText(f"Exporting {self.filter.describe()} to {path}…")
        return self._jobs.watch(
            job, partial(self._on_export_end, path), on_progress=self._on_export_progress
        )

    def cancel_export(self) -> None:
        if self._export is not None:
            self._export.cancel()

    def _on_export_progress(self, p: JobProgress) -> None:
        if p.total > 0:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)

    def _on_export_end(self, path: Path, job: Job[int]) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self.export_button.setEnabled(True)
        if job.cancelled:
            self.status_label.setText("Export cancelled; no file was written.")
        elif job.error is not None:
            self.status_label.setText(f"Export failed: {job.error}")
        else:
            self.status_label.setText(f"{job.result():,} parts written to {path}")
        self.exportEnded.emit(job)

    # ---- life ---------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._searched:
            self.search()  # the newest parts, the first time the page is seen

    def detach(self) -> None:
        """Stop every pending answer from reaching this page (before it goes away)."""
        self._jobs.detach()
        self._search_gen += 1
        self._detail_gen += 1
