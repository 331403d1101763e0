"""The main window: the operator screen plus recipe opening and Start/Stop in menu and toolbar."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QWidget

from app.bridge import StationBridge
from app.operator_screen import OperatorScreen
from app.settings import AppSettings
from app.station_control import STOP_TIMEOUT_S, StationControl, StationFactory
from inspection.errors import RecipeError
from inspection.recipe import Recipe, load_recipe

if TYPE_CHECKING:
    from inspection.pipeline.station import Station

log = logging.getLogger(__name__)

# A close waits for the station to stop; after this it closes anyway and logs what was left.
CLOSE_DEADLINE_MS = int((STOP_TIMEOUT_S + 2.0) * 1000)


class MainWindow(QMainWindow):
    """Lineside's window. The station is built, started and stopped by ``StationControl``."""

    recipeOpened = Signal(object)  # Path of a recipe that loaded and now runs

    def __init__(
        self,
        factory: StationFactory,
        settings: AppSettings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings or AppSettings()
        self.bridge = StationBridge(self)
        self.control = StationControl(factory, self.bridge, self)
        self.screen_widget = OperatorScreen()
        self.setCentralWidget(self.screen_widget)
        self._closing = False
        self._closing_anyway = False
        self._recipe_path: Path | None = None

        self.bridge.inspectionReady.connect(self.screen_widget.show_inspection)
        self.bridge.statusChanged.connect(self.screen_widget.show_status)
        self.screen_widget.startRequested.connect(self.control.start)
        self.screen_widget.stopRequested.connect(self.control.stop)
        self.control.stationChanged.connect(self._on_station_changed)
        self.control.stateChanged.connect(self._on_state_changed)
        self.control.failed.connect(self._on_failed)

        self.open_action = QAction("Open recipe…", self)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self.choose_recipe)
        self.start_stop_action = QAction("Start", self)
        self.start_stop_action.triggered.connect(self.screen_widget.start_stop_button.click)
        self.quit_action = QAction("Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.close)

        recipe_menu = self.menuBar().addMenu("&Recipe")
        recipe_menu.addAction(self.open_action)
        recipe_menu.addSeparator()
        recipe_menu.addAction(self.quit_action)
        station_menu = self.menuBar().addMenu("&Station")
        station_menu.addAction(self.start_stop_action)
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.addAction(self.open_action)
        toolbar.addAction(self.start_stop_action)

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
            self, "Open recipe", start_dir, "Recipes (*.yaml *.yml);;All files (*)"
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
        self.control.load(recipe, start=self.control.running if start is None else start)
        return True

    def _on_station_changed(self, station: Station) -> None:
        self.screen_widget.set_station(station)
        self._update_title()
        if self._recipe_path is not None:
            self.settings.last_recipe = self._recipe_path
            self.recipeOpened.emit(self._recipe_path)

    def _on_state_changed(self, running: bool, busy: bool) -> None:
        self.screen_widget.set_running(running, busy=busy)
        self.start_stop_action.setText("Stop" if running else "Start")
        self.start_stop_action.setEnabled(not busy and self.control.station is not None)
        self.open_action.setEnabled(not busy)
        if self._closing and not busy:
            if running:
                self.control.stop()
            else:
                self.close()

    def _on_failed(self, title: str, message: str) -> None:
        QMessageBox.critical(self, title, message)

    def _update_title(self) -> None:
        recipe = self.recipe
        self.setWindowTitle(
            f"Lineside — {recipe.name} v{recipe.version} · {recipe.station}"
            if recipe is not None
            else "Lineside"
        )

    # ---- closing -------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
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
        self.control.shutdown(0.5 if self._closing_anyway else STOP_TIMEOUT_S + 1.0)
        self.screen_widget.set_station(None)
        event.accept()

    def _close_anyway(self) -> None:
        if self.isVisible():
            log.warning("station still busy after %d ms; closing anyway", CLOSE_DEADLINE_MS)
            self._closing_anyway = True
            self.close()
