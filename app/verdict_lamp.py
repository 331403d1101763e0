"""The big PASS / FAIL / ERROR lamp for the last part, with its reason in large type."""

from __future__ import annotations

import logging
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from app import theme
from inspection.types import Inspection, Verdict

log = logging.getLogger(__name__)

LONG_REASON = 50  # characters; longer reasons get slightly smaller type to stay on two lines
# The verdict's type is fitted so that this word fits the lamp: PASS and FAIL (and "—") have one
# size, as big as the lamp allows; ERROR, wider and rare, gets smaller type when it shows, in the
# same height, rather than making every PASS and FAIL smaller.
USUAL_VERDICT = Verdict.PASS.value


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st, ..."""
    teens = 10 <= n % 100 <= 20
    suffix = "th" if teens else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n:,}{suffix}"


class VerdictLamp(QWidget):
    """Shows the verdict of the last part in huge text on a green / red / amber field."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("verdictLamp")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self._scale = 1.0
        self.part_seq: int | None = None
        """``part_seq`` of the part shown (None: none)."""
        self.count_number: int | None = None
        """Its place in the count ("Nth this shift"), None when it is not in the current count."""
        self._when = ""
        self._long_reason = False

        self.verdict_label = QLabel("—")
        self.verdict_label.setObjectName("verdictText")
        self.verdict_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # the font is fitted to the lamp's width; the label never asks for more
        self.verdict_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

        self.reason_label = QLabel("waiting for the first part")
        self.reason_label.setObjectName("verdictReason")
        self.reason_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.reason_label.setWordWrap(True)
        # a long reason wraps instead of widening the window
        self.reason_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        self.part_label = QLabel("")
        self.part_label.setObjectName("verdictPart")
        self.part_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.part_label.setWordWrap(True)
        self.part_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 4, 12, 8)
        layout.setSpacing(2)
        layout.addWidget(self.verdict_label)
        layout.addWidget(self.reason_label, 1)
        layout.addWidget(self.part_label)
        self.set_scale(1.0)
        self._paint(None)

    # ---- sizes ---------------------------------------------------------------------------------

    def set_scale(self, scale: float) -> None:
        """Type sizes for a screen ``scale`` times a 1080p one (the verdict as big as fits)."""
        self._scale = scale
        self._set_reason_font()
        small = theme.text_scale(scale)
        self.part_label.setFont(theme.font(theme.scaled(theme.CAPTION_PX, small)))
        self._fit_verdict()

    def _set_reason_font(self) -> None:
        px = theme.REASON_PX - (8 if self._long_reason else 0)
        self.reason_label.setFont(theme.font(theme.scaled(px, self._scale), bold=True))

    def _fit_verdict(self) -> None:
        px = theme.scaled(theme.VERDICT_PX, self._scale)
        usual = self._fitted_px(px, USUAL_VERDICT)
        px = self._fitted_px(usual, self.verdict_label.text())
        font = theme.font(px, bold=True)
        if font != self.verdict_label.font():
            self.verdict_label.setFont(font)
        # as tall as the usual verdict's type, whichever word shows: the reason does not jump
        self.verdict_label.setFixedHeight(QFontMetrics(theme.font(usual, bold=True)).height())

    def _fitted_px(self, px: int, word: str) -> int:
        """``px``, or smaller so that ``word`` fits the lamp's width rather than being clipped."""
        margins = self.contentsMargins() + self.layout().contentsMargins()
        width = self.width() - margins.left() - margins.right()
        if not self.isVisible() or width <= 0:
            return px
        advance = QFontMetrics(theme.font(px, bold=True)).horizontalAdvance(word)
        if advance > width:
            px = max(int(px * width / advance), theme.SMALLEST_PX)
            # type does not scale quite linearly: make sure
            while px > theme.SMALLEST_PX and (
                QFontMetrics(theme.font(px, bold=True)).horizontalAdvance(word) > width
            ):
                px -= 1
        return px

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_verdict()

    # ---- what it shows -------------------------------------------------------------------------

    def show_inspection(self, inspection: Inspection, count_number: int | None = None) -> None:
        """Light up for this part; ``count_number``: its place in the count ("Nth this shift")."""
        verdict = inspection.verdict
        self.verdict_label.setText(verdict.value)
        self._fit_verdict()
        if inspection.reason:
            self._long_reason = len(inspection.reason) > LONG_REASON
            self.reason_label.setText(inspection.reason)
        elif verdict is Verdict.PASS:
            self._long_reason = False
            self.reason_label.setText("all checks passed")
        else:
            self._long_reason = False
            self.reason_label.setText("no reason given")
        self._set_reason_font()
        self.part_seq = inspection.part_seq
        self._when = datetime.fromtimestamp(inspection.wall_time).strftime("%H:%M:%S")
        self.show_count_number(count_number)
        self._paint(verdict)

    def show_count_number(self, count_number: int | None) -> None:
        """Change the part's place in the count (a correction from the station's counters)."""
        self.count_number = count_number
        if self.part_seq is None:
            return
        items = [f"part {self.part_seq + 1}"]
        if count_number is not None:
            items.append(f"{ordinal(count_number)} this shift")
        items.append(self._when)
        self.part_label.setText(" · ".join(items))

    def clear(self, message: str = "waiting for the first part") -> None:
        self.verdict_label.setText("—")
        self._fit_verdict()
        self.reason_label.setText(message)
        self.part_label.setText("")
        self.part_seq = None
        self.count_number = None
        self._paint(None)

    def _paint(self, verdict: Verdict | None) -> None:
        bg = theme.IDLE_BACKGROUND if verdict is None else theme.VERDICT_BACKGROUND[verdict]
        fg = theme.TEXT if verdict is None else theme.VERDICT_TEXT[verdict]
        value = verdict.value if verdict is not None else ""
        if self.property("verdict") == value and self.styleSheet():
            return  # the same colours: a style sheet re-polishes the lamp and its labels (ms)
        self.setProperty("verdict", value)
        self.setStyleSheet(
            f"#verdictLamp {{ background-color: {bg}; border-radius: 12px; }}"
            f"#verdictLamp QLabel {{ color: {fg}; background: transparent; }}"
        )
