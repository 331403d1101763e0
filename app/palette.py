"""The dark look for the whole application: a QPalette besides the stylesheet.

The stylesheet (resources/style/operator.qss) colours the widgets it names. What it does not
reach — combo pop-ups, Qt's own file dialog, message boxes, spin boxes, scroll bars — takes its
colours from the application palette, so that palette is dark too; otherwise those open light
inside the dark screen.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from app import theme

log = logging.getLogger(__name__)

INPUT_BACKGROUND = "#1b1e22"
BUTTON_BACKGROUND = "#2d3238"
HIGHLIGHT = "#3a6ea5"
DISABLED_TEXT = "#6b7178"


def dark_palette() -> QPalette:
    """The palette matching operator.qss: dark backgrounds, light text, dim disabled text."""
    palette = QPalette()
    role = QPalette.ColorRole
    colours = {
        role.Window: theme.BACKGROUND,
        role.WindowText: theme.TEXT,
        role.Base: INPUT_BACKGROUND,
        role.AlternateBase: BUTTON_BACKGROUND,
        role.Text: theme.TEXT,
        role.Button: BUTTON_BACKGROUND,
        role.ButtonText: theme.TEXT,
        role.BrightText: "#ffffff",
        role.Highlight: HIGHLIGHT,
        role.HighlightedText: "#ffffff",
        role.ToolTipBase: theme.TEXT,
        role.ToolTipText: "#000000",
        role.PlaceholderText: theme.MUTED_TEXT,
        role.Link: "#3fb6ff",
    }
    for which, colour in colours.items():
        palette.setColor(which, QColor(colour))
    disabled = QPalette.ColorGroup.Disabled
    for which in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(disabled, which, QColor(DISABLED_TEXT))
    return palette


def apply_theme(app: QApplication, stylesheet: Path) -> None:
    """Give ``app`` the dark palette and the stylesheet at ``stylesheet`` (logged if missing)."""
    app.setPalette(dark_palette())
    try:
        app.setStyleSheet(stylesheet.read_text(encoding="utf-8"))
    except OSError as exc:
        log.warning("stylesheet %s not loaded: %s", stylesheet, exc)
