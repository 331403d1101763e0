"""The operator screen: live view, verdict lamp, shift counters, last parts, alarms, Start/Stop.

Read from two metres and used with gloves (DESIGN §8): huge verdict, large digits, 15 mm buttons,
dark background. Results and alarms are pushed in through ``show_inspection`` / ``show_status``
(connected to the bridge); frames and counters are pulled from the station on timers.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app import theme
from app.counter_board import CounterBoard, Counts
from app.live_view import LiveView
from app.part_strip import PartStrip
from app.status_panel import AlarmBanner, StationStatus
from app.verdict_lamp import VerdictLamp
from inspection.types import Inspection, StatusUpdate

if TYPE_CHECKING:
    from inspection.pipeline.station import Station

log = logging.getLogger(__name__)

COUNTERS_POLL_MS = 500


class OperatorScreen(QWidget):
    """Everything the operator at the line needs, on one dark screen."""

    startRequested = Signal()
    stopRequested = Signal()
    triggerRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("operatorScreen")
        self._station: Station | None = None
        self._running = False

        self.recipe_label = QLabel("no recipe")
        self.recipe_label.setObjectName("recipeName")
        self.recipe_label.setFont(theme.font(36, bold=True))
        self.station_label = QLabel("")
        self.station_label.setObjectName("stationName")
        self.station_label.setFont(theme.font(theme.CAPTION_PX + 4))

        self.start_stop_button = QPushButton("START")
        self.start_stop_button.setObjectName("startStopButton")
        self.reset_button = QPushButton("Reset counts")
        self.reset_button.setObjectName("resetButton")
        # only for recipes that take parts on command (no presence strip, no camera trigger)
        self.trigger_button = QPushButton("TRIGGER")
        self.trigger_button.setObjectName("triggerButton")
        self.trigger_button.setToolTip("Inspect the part in front of the cameras now (F5)")
        self.trigger_button.hide()
        self.trigger_button.clicked.connect(self.triggerRequested)
        for button in (self.start_stop_button, self.reset_button, self.trigger_button):
            button.setFont(theme.font(theme.BUTTON_TEXT_PX, bold=True))
            button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.start_stop_button.clicked.connect(self._on_start_stop)
        self.reset_button.clicked.connect(self.reset_counts)

        self.alarm_banner = AlarmBanner()
        self.live_view = LiveView()
        self.lamp = VerdictLamp()
        self.counters = CounterBoard()
        self.strip = PartStrip()
        self.status = StationStatus()

        names = QVBoxLayout()
        names.setSpacing(0)
        names.addWidget(self.recipe_label)
        names.addWidget(self.station_label)
        header = QHBoxLayout()
        header.addLayout(names, 1)
        header.addWidget(self.reset_button)
        header.addWidget(self.trigger_button)
        header.addWidget(self.start_stop_button)

        right = QVBoxLayout()
        right.setSpacing(12)
        right.addWidget(self.lamp, 3)
        right.addWidget(self.counters, 2)
        middle = QHBoxLayout()
        middle.setSpacing(12)
        middle.addWidget(self.live_view, 5)
        middle.addLayout(right, 4)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 4)
        layout.setSpacing(8)
        layout.addLayout(header)
        layout.addWidget(self.alarm_banner)
        layout.addLayout(middle, 1)
        layout.addWidget(self.strip)
        layout.addWidget(self.status)

        self._apply_button_height()

        self._poll = QTimer(self)
        self._poll.setInterval(COUNTERS_POLL_MS)
        self._poll.timeout.connect(self.poll_counters)
        self.set_running(False)

    # ---- wiring -------------------------------------------------------------------------------

    def set_station(self, station: Station | None) -> None:
        """Show this station: its recipe, its frames and its counters (None: show nothing)."""
        self._station = station
        recipe = station.recipe if station is not None else None
        if recipe is None:
            self.recipe_label.setText("no recipe")
            self.station_label.setText("")
        else:
            self.recipe_label.setText(f"{recipe.name}  v{recipe.version}")
            self.station_label.setText(f"station {recipe.station}")
        self.live_view.set_source(station.newest_frame if station is not None else None, recipe)
        self.lamp.clear()
        self.strip.clear()
        self.counters.show_counts(Counts())
        if station is not None:
            self.poll_counters()
            self._poll.start()
        else:
            self._poll.stop()

    def set_running(self, running: bool, *, busy: bool = False) -> None:
        """Running: the button offers STOP. Busy (starting/stopping): it is disabled meanwhile."""
        self._running = running
        button = self.start_stop_button
        if busy:
            button.setText("STOPPING…" if running else "STARTING…")
        else:
            button.setText("STOP" if running else "START")
        button.setEnabled(not busy and self._station is not None)
        button.setProperty("running", running)
        button.style().unpolish(button)
        button.style().polish(button)
        recipe = self._station.recipe if self._station is not None else None
        self.trigger_button.setVisible(recipe is not None and recipe.trigger.type == "software")
        self.trigger_button.setEnabled(running and not busy)
        if not running and not busy:
            self.lamp.clear("stopped" if self._station is not None else "no recipe loaded")

    # ---- pushed in from the bridge -------------------------------------------------------------

    def show_inspection(self, inspection: Inspection) -> None:
        recipe = self._station.recipe if self._station is not None else None
        if recipe is not None and (inspection.recipe_name, inspection.recipe_version) != (
            recipe.name,
            recipe.version,
        ):
            # a late result of the station this screen showed before a recipe change
            log.debug("ignoring part %d of recipe %s", inspection.part_seq, inspection.recipe_name)
            return
        self.lamp.show_inspection(inspection)
        self.counters.show_counts(self.counters.counts.plus(inspection.verdict))
        self.strip.add(inspection)
        self.live_view.show_result(inspection)

    def show_status(self, update: StatusUpdate) -> None:
        self.alarm_banner.show_status(update)
        self.status.show_status(update)

    # ---- pulled from the station ---------------------------------------------------------------

    def poll_counters(self) -> None:
        if self._station is None:
            return
        snap = self._station.counters()
        self.status.show_counters(snap)
        # The station's counters are the record; results shown a moment earlier may not be in
        # this snapshot yet, so never step the display backwards.
        if snap.parts >= self.counters.counts.parts:
            self.counters.show_counts(Counts.from_snapshot(snap))

    def reset_counts(self) -> None:
        log.info("operator reset the counts")
        if self._station is not None:
            self._station.reset_counts()
        self.counters.show_counts(Counts())

    # ---- sizing --------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # the window may have opened on another screen than the primary one
        self._apply_button_height()

    def _apply_button_height(self) -> None:
        px = theme.button_height(self)
        for button in (self.start_stop_button, self.reset_button, self.trigger_button):
            button.setMinimumHeight(px)
            button.setMinimumWidth(px * 4)
        self.alarm_banner.set_button_height(px)

    def _on_start_stop(self) -> None:
        (self.stopRequested if self._running else self.startRequested).emit()
