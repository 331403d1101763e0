"""The Trends page: any series over a chosen range, live or historical, stacked on one time axis,
with threshold, control limits and rule violations; a click on a point opens its part.

A thin view over ``inspection.trends``. Every read runs as a job of the window's job pool (its
own read-only connections, DESIGN §4, §7); a generation counter drops the answers of loads that
a newer one replaced. Results are drawn at most 10 times a second into plot items made once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDateTime, Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app import confirm
from app.jobs_bridge import PageJobs
from app.pages.trend_chart import PointHit, TrendChart, ViolationList
from app.pages.trend_limits import rebaseline_job, rebaseline_question
from app.pages.trend_range import RangeBar
from inspection.jobs import Job, JobPool
from inspection.paths import Paths
from inspection.recipe.station import ShiftCalendar, station_calendar
from inspection.trends.chart_load import (
    Charts,
    describe_load,
    load_charts,
)
from inspection.trends.points_csv import write_points_csv
from inspection.trends.series import SeriesInfo, available_series

log = logging.getLogger(__name__)

LIVE_MIN_MS = 2000  # a live chart reloads at most every 2 s (or twice its last load's time)
REDRAW_MS = 100  # results are drawn at most 10 times a second
SIDE_SHARE = (2, 5)  # the side panel's and the chart's shares of the page's width
MAX_POINTS = 1500  # about a plot's width in pixels: more points would not show
DEFAULT_SERIES = ("station.yield",)  # checked at first, with the first tool's score


class TrendsPage(QWidget):
    """Series list, range and Live, the stacked chart, the violations, PNG and CSV export."""

    partRequested = Signal(str)  # inspection id of the part behind a clicked point
    seriesListed = Signal(object)  # list[SeriesInfo] now in the list
    loaded = Signal(object)  # Charts, after it is drawn
    exportEnded = Signal(object)  # the export Job: done or failed
    limitsSaved = Signal(object)  # list[str]: what a re-baseline set, one line per series

    def __init__(
        self,
        paths: Paths,
        jobs: JobPool,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("trendsPage")
        self.paths = paths
        self.jobs = jobs
        self.clock = clock
        self.max_points = MAX_POINTS
        self.calendar = self._calendar()
        self.shown: Charts | None = None
        self._gen = 0
        self._list_gen = 0
        self._loading = False
        self._listed = False
        self._pending: Charts | None = None
        self._last_draw = 0.0
        self._last_load_s = 0.0
        self._jobs = PageJobs(jobs, self)

        self.series_list = QListWidget()
        self.series_list.itemChanged.connect(self._on_series_checked)
        self.range_bar = RangeBar(self.calendar, clock)
        self.range_bar.changed.connect(self._on_range)
        self.range_bar.liveChanged.connect(self._on_live)
        self.range_bar.problem.connect(self.status_label_text)
        self.range_combo = self.range_bar.combo
        self.live_box = self.range_bar.live_box
        self.apply_button = QPushButton("Show range")
        self.apply_button.clicked.connect(self.range_bar.choose_custom)
        self.reload_button = QPushButton("Reload")
        self.reload_button.clicked.connect(self.refresh_series)
        self.png_button = QPushButton("Save chart as PNG…")
        self.png_button.clicked.connect(self.choose_png)
        self.csv_button = QPushButton("Save data as CSV…")
        self.csv_button.clicked.connect(self.choose_csv)
        self.limits_button = QPushButton("Set limits from this range…")
        self.limits_button.setToolTip(
            "Re-baseline: the checked series' control limits from the good parts on screen"
        )
        self.limits_button.clicked.connect(self.choose_rebaseline)
        self.chart = TrendChart(self.calendar.zone)
        self.chart.pointClicked.connect(self.open_point)
        self.violations = ViolationList(self.calendar.zone)
        self.violations.violationChosen.connect(self.chart.centre_on)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.live_timer = QTimer(self)
        self.live_timer.timeout.connect(self._on_live_tick)
        self.draw_timer = QTimer(self)
        self.draw_timer.setSingleShot(True)
        self.draw_timer.timeout.connect(self._draw)

        controls = self.range_bar.grid
        controls.addWidget(self.reload_button, 0, 3)
        controls.addWidget(self.apply_button, 1, 4)
        controls.setColumnStretch(5, 1)
        controls.addWidget(self.png_button, 0, 6)
        controls.addWidget(self.csv_button, 1, 6)
        controls.addWidget(self.limits_button, 0, 5)
        side = QSplitter(Qt.Orientation.Vertical)
        side.addWidget(self.series_list)
        side.addWidget(self.violations)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(side)
        split.addWidget(self.chart)
        # two sevenths for the series and the violations, at any screen width: a fifth left
        # a violation's rule cut at 1366 px ("15 in a row within 1…") and series names cut at
        # 1920 px; the chart keeps five sevenths, well over a thousand px on a 1080p screen
        split.setStretchFactor(0, SIDE_SHARE[0])
        split.setStretchFactor(1, SIDE_SHARE[1])
        split.setSizes([SIDE_SHARE[0] * 100, SIDE_SHARE[1] * 100])
        self.split = split
        layout = QVBoxLayout(self)
        layout.addWidget(self.range_bar)
        layout.addWidget(split, 1)
        foot = QHBoxLayout()
        foot.addWidget(self.status_label, 1)
        layout.addLayout(foot)

    def _calendar(self) -> ShiftCalendar:
        return station_calendar(self.paths.station_file)

    # ---- the range ----------------------------------------------------------------------------

    def status_label_text(self, text: str) -> None:
        self.status_label.setText(text)

    def current_range(self) -> tuple[float, float]:
        """The chosen range as instants (ValueError saying why there is none)."""
        return self.range_bar.current_range()

    def set_range(self, start: float, end: float) -> None:
        """Show a custom range (local times in the station's zone)."""
        self.range_bar.set_range(start, end)
        self.refresh_series()

    def _on_range(self) -> None:
        if self._listed:
            self.refresh_series()

    def _on_live(self, on: bool) -> None:
        if on:
            self.live_timer.start(self._live_interval_ms())
        else:
            self.live_timer.stop()

    def _live_interval_ms(self) -> int:
        # a day's load takes about a second: reloading it faster would only load the pool
        return max(LIVE_MIN_MS, int(2000 * self._last_load_s))

    def _on_live_tick(self) -> None:
        if not self._loading:
            self.load()
        self.live_timer.setInterval(self._live_interval_ms())

    # ---- the series list ----------------------------------------------------------------------

    def checked_series(self) -> list[str]:
        items = (self.series_list.item(i) for i in range(self.series_list.count()))
        return [
            it.data(Qt.ItemDataRole.UserRole)
            for it in items
            if it.checkState() == Qt.CheckState.Checked
        ]

    def check_series(self, keys: list[str]) -> None:
        """Check exactly ``keys`` (those in the list) and load them."""
        self.series_list.blockSignals(True)
        for i in range(self.series_list.count()):
            item = self.series_list.item(i)
            wanted = item.data(Qt.ItemDataRole.UserRole) in keys
            item.setCheckState(Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)
        self.series_list.blockSignals(False)
        self.load()

    def refresh_series(self) -> None:
        """List the series the range has (a job), then load the checked ones."""
        try:
            start, end = self.current_range()
        except ValueError as exc:
            self.status_label.setText(str(exc))
            return
        self._listed = True
        self._list_gen += 1
        db = self.paths.results_db

        def job(progress: Any, cancel: threading.Event) -> list[SeriesInfo] | None:
            return available_series(db, start, end) if db.is_file() else None

        self._submit("trends-series", job, partial(self._on_series, self._list_gen))

    def _on_series(self, gen: int, job: Job[list[SeriesInfo] | None]) -> None:
        if gen != self._list_gen:
            return
        if job.error is not None:
            self.status_label.setText(f"Series not readable: {job.error}")
            return
        found = job.result()
        if found is None:
            self.status_label.setText(
                f"No parts recorded yet: the results database {self.paths.results_db} "
                "does not exist."
            )
            return
        before = self.checked_series()
        if not before and self.series_list.count() == 0:
            scores = [str(s.name) for s in found if s.name.measure == "score"]
            before = [*DEFAULT_SERIES, *scores[:1]]
        self.series_list.blockSignals(True)
        self.series_list.clear()
        for info in found:
            key = str(info.name)
            unit = f" [{info.unit}]" if info.unit else ""
            item = QListWidgetItem(f"{key}: {info.label}{unit}")
            item.setToolTip(item.text())  # the list is narrower than the longest names
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if key in before else Qt.CheckState.Unchecked)
            self.series_list.addItem(item)
        self.series_list.blockSignals(False)
        self.seriesListed.emit(found)
        self.load()

    def _on_series_checked(self, _item: QListWidgetItem) -> None:
        self.load()

    # ---- loading and drawing ------------------------------------------------------------------

    def load(self) -> None:
        """Load the checked series over the current range (a job; stale answers dropped)."""
        keys = self.checked_series()
        titles = {}
        for i in range(self.series_list.count()):
            item = self.series_list.item(i)
            titles[item.data(Qt.ItemDataRole.UserRole)] = item.text()
        self.chart.set_series([(k, titles.get(k, k)) for k in keys])
        self._gen += 1
        self._loading = False
        if not keys:
            self.status_label.setText("Choose one or more series to draw.")
            return
        try:
            start, end = self.current_range()
        except ValueError as exc:
            self.status_label.setText(str(exc))
            return
        self._loading = True
        db = self.paths.results_db
        # about one point per pixel of the plot, at most max_points
        points = max(1, min(self.max_points, self.chart.width()))
        work = partial(load_charts, db, keys, start, end, max_points=points)
        self._submit("trends-load", lambda p, c: work(), partial(self._on_loaded, self._gen))

    def _on_loaded(self, gen: int, job: Job[Charts]) -> None:
        if gen != self._gen:
            return  # a newer load is under way
        self._loading = False
        if job.error is not None:
            self.status_label.setText(f"Trends unavailable: {job.error}")
            return
        self._pending = job.result()
        self._last_load_s = self._pending.seconds
        wait_ms = REDRAW_MS - (time.monotonic() - self._last_draw) * 1000.0
        if wait_ms <= 0:
            self._draw()
        elif not self.draw_timer.isActive():
            self.draw_timer.start(int(wait_ms))

    def _draw(self) -> None:
        loaded, self._pending = self._pending, None
        if loaded is None:
            return
        self._last_draw = time.monotonic()
        self.shown = loaded
        if loaded.no_database:
            self.status_label.setText(
                f"No parts recorded yet: the results database {self.paths.results_db} "
                "does not exist."
            )
            self.loaded.emit(loaded)
            return
        for key, data in loaded.charts.items():
            self.chart.show_data(key, data)
        self.chart.show_range(loaded.start, loaded.end)
        self.violations.show_charts(loaded.charts)
        lines = [describe_load(k, d, loaded.seconds) for k, d in loaded.charts.items()]
        lines += [f"{k}: {message}" for k, message in loaded.errors.items()]
        self.status_label.setText(" · ".join(lines))
        self.loaded.emit(loaded)

    # ---- re-baselining ------------------------------------------------------------------------

    def choose_rebaseline(self) -> None:
        keys = self.checked_series()
        try:
            start, end = self.current_range()
        except ValueError as exc:
            self.status_label.setText(str(exc))
            return
        if not keys:
            self.status_label.setText("Choose the series to set limits for.")
            return
        question = rebaseline_question(keys, start, end, self.calendar.zone)
        if confirm.ask(
            self, "Set control limits", "Set new control limits?", question, yes="Set limits"
        ):
            self.rebaseline(keys, start, end)

    def rebaseline(self, keys: list[str], start: float, end: float) -> Job[Any]:
        """Set the limits of ``keys`` from ``[start, end)`` (a job), then redraw."""
        work = rebaseline_job(self.paths.results_db, keys, start, end, self.calendar.zone)
        self.status_label.setText("Setting control limits…")
        return self._submit("trends-limits", work, self._on_rebaselined)

    def _on_rebaselined(self, job: Job[list[str]]) -> None:
        if job.error is not None:
            self.status_label.setText(f"Limits not set: {job.error}")
            return
        lines = job.result()
        self.status_label.setText(" · ".join(lines))
        self.limitsSaved.emit(lines)
        self.load()

    # ---- a point's part -----------------------------------------------------------------------

    def open_point(self, hit: PointHit) -> None:
        """Ask for the part behind a clicked point (``partRequested``), or say why there is none."""
        if self.shown is None or hit.series not in self.shown.charts:
            return
        shown = self.shown.charts[hit.series].shown
        ids = shown.low_part_id if hit.at_low and len(shown.low_part_id) else shown.part_id
        part = int(ids[hit.index])
        if part < 0:
            self.status_label.setText(
                f"{hit.series}: a point is an interval of {int(shown.count[hit.index]):,} parts, "
                "not one part; find them in History."
            )
            return
        name = self.shown.part_names.get(part)
        if name is None:
            self.status_label.setText(f"{hit.series}: the part of this point is no longer stored.")
            return
        self.status_label.setText(f"Opening part {name} in History.")
        self.partRequested.emit(name)

    # ---- export --------------------------------------------------------------------------------

    def _choose_file(self, title: str, suffix: str, kind: str) -> Path | None:
        stamp = QDateTime.currentDateTime().toString("yyyyMMdd-HHmm")
        path, _ = QFileDialog.getSaveFileName(
            self,
            title,
            str(self.paths.reports / f"lineside-trends-{stamp}.{suffix}"),
            kind,
            options=QFileDialog.Option.DontUseNativeDialog,
        )
        return Path(path) if path else None

    def choose_png(self) -> None:
        path = self._choose_file("Save the chart as PNG", "png", "PNG image (*.png)")
        if path is not None:
            self.export_png(path)

    def choose_csv(self) -> None:
        path = self._choose_file("Save the chart's data as CSV", "csv", "CSV (*.csv)")
        if path is not None:
            self.export_csv(path)

    def export_png(self, path: Path) -> Job[Any]:
        """The chart as drawn, grabbed here and written to ``path`` by a job."""
        image = self.chart.grab().toImage()  # QImage: safe to write from another thread

        def job(progress: Any, cancel: threading.Event) -> int:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not image.save(str(path), "PNG"):
                raise OSError(f"could not write {path}")
            return 1

        return self._submit("trends-png", job, partial(self._on_export, path, "chart"))

    def export_csv(self, path: Path) -> Job[Any] | None:
        """The points shown (every series, one file) written to ``path`` by a job."""
        if self.shown is None or not self.shown.charts:
            self.status_label.setText("Nothing to save: load a series first.")
            return None
        series = [data.shown for data in self.shown.charts.values()]
        names, zone = self.shown.part_names, self.calendar.zone
        work = partial(write_points_csv, path, series, zone, names)
        return self._submit(
            "trends-csv", lambda p, c: work(), partial(self._on_export, path, "rows")
        )

    def _on_export(self, path: Path, what: str, job: Job[int]) -> None:
        if job.error is not None:
            self.status_label.setText(f"Not saved: {job.error}")
        elif what == "chart":
            self.status_label.setText(f"Chart saved to {path}")
        else:
            self.status_label.setText(f"{job.result():,} points saved to {path}")
        self.exportEnded.emit(job)

    # ---- jobs and life ---------------------------------------------------------------------

    def _submit(
        self, name: str, fn: Callable[[Any, threading.Event], Any], done: Callable[[Any], None]
    ) -> Job[Any]:
        return self._jobs.submit(name, fn, done)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._listed:
            self.refresh_series()  # the first time the page is seen

    def detach(self) -> None:
        """Stop the live reloads and every pending answer (before the page goes away)."""
        self.live_timer.stop()
        self.draw_timer.stop()
        self._jobs.detach()
        self._gen += 1
        self._list_gen += 1
