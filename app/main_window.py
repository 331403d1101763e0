"""The main window: the operator screen, recipe opening, Start/Stop, teaching and the batch."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QDialog, QFileDialog, QMainWindow, QMessageBox, QWidget

from app import confirm
from app.alarm_list import AlarmListDialog
from app.batch_dialog import BatchBar, BatchDialog, batch_keys
from app.bridge import StationBridge
from app.camera_dialog import CameraDialog
from app.heatmap_dialog import HeatmapDialog, RecentParts, anomaly_tools
from app.label_teaching import LabelTeaching, label_tools
from app.mask_editor import MaskEditor
from app.operator_screen import OperatorScreen
from app.pages.history import HistoryPage
from app.pages.host import PageHost
from app.pages.privacy import PrivacyPage
from app.pages.reports import ReportsPage
from app.pages.review import ReviewPage
from app.pages.trends import TrendsPage
from app.pages.tuning import TuningPage
from app.part_dialog import PartDialog
from app.recipe_changes import RecipeChanges
from app.settings import AppSettings
from app.station_control import STOP_TIMEOUT_S, StationControl, StationFactory
from app.station_settings_dialog import StationSettingsDialog
from app.teach_dialog import TeachDialog, teachable_tools
from inspection.errors import RecipeError
from inspection.jobs import JobPool
from inspection.paths import Paths, user_paths
from inspection.pipeline.teaching import untaught_simulated_tools
from inspection.recipe import Recipe, load_recipe
from inspection.recipe.station import StationSettings

if TYPE_CHECKING:
    from inspection.pipeline.station import Station
    from inspection.types import Inspection

log = logging.getLogger(__name__)

# A close waits for the station to stop; after this it closes anyway and logs what was left.
CLOSE_DEADLINE_MS = int((STOP_TIMEOUT_S + 2.0) * 1000)
# Jobs check their cancel flag between steps; a close waits this long for them to end.
JOBS_SHUTDOWN_S = 3.0


class MainWindow(RecipeChanges, QMainWindow):
    """Lineside's window. The station is built, started and stopped by ``StationControl``."""

    recipeOpened = Signal(object)  # Path of a recipe that loaded and now runs

    def __init__(
        self,
        factory: StationFactory,
        settings: AppSettings | None = None,
        parent: QWidget | None = None,
        *,
        paths: Paths | None = None,
        teach_on_first_use: bool = False,
    ) -> None:
        """``paths``: where teaching writes models (the stations' own paths; default: the user's).
        ``teach_on_first_use``: when a recipe's untaught tools watch the simulated line, teach
        them at once (the simulated line knows its good parts; a real line needs an engineer)."""
        super().__init__(parent)
        self._teach_on_first_use = teach_on_first_use
        self._start_after_teaching = False
        self.settings = settings or AppSettings()
        self.paths = paths or user_paths()
        self.jobs = JobPool()
        self.label_teaching = LabelTeaching(self.jobs, self.paths, self)
        self.teach_dialog: TeachDialog | None = None
        self.bridge = StationBridge(self)
        self.control = StationControl(factory, self.bridge, self)
        self.screen_widget = OperatorScreen()
        # Pages: Operator first (the default, one touch away on the toolbar), then the engineers'.
        self.pages = PageHost()
        self.pages.add_page("Operator", self.screen_widget, tip="Back to the operator screen")
        self.history_page = HistoryPage(self.paths, self.jobs)
        self.pages.add_page(
            "History", self.history_page, tip="Find any recorded part", scrolled=True
        )
        self.review_page = ReviewPage(self.paths, self.jobs)
        self.pages.add_page(
            "Review", self.review_page, tip="Label recorded parts, fast", scrolled=True
        )
        self.trends_page = TrendsPage(self.paths, self.jobs)
        self.pages.add_page(
            "Trends", self.trends_page, tip="Series over time, limits and rules", scrolled=True
        )
        self.trends_page.partRequested.connect(self.open_record_in_history)
        self.tuning_page = TuningPage(self.paths, self.jobs, recipe_file=self._versions_path)
        self.pages.add_page(
            "Tuning", self.tuning_page, tip="Try a tool's threshold on history", scrolled=True
        )
        self.tuning_page.partRequested.connect(self.open_record_in_history)
        self.tuning_page.applyRequested.connect(self.apply_threshold)
        self.tuning_page.parameterApplyRequested.connect(self.apply_parameter)
        self.reports_page = ReportsPage(self.paths, pool=self.jobs)
        # reports made while the station inspects are paced, so the line keeps its pace
        self.reports_page.line_running = lambda: self.control.running
        self.pages.add_page(
            "Reports", self.reports_page, tip="Shift reports and their export", scrolled=True
        )
        self.privacy_page = PrivacyPage(
            self.paths, self.jobs, lambda: self.station, lambda: self._recipe_path
        )
        self.pages.add_page(
            "Privacy", self.privacy_page, tip="What this station records", scrolled=True
        )
        self.setCentralWidget(self.pages)
        self._closing = False
        self._closing_anyway = False
        self._quit_confirmed = False  # Ctrl+Q asked already; the close that follows does not
        self._recipe_path: Path | None = None

        self.bridge.inspectionReady.connect(self.screen_widget.show_inspection)
        self.recent = RecentParts()
        # a window method, so Qt delivers it on the GUI thread like the screen's own slot
        self.bridge.inspectionReady.connect(self._remember_part)
        self.bridge.statusChanged.connect(self.screen_widget.show_status)
        self.screen_widget.startRequested.connect(self.control.start)
        self.screen_widget.stopRequested.connect(self.control.stop)
        self.screen_widget.triggerRequested.connect(self.control.trigger)
        self.screen_widget.alarm_banner.acknowledgeRequested.connect(self.acknowledge_alarms)
        self.screen_widget.resetRequested.connect(self.confirm_reset_counts)
        self.screen_widget.partOpened.connect(self.on_part_touched)
        self.control.triggered.connect(self._on_triggered)
        self.control.stationChanged.connect(self._on_station_changed)
        self.control.stateChanged.connect(self._on_state_changed)
        self.control.failed.connect(self._on_failed)

        self.open_action = QAction("Open recipe…", self)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self.choose_recipe)
        self.versions_action = QAction("Versions…", self)
        self.versions_action.triggered.connect(self.open_versions_dialog)
        self.edit_tools_action = QAction("Edit tools…", self)
        self.edit_tools_action.triggered.connect(self.open_tool_editor)
        self.start_stop_action = QAction("Start", self)
        self.start_stop_action.triggered.connect(self.screen_widget.start_stop_button.click)
        self.quit_action = QAction("Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.request_quit)
        self.teach_action = QAction("Teach good parts…", self)
        self.teach_action.triggered.connect(self.open_teach_dialog)
        self.teach_label_action = QAction("Teach label from current frame", self)
        self.teach_label_action.triggered.connect(self.teach_label_from_current_frame)
        self.heatmap_action = QAction("Heatmaps of recent parts…", self)
        self.heatmap_action.triggered.connect(self.show_heatmaps)
        self.trigger_action = QAction("Trigger one part", self)
        self.trigger_action.setShortcut(QKeySequence(Qt.Key.Key_F5))
        self.trigger_action.triggered.connect(self.trigger_one_part)
        self.cameras_action = QAction("Cameras…", self)
        self.cameras_action.triggered.connect(self.open_camera_dialog)
        self.masks_action = QAction("Privacy masks…", self)
        self.masks_action.triggered.connect(self.open_mask_editor)
        self.station_settings_action = QAction("Shifts and reports…", self)
        self.station_settings_action.triggered.connect(self.open_station_settings)
        self.alarms_action = QAction("Alarms of this shift…", self)
        self.alarms_action.triggered.connect(self.open_alarm_list)
        self.batch_action = QAction("Batch…", self)
        self.batch_action.triggered.connect(self.open_batch_dialog)
        self.batch_bar = BatchBar()
        self.batch_bar.batchRequested.connect(self.batch_action.trigger)
        self.statusBar().addPermanentWidget(self.batch_bar, 1)
        self.statusBar().setSizeGripEnabled(False)

        recipe_menu = self.menuBar().addMenu("&Recipe")
        recipe_menu.addAction(self.open_action)
        recipe_menu.addAction(self.versions_action)
        recipe_menu.addAction(self.edit_tools_action)
        recipe_menu.addSeparator()
        recipe_menu.addAction(self.quit_action)
        station_menu = self.menuBar().addMenu("&Station")
        station_menu.addAction(self.start_stop_action)
        station_menu.addAction(self.trigger_action)
        station_menu.addAction(self.batch_action)
        station_menu.addAction(self.alarms_action)
        self.rebaseline_action = QAction("Re-baseline drift warnings…", self)
        self.rebaseline_action.setToolTip(
            "The recipe's drift warnings learn their limits again from the next points"
        )
        self.rebaseline_action.triggered.connect(self.rebaseline_drift)
        station_menu.addAction(self.rebaseline_action)
        station_menu.addSeparator()
        station_menu.addAction(self.cameras_action)
        station_menu.addAction(self.masks_action)
        station_menu.addAction(self.station_settings_action)
        teach_menu = self.menuBar().addMenu("&Teach")
        teach_menu.addAction(self.teach_action)
        teach_menu.addAction(self.teach_label_action)
        teach_menu.addAction(self.heatmap_action)
        self.rescore_action = QAction("Re-score with a re-taught model…", self)
        self.rescore_action.setToolTip(
            "Run a re-taught defect model on the stored images of a period: old and new scores"
        )
        self.rescore_action.triggered.connect(lambda: self.open_rescore_dialog())
        teach_menu.addAction(self.rescore_action)
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.addAction(self.open_action)
        toolbar.addAction(self.start_stop_action)
        toolbar.addSeparator()
        toolbar.addAction(self.teach_action)
        toolbar.addAction(self.batch_action)
        toolbar.addSeparator()
        for action in self.pages.nav.actions():
            toolbar.addAction(action)

        if self.settings.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(self.settings.window_geometry.encode()))
        self._update_title()
        self._on_state_changed(False, False)

    # ---- recipes -------------------------------------------------------------------------------

    @property
    def station(self) -> Station | None:
        return self.control.station

    @property
    def recipe(self) -> Recipe | None:
        station = self.control.station
        return station.recipe if station is not None else None

    def choose_recipe(self) -> None:
        start_dir = str(self._recipe_path.parent) if self._recipe_path else ""
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open recipe",
            start_dir,
            "Recipes (*.yaml *.yml);;All files (*)",
            options=QFileDialog.Option.DontUseNativeDialog,  # follows the dark palette
        )
        if path:
            self.open_recipe(Path(path))

    def open_recipe(self, path: Path, *, start: bool | None = None) -> bool:
        """Load ``path`` and run it (started if the old one ran, or as ``start`` says).

        A recipe that does not validate is refused with a message; the one in force stays.
        """
        try:
            recipe = load_recipe(path)
        except RecipeError as exc:
            log.warning("recipe refused: %s", exc)
            QMessageBox.critical(self, "Recipe not loaded", str(exc))
            return False
        self._recipe_path = path
        wanted = self.control.running if start is None else start
        if wanted and self._teach_on_first_use and untaught_simulated_tools(recipe, self.paths):
            # teach first, start after: no part should be recorded as "not taught yet"
            self._start_after_teaching = True
            wanted = False
        self.control.load(recipe, start=wanted)
        return True

    def recipe_file_loading(self, path: Path) -> None:
        """A recipe the PLC chose is loading: it is the one the title, Save and the next start
        name once its station runs."""
        self._recipe_path = path

    def _on_station_changed(self, station: Station) -> None:
        self.screen_widget.set_station(station)
        self._update_title()
        self._show_batch()
        if self._recipe_path is not None:
            self.settings.last_recipe = self._recipe_path
            self.recipeOpened.emit(self._recipe_path)
        if self._teach_on_first_use:
            self._teach_simulated_tools(station.recipe)

    def _teach_simulated_tools(self, recipe: Recipe) -> None:
        untaught = untaught_simulated_tools(recipe, self.paths)
        start_after = self._start_after_teaching
        self._start_after_teaching = False
        if not untaught:
            if start_after:
                self.control.start()
            return
        log.info("first use of %s: teaching %s from the simulated line", recipe.name, untaught)
        dialog = self.open_teach_dialog()
        if dialog is None:
            return
        for tool_id, box in dialog.tool_boxes.items():
            box.setChecked(tool_id in untaught)
        if start_after:
            dialog.ended.connect(lambda _outcome: self.control.start())
        dialog.start()

    def _on_state_changed(self, running: bool, busy: bool) -> None:
        self.screen_widget.set_running(running, busy=busy)
        self.start_stop_action.setText("Stop" if running else "Start")
        self.start_stop_action.setEnabled(not busy and self.control.station is not None)
        self.open_action.setEnabled(not busy)
        recipe = self.recipe
        # enabled whenever there is a recipe, so F5 can say why it takes no part
        self.trigger_action.setEnabled(recipe is not None)
        self.teach_action.setEnabled(
            not busy and recipe is not None and bool(teachable_tools(recipe))
        )
        self.teach_label_action.setEnabled(
            not busy and recipe is not None and bool(label_tools(recipe))
        )
        self.batch_action.setEnabled(recipe is not None and bool(batch_keys(recipe)))
        self.cameras_action.setEnabled(not busy and recipe is not None)
        self.masks_action.setEnabled(not busy and recipe is not None)
        self.batch_bar.button.setEnabled(self.batch_action.isEnabled())
        if not busy:
            # a start may have taken batch values from the source (e.g. the simulated line)
            self._show_batch()
        if self._closing and not busy:
            if running:
                self.control.stop()
            else:
                self.close()

    # ---- one part ------------------------------------------------------------------------------

    def on_part_touched(self, inspection: Inspection) -> None:
        """A tile of the operator screen's strip was touched: a rejected part opens in History
        (the quality engineer's full record); a passed one in the part dialog over the screen."""
        if inspection.verdict.is_reject:
            self.open_part_in_history(inspection)
        else:
            self.open_part(inspection)

    def open_record_in_history(self, inspection_id: str) -> None:
        """A part clicked on the Trends page, opened from its stored record in History."""
        self.pages.show_page("History")
        self.history_page.open_record(inspection_id)

    def open_part_in_history(self, inspection: Inspection) -> HistoryPage:
        """Switch to History and show this part (from memory until its row is committed)."""
        self.pages.show_page("History")
        self.history_page.show_part(inspection)
        return self.history_page

    def open_part(self, inspection: Inspection) -> PartDialog:
        """Show one part's image, overlays and results (non-modal: the line keeps running)."""
        dialog = PartDialog(inspection, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        dialog.raise_()
        return dialog

    # ---- alarms --------------------------------------------------------------------------------

    def acknowledge_alarms(self) -> None:
        """The operator pressed Acknowledge: the station's alarms are silenced, still active."""
        station = self.station
        if station is not None:
            station.acknowledge_alarms()  # in memory: fine on the GUI thread

    def rebaseline_drift(self) -> bool:
        """Station → Re-baseline drift warnings…: asks first, saying what happens."""
        station = self.station
        if station is None or not station.recipe.drift:
            self.statusBar().showMessage("The recipe in force watches no series for drift.", 5000)
            return False
        alerts = station.recipe.drift
        names = ", ".join(a.series for a in alerts)
        points = max(a.baseline_points for a in alerts)
        if not confirm.ask(
            self,
            "Re-baseline drift warnings",
            "Set the drift warnings' limits anew?",
            f"The limits of {names} are set again from the next {points} points of good parts "
            "(with the default 5-minute points: the next 100 minutes). No drift warning is "
            "raised until then, and a warning shown now goes. The old limits stay on record.",
            yes="Re-baseline",
        ):
            return False
        done = station.rebaseline_drift()
        self.statusBar().showMessage(f"Drift limits re-baselined: {', '.join(done)}", 8000)
        return True

    def open_alarm_list(self) -> AlarmListDialog | None:
        """This shift's alarm episodes (non-modal: the line keeps running)."""
        station = self.station
        if station is None:
            return None
        dialog = AlarmListDialog(station.alarm_history, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        dialog.raise_()
        return dialog

    # ---- cameras and privacy masks --------------------------------------------------------------

    def open_camera_dialog(self) -> CameraDialog | None:
        recipe = self.recipe
        if recipe is None:
            return None
        dialog = CameraDialog(recipe, self.jobs, self, station_running=self._running)
        dialog.recipeChanged.connect(self.save_and_reload)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def open_mask_editor(self) -> MaskEditor | None:
        recipe = self.recipe
        if recipe is None:
            return None
        station = self.station
        newest = station.newest_frame if station is not None and station.running else None
        editor = MaskEditor(recipe, self.jobs, newest, self, station_running=self._running)
        editor.recipeChanged.connect(self.save_and_reload)
        editor.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        editor.show()
        return editor

    def open_station_settings(self) -> StationSettingsDialog:
        """Line name, shift calendar and where each shift's report goes; a running station
        stamps parts with the new calendar from the moment it is saved."""
        dialog = StationSettingsDialog(self.paths, self)
        dialog.saved.connect(self._use_station_settings)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def _use_station_settings(self, settings: StationSettings) -> None:
        station = self.station
        if station is not None:
            station.use_station_settings(settings)

    def _running(self) -> bool:
        return self.control.running or self.control.busy

    # ---- the shift count and the software trigger ---------------------------------------------

    def confirm_reset_counts(self) -> bool:
        """The operator asked for a new shift count: say what is lost, reset only on Yes."""
        if self.station is None:
            return False
        if not confirm.ask(
            self,
            "Reset counts",
            "Start a new shift count?",
            "TOTAL, PASS, FAIL and ERROR go back to 0 and the serials seen so far are "
            "forgotten, so a serial repeated from before will not be caught as a duplicate. "
            "Recorded parts stay in the database.",
            yes="Start new count",
            no="Keep counting",
        ):
            return False
        log.info("operator started a new shift count")
        self.control.reset_counts()
        return True

    def trigger_one_part(self) -> None:
        """F5: one part now, or a status-bar line saying why not (never nothing at all)."""
        recipe = self.recipe
        if recipe is None:
            self.statusBar().showMessage("Open a recipe first.", 5000)
        elif recipe.trigger.type != "software":
            self.statusBar().showMessage(
                f"F5 takes a part only on recipes with a software trigger; {recipe.name} takes "
                f"parts by its {recipe.trigger.type} trigger.",
                8000,
            )
        elif self.control.busy or not self.control.running:
            self.statusBar().showMessage(
                "Start the station first: F5 takes a part only while it runs.", 5000
            )
        else:
            self.control.trigger()

    def _on_triggered(self, trigger_id: int, refused: str) -> None:
        if refused:
            self.statusBar().showMessage(f"Trigger refused: {refused}", 5000)
        else:
            self.statusBar().showMessage(f"Trigger {trigger_id}", 2000)

    def _on_failed(self, title: str, message: str) -> None:
        QMessageBox.critical(self, title, message)

    def _update_title(self) -> None:
        recipe = self.recipe
        self.setWindowTitle(
            f"Lineside — {recipe.name} v{recipe.version} · {recipe.station}"
            if recipe is not None
            else "Lineside"
        )

    # ---- teaching and the batch ----------------------------------------------------------------

    def open_teach_dialog(self) -> TeachDialog | None:
        """Show the Teach good parts dialog (window-modal; returns at once)."""
        recipe = self.recipe
        if recipe is None or self.control.busy:
            return None
        if self.teach_dialog is not None and self.teach_dialog.busy:
            self.teach_dialog.raise_()
            return self.teach_dialog
        if self.teach_dialog is not None:
            self.teach_dialog.deleteLater()
        self.teach_dialog = TeachDialog(recipe, self.paths, self.jobs, self.control, self)
        self.teach_dialog.open()
        return self.teach_dialog

    def _remember_part(self, inspection: Inspection) -> None:
        self.recent.add(inspection)

    def show_heatmaps(self) -> HeatmapDialog | None:
        """What the recipe's defect tool sees on the last few parts (scored as a job)."""
        recipe = self.recipe
        tools = anomaly_tools(recipe) if recipe is not None else []
        if recipe is None or not tools:
            QMessageBox.information(self, "No defect tool", "This recipe has no defect tool.")
            return None
        dialog = HeatmapDialog(recipe, tools[0], self.paths, self.jobs, self.recent, self)
        dialog.open()
        return dialog

    def teach_label_from_current_frame(self) -> None:
        station = self.station
        if station is not None:
            self.label_teaching.teach_current_frame(station.recipe, station.newest_frame)

    def open_batch_dialog(self) -> None:
        station = self.station
        if station is None:
            return
        keys = batch_keys(station.recipe)
        dialog = BatchDialog(keys, station.batch.snapshot(), self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.set_batch(dialog.values())

    def set_batch(self, values: dict[str, str]) -> None:
        """Set the running batch's values (already validated) and show them."""
        station = self.station
        if station is None:
            return
        station.batch.set(values)
        log.info("batch set: %s", values)
        self._show_batch()

    def _show_batch(self) -> None:
        station = self.station
        if station is None:
            self.batch_bar.show_batch([], {})
        else:
            self.batch_bar.show_batch(batch_keys(station.recipe), station.batch.snapshot())

    # ---- closing -------------------------------------------------------------------------------

    def request_quit(self) -> None:
        """Ctrl+Q / Recipe → Quit: ask first while the station inspects, then close."""
        if self._closing or self._confirm_quit():
            self._quit_confirmed = True
            self.close()

    def _confirm_quit(self) -> bool:
        if not (self.control.running or self.control.busy):
            return True
        return confirm.ask(
            self,
            "Quit Lineside",
            "Quit while the station is inspecting?",
            "The station is inspecting. Quitting stops inspection; parts in the machine are "
            "finished and recorded first.",
            yes="Stop and quit",
            no="Keep inspecting",
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        # The window's close button (a spontaneous close) asks like Ctrl+Q does; a close from
        # code (after the stop below, a test, a session ending) has decided already.
        if (
            event.spontaneous()
            and not self._closing
            and not self._quit_confirmed
            and not self._confirm_quit()
        ):
            event.ignore()
            return
        # Stopping joins the core's threads: never on the GUI thread. Ask for the stop, keep the
        # window until it is done (or the deadline passes), then close for real.
        if not self._closing and (self.control.running or self.control.busy):
            self._closing = True
            self.setEnabled(False)
            self.screen_widget.lamp.clear("stopping the station…")
            if self.control.running and not self.control.busy:
                self.control.stop()
            QTimer.singleShot(CLOSE_DEADLINE_MS, self._close_anyway)
            event.ignore()
            return
        if self.control.busy and not self._closing_anyway:
            event.ignore()
            return
        self.settings.window_geometry = bytes(self.saveGeometry().toBase64().data()).decode()
        if self.teach_dialog is not None:
            self.teach_dialog.abandon()
        self.label_teaching.detach()
        self.history_page.detach()
        self.review_page.detach()
        self.trends_page.detach()
        self.tuning_page.detach()
        self.privacy_page.detach()
        if not self.jobs.shutdown(JOBS_SHUTDOWN_S):
            log.warning("a job was still running after %.1f s; closing anyway", JOBS_SHUTDOWN_S)
        self.control.shutdown(0.5 if self._closing_anyway else STOP_TIMEOUT_S + 1.0)
        self.screen_widget.set_station(None)
        event.accept()

    def _close_anyway(self) -> None:
        if self.isVisible():
            log.warning("station still busy after %d ms; closing anyway", CLOSE_DEADLINE_MS)
            self._closing_anyway = True
            self.close()
