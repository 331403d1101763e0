"""The operator's drift warning: a trend moving towards trouble while the parts are still good.

Not an alarm and never red or amber (those are the alarm banner's): a blue bar under the alarm
banner's place, over the live view, saying which measure drifts, which way and by which rule, with one glove-sized
"Seen" button. Pulled from ``Station.drift_warnings()`` on the screen's timer; pressing Seen
acknowledges the warnings shown, which the station records for the shift report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QSizePolicy, QWidget

from app import theme
from app.status_panel import CutLabel, banner_button_font, banner_font, banner_lines
from inspection.pipeline.drift import DriftWarning

_ARROW = {"up": "▲", "down": "▼"}


def warning_line(warning: DriftWarning) -> str:
    """``▲ surface score drifting up (1 point beyond 3 sigma) since 14:02``."""
    arrow = _ARROW.get(warning.direction, "◆")
    since = time.strftime("%H:%M", time.localtime(warning.raised_at))
    return f"{arrow} {warning.text} since {since}"


class DriftBanner(QFrame):
    """Hidden while no drift warning waits; else the oldest one (and how many more)."""

    acknowledgeRequested = Signal()  # "Seen" pressed: acknowledge the warnings shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("driftBanner")
        self.warnings: tuple[DriftWarning, ...] = ()
        self.full_text = ""
        self._source: Callable[[], Sequence[DriftWarning]] | None = None
        self.message = CutLabel(lambda: banner_lines(self.message, self.seen_button))
        self.message.setObjectName("driftMessage")
        self.message.setFont(theme.font(theme.REASON_PX - 8, bold=True))
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.seen_button = QPushButton("Seen")
        self.seen_button.setObjectName("driftSeenButton")
        self.seen_button.setToolTip("The drift is known: hide the warning (it is recorded)")
        self.seen_button.setFont(theme.font(theme.BUTTON_TEXT_PX, bold=True))
        self.seen_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.seen_button.clicked.connect(self.acknowledgeRequested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 8, 8, 8)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.seen_button)
        self.setStyleSheet(
            f"#driftBanner {{ background-color: {theme.DRIFT_BACKGROUND}; "
            f"border: 3px solid {theme.DRIFT_BACKGROUND}; border-radius: 8px; }}"
            "#driftBanner QLabel { color: #ffffff; background: transparent; border: none; }"
        )
        self.hide()

    def set_button_height(self, px: int) -> None:
        self.seen_button.setMinimumHeight(px)
        # glove-sized, no wider than it must be: the banner is only as wide as the live view
        self.seen_button.setMinimumWidth(round(px * 1.5))
        self._elide()

    def set_scale(self, scale: float) -> None:
        """Type for a screen ``scale`` times a 1080p one (never under 18 px: two metres)."""
        self.message.setFont(banner_font(scale))
        self.seen_button.setFont(banner_button_font(scale))
        self._elide()

    def set_source(self, source: Callable[[], Sequence[DriftWarning]] | None) -> None:
        """Where ``refresh`` reads the warnings (``station.drift_warnings``); None: none."""
        self._source = source
        self.refresh()

    def refresh(self) -> None:
        self.show_warnings(self._source() if self._source is not None else ())

    def show_warnings(self, warnings: Sequence[DriftWarning]) -> None:
        """Show exactly these warnings (``station.drift_warnings()``); none: hide."""
        warnings = tuple(warnings)
        if warnings == self.warnings and self.isHidden() != bool(warnings):
            return
        self.warnings = warnings
        if not warnings:
            self.full_text = ""
            self.hide()
            return
        text = "TREND " + warning_line(warnings[0])
        if len(warnings) > 1:
            text += f"  (+{len(warnings) - 1} more)"
        self.full_text = text
        self.setToolTip(
            "\n".join(
                f"{warning_line(w)} — {w.series}, the newest point the mean of "
                f"{w.counts[-1] if w.counts else 0} good parts, "
                f"centre {w.centre:.4g}, limits {w.lcl:.4g} – {w.ucl:.4g}"
                for w in warnings
            )
        )
        self.show()
        self._elide()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        self.message.set_full_text(self.full_text)
        self.message.setToolTip("")  # the banner's tooltip says more
