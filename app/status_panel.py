"""What the operator must notice besides the verdict: alarms, and the line's health figures.

``AlarmBanner`` keeps each alarm or warning (one per source) on screen until the same source
reports it cleared (an INFO update) or the operator acknowledges it. ``StationStatus`` is the
one-line health readout fed from ``Station.counters()``.
"""

from __future__ import annotations

import logging
import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from app import theme
from inspection.pipeline.counters import CountersSnapshot
from inspection.types import StatusLevel, StatusUpdate

log = logging.getLogger(__name__)


class AlarmBanner(QFrame):
    """A full-width red (alarm) or amber (warning) bar; hidden while nothing is active."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alarmBanner")
        self.active: dict[str, StatusUpdate] = {}
        self.message = QLabel()
        self.message.setFont(theme.font(theme.REASON_PX - 8, bold=True))
        self.message.setWordWrap(True)
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.ack_button = QPushButton("Acknowledge")
        self.ack_button.setObjectName("ackButton")
        self.ack_button.setFont(theme.font(theme.BUTTON_TEXT_PX, bold=True))
        self.ack_button.clicked.connect(self.acknowledge)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 8, 8, 8)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.ack_button)
        self.hide()

    def set_button_height(self, px: int) -> None:
        self.ack_button.setMinimumHeight(px)
        self.ack_button.setMinimumWidth(px * 3)

    def show_status(self, update: StatusUpdate) -> None:
        if update.level is StatusLevel.INFO:
            if self.active.pop(update.source, None) is not None:
                log.info("alarm cleared by %s: %s", update.source, update.message)
        else:
            self.active[update.source] = update
        self._redraw()

    def acknowledge(self) -> None:
        for update in self.active.values():
            log.info("operator acknowledged %s: %s", update.source, update.message)
        self.active.clear()
        self._redraw()

    def _redraw(self) -> None:
        if not self.active:
            self.hide()
            return
        alarms = [u for u in self.active.values() if u.level is StatusLevel.ALARM]
        shown = alarms or list(self.active.values())
        text = "  ·  ".join(u.message for u in shown)
        if len(self.active) > len(shown):
            text += f"  (+{len(self.active) - len(shown)} warning)"
        self.message.setText(("ALARM: " if alarms else "WARNING: ") + text)
        bg = theme.ALARM_BACKGROUND if alarms else theme.WARNING_BACKGROUND
        fg = "#ffffff" if alarms else "#000000"
        self.setStyleSheet(
            f"#alarmBanner {{ background-color: {bg}; border-radius: 8px; }}"
            f"#alarmBanner QLabel {{ color: {fg}; }}"
        )
        self.show()


def _ms(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.0f} ms"


class StationStatus(QFrame):
    """Camera fps, median inspection time, drops, and the latest notice, in one line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stationStatus")
        self.fps = QLabel("camera —")
        self.inspection_ms = QLabel("inspection —")
        self.drops = QLabel("drops 0")
        self.notice = QLabel("")
        self.notice.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.notice.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 4, 12, 4)
        layout.setSpacing(32)
        for label in (self.fps, self.inspection_ms, self.drops, self.notice):
            label.setFont(theme.font(theme.STATUS_PX))
            layout.addWidget(label)
        layout.setStretch(3, 1)

    def show_counters(self, snap: CountersSnapshot) -> None:
        if snap.camera_fps:
            self.fps.setText(
                "  ".join(f"{cam} {fps:.1f} fps" for cam, fps in sorted(snap.camera_fps.items()))
            )
        else:
            self.fps.setText("camera —")
        self.inspection_ms.setText(f"inspection {_ms(snap.inspection_ms)}")
        self.drops.setText(f"drops {snap.dropped_total:,}")
        self.drops.setToolTip(
            "\n".join(f"{n:,} × {why}" for why, n in snap.dropped.items()) or "no drops"
        )
        colour = theme.WARNING_BACKGROUND if snap.dropped_total else theme.TEXT
        self.drops.setStyleSheet(f"color: {colour};")

    def show_status(self, update: StatusUpdate) -> None:
        self.notice.setText(f"{update.source}: {update.message}")
