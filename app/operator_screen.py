"""The operator screen: live view, verdict lamp, shift counters, last parts, alarms, Start/Stop.

Read from two metres and used with gloves (DESIGN §8): huge verdict, large digits, 15 mm buttons,
dark background. Results and alarms are pushed in through ``show_inspection`` / ``show_status``
(connected to the bridge); frames and counters are pulled from the station on timers.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLayout, QPushButton, QVBoxLayout, QWidget

from app import theme
from app.counter_board import CounterBoard, Counts
from app.drift_banner import DriftBanner
from app.link_badge import LinkBadge
from app.live_view import LiveView
from app.part_strip import PartStrip
from app.status_panel import AlarmBanner, StationStatus, no_signal_text
from app.trend_strip import TrendStrip
from app.verdict_lamp import VerdictLamp
from inspection.types import Inspection, StatusUpdate

if TYPE_CHECKING:
    from inspection.pipeline.station import Station

log = logging.getLogger(__name__)

COUNTERS_POLL_MS = 500

# The screen's size inside a maximised main window on a 1920×1080 panel; type sizes in
# ``theme`` are for this size and scale with the screen's actual size (never above 2×).
REFERENCE_WIDTH = 1920
REFERENCE_HEIGHT = 950
MIN_SCALE = 0.5
SCALE_STEP = 0.03
LAYOUT_DEPTH = 4  # widgets with layouts nested in the screen's (screen > board > tile > label)
MAX_SCALE = 2.0
# The screen never asks the window for more than this; below it the type shrinks instead.
MIN_WIDTH = 960
MIN_HEIGHT = 480
# Shares of the screen's width: the live view's column (about 46 %: a 5:4 camera picture about
# as tall as the screen has room for at 1366×768) and the lamp's (lamp, counters, trend, last
# parts: wide enough for the verdict at the size of the screen's type).
LIVE_STRETCH = 6
FACTS_STRETCH = 7
# The live view never gets less than about this share of the screen's height (alarm and drift
# banners both up included); the screen shrinks its type before the picture goes below it.
MIN_VIEW_HEIGHT_SHARE = 0.4
# Between "Reset counts…" and START/STOP, so a glove cannot hit one for the other (mm).
RESET_GAP_MM = 25.0


def screen_scale(width: int, height: int) -> float:
    """How much bigger (or smaller) than a 1080p screen this ``width`` × ``height`` px one is."""
    scale = min(width / REFERENCE_WIDTH, height / REFERENCE_HEIGHT)
    return round(min(max(scale, MIN_SCALE), MAX_SCALE), 2)


class OperatorScreen(QWidget):
    """Everything the operator at the line needs, on one dark screen.

    The type scales with the screen's size (``screen_scale``), so it fits 1280×720 and up with
    nothing hidden; buttons stay glove-sized (15 mm, never under ``theme.BUTTON_MIN_PX``).
    """

    startRequested = Signal()
    stopRequested = Signal()
    triggerRequested = Signal()
    resetRequested = Signal()  # "Reset counts…" pressed: the window asks, then resets
    partOpened = Signal(object)  # the Inspection of a part the operator touched in the strip

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("operatorScreen")
        self.setMinimumSize(MIN_WIDTH, MIN_HEIGHT)
        self._station: Station | None = None
        self._running = False
        self.scale = 1.0
        self._fitted_for = 0.0
        self._button_font = theme.font(theme.BUTTON_TEXT_PX, bold=True)

        self.recipe_label = QLabel("no recipe")
        self.recipe_label.setObjectName("recipeName")
        self.station_label = QLabel("")
        self.station_label.setObjectName("stationName")

        self.start_stop_button = QPushButton("START")
        self.start_stop_button.setObjectName("startStopButton")
        self.reset_button = QPushButton("Reset counts…")
        self.reset_button.setObjectName("resetButton")
        self.reset_button.setToolTip("Start a new shift count (asks first)")
        # only for recipes that take parts on command (no presence strip, no camera trigger)
        self.trigger_button = QPushButton("TRIGGER")
        self.trigger_button.setObjectName("triggerButton")
        self.trigger_button.setToolTip("Inspect the part in front of the cameras now (F5)")
        self.trigger_button.hide()
        self.trigger_button.clicked.connect(self.triggerRequested)
        for button in self.buttons():
            button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.start_stop_button.clicked.connect(self._on_start_stop)
        self.reset_button.clicked.connect(self.resetRequested)

        self.alarm_banner = AlarmBanner()
        self.drift_banner = DriftBanner()
        self.drift_banner.acknowledgeRequested.connect(self.acknowledge_drift)
        self.live_view = LiveView()
        self.lamp = VerdictLamp()
        self.counters = CounterBoard()
        self.trend = TrendStrip()
        self.strip = PartStrip()
        self.strip.partClicked.connect(self.partOpened)
        self.status = StationStatus()
        self.link_badge = LinkBadge()

        names = QVBoxLayout()
        names.setSpacing(0)
        names.addWidget(self.recipe_label)
        names.addWidget(self.station_label)
        header = QHBoxLayout()
        header.addLayout(names)
        header.addSpacing(24)
        header.addWidget(self.reset_button)
        header.addStretch(1)
        # the line's link, where the operator looks first (hidden without a PLC)
        header.addWidget(self.link_badge)
        # far from "Reset counts…" whatever the recipe's name is
        header.addSpacing(theme.mm_to_px(RESET_GAP_MM, self))
        header.addWidget(self.trigger_button)
        header.addWidget(self.start_stop_button)

        # Left: the live view, as tall as the screen allows, so the operator can judge the
        # picture from two metres. Alarms and drift warnings come above it: when they are up the
        # picture gives them its room, and the lamp and the counters keep theirs.
        self._live = QVBoxLayout()
        self._live.setSpacing(6)
        self._live.addWidget(self.alarm_banner)
        self._live.addWidget(self.drift_banner)
        self._live.addWidget(self.live_view, 1)
        # the camera's rate and the inspection time belong under its picture
        self._live.addWidget(self.status)
        # Right: the lamp (the biggest type) beside the counters, then the shift's trend and the
        # last parts, each as low as it can be; the lamp and the counters take what is left.
        # The counters are as wide as their digits need; the lamp has the rest of the width.
        verdict = QHBoxLayout()
        verdict.setSpacing(10)
        verdict.addWidget(self.lamp, 1)
        verdict.addWidget(self.counters)
        facts = QVBoxLayout()
        facts.setSpacing(6)
        facts.addLayout(verdict, 1)
        facts.addWidget(self.trend)
        facts.addWidget(self.strip)
        self._body = QHBoxLayout()
        self._body.setSpacing(10)
        self._body.addLayout(self._live, LIVE_STRETCH)
        self._body.addLayout(facts, FACTS_STRETCH)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 4)
        layout.setSpacing(6)
        layout.addLayout(header)
        layout.addLayout(self._body, 1)

        self._apply_scale(self.scale)

        # the live view draws a part's frame and overlays on the next turn of the event loop,
        # not in the same breath as the lamp: two shorter waits for the screen rather than one
        # long one, and under a burst of results only the newest part is drawn there
        self._result_to_draw: Inspection | None = None
        self._draw_result = QTimer(self)
        self._draw_result.setSingleShot(True)
        self._draw_result.setInterval(0)
        self._draw_result.timeout.connect(self._show_result_in_view)

        self._poll = QTimer(self)
        self._poll.setInterval(COUNTERS_POLL_MS)
        self._poll.timeout.connect(self.poll_counters)
        self.set_running(False)

    def buttons(self) -> list[QPushButton]:
        """The screen's own glove-sized buttons (not the alarm banner's)."""
        return [self.reset_button, self.trigger_button, self.start_stop_button]

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
        self.link_badge.show_states(station.outputs() if station is not None else [])
        # longer names need room: the header's nested layouts keep their old sums until told
        self.fit_to_size(force=True)
        self.layout().activate()
        self._result_to_draw = None  # the old station's part must not land on the new view
        self.live_view.set_source(station.newest_frame if station is not None else None, recipe)
        self.lamp.clear()
        self.strip.clear()
        self.drift_banner.set_source(station.drift_warnings if station is not None else None)
        self.trend.set_source(station.shift_trend if station is not None else None)
        # the station's count as it stands (restored from its records after a restart)
        self.counters.show_counts(
            Counts.from_snapshot(station.counters()) if station is not None else Counts()
        )
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
        button.setFont(self._button_font)  # a re-polish puts back the font of the first polish
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
        counts = self.counters.counts
        if counts.counts_part(inspection.part_seq):
            counts = counts.plus(inspection.verdict, inspection.part_seq)
            self.counters.show_counts(counts)
        # its place in the count is TOTAL when it is the last part counted; a part counted
        # before a reset (or not at all) gets no number rather than a wrong one
        self.lamp.show_inspection(inspection, counts.number_of(inspection.part_seq))
        self.strip.add(inspection)
        self._result_to_draw = inspection
        self._draw_result.start()

    def _show_result_in_view(self) -> None:
        inspection, self._result_to_draw = self._result_to_draw, None
        if inspection is not None:
            self.live_view.show_result(inspection)

    def show_status(self, update: StatusUpdate) -> None:
        station = self._station
        if station is None:
            self.alarm_banner.show_status(update)
        else:
            # the station's alarm book took this update before it was sent: show the book
            self.alarm_banner.show_alarms(station.alarms())
            lost = no_signal_text(station, self.live_view.camera)
            self.live_view.set_signal(not lost, lost)
        self.status.show_status(update)

    def acknowledge_drift(self) -> None:
        """The operator pressed Seen: the warnings shown are acknowledged (in memory, cheap)."""
        station = self._station
        shown = self.drift_banner.warnings
        if station is not None:
            for warning in shown:
                station.acknowledge_drift(warning.series)
        self.drift_banner.refresh()

    # ---- pulled from the station ---------------------------------------------------------------

    def poll_counters(self) -> None:
        if self._station is None:
            return
        snap = self._station.counters()
        self.status.show_counters(snap)
        outputs = self._station.outputs()
        self.status.show_outputs(outputs)
        self.link_badge.show_states(outputs)
        # alarms clear by themselves in the station's book; the banner follows it
        self.alarm_banner.show_alarms(self._station.alarms())
        self.drift_banner.refresh()
        lost = no_signal_text(self._station, self.live_view.camera)
        self.live_view.set_signal(not lost, lost)
        # The station's counters are the record, but a snapshot may be ahead of the lamp (parts
        # counted, not shown yet) or behind it: take it only when it cannot disagree with the
        # lamp, or when the count itself changed (a reset, a restart).
        if self.counters.counts.accepts(snap):
            counts = Counts.from_snapshot(snap)
            self.counters.show_counts(counts)
            if self.lamp.part_seq is not None:
                self.lamp.show_count_number(counts.number_of(self.lamp.part_seq))

    # ---- sizing --------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # the window may have opened on another screen than the primary one
        self.fit_to_size(force=True)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_to_size()

    def fit_to_size(self, *, force: bool = False) -> None:
        """The biggest type (up to ``screen_scale``) with which everything fits the screen,
        an alarm banner included whether one is up or not (so type does not jump with alarms)."""
        scale = screen_scale(self.width(), self.height())
        if scale == self._fitted_for and not force:
            return
        self._fitted_for = scale
        self._apply_scale(scale)
        while scale > MIN_SCALE and not self._fits():
            scale = max(round(scale - SCALE_STEP, 2), MIN_SCALE)
            self._apply_scale(scale)

    def _fits(self) -> bool:
        # nested layouts learn of their children's new fonts through posted layout requests,
        # one level of nesting per round
        for _ in range(LAYOUT_DEPTH):
            QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        for child in self.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly):
            child.updateGeometry()  # the screen's layout caches its children's old size hints
        layout = self.layout()
        # every nested layout (header, names, middle...) caches its own sums
        for inner in layout.findChildren(QLayout):
            inner.invalidate()
        layout.invalidate()
        need = layout.minimumSize()
        height = need.height()
        # the banners stand above the live view: the body must hold them both under the
        # lamp's column's height, shown or not
        hidden = [b for b in (self.alarm_banner, self.drift_banner) if b.isHidden()]
        live = self._live.minimumSize().height() + sum(
            b.minimumSizeHint().height() + self._live.spacing() for b in hidden
        )
        height += max(live - self._body.minimumSize().height(), 0)
        return height <= self.height() and need.width() <= self.width()

    def _apply_scale(self, scale: float) -> None:
        """Type sizes for a screen ``scale`` times a 1080p one; buttons stay glove-sized."""
        self.scale = scale
        small = theme.text_scale(scale)
        self.recipe_label.setFont(theme.font(theme.scaled(36, scale, minimum=20), bold=True))
        self.station_label.setFont(theme.font(theme.scaled(theme.CAPTION_PX + 2, small)))
        button_font = theme.font(theme.scaled(theme.BUTTON_TEXT_PX, small, minimum=18), bold=True)
        self._button_font = button_font
        # 15 mm, but on a small panel no more than a tenth of the screen (never under 60 px)
        px = max(
            min(theme.button_height(self), round(REFERENCE_HEIGHT * scale * 0.1)),
            theme.BUTTON_MIN_PX,
        )
        for button in self.buttons():
            button.setFont(button_font)
            button.setMinimumHeight(px)
            button.setMinimumWidth(px * 4)
        self.link_badge.set_text_px(button_font.pixelSize(), px)
        self.live_view.setMinimumHeight(round(REFERENCE_HEIGHT * scale * MIN_VIEW_HEIGHT_SHARE))
        self.alarm_banner.set_button_height(px)
        self.alarm_banner.set_scale(scale)
        self.drift_banner.set_button_height(px)
        self.drift_banner.set_scale(scale)
        self.lamp.set_scale(scale)
        self.counters.set_scale(scale)
        self.trend.set_scale(scale)
        self.strip.set_scale(scale)
        self.status.set_scale(scale)

    def _on_start_stop(self) -> None:
        (self.stopRequested if self._running else self.startRequested).emit()
