"""The Review page's queue chooser: which parts (rejects, passes near a tool's threshold, a seeded
sample of passes, one tool's findings), over which range, by which tool."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.jobs_bridge import PageJobs
from app.pages.trend_range import RangeBar
from inspection.jobs import Job
from inspection.recipe.station import ShiftCalendar
from inspection.storage.queries import open_reader
from inspection.tuning.queue import QueueKind, ReviewFilter
from inspection.tuning.scores import range_ids, tools_recorded

KINDS: dict[QueueKind, str] = {
    "rejects": "Rejects",
    "near_threshold": "Passes near the threshold",
    "sample_passes": "A random sample of passes",
    "tool_findings": "One tool's findings",
}
TOOL_KINDS = ("near_threshold", "tool_findings")  # queues about one tool's own judgement


def tools_of_range(db: Path, start: float, end: float) -> list[str]:
    """The tools recorded in [start, end) (else in the newest part); [] without a database."""
    if not db.is_file():
        return []
    conn = open_reader(db)
    try:
        bounds = range_ids(conn, start, end)
        if bounds is None:
            newest = conn.execute("SELECT MAX(id) FROM inspections").fetchone()[0]
            if newest is None:
                return []
            bounds = (int(newest), int(newest))
        return tools_recorded(conn, *bounds)
    finally:
        conn.close()


class QueueBar(QWidget):
    """Range (presets or From/To), queue kind, tool, band, sample and its seed, Load.

    ``loadRequested`` when the engineer asks for the queue (Load, New sample);
    ``toolsListed(list[str])`` once the range's tools are in the chooser; ``problem(str)``.
    """

    loadRequested = Signal()
    toolsListed = Signal(object)
    problem = Signal(str)

    def __init__(
        self,
        db: Path,
        jobs: PageJobs,
        calendar: ShiftCalendar,
        clock: Callable[[], float],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.db = db
        self._jobs = jobs
        self.seed = 0
        self.range_bar = RangeBar(calendar, clock, self)
        self.range_bar.live_box.hide()  # a queue is a fixed list; it does not follow now
        self.range_bar.changed.connect(self.list_tools)
        self.range_bar.problem.connect(self.problem)
        self.kind_combo = QComboBox()
        for kind, text in KINDS.items():
            self.kind_combo.addItem(text, kind)
        self.kind_combo.currentIndexChanged.connect(self._on_kind)
        self.tool_combo = QComboBox()
        self.tool_combo.setMinimumContentsLength(12)
        self.band_spin = QDoubleSpinBox(decimals=3, minimum=0.001, maximum=1e6, value=0.1)
        self.band_spin.setToolTip("How far below the threshold a pass still counts as near it")
        self.sample_spin = QSpinBox(minimum=1, maximum=10_000, value=200)
        self.new_sample_button = QPushButton("New sample")
        self.new_sample_button.setToolTip("Another random sample of passes (another seed)")
        self.new_sample_button.clicked.connect(self.new_sample)
        self.judge_tool_box = QCheckBox("Labels judge the chosen tool's finding only")
        self.load_button = QPushButton("Load queue")
        self.load_button.clicked.connect(self.loadRequested)
        self.grid = self.range_bar.grid
        self.grid.addWidget(self.load_button, 0, 3)
        for col, (text, widget) in enumerate(
            (("Queue", self.kind_combo), ("Tool", self.tool_combo), ("Band", self.band_spin))
        ):
            self.grid.addWidget(QLabel(text), 2, 2 * col)
            self.grid.addWidget(widget, 2, 2 * col + 1)
        self.grid.addWidget(QLabel("Sample"), 3, 0)
        self.grid.addWidget(self.sample_spin, 3, 1)
        self.grid.addWidget(self.new_sample_button, 3, 2)
        self.grid.addWidget(self.judge_tool_box, 3, 3, 1, 3)
        self.grid.setColumnStretch(6, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.range_bar)
        self._on_kind()

    @property
    def kind(self) -> QueueKind:
        kind: QueueKind = self.kind_combo.currentData()
        return kind

    @property
    def judged_tool(self) -> str:
        """The tool a label judges ('' = the part as a whole)."""
        return self.tool_combo.currentText().strip() if self.judge_tool_box.isChecked() else ""

    def _on_kind(self) -> None:
        kind = self.kind
        self.band_spin.setEnabled(kind == "near_threshold")
        self.sample_spin.setEnabled(kind == "sample_passes")
        self.new_sample_button.setEnabled(kind == "sample_passes")
        self.judge_tool_box.setChecked(kind in TOOL_KINDS)

    def new_sample(self) -> None:
        """Another seeded sample of passes (its number is shown, so it can be drawn again)."""
        self.seed += 1
        self.loadRequested.emit()

    def current_filter(self) -> ReviewFilter:
        """The queue as chosen (LinesideError or ValueError saying what is missing)."""
        start, end = self.range_bar.current_range()
        return ReviewFilter(
            kind=self.kind,
            start=start,
            end=end,
            tool=self.tool_combo.currentText(),
            band=self.band_spin.value(),
            sample=self.sample_spin.value(),
            seed=self.seed,
        )

    def list_tools(self) -> None:
        """Fill the tool chooser with the chosen range's tools (read in a job)."""
        try:
            start, end = self.range_bar.current_range()
        except ValueError as exc:
            self.problem.emit(str(exc))
            return
        db = self.db

        def read(_progress: Any, _cancel: threading.Event) -> list[str]:
            return tools_of_range(db, start, end)

        self._jobs.submit("review-tools", read, self._on_tools)

    def _on_tools(self, job: Job[list[str]]) -> None:
        if job.error is not None:
            self.problem.emit(f"Tools not readable: {job.error}")
            return
        tools = job.result()
        chosen = self.tool_combo.currentText()
        self.tool_combo.clear()
        self.tool_combo.addItems(tools)
        if chosen in tools:
            self.tool_combo.setCurrentText(chosen)
        self.toolsListed.emit(tools)
