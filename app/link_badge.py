"""The PLC's state in the operator screen's header, large enough to read from two metres.

A station whose PLC is gone inspects on, but the line hears none of its verdicts: that is not a
detail for the status line. The badge is hidden when the station has no PLC link; it reads
"PLC OK" while the PLC talks to the station, "PLC WAITING" until one first connects, and
"PLC LOST" on red when it went away or fell silent (its reason in the tooltip and the alarm
banner).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from app import theme
from inspection.integrations.output_runner import OutputState
from inspection.integrations.plc.signals import OUTPUT_ID as PLC_ID

_LOOKS = {
    # text, text colour, background, border
    "connected": ("PLC OK", theme.TEXT, "transparent", "#35e06a"),
    "starting": ("PLC WAITING", theme.MUTED_TEXT, "transparent", theme.MUTED_TEXT),
    "failed": ("PLC LOST", "#ffffff", theme.ALARM_BACKGROUND, theme.ALARM_BACKGROUND),
}


class LinkBadge(QLabel):
    """``show_states`` with the station's ``outputs()``: the PLC's entry, if any, is shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        self.setObjectName("linkBadge")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.state = ""
        """The PLC link's state last shown ("" when the station has no PLC)."""
        self._px = theme.BUTTON_TEXT_PX
        self.hide()

    def set_text_px(self, px: int, height: int) -> None:
        """Type as the header's buttons have it, and their height."""
        self._px = px
        self.setFont(theme.font(px, bold=True))
        self.setMinimumHeight(height)
        self._restyle()

    def show_states(self, states: Sequence[OutputState]) -> None:
        plc = next((s for s in states if s.output_id == PLC_ID), None)
        if plc is None:
            self.state = ""
            self.hide()
            return
        state = plc.state if plc.state in _LOOKS else "failed"
        tip = plc.describe() if plc.state == "failed" else f"{plc.link}: {plc.state}"
        if plc.reason and plc.state != "failed":
            tip += f" ({plc.reason})"
        self.setToolTip(tip)
        if state != self.state:
            self.state = state
            self.setText(_LOOKS[state][0])
            self._restyle()
        self.show()

    def _restyle(self) -> None:
        if not self.state:
            return
        _text, colour, background, border = _LOOKS[self.state]
        self.setStyleSheet(
            f"QLabel#linkBadge {{ color: {colour}; background: {background}; "
            f"border: 3px solid {border}; border-radius: 8px; padding: 0 18px; }}"
        )
        self.setFont(theme.font(self._px, bold=True))  # a style sheet puts back its first font
