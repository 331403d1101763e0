"""The operator's trend strip: yield over the last hour and this shift, and the top three reasons.

Read from two metres like the counters: the two yields in large figures, a small line of the
yield per interval (5 minutes) over the last hour, and the shift's three most frequent reject
reasons with their counts. It pulls ``Station.shift_trend()`` on its own timer at most once a
second, never a signal per part; the line is one PlotDataItem updated with ``setData``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QSizePolicy

from app import theme
from inspection.pipeline.shift_trend import TOP_REASONS, ShiftTrendSnapshot

log = logging.getLogger(__name__)

REFRESH_MS = 1000  # ≤ 1 Hz: the figures move by parts per minute, not per frame
FIGURE_PX = 44  # the two yields, for a 1080p panel (the counters' digits are 72)
PLOT_MIN_PX = 28
LINE_COLOUR = "#3fb6ff"  # bright blue on the dark panel, apart from the verdict colours
LOWEST_FLOOR = 80.0  # the line's scale starts at 80 % or lower, so a dip is seen as one

TrendSource = Callable[[], ShiftTrendSnapshot]


def yield_text(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.1f} %"


def y_floor(yields: np.ndarray) -> float:
    """Bottom of the line's scale: 80 %, or lower in steps of 10 to show a worse interval."""
    finite = yields[np.isfinite(yields)]
    lowest = float(finite.min()) if finite.size else 100.0
    return max(min(LOWEST_FLOOR, math.floor((lowest - 2.0) / 10.0) * 10.0), 0.0)


class TrendStrip(QFrame):
    """Yield over the last hour and this shift, and the shift's top reject reasons."""

    def __init__(self, parent: QFrame | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trendStrip")
        self.setStyleSheet(
            f"#trendStrip {{ background-color: {theme.PANEL}; border-radius: 8px; }}"
            f"#trendStrip QLabel {{ color: {theme.TEXT}; background: transparent; }}"
            f"#trendStrip QLabel[muted='true'] {{ color: {theme.MUTED_TEXT}; }}"
        )
        self._source: TrendSource | None = None
        self.snapshot: ShiftTrendSnapshot | None = None
        """The figures shown (None: nothing yet)."""

        self.hour_caption = self._label("LAST HOUR", muted=True)
        self.hour_value = self._label("—")
        self.shift_caption = self._label("SHIFT", muted=True)
        self.shift_value = self._label("—")
        self.reasons_caption = self._label("TOP REJECTS", muted=True)
        self.reason_labels = [self._label("") for _ in range(TOP_REASONS)]
        self.count_labels = [self._label("") for _ in range(TOP_REASONS)]
        self._reason_texts = [""] * TOP_REASONS
        for label in self.reason_labels:
            # a long reason is cut in the middle with "…" (whole in the tooltip): its tool and
            # its end stay readable, and the screen does not widen
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        for label in self.count_labels:
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self.plot = pg.PlotWidget(background=theme.PANEL)
        self.plot.setObjectName("trendPlot")
        self.plot.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.plot.setMinimumWidth(60)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        item = self.plot.getPlotItem()
        item.setContentsMargins(2, 2, 2, 2)
        # a faint line at 100 %: how far below it the yield runs is what the operator reads
        self._full = pg.InfiniteLine(pos=100.0, angle=0, pen=pg.mkPen(theme.MUTED_TEXT, width=1))
        self.plot.addItem(self._full)
        self.curve = pg.PlotDataItem(
            pen=pg.mkPen(LINE_COLOUR, width=3),
            symbol="o",
            symbolSize=7,
            symbolBrush=LINE_COLOUR,
            symbolPen=None,
        )
        self.plot.addItem(self.curve)
        self._x = np.zeros(0)  # interval positions (minutes from the newest), made once per size

        # one low row, so the live view above the lamp's column keeps the height: the two
        # yields with the line under them, and the reasons beside them with the rest of the width
        figures = QGridLayout()
        figures.setContentsMargins(0, 0, 0, 0)
        figures.setHorizontalSpacing(16)
        figures.setVerticalSpacing(0)
        figures.addWidget(self.hour_caption, 0, 0)
        figures.addWidget(self.hour_value, 1, 0)
        figures.addWidget(self.shift_caption, 0, 1)
        figures.addWidget(self.shift_value, 1, 1)
        figures.addWidget(self.plot, 2, 0, 1, 2)
        figures.setRowStretch(3, 1)

        reasons = QGridLayout()
        reasons.setContentsMargins(0, 0, 0, 0)
        reasons.setHorizontalSpacing(12)
        reasons.setVerticalSpacing(0)
        reasons.addWidget(self.reasons_caption, 0, 0, 1, 2)
        for row, (reason, count) in enumerate(
            zip(self.reason_labels, self.count_labels, strict=True), start=1
        ):
            reasons.addWidget(count, row, 0)
            reasons.addWidget(reason, row, 1)
        reasons.setColumnStretch(1, 1)
        reasons.setRowStretch(TOP_REASONS + 1, 1)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 10, 6)
        layout.setSpacing(20)
        layout.addLayout(figures)
        layout.addLayout(reasons, 1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self.set_scale(1.0)
        self.show_snapshot(None)

    @staticmethod
    def _label(text: str, *, muted: bool = False) -> QLabel:
        label = QLabel(text)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setProperty("muted", muted)
        return label

    def labels(self) -> list[QLabel]:
        """Every text the strip shows (for layout checks)."""
        return [
            self.hour_caption,
            self.hour_value,
            self.shift_caption,
            self.shift_value,
            self.reasons_caption,
            *self.reason_labels,
            *self.count_labels,
        ]

    # ---- sizes ---------------------------------------------------------------------------------

    def set_scale(self, scale: float) -> None:
        """Type sizes for a screen ``scale`` times a 1080p one (as the counter board's)."""
        small = theme.text_scale(scale)
        caption = theme.font(theme.scaled(theme.CAPTION_PX, small), bold=True)
        figure = theme.font(theme.scaled(FIGURE_PX, scale, minimum=20), bold=True)
        reason = theme.font(theme.scaled(theme.STRIP_REASON_PX, small), bold=True)
        for label in (self.hour_caption, self.shift_caption, self.reasons_caption):
            label.setFont(caption)
        for label in (self.hour_value, self.shift_value):
            label.setFont(figure)
            # room for the widest yield, so the figures do not move as they change
            label.setMinimumWidth(label.fontMetrics().horizontalAdvance("100.0 %") + 2)
        for label in (*self.reason_labels, *self.count_labels):
            label.setFont(reason)
            label.setFixedHeight(label.fontMetrics().height() + 2)
        for label in self.count_labels:
            label.setMinimumWidth(label.fontMetrics().horizontalAdvance("00,000") + 2)
        # under the yields, down to the last reason's line: the strip is no taller for it
        reasons_px = TOP_REASONS * self.reason_labels[0].minimumHeight()
        figures_px = self.hour_value.fontMetrics().height()
        self.plot.setFixedHeight(max(reasons_px - figures_px, PLOT_MIN_PX))
        self.curve.setSymbolSize(max(round(9 * scale), 5))
        self.curve.setPen(pg.mkPen(LINE_COLOUR, width=max(round(4 * scale), 2)))
        self._elide_reasons()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide_reasons()

    def _elide_reasons(self) -> None:
        # cut at the end: a reason says what is wrong first ("serial: code '…' does not match
        # the…"), and a cut in the middle left its start and end without the sense between
        for label, text in zip(self.reason_labels, self._reason_texts, strict=True):
            width = max(label.width() - 2, 10)
            label.setText(label.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, width))

    # ---- what it shows -------------------------------------------------------------------------

    def set_source(self, source: TrendSource | None) -> None:
        """Pull the figures from ``source`` (``Station.shift_trend``) once a second; None: stop."""
        self._source = source
        if source is None:
            self._timer.stop()
            self.show_snapshot(None)
            return
        self.refresh()
        self._timer.start()

    def refresh(self) -> None:
        if self._source is not None:
            self.show_snapshot(self._source())

    def show_snapshot(self, snap: ShiftTrendSnapshot | None) -> None:
        self.snapshot = snap
        if snap is None:
            self.hour_value.setText("—")
            self.shift_value.setText("—")
            self._show_reasons([], "")
            self.curve.setData([], [])
            return
        self.hour_value.setText(yield_text(snap.yield_last_hour))
        self.shift_value.setText(yield_text(snap.yield_shift))
        self.hour_value.setToolTip(f"{snap.passed_last_hour:,} of {snap.parts_last_hour:,} passed")
        self.shift_value.setToolTip(f"{snap.passed:,} of {snap.parts:,} passed ({snap.shift})")
        empty = "no rejects this shift" if snap.parts else "no parts this shift"
        self._show_reasons([(r.reason, r.count) for r in snap.top_reasons], empty)
        self._show_line(snap)

    def _show_reasons(self, rows: list[tuple[str, int]], empty: str) -> None:
        for i, (reason, count) in enumerate(
            zip(self.reason_labels, self.count_labels, strict=True)
        ):
            if i < len(rows):
                text, n = rows[i]
                self._reason_texts[i] = text
                reason.setToolTip(text)
                count.setText(f"{n:,}")
            else:
                self._reason_texts[i] = empty if i == 0 and not rows else ""
                reason.setToolTip("")
                count.setText("")
            muted = not rows
            if reason.property("muted") != muted:
                reason.setProperty("muted", muted)
                reason.style().unpolish(reason)
                reason.style().polish(reason)
        self._elide_reasons()

    def _show_line(self, snap: ShiftTrendSnapshot) -> None:
        yields = np.asarray(snap.interval_yields, dtype=np.float64)
        n = yields.size
        if self._x.size != n:
            # minutes of each interval's start before the newest interval's start: -55 ... 0
            self._x = (np.arange(n, dtype=np.float64) - (n - 1)) * snap.interval_s / 60.0
            if n:
                pad = snap.interval_s / 120.0
                self.plot.setXRange(float(self._x[0]) - pad, pad, padding=0)
        # intervals with no parts are left out rather than drawn as 0 %
        shown = np.isfinite(yields)
        self.curve.setData(self._x[shown], yields[shown], skipFiniteCheck=True)
        self.plot.setYRange(y_floor(yields), 101.0, padding=0)
