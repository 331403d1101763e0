"""The big PASS / FAIL / ERROR lamp for the last part, with its reason in large type."""

from __future__ import annotations

import logging
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from app import theme
from inspection.types import Inspection, Verdict

log = logging.getLogger(__name__)

LONG_REASON = 50  # characters; longer reasons get slightly smaller type to stay on two lines


class VerdictLamp(QWidget):
    """Shows the verdict of the last part in huge text on a green / red / amber field."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("verdictLamp")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)

        self.verdict_label = QLabel("—")
        self.verdict_label.setObjectName("verdictText")
        self.verdict_label.setFont(theme.font(theme.VERDICT_PX, bold=True))
        self.verdict_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # a long reason must never squeeze the verdict until its glyphs are clipped
        self.verdict_label.setMinimumHeight(round(theme.VERDICT_PX * 1.2))

        self.reason_label = QLabel("waiting for the first part")
        self.reason_label.setObjectName("verdictReason")
        self.reason_label.setFont(theme.font(theme.REASON_PX, bold=True))
        self.reason_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.reason_label.setWordWrap(True)
        # a long reason wraps and grows the lamp downwards instead of widening the window
        self.reason_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        self.part_label = QLabel("")
        self.part_label.setObjectName("verdictPart")
        self.part_label.setFont(theme.font(theme.CAPTION_PX))
        self.part_label.setAlignment(Qt.AlignmentFlag.AlignCenter)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 8, 16, 16)
        layout.setSpacing(4)
        layout.addWidget(self.verdict_label, 3)
        layout.addWidget(self.reason_label, 2)
        layout.addWidget(self.part_label)
        self._paint(None)

    def show_inspection(self, inspection: Inspection) -> None:
        verdict = inspection.verdict
        self.verdict_label.setText(verdict.value)
        if inspection.reason:
            long = len(inspection.reason) > LONG_REASON
            self.reason_label.setFont(theme.font(theme.REASON_PX - (8 if long else 0), bold=True))
            self.reason_label.setText(inspection.reason)
        elif verdict is Verdict.PASS:
            self.reason_label.setText("all checks passed")
        else:
            self.reason_label.setText("no reason given")
        when = datetime.fromtimestamp(inspection.wall_time).strftime("%H:%M:%S")
        self.part_label.setText(f"part {inspection.part_seq + 1} · {when}")
        self._paint(verdict)

    def clear(self, message: str = "waiting for the first part") -> None:
        self.verdict_label.setText("—")
        self.reason_label.setText(message)
        self.part_label.setText("")
        self._paint(None)

    def _paint(self, verdict: Verdict | None) -> None:
        bg = theme.IDLE_BACKGROUND if verdict is None else theme.VERDICT_BACKGROUND[verdict]
        fg = theme.TEXT if verdict is None else theme.VERDICT_TEXT[verdict]
        self.setProperty("verdict", verdict.value if verdict is not None else "")
        self.setStyleSheet(
            f"#verdictLamp {{ background-color: {bg}; border-radius: 12px; }}"
            f"#verdictLamp QLabel {{ color: {fg}; background: transparent; }}"
        )
