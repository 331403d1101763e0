"""The Trends page's chart: one plot per series, stacked, on one shared time axis.

Every plot's items (mean line, min/max band, threshold, control limits, rule marks) are made
once, when the series is added, and fed with ``setData`` / ``setValue`` on every reload
(DESIGN §8). Curves skip the finite check, clip to the view and peak-downsample: a day's
aggregated points draw in milliseconds, and panning never hides a spike.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from app import theme
from inspection.trends.chart_data import ChartData

MEAN_COLOUR = "#3fb6ff"
BAND_COLOUR = (63, 182, 255, 60)
BAND_EDGE = (63, 182, 255, 110)
THRESHOLD_COLOUR = "#ffb000"
CENTRE_COLOUR = "#35e06a"
LIMIT_COLOUR = "#ff7a7a"
MARK_COLOUR = "#ff3b3b"
FOCUS_COLOUR = "#ffffff"
CLICK_RADIUS_PX = 12.0  # a click this close to a point opens its part
PLOT_MIN_HEIGHT_PX = 140
MAX_LISTED = 500  # newest violations listed


@dataclass(frozen=True, slots=True)
class PointHit:
    """The point a click landed on: ``index`` into the series' shown points; ``at_low``: the
    click was nearer the bucket's minimum than its maximum (open the part at the minimum)."""

    series: str
    index: int
    at_low: bool


def _limit_line(
    colour: str, style: Qt.PenStyle, label: str, position: float = 0.02, *, below: bool = False
) -> pg.InfiniteLine:
    """A horizontal line with its value written at ``position`` (0 left .. 1 right), above the
    line or ``below`` it (an upper limit: the y scale often ends at it, which would cut off a
    label written above)."""
    anchor = (0, 0) if below else (0, 1)
    line = pg.InfiniteLine(
        angle=0,
        movable=False,
        pen=pg.mkPen(colour, width=1, style=style),
        label=label,
        labelOpts={"position": position, "color": colour, "anchors": [anchor, anchor]},
    )
    line.setVisible(False)
    return line


FEW_POINTS = 60  # at most this many points are drawn as dots as well as a line


class SeriesPlot:
    """One series' plot in the stack and its items (made once, fed with setData)."""

    def __init__(self, key: str, title: str, utc_offset: float) -> None:
        self.key = key
        self.axis = pg.DateAxisItem(orientation="bottom", utcOffset=utc_offset)
        self.plot = pg.PlotItem(axisItems={"bottom": self.axis})
        self.plot.setTitle(title, color=theme.TEXT, size="10pt")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setMinimumHeight(PLOT_MIN_HEIGHT_PX)
        self.plot.setMenuEnabled(False)
        # on the plot, not the curves: PlotItem.addItem gives each curve the plot's settings
        self.plot.setClipToView(True)
        self.plot.setDownsampling(auto=True, mode="peak")
        # the y scale follows the points in view (and the lines: horizontal lines count)
        self.plot.enableAutoRange(axis="y")
        self.plot.setAutoVisible(y=True)
        # a faint pen, not None: a PlotDataItem with no pen keeps no path for the band to fill
        self.low = self._curve(pen=pg.mkPen(BAND_EDGE, width=1))
        self.high = self._curve(pen=pg.mkPen(BAND_EDGE, width=1))
        self.band = pg.FillBetweenItem(self.low, self.high, brush=pg.mkBrush(*BAND_COLOUR))
        self.mean = self._curve(pen=pg.mkPen(MEAN_COLOUR, width=1.5))
        # at the right: a threshold often sits near the UCL, whose label is at the left
        self.threshold = _limit_line(
            THRESHOLD_COLOUR, Qt.PenStyle.DashLine, "threshold {value:.4g}", position=0.8
        )
        # each limit's value at a place of its own along the line: when outliers stretch the y
        # scale, the three lines lie a few pixels apart and labels one above the other overlap
        self.centre = _limit_line(
            CENTRE_COLOUR, Qt.PenStyle.SolidLine, "centre {value:.4g}", position=0.5
        )
        self.ucl = _limit_line(LIMIT_COLOUR, Qt.PenStyle.DotLine, "UCL {value:.4g}", below=True)
        self.lcl = _limit_line(LIMIT_COLOUR, Qt.PenStyle.DotLine, "LCL {value:.4g}", position=0.25)
        self.marks = pg.ScatterPlotItem(
            size=8, pen=None, brush=pg.mkBrush(MARK_COLOUR), name="rule violations"
        )
        self.focus = pg.ScatterPlotItem(
            size=18, pen=pg.mkPen(FOCUS_COLOUR, width=2), brush=None, symbol="o"
        )
        for item in (self.band, self.low, self.high, self.mean, self.marks, self.focus):
            self.plot.addItem(item)
        for line in (self.threshold, self.centre, self.ucl, self.lcl):
            self.plot.addItem(line, ignoreBounds=False)
        self.data: ChartData | None = None

    @staticmethod
    def _curve(pen: object) -> pg.PlotDataItem:
        curve = pg.PlotDataItem(pen=pen, skipFiniteCheck=True)
        curve.setClipToView(True)
        curve.setDownsampling(auto=True, method="peak")
        return curve

    def show(self, data: ChartData) -> None:
        """Draw ``data`` with the items already there."""
        self.data = data
        shown = data.shown
        # a few points (a short range of intervals) are dots too: a lone point draws no line
        few = len(shown) <= FEW_POINTS
        self.mean.setData(
            shown.t,
            shown.value,
            symbol="o" if few else None,
            symbolSize=7,
            symbolBrush=MEAN_COLOUR,
            symbolPen=None,
        )
        # the band only where a point stands for several parts; one-part points have none
        band = shown.aggregated
        self.low.setData(shown.t, shown.low if band else shown.value)
        self.high.setData(shown.t, shown.high if band else shown.value)
        self.band.setVisible(band)
        self.marks.setData(data.marked_t, data.marked_value)
        self.focus.setData([], [])
        self._line(self.threshold, shown.threshold)
        limits = data.limits
        self._line(self.centre, None if limits is None else limits.centre)
        self._line(self.ucl, None if limits is None else limits.ucl)
        self._line(self.lcl, None if limits is None else limits.lcl)

    @staticmethod
    def _line(line: pg.InfiniteLine, value: float | None) -> None:
        visible = value is not None and math.isfinite(value)
        # shown first: a hidden line's label ignores the value it is given (pyqtgraph)
        line.setVisible(visible)
        if visible:
            line.setValue(float(value))  # type: ignore[arg-type]
            line.label.valueChanged()

    def hit(self, x: float, y: float) -> PointHit | None:
        """The point nearest to view position (x, y), within CLICK_RADIUS_PX; None if none."""
        if self.data is None or len(self.data.shown) == 0:
            return None
        shown = self.data.shown
        px_x, px_y = self.plot.vb.viewPixelSize()
        dx = (shown.t - x) / max(px_x, 1e-12)
        reach = []
        for values in (shown.high, shown.value, shown.low):
            dy = (values - y) / max(px_y, 1e-12)
            reach.append(np.hypot(dx, dy))
        distance = np.nanmin(np.vstack(reach), axis=0)
        index = int(np.nanargmin(distance))
        if not distance[index] <= CLICK_RADIUS_PX:
            return None
        # the mean line belongs to the max's part (part_id); a click near the min to the min's
        at_low = abs(shown.low[index] - y) < abs(shown.high[index] - y)
        return PointHit(series=self.key, index=index, at_low=bool(at_low))


class TrendChart(pg.GraphicsLayoutWidget):
    """The stacked plots; ``pointClicked(PointHit)`` when a click lands on a point."""

    pointClicked = Signal(object)  # PointHit
    emptyClicked = Signal()  # a click on a plot, near no point

    def __init__(self, zone: dt.tzinfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground(theme.PANEL)
        self.zone = zone
        self.plots: dict[str, SeriesPlot] = {}
        self.order: list[str] = []
        self.scene().sigMouseClicked.connect(self._on_click)

    def _utc_offset(self) -> float:
        """The DateAxisItem's offset (seconds west of UTC, like time.timezone) in the zone."""
        offset = dt.datetime.now(self.zone).utcoffset()
        return -offset.total_seconds() if offset is not None else 0.0

    def set_series(self, series: Sequence[tuple[str, str]]) -> None:
        """Show the plots of ``series`` (key, title), top to bottom; plots kept for the keys
        already shown, made for new ones, dropped for the rest."""
        keys = [key for key, _title in series]
        if keys == self.order:
            return  # a reload of the same series: the plots stay as they are
        for key in self.order:
            self.ci.removeItem(self.plots[key].plot)
        for key in [k for k in self.plots if k not in keys]:
            self.plots.pop(key).plot.deleteLater()
        for key, title in series:
            if key not in self.plots:
                self.plots[key] = SeriesPlot(key, title, self._utc_offset())
        self.order = keys
        master = self.plots[keys[0]].plot if keys else None
        for row, key in enumerate(keys):
            item = self.plots[key]
            self.ci.addItem(item.plot, row=row, col=0)
            item.plot.setXLink(None if item.plot is master else master)
            # times under the bottom plot only: the stack reads as one chart
            item.axis.setStyle(showValues=row == len(keys) - 1)

    def show_data(self, key: str, data: ChartData) -> None:
        if key in self.plots:
            self.plots[key].show(data)

    def show_range(self, start: float, end: float) -> None:
        if self.order:
            self.plots[self.order[0]].plot.setXRange(start, end, padding=0.01)

    def x_range(self) -> tuple[float, float]:
        if not self.order:
            return (0.0, 0.0)
        low, high = self.plots[self.order[0]].plot.vb.viewRange()[0]
        return float(low), float(high)

    def centre_on(self, key: str, t: float, value: float) -> None:
        """Centre the time axis on ``t`` (keeping the span) and ring the point (t, value)."""
        low, high = self.x_range()
        half = max((high - low) / 2.0, 1.0)
        self.show_range(t - half, t + half)
        for name, item in self.plots.items():
            if name == key:
                item.focus.setData([t], [value])
            else:
                item.focus.setData([], [])

    def _on_click(self, event: object) -> None:
        if event.button() != Qt.MouseButton.LeftButton:  # type: ignore[attr-defined]
            return
        pos = event.scenePos()  # type: ignore[attr-defined]
        for key in self.order:
            vb = self.plots[key].plot.vb
            if vb.sceneBoundingRect().contains(pos):
                view = vb.mapSceneToView(pos)
                hit = self.plots[key].hit(view.x(), view.y())
                if hit is None:
                    self.emptyClicked.emit()
                else:
                    self.pointClicked.emit(hit)
                return


class ViolationList(QTableWidget):
    """The rule violations of the charts, newest first; ``violationChosen(series, time, value)``
    when a row is selected (the chart centres on it)."""

    violationChosen = Signal(str, float, float)

    def __init__(self, zone: dt.tzinfo, parent: QWidget | None = None) -> None:
        super().__init__(0, 4, parent)
        self.zone = zone
        # the rule before the series: at 1366 px the side panel shows the first columns whole,
        # and the series' name is also its chart's title (each row's tooltip says it all)
        self.setHorizontalHeaderLabels(["Time", "Rule", "Points", "Series"])
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().hide()
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.rows: list[tuple[str, float, float]] = []  # (series, time, value) per row
        self.currentCellChanged.connect(self._on_row)

    def show_charts(self, charts: dict[str, ChartData]) -> None:
        found = [
            (data.violations[i].at, key, data.violations[i], data.violation_values[i])
            for key, data in charts.items()
            for i in range(len(data.violations))
        ]
        found = sorted(found, key=lambda r: r[0], reverse=True)[:MAX_LISTED]
        self.blockSignals(True)
        self.setRowCount(len(found))
        self.rows = []
        stamps = [dt.datetime.fromtimestamp(at, tz=self.zone) for at, *_rest in found]
        days = {stamp.date() for stamp in stamps}
        # all on one day (the usual hour or shift): the date goes in the header once, and the
        # narrow side panel has room for the rule
        one_day = len(days) == 1
        header = f"Time ({next(iter(days)).isoformat()})" if one_day else "Time"
        self.setHorizontalHeaderItem(0, QTableWidgetItem(header))
        for row, ((at, key, v, value), stamp) in enumerate(zip(found, stamps, strict=True)):
            full = stamp.strftime("%Y-%m-%d %H:%M:%S")
            when = stamp.strftime("%H:%M:%S") if one_day else full
            points = f"{len(v.indices):,}"
            tip = f"{full}  {key}: {v.name} ({points} point{'s' if len(v.indices) != 1 else ''})"
            for col, text in enumerate((when, v.name, points, key)):
                item = QTableWidgetItem(text)
                item.setToolTip(tip)
                self.setItem(row, col, item)
            self.rows.append((key, at, value))
        self.blockSignals(False)

    def _on_row(self, row: int, *_args: int) -> None:
        if 0 <= row < len(self.rows):
            self.violationChosen.emit(*self.rows[row])
