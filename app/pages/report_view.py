"""What the Reports page shows of one ShiftReport: headline figures, hourly chart, Pareto.

Each chart creates its pyqtgraph items once and updates them with ``setOpts`` (DESIGN §8); a new
report replaces their data, never the items.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import theme
from inspection.reports.figures import HourFigures, ReasonCount, ShiftReport

FIGURE_PX = 44
CAPTION_PX = 18
PARETO_BARS = 10  # more reasons than this do not fit as readable tick labels
_PARTS_BRUSH = "#3fb6ff"
_FAIL_BRUSH = theme.ALARM_BACKGROUND
HEADLINES = ("Parts", "PASS", "FAIL", "ERROR", "Yield", "Downtime")


def yield_text(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def downtime_text(seconds: float) -> str:
    """``0 min``, ``42 min``, ``1 h 05 min`` (rounded to the minute)."""
    minutes = round(seconds / 60.0)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def headline_values(report: ShiftReport) -> dict[str, str]:
    """The six headline figures as the page shows them."""
    return {
        "Parts": f"{report.parts:,}",
        "PASS": f"{report.passed:,}",
        "FAIL": f"{report.failed:,}",
        "ERROR": f"{report.errors:,}",
        "Yield": yield_text(report.yield_),
        "Downtime": downtime_text(report.downtime_s),
    }


class HeadlineFigures(QFrame):
    """Parts, PASS, FAIL, ERROR, yield and downtime in big labels, readable across a desk."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reportHeadline")
        grid = QGridLayout(self)
        self.values: dict[str, QLabel] = {}
        for col, name in enumerate(HEADLINES):
            caption = QLabel(name)
            caption.setFont(theme.font(CAPTION_PX))
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            value = QLabel("—")
            value.setObjectName(f"headline{name}")
            value.setFont(theme.font(FIGURE_PX, bold=True))
            value.setAlignment(Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(caption, 0, col)
            grid.addWidget(value, 1, col)
            self.values[name] = value

    def show_report(self, report: ShiftReport) -> None:
        for name, text in headline_values(report).items():
            self.values[name].setText(text)

    def clear(self) -> None:
        for label in self.values.values():
            label.setText("—")


class HourlyChart(pg.PlotWidget):
    """Parts per clock hour (blue) with the rejected ones (FAIL + ERROR, red) in front."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground(theme.PANEL)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.setTitle("Parts per hour")
        self.showGrid(y=True, alpha=0.3)
        self.addLegend(offset=(10, 5))
        empty = np.zeros(0)
        self.parts_bars = pg.BarGraphItem(
            x=empty, height=empty, width=0.8, brush=_PARTS_BRUSH, name="parts"
        )
        self.reject_bars = pg.BarGraphItem(
            x=empty, height=empty, width=0.45, brush=_FAIL_BRUSH, name="FAIL + ERROR"
        )
        self.addItem(self.parts_bars)
        self.addItem(self.reject_bars)

    def show_hours(self, hours: Sequence[HourFigures], timezone: str) -> None:
        zone = ZoneInfo(timezone)
        x = np.arange(len(hours), dtype=float)
        parts = np.array([h.parts for h in hours], dtype=float)
        rejects = np.array([h.failed + h.errors for h in hours], dtype=float)
        self.parts_bars.setOpts(x=x, height=parts, width=0.8)
        self.reject_bars.setOpts(x=x, height=rejects, width=0.45)
        step = max(1, len(hours) // 12)  # at most ~12 labels along the axis
        ticks = [
            (float(i), dt.datetime.fromtimestamp(h.start, tz=zone).strftime("%H:%M"))
            for i, h in enumerate(hours)
            if i % step == 0
        ]
        self.getAxis("bottom").setTicks([ticks])
        self.setXRange(-0.6, max(len(hours), 1) - 0.4, padding=0)
        self.setYRange(0, max(float(parts.max()) if len(parts) else 0.0, 1.0) * 1.1, padding=0)

    def hour_heights(self) -> tuple[list[float], list[float]]:
        """(parts, rejects) per bar, as drawn."""
        return (
            [float(v) for v in self.parts_bars.opts["height"]],
            [float(v) for v in self.reject_bars.opts["height"]],
        )


class ParetoChart(pg.PlotWidget):
    """Reject reasons, most frequent first (the first ``PARETO_BARS``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground(theme.PANEL)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.setTitle("Reject reasons")
        self.showGrid(y=True, alpha=0.3)
        empty = np.zeros(0)
        self.bars = pg.BarGraphItem(x=empty, height=empty, width=0.7, brush=_FAIL_BRUSH)
        self.addItem(self.bars)

    def show_reasons(self, reasons: Sequence[ReasonCount]) -> None:
        shown = list(reasons[:PARETO_BARS])
        x = np.arange(len(shown), dtype=float)
        counts = np.array([r.count for r in shown], dtype=float)
        self.bars.setOpts(x=x, height=counts, width=0.7)
        # Reasons are long: the bars carry their rank, the table beside names each rank.
        self.getAxis("bottom").setTicks([[(float(i), str(i + 1)) for i in range(len(shown))]])
        self.setXRange(-0.6, max(len(shown), 1) - 0.4, padding=0)
        self.setYRange(0, max(float(counts.max()) if len(counts) else 0.0, 1.0) * 1.1, padding=0)

    def bar_heights(self) -> list[float]:
        return [float(v) for v in self.bars.opts["height"]]


class TopReasons(QWidget):
    """The Pareto's reasons by rank: reason, parts, share of rejects."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("topReasons")
        self.table.setHorizontalHeaderLabels(["Reason", "Parts", "Share of rejects"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(True)  # the rank, as under the Pareto's bars
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Top reasons"))
        layout.addWidget(self.table)

    def show_reasons(self, reasons: Sequence[ReasonCount]) -> None:
        self.table.setRowCount(len(reasons))
        self.table.setVerticalHeaderLabels([str(i + 1) for i in range(len(reasons))])
        for row, r in enumerate(reasons):
            count = QTableWidgetItem(f"{r.count:,}")
            count.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            share = QTableWidgetItem(f"{r.share * 100:.1f} %")
            share.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, 0, QTableWidgetItem(r.reason))
            self.table.setItem(row, 1, count)
            self.table.setItem(row, 2, share)

    def rows(self) -> list[tuple[str, str]]:
        """(reason, parts) as shown."""
        out = []
        for row in range(self.table.rowCount()):
            reason, count = self.table.item(row, 0), self.table.item(row, 1)
            out.append((reason.text() if reason else "", count.text() if count else ""))
        return out
