"""The Tuning page: one tool's recorded scores (or one of its parameters' values: the label's
offset, rotation, match, a field's OCR confidence, the defect tool's minimum area) over a range,
split by label, and what a candidate limit would do: false rejects, escapes, predicted yield, the
change against the limit in force, the parts whose verdict would flip, the ROC/PR points and the
core's suggestions.

A thin view over ``inspection.tuning``. Reads run as jobs of the window's job pool (their own
read-only connections, DESIGN §4, §7); generation counters drop answers a newer request replaced.
A drag asks the loaded ``ThresholdView`` (binary searches on sorted arrays, no query); the numbers
follow every move, the flip list at most every FLIP_LAG_MS.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.jobs_bridge import PageJobs
from app.pages.trend_range import RangeBar
from app.pages.tuning_charts import RocPrPlot, ScoreHistogram
from app.pages.tuning_choice import LimitChoice, TuningLoad, load_tuning
from app.pages.tuning_flips import FLIPS_SHOWN, FlipList
from app.pages.tuning_panel import CandidatePanel
from inspection.jobs import Job, JobPool
from inspection.paths import Paths
from inspection.recipe.station import ShiftCalendar, station_calendar
from inspection.trends.part_ids import inspection_ids
from inspection.tuning.parameter_scores import (
    TunableParameters,
    tunable_parameters,
)
from inspection.tuning.parameters import THRESHOLD
from inspection.tuning.scores import TuningError
from inspection.tuning.whatif import Counts, ThresholdView

log = logging.getLogger(__name__)

FLIP_LAG_MS = 100  # the flip list follows a drag at most this late


class TuningPage(QWidget):
    """Tool, parameter and range, the histogram with the draggable limit, the numbers, the flips,
    ROC/PR and suggestions. ``applyRequested(tool, threshold)`` asks for a new recipe version with
    a new score threshold, ``parameterApplyRequested(tool, parameter, value)`` with another limit.

    ``recipe_file``: the recipe in force's file, looked in first for the recipe versions that say
    a parameter's limit in force (then the user's recipe folder and the shipped recipes)."""

    partRequested = Signal(str)  # inspection id of a part to open in History
    applyRequested = Signal(str, float)  # tool id, candidate threshold
    parameterApplyRequested = Signal(str, str, float)  # tool id, parameter, candidate value
    toolsListed = Signal(object)  # list[TunableParameters]
    loaded = Signal(object)  # TuningLoad, once drawn

    def __init__(
        self,
        paths: Paths,
        jobs: JobPool,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], float] = time.time,
        recipe_file: Callable[[], Path | None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("tuningPage")
        self.paths = paths
        self._recipe_file = recipe_file
        self.view: ThresholdView | None = None
        self.candidate_counts: Counts | None = None
        self._current: Counts | None = None
        self._names: dict[int, str] = {}
        self._gen = self._tools_gen = self._names_gen = 0
        self._listed = False
        self._jobs = PageJobs(jobs, self)

        self.range_bar = RangeBar(self._calendar(), clock)
        self.range_bar.live_box.hide()  # recorded history only: nothing to follow
        self.range_bar.changed.connect(self.refresh_tools)
        self.range_bar.problem.connect(self._say)
        self.choice = LimitChoice(self)
        self.choice.chosen.connect(self.load)
        self.tool_combo = self.choice.tool_combo
        self.parameter_combo = self.choice.parameter_combo
        show_button = QPushButton("Show range")
        show_button.clicked.connect(self.range_bar.choose_custom)
        reload_button = QPushButton("Reload")
        reload_button.clicked.connect(self.refresh_tools)
        grid = self.range_bar.grid
        grid.addWidget(QLabel("Tool"), 0, 3)
        grid.addWidget(self.tool_combo, 0, 4)
        grid.addWidget(QLabel("Limit"), 0, 5)
        grid.addWidget(self.parameter_combo, 0, 6)
        grid.addWidget(reload_button, 0, 7)
        grid.addWidget(show_button, 1, 4)
        grid.setColumnStretch(8, 1)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy: a load reports no steps
        self.progress.setMaximumWidth(160)
        self.progress.hide()

        self.histogram = ScoreHistogram()
        self.histogram.candidateMoved.connect(self._on_candidate)
        self.log_box = QCheckBox("Log counts")
        self.log_box.toggled.connect(self.histogram.set_log)
        self.flips = FlipList()
        self.flips.partChosen.connect(self.open_part)
        self.flip_timer = QTimer(self)
        self.flip_timer.setSingleShot(True)
        self.flip_timer.timeout.connect(self._show_flips)
        self.roc_pr = RocPrPlot()
        self.roc_pr.setMinimumHeight(180)

        self.panel = CandidatePanel()
        self.panel.candidateTyped.connect(self.histogram.set_candidate)
        self.panel.suggestionChosen.connect(self.set_candidate)
        self.panel.applyClicked.connect(self.request_apply)

        left = QSplitter(Qt.Orientation.Vertical)
        plot_box = QWidget()
        plot_layout = QVBoxLayout(plot_box)
        plot_layout.setContentsMargins(0, 0, 0, 0)
        plot_layout.addWidget(self.log_box)
        plot_layout.addWidget(self.histogram, 1)
        left.addWidget(plot_box)
        left.addWidget(self.flips)
        left.setSizes([600, 300])
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.panel)
        right.addWidget(self.roc_pr)
        right.setSizes([560, 300])  # room for a suggestion's reasons
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([900, 450])
        layout = QVBoxLayout(self)
        layout.addWidget(self.range_bar)
        layout.addWidget(split, 1)
        foot = QHBoxLayout()
        foot.addWidget(self.status_label, 1)
        foot.addWidget(self.progress)
        layout.addLayout(foot)
        self._clear()

    def _calendar(self) -> ShiftCalendar:
        return station_calendar(self.paths.station_file)

    def _say(self, text: str) -> None:
        self.status_label.setText(text)

    # ---- tools and loading ---------------------------------------------------------------------

    def set_range(self, start: float, end: float) -> None:
        """Show a custom range (local times in the station's zone) and list its tools."""
        self.range_bar.set_range(start, end)
        self.refresh_tools()

    def refresh_tools(self) -> None:
        """List the range's tunable tools (a job), then load the chosen one."""
        try:
            start, end = self.range_bar.current_range()
        except ValueError as exc:
            self._say(str(exc))
            return
        self._listed = True
        self._tools_gen += 1
        self._gen += 1  # a load under way is for the old range
        db = self.paths.results_db

        def job(progress: Any, cancel: threading.Event) -> list[TunableParameters] | None:
            return tunable_parameters(db, start, end) if db.is_file() else None

        self._busy("Finding the tools of this range…")
        self._jobs.submit("tuning-tools", job, partial(self._on_tools, self._tools_gen))

    def _on_tools(self, gen: int, job: Job[list[TunableParameters] | None]) -> None:
        if gen != self._tools_gen:
            return
        self.progress.hide()
        if isinstance(job.error, TuningError):
            return self._bad_state("No parts were recorded in this range; choose another range.")
        if job.error is not None:
            return self._bad_state(f"Tools not readable: {job.error}")
        found = job.result()
        if found is None:
            return self._bad_state(
                f"No parts recorded yet: the results database {self.paths.results_db} "
                "does not exist."
            )
        self.choice.list_tools(found)
        self.toolsListed.emit(found)
        if not found:
            return self._bad_state(
                "No tool of the parts in this range records a limit that can be tuned: a "
                "defect tool's score threshold or minimum area, or the label's offset, rotation, "
                "match or field confidence."
            )
        self.load()

    def choose(self, tool: str, parameter: str = THRESHOLD) -> None:
        """Choose ``tool`` and its limit ``parameter`` as the engineer would, and load them."""
        self.choice.choose(tool, parameter)

    def load(self) -> None:
        """Load the chosen tool's scores over the range (a job; stale answers dropped)."""
        tool, parameter = self.choice.tool, self.choice.parameter
        self._gen += 1
        if tool is None:
            return
        try:
            start, end = self.range_bar.current_range()
        except ValueError as exc:
            self._say(str(exc))
            return
        # the recipe in force's file is looked in first; the folders are listed in the job
        first = self._recipe_file() if self._recipe_file is not None else None
        work = partial(
            load_tuning,
            self.paths.results_db,
            str(tool),
            start,
            end,
            parameter=parameter,
            paths=self.paths,
            recipe_file=first,
        )
        what = "scores" if parameter == THRESHOLD else f"{parameter} values"
        self._busy(f"Loading the {what} of {tool}…")
        self._jobs.submit("tuning-load", lambda p, c: work(), partial(self._on_loaded, self._gen))

    def _busy(self, text: str) -> None:
        self._say(text)
        self.progress.show()

    def _on_loaded(self, gen: int, job: Job[TuningLoad]) -> None:
        if gen != self._gen:
            return  # a newer load is under way
        self.progress.hide()
        if isinstance(job.error, TuningError):
            return self._bad_state(str(job.error).capitalize() + ".")
        if job.error is not None:
            return self._bad_state(f"Scores not readable: {job.error}")
        self.show_load(job.result())

    def show_load(self, loaded: TuningLoad) -> None:
        """Draw a load and put the candidate at the threshold in force (or keep it, same tool)."""
        view = loaded.view
        before = self.view
        same_tool = (
            before is not None
            and before.scores.tool_id == view.scores.tool_id
            and before.limit_name == view.limit_name
        )
        keep = self.candidate_counts.threshold if same_tool and self.candidate_counts else None
        self.view = view
        self._names.clear()
        s = view.scores
        edges = loaded.histogram.edges
        self.panel.show_view(view, float(edges[0]), float(edges[-1]))
        self.histogram.set_wording(view.decision.comparison(view.limit_name, view.value_name))
        self.flips.value_name = view.value_name
        self.histogram.show_histogram(loaded.histogram, view.in_force)
        self.log_box.setEnabled(True)
        self.roc_pr.show_curves(loaded.curves)
        in_force = view.in_force
        self._current = None if in_force is None else view.counts_at(in_force)
        self.roc_pr.show_in_force(None if in_force is None else view.point_at(in_force))
        start = keep if keep is not None else in_force
        if start is None:
            start = float(np.median(edges))
        self.candidate_counts = None
        self.histogram.set_candidate(start)
        if self.candidate_counts is None:  # the line was there already: no move, no signal
            self._on_candidate(start)
        what = "" if view.limit_name == THRESHOLD else f" {view.limit_name}"
        self._say(
            f"{s.tool_id} ({s.tool_type}){what}: {s.n:,} parts, {len(view.good):,} labelled good, "
            f"{len(view.bad):,} labelled defect or escape; loaded in {loaded.seconds:.2f} s."
        )
        self.loaded.emit(loaded)

    # ---- the candidate -------------------------------------------------------------------------

    def set_candidate(self, threshold: float) -> None:
        """Move the candidate threshold (the line, and so the numbers) to ``threshold``."""
        self.histogram.set_candidate(threshold)

    def _on_candidate(self, t: float) -> None:
        """Every move of the line: the numbers now, the flip list within FLIP_LAG_MS."""
        view = self.view
        if view is None:
            return
        c = view.counts_at(t)
        self.candidate_counts = c
        self.panel.show_counts(c, self._current)
        self.roc_pr.show_candidate(view.point_at(t))
        if not self.flip_timer.isActive():
            self.flip_timer.start(FLIP_LAG_MS)

    def _show_flips(self) -> None:
        view, c = self.view, self.candidate_counts
        if view is None or c is None:
            self.flips.show_parts((), (), 0, 0, {}, {})
            return
        flips = view.flips_at(c.threshold, limit=FLIPS_SHOWN)
        ids = np.r_[flips.newly_rejected, flips.newly_passed]
        s = view.scores
        found = s.score[np.searchsorted(s.part_id, ids)]
        scores = dict(zip(ids.tolist(), found.tolist(), strict=True))
        self.flips.show_parts(
            flips.newly_rejected,
            flips.newly_passed,
            c.newly_rejected,
            c.newly_passed,
            scores,
            self._names,
        )
        missing = [i for i in ids.tolist() if i not in self._names]
        if missing:
            self._names_gen += 1
            work = partial(inspection_ids, self.paths.results_db, missing)
            done = partial(self._on_names, self._names_gen)
            self._jobs.submit("tuning-names", lambda p, cancel: work(), done)

    def _on_names(self, gen: int, job: Job[dict[int, str]]) -> None:
        if job.error is not None:
            log.warning("tuning: part names not read: %s", job.error)
            return
        self._names.update(job.result())
        if gen == self._names_gen:
            self.flips.name_parts(self._names)

    def open_part(self, row_id: int) -> None:
        """Ask History for a listed part (its inspection id, read by a job when not known yet)."""
        name = self._names.get(row_id)
        if name is not None:
            self._say(f"Opening part {name} in History.")
            self.partRequested.emit(name)
            return
        work = partial(inspection_ids, self.paths.results_db, [row_id])

        def done(job: Job[dict[int, str]]) -> None:
            found = job.result() if job.error is None else {}
            if row_id in found:
                self._names[row_id] = found[row_id]
                self.open_part(row_id)
            else:
                self._say("That part is no longer stored.")

        self._jobs.submit("tuning-part", lambda p, c: work(), done)

    # ---- suggestions and apply -----------------------------------------------------------------

    def request_apply(self) -> None:
        """Ask for the candidate to become the tool's threshold (``applyRequested``) or its
        other limit (``parameterApplyRequested``)."""
        if self.view is None or self.candidate_counts is None:
            return
        tool, t = self.view.scores.tool_id, self.candidate_counts.threshold
        name = self.view.limit_name
        self._say(f"Asked to apply {name} {t:.6g} to {tool}.")
        if name == THRESHOLD:
            self.applyRequested.emit(tool, t)
        else:
            self.parameterApplyRequested.emit(tool, name, t)

    # ---- bad states and life -------------------------------------------------------------------

    def _bad_state(self, text: str) -> None:
        self._clear()
        self._say(text)

    def _clear(self) -> None:
        self.view = None
        self.candidate_counts = self._current = None
        self.histogram.clear_data()
        self.roc_pr.clear_data()
        self.flip_timer.stop()
        self.flips.show_parts((), (), 0, 0, {}, {})
        self.panel.show_view(None)
        self.log_box.setEnabled(False)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._listed:
            self.refresh_tools()  # the first time the page is seen

    def detach(self) -> None:
        """Drop every pending answer and timer (before the page goes away)."""
        self.flip_timer.stop()
        self._jobs.detach()
        self._gen += 1
        self._tools_gen += 1
        self._names_gen += 1
