"""Reports page: the quality engineer chooses a shift or a time range, sees its figures, exports.

A thin view over ``inspection.reports``: the report is built and exported by the core, in the job
pool (off the GUI thread, with progress and Cancel); this page only chooses the period and lays
the figures out. The shift calendar is read from the station settings each time, so a calendar
saved in the settings dialog is used at the next "Show".
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QDateTime, Qt, QTime, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.jobs_bridge import PageJobs
from app.pages.report_source import ReportSource
from app.pages.report_view import (
    PARETO_BARS,
    HeadlineFigures,
    HourlyChart,
    ParetoChart,
    TopReasons,
)
from inspection.errors import LinesideError
from inspection.jobs import Cancelled, Job, JobPool, JobProgress, ProgressFn, run_apart
from inspection.paths import Paths
from inspection.recipe.station import REPORT_FORMATS, StationSettings, load_station_settings
from inspection.reports.aggregate import build_report, range_period, shift_period
from inspection.reports.export import WHILE_INSPECTING_SHARE, write_report
from inspection.reports.figures import ReportPeriod, ShiftReport

log = logging.getLogger(__name__)

NO_PARTS = "No parts inspected"
_ISO_MINUTES = "yyyy-MM-ddTHH:mm"
_ERROR_STYLE = "color: #ff6b6b;"
_OK_STYLE = "color: #35e06a;"


@dataclass(frozen=True)
class _Records:
    """Where a report's records are and the core functions that show and write it from there:
    ``build``/``write`` take ``where`` (a results database or the plant database) first, then
    the period, and ``keywords`` besides the usual ones."""

    build: Callable[..., ShiftReport]
    write: Callable[..., Any]
    where: Any
    keywords: dict[str, Any] = field(default_factory=dict)


def _message(error: BaseException) -> str:
    return (
        str(error)
        if isinstance(error, LinesideError | ValueError | OSError)
        else (f"{type(error).__name__}: {error}")
    )


class ReportsPage(QWidget):
    """Choose a shift or a range → Show (figures, charts, top reasons) → Export (files)."""

    reportShown = Signal(object)  # the ShiftReport now on screen
    showFailed = Signal(str)  # why no report could be shown
    exportEnded = Signal(str)  # "exported", "cancelled" or "failed"

    def __init__(
        self, paths: Paths, parent: QWidget | None = None, *, pool: JobPool | None = None
    ) -> None:
        """``pool``: the window's job pool; without one the page keeps its own (``shutdown``)."""
        super().__init__(parent)
        self.setObjectName("reportsPage")
        self.paths = paths
        self._own_pool = pool is None
        self.pool = pool if pool is not None else JobPool()
        self.report: ShiftReport | None = None
        self.show_job: Job[ShiftReport] | None = None
        self.export_job: Job[Any] | None = None
        self.exported_files: list[Path] = []
        self._jobs = PageJobs(self.pool, self)
        # whether the station is inspecting (the window sets it): reports are paced meanwhile
        self.line_running: Callable[[], bool] = lambda: False

        settings = self._settings_or_none()
        self.source_box = ReportSource()
        self._build_period_box(settings)
        self._build_export_box(settings)

        self.status_label = QLabel("Choose a shift or a time range, then Show.")
        self.status_label.setObjectName("reportStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setFont(theme.font(theme.CAPTION_PX, bold=True))
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.headline = HeadlineFigures()
        self.hourly_chart = HourlyChart()
        self.pareto_chart = ParetoChart()
        self.top_reasons = TopReasons()

        charts = QSplitter(Qt.Orientation.Horizontal)
        charts.addWidget(self.hourly_chart)
        charts.addWidget(self.pareto_chart)
        charts.addWidget(self.top_reasons)
        charts.setSizes([500, 400, 300])

        layout = QVBoxLayout(self)
        layout.addWidget(self.source_box)
        layout.addWidget(self.period_box)
        layout.addWidget(self.status_label)
        layout.addWidget(self.headline)
        layout.addWidget(charts, 1)
        layout.addWidget(self.export_box)

    # ---- building the controls -----------------------------------------------------------

    def _build_period_box(self, settings: StationSettings | None) -> None:
        self.period_box = QGroupBox("Period")
        self.shift_radio = QRadioButton("Shift")
        self.range_radio = QRadioButton("Time range")
        self.shift_radio.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.shift_radio)
        group.addButton(self.range_radio)

        self.day_edit = QDateEdit()
        self.day_edit.setCalendarPopup(True)
        self.day_edit.setDisplayFormat("yyyy-MM-dd")
        self.shift_combo = QComboBox()
        self.from_edit = QDateTimeEdit()
        self.to_edit = QDateTimeEdit()
        for edit in (self.from_edit, self.to_edit):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.show_button = QPushButton("Show")
        self.show_button.setDefault(True)
        self.show_button.setMinimumHeight(theme.BUTTON_MIN_PX)
        self.show_button.clicked.connect(self.show_report)
        self.zone_label = QLabel("")

        grid = QGridLayout(self.period_box)
        grid.addWidget(self.shift_radio, 0, 0)
        grid.addWidget(QLabel("Production day"), 0, 1)
        grid.addWidget(self.day_edit, 0, 2)
        grid.addWidget(QLabel("Shift"), 0, 3)
        grid.addWidget(self.shift_combo, 0, 4)
        grid.addWidget(self.range_radio, 1, 0)
        grid.addWidget(QLabel("From"), 1, 1)
        grid.addWidget(self.from_edit, 1, 2)
        grid.addWidget(QLabel("To"), 1, 3)
        grid.addWidget(self.to_edit, 1, 4)
        grid.addWidget(self.show_button, 0, 5, 2, 1)
        grid.addWidget(self.zone_label, 2, 0, 1, 6)
        self.reset_period(settings)

    def _build_export_box(self, settings: StationSettings | None) -> None:
        self.export_box = QGroupBox("Export")
        chosen = set(settings.reports.formats) if settings is not None else set(REPORT_FORMATS)
        self.format_boxes: dict[str, QCheckBox] = {}
        formats_row = QHBoxLayout()
        for fmt in REPORT_FORMATS:
            box = QCheckBox(fmt)
            box.setChecked(fmt in chosen or not chosen)
            self.format_boxes[fmt] = box
            formats_row.addWidget(box)
        formats_row.addStretch(1)
        self.folder_edit = QLineEdit(str(self.paths.reports))
        self.choose_folder_button = QPushButton("Choose…")
        self.choose_folder_button.clicked.connect(self._choose_folder)
        self.export_button = QPushButton("Export…")
        self.export_button.setMinimumHeight(theme.BUTTON_MIN_PX)
        self.export_button.clicked.connect(self.export)
        self.cancel_export_button = QPushButton("Cancel")
        self.cancel_export_button.setEnabled(False)
        self.cancel_export_button.clicked.connect(self.cancel_export)
        self.open_folder_button = QPushButton("Open folder")
        self.open_folder_button.setEnabled(False)
        self.open_folder_button.clicked.connect(self.open_folder)
        self.export_progress = QProgressBar()
        self.export_progress.setRange(0, 1)
        self.export_progress.setValue(0)
        self.export_progress.setTextVisible(False)
        self.export_message = QLabel("")
        self.export_message.setObjectName("exportMessage")
        self.export_message.setWordWrap(True)
        self.export_message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        grid = QGridLayout(self.export_box)
        grid.addWidget(QLabel("Formats"), 0, 0)
        grid.addLayout(formats_row, 0, 1, 1, 2)
        grid.addWidget(QLabel("Folder"), 1, 0)
        grid.addWidget(self.folder_edit, 1, 1)
        grid.addWidget(self.choose_folder_button, 1, 2)
        buttons = QHBoxLayout()
        for button in (self.export_button, self.cancel_export_button, self.open_folder_button):
            buttons.addWidget(button)
        buttons.addWidget(self.export_progress, 1)
        grid.addLayout(buttons, 2, 0, 1, 3)
        grid.addWidget(self.export_message, 3, 0, 1, 3)

    def reset_period(
        self, settings: StationSettings | None = None, now: float | None = None
    ) -> None:
        """Fill the shift list from the calendar and select the last completed shift."""
        settings = settings or self._settings_or_none()
        if settings is None:
            return
        calendar = settings.calendar
        self.zone_label.setText(f"Times are local to {calendar.timezone}.")
        self.shift_combo.clear()
        self.shift_combo.addItems([s.name for s in calendar.shifts])
        last = calendar.last_completed(time.time() if now is None else now)
        if last is None:
            return
        self.day_edit.setDate(QDate(last.day.year, last.day.month, last.day.day))
        self.shift_combo.setCurrentText(last.shift)
        zone = calendar.zone
        for edit, t in ((self.from_edit, last.start), (self.to_edit, last.end)):
            local = dt.datetime.fromtimestamp(t, tz=zone)
            edit.setDateTime(
                QDateTime(
                    QDate(local.year, local.month, local.day), QTime(local.hour, local.minute)
                )
            )

    # ---- choosing ------------------------------------------------------------------------

    def _settings_or_none(self) -> StationSettings | None:
        try:
            return load_station_settings(self.paths.station_file)
        except LinesideError as exc:
            log.warning("reports page: %s", exc)
            return None

    def chosen_period(self, settings: StationSettings) -> ReportPeriod:
        """The period the controls describe; ValueError saying what is wrong."""
        calendar = settings.calendar
        if self.shift_radio.isChecked():
            name = self.shift_combo.currentText()
            if not name:
                raise ValueError("the station's calendar has no shift; add one in Station settings")
            day = self.day_edit.date().toString("yyyy-MM-dd")
            return shift_period(calendar, f"{day}/{name}")
        start = self.from_edit.dateTime().toString(_ISO_MINUTES)
        end = self.to_edit.dateTime().toString(_ISO_MINUTES)
        return range_period(calendar, start, end)

    # ---- Show ----------------------------------------------------------------------------

    def show_report(self) -> None:
        """Build the chosen period's report in the job pool; figures appear when it is done."""
        if self.show_job is not None and not self.show_job.done:
            return
        try:
            settings = load_station_settings(self.paths.station_file)
            period = self.chosen_period(settings)
            records = self._records()
        except (LinesideError, ValueError) as exc:
            self._show_error(f"Cannot show a report: {_message(exc)}")
            return
        self.status_label.setStyleSheet("")
        self.status_label.setText(f"Building the report for {period.label}…")
        self.show_button.setEnabled(False)

        share = self._share()

        def work(progress: ProgressFn, cancel: threading.Event) -> ShiftReport:
            # apart from the GUI and the line: a day's figures take seconds of CPU
            return run_apart(
                records.build,
                records.where,
                period,
                settings=settings,
                progress=progress,
                cancel=cancel,
                share=share,
                behind_line=share < 1.0,
                **records.keywords,
            )

        self.show_job = self.pool.submit("report-show", work)
        self._jobs.watch(self.show_job, self._on_shown)

    def _on_shown(self, job: Job[ShiftReport]) -> None:
        self.show_button.setEnabled(True)
        if job.error is not None:
            if isinstance(job.error, Cancelled):
                self.status_label.setText("Report cancelled.")
                return
            self._show_error(f"The report could not be made: {_message(job.error)}")
            return
        report = job.result()
        self.report = report
        self.headline.show_report(report)
        self.hourly_chart.show_hours(report.hourly, report.timezone)
        self.pareto_chart.show_reasons(report.reasons)
        self.top_reasons.show_reasons(report.reasons[:PARETO_BARS])
        self.status_label.setStyleSheet("")
        if report.parts == 0:
            self.status_label.setText(f"{NO_PARTS} in {report.period.label}.")
        else:
            recipes = ", ".join(report.recipe_versions) or "—"
            lots = ", ".join(report.lots) or "—"
            self.status_label.setText(f"{report.period.label}: recipes {recipes}; lots {lots}.")
        if report.source:
            self.status_label.setText(f"{self.status_label.text()} From {report.source}.")
        self.reportShown.emit(report)

    def _show_error(self, text: str) -> None:
        log.warning("reports page: %s", text)
        self.report = None
        self.headline.clear()
        self.status_label.setStyleSheet(_ERROR_STYLE)
        self.status_label.setText(text)
        self.showFailed.emit(text)

    def _records(self) -> _Records:
        """Where the chosen records are, checked now (ValueError, LinesideError)."""
        if not self.source_box.from_plant():
            return _Records(build_report, write_report, self.paths.results_db)
        plant, station = self.source_box.plant(), self.source_box.station()
        from inspection.reports.plant_report import (  # psycopg: only when asked for
            build_plant_report,
            write_plant_report,
        )

        return _Records(build_plant_report, write_plant_report, plant, {"station": station})

    # ---- Export --------------------------------------------------------------------------

    def chosen_formats(self) -> tuple[str, ...]:
        return tuple(fmt for fmt, box in self.format_boxes.items() if box.isChecked())

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Export reports to", self.folder_edit.text()
        )
        if folder:
            self.folder_edit.setText(folder)

    def export(self) -> None:
        """Write the chosen period's report files in the job pool, with progress and Cancel."""
        if self.export_job is not None and not self.export_job.done:
            return
        formats = self.chosen_formats()
        folder_text = self.folder_edit.text().strip()
        try:
            if not formats:
                raise ValueError("choose at least one format (xlsx, csv, pdf)")
            if not folder_text:
                raise ValueError("choose the folder to export to")
            settings = load_station_settings(self.paths.station_file)
            period = self.chosen_period(settings)
            records = self._records()
        except (LinesideError, ValueError) as exc:
            self._export_said(f"Cannot export: {_message(exc)}", ok=False)
            self.exportEnded.emit("failed")
            return
        out_dir = Path(folder_text).expanduser()
        self.exported_files = []
        self.open_folder_button.setEnabled(False)
        self.export_button.setEnabled(False)
        self.cancel_export_button.setEnabled(True)
        self.export_progress.setRange(0, 0)  # busy until the first progress report
        self.export_progress.setTextVisible(False)
        self._export_said(f"Exporting {period.label} ({', '.join(formats)}) to {out_dir}…")

        share = self._share()

        def work(progress: ProgressFn, cancel: threading.Event) -> Any:
            return run_apart(
                records.write,
                records.where,
                period,
                formats,
                out_dir,
                settings=settings,
                progress=progress,
                cancel=cancel,
                share=share,
                behind_line=share < 1.0,
                **records.keywords,
            )

        self.export_job = self.pool.submit("report-export", work)
        self._jobs.watch(self.export_job, self._on_exported, on_progress=self._on_export_progress)

    def cancel_export(self) -> None:
        if self.export_job is not None and not self.export_job.done:
            self.cancel_export_button.setEnabled(False)
            self._export_said("Cancelling…")
            self.export_job.cancel()

    def _on_export_progress(self, progress: JobProgress) -> None:
        if self.export_job is None or self.export_job.done:
            return
        total = max(progress.total, 1)
        self.export_progress.setRange(0, total)
        self.export_progress.setValue(min(progress.done, total))
        self.export_progress.setTextVisible(True)
        if progress.message:
            self.export_message.setText(progress.message)

    def _on_exported(self, job: Job[Any]) -> None:
        self.export_button.setEnabled(True)
        self.cancel_export_button.setEnabled(False)
        self.export_progress.setRange(0, 1)
        error = job.error
        if error is None:
            self.exported_files = list(job.result().files.values())
            self.export_progress.setValue(1)
            names = ", ".join(p.name for p in self.exported_files)
            self._export_said(f"Written to {self.export_folder()}: {names}", ok=True)
            self.open_folder_button.setEnabled(True)
            self.exportEnded.emit("exported")
        elif isinstance(error, Cancelled):
            self.export_progress.setValue(0)
            self._export_said("Export cancelled; no file was written.")
            self.exportEnded.emit("cancelled")
        else:
            self.export_progress.setValue(0)
            self._export_said(f"Export failed: {_message(error)}", ok=False)
            self.exportEnded.emit("failed")

    def export_folder(self) -> Path:
        if self.exported_files:
            return self.exported_files[0].parent
        return Path(self.folder_edit.text().strip()).expanduser()

    def open_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.export_folder())))

    def _export_said(self, text: str, ok: bool | None = None) -> None:
        self.export_message.setStyleSheet({True: _OK_STYLE, False: _ERROR_STYLE, None: ""}[ok])
        self.export_message.setText(text)

    # ---- jobs ----------------------------------------------------------------------------

    def _share(self) -> float:
        """How much of the time a report job may run: paced (and at idle priority) while the line
        inspects; otherwise at full speed and the GUI's priority, as the engineer waits for it."""
        return WHILE_INSPECTING_SHARE if self.line_running() else 1.0

    def busy(self) -> bool:
        return any(j is not None and not j.done for j in (self.show_job, self.export_job))

    def shutdown(self, timeout_s: float = 5.0) -> bool:
        """Before the page goes away: stop reporting, cancel its jobs and wait for them."""
        self._jobs.detach()
        jobs = [j for j in (self.show_job, self.export_job) if j is not None and not j.done]
        for job in jobs:
            job.cancel()
        ok = all(job.join(timeout_s) for job in jobs)
        if self._own_pool:
            ok = self.pool.shutdown(timeout_s) and ok
        return ok
