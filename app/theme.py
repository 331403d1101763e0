"""Colours, type sizes and physical sizes of the operator screen, in one place.

The operator reads the screen from two metres and touches it with gloves, so text sizes are
pixels for a 1080p panel and button sizes are millimetres, converted with the physical DPI.
"""

from __future__ import annotations

import logging

from PySide6.QtGui import QColor, QFont, QGuiApplication
from PySide6.QtWidgets import QWidget

from inspection.types import Verdict

log = logging.getLogger(__name__)

BACKGROUND = "#101214"
PANEL = "#1b1e22"
TEXT = "#f2f2f2"
MUTED_TEXT = "#a8adb3"

# Lamp colours: text colour chosen per background for a contrast ratio above 4.5:1.
VERDICT_BACKGROUND: dict[Verdict, str] = {
    Verdict.PASS: "#1e9e3e",
    Verdict.FAIL: "#d42020",
    Verdict.ERROR: "#ffb000",
}
VERDICT_TEXT: dict[Verdict, str] = {
    Verdict.PASS: "#000000",
    Verdict.FAIL: "#ffffff",
    Verdict.ERROR: "#000000",
}
IDLE_BACKGROUND = "#3a3f45"

OK_COLOUR = QColor("#35e06a")
BAD_COLOUR = QColor("#ff3b3b")
ROI_COLOUR = QColor("#3fb6ff")
ALARM_BACKGROUND = "#d42020"
WARNING_BACKGROUND = "#ffb000"
# drift warnings: not an alarm, so neither red nor amber; white text on it reads at 6:1
DRIFT_BACKGROUND = "#1f5fbf"

# Type sizes for a 1080p panel; the operator screen multiplies them by its scale (see ``scaled``).
VERDICT_PX = 160  # ≥ 120 px required on a 1080p screen for two-metre reading
REASON_PX = 40
COUNTER_PX = 72  # ≥ 48 px required
CAPTION_PX = 22
BUTTON_TEXT_PX = 28
STATUS_PX = 22  # ≥ 18 px
STRIP_REASON_PX = 20  # ≥ 18 px; two lines per tile
SMALLEST_PX = 13  # no text on the operator screen is drawn smaller, whatever the scale

BUTTON_MM = 15.0
BUTTON_MIN_PX = 60


def font(pixel_size: int, *, bold: bool = False) -> QFont:
    f = QFont()
    f.setPixelSize(pixel_size)
    f.setBold(bold)
    return f


def scaled(pixel_size: int, scale: float, minimum: int = SMALLEST_PX) -> int:
    """``pixel_size`` (for a 1080p panel) at ``scale``, never under ``minimum`` pixels."""
    return max(round(pixel_size * scale), minimum)


def text_scale(scale: float) -> float:
    """The scale for small text (captions, reasons, the status line) on a screen ``scale``
    times a 1080p one: it shrinks less than the big figures, so it stays readable on 720p."""
    return scale**0.5 if scale < 1.0 else scale


def mm_to_px(mm: float, widget: QWidget | None = None, minimum: int = 0) -> int:
    """Pixels covering ``mm`` millimetres on the widget's screen (or the primary one)."""
    screen = widget.screen() if widget is not None else None
    if screen is None:
        screen = QGuiApplication.primaryScreen()
    dpi = screen.physicalDotsPerInch() if screen is not None else 0.0
    if not dpi or dpi != dpi:  # some virtual screens report 0 or NaN
        log.debug("screen reports no physical DPI; assuming 96")
        dpi = 96.0
    return max(round(mm / 25.4 * dpi), minimum)


def button_height(widget: QWidget | None = None) -> int:
    """Height of a glove-friendly button: 15 mm on this screen, never under 60 px."""
    return mm_to_px(BUTTON_MM, widget, BUTTON_MIN_PX)
