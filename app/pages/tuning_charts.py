"""The Tuning page's plots: the score histogram split by label with the draggable candidate
threshold, and the ROC and PR curves with the threshold in force and the candidate marked.

Every item is made once and fed with ``setOpts`` / ``setData`` / ``setValue`` (DESIGN §8): a
drag moves one line and two dots, nothing is rebuilt.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QWidget

from app import theme
from inspection.tuning.whatif import Curves, Histogram

GOOD_COLOUR = "#35e06a"
DEFECT_COLOUR = "#ff3b3b"
UNLABELLED_COLOUR = "#7d848c"
CANDIDATE_COLOUR = "#ffb000"
IN_FORCE_COLOUR = "#3fb6ff"
LOG_FLOOR = math.log10(0.5)
"""Where a bar starts in log counts: below 1, so that a bin of one part still shows a bar."""


def _log_count(c: np.ndarray) -> np.ndarray:
    return np.where(c >= 1, np.log10(np.maximum(c, 1)), LOG_FLOOR)


def stacked_bars(hist: Histogram, log: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    """(bottom, height) of the good, defect and unlabelled bars stacked in that order, in
    counts or in log10 counts (each segment spans log10 of the counts below and above it, so
    the stack's top is log10 of the bin's total). float64 arrays of shape (bins,)."""
    tops = np.cumsum(
        np.vstack([np.zeros_like(hist.good), hist.good, hist.defect, hist.unlabelled]), axis=0
    ).astype(np.float64)
    if log:
        tops = _log_count(tops)
    return [(tops[k], tops[k + 1] - tops[k]) for k in range(3)]


def _line(colour: str, style: Qt.PenStyle, movable: bool, label: str) -> pg.InfiniteLine:
    return pg.InfiniteLine(
        angle=90,
        movable=movable,
        pen=pg.mkPen(colour, width=3 if movable else 2, style=style),
        hoverPen=pg.mkPen(colour, width=5),
        label=label,
        labelOpts={
            "position": 0.92 if movable else 0.80,
            "color": colour,
            "fill": (16, 18, 20, 200),
            "movable": False,
        },
    )


class ScoreHistogram(pg.PlotWidget):
    """The recorded scores per bin, stacked good / defect / unlabelled, with the threshold in
    force (fixed, dashed) and the candidate (dragged). ``candidateMoved(float)`` on every move."""

    candidateMoved = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMenuEnabled(False)
        item = self.getPlotItem()
        item.showGrid(x=True, y=True, alpha=0.2)
        self.set_wording("a part is rejected at score >= threshold")
        item.setLabel("left", "parts")
        item.addLegend(offset=(-10, 10))
        self.histogram: Histogram | None = None
        self.log = False
        self.bars = [
            pg.BarGraphItem(
                x0=[0.0], x1=[0.0], height=[0.0], brush=colour, pen=pg.mkPen(theme.BACKGROUND)
            )
            for colour in (GOOD_COLOUR, DEFECT_COLOUR, UNLABELLED_COLOUR)
        ]
        for bar, name in zip(self.bars, ("good", "defect / escape", "unlabelled"), strict=True):
            item.addItem(bar)
            item.legend.addItem(bar, name)
            bar.setVisible(False)
        self.in_force = _line(IN_FORCE_COLOUR, Qt.PenStyle.DashLine, False, "in force {value:.4g}")
        self.candidate = _line(CANDIDATE_COLOUR, Qt.PenStyle.SolidLine, True, "{value:.4g}")
        for line in (self.in_force, self.candidate):
            item.addItem(line)
            line.setVisible(False)
        self.candidate.sigPositionChanged.connect(self._on_moved)

    def set_wording(self, rule: str) -> None:
        """Name the axis after the rule: "a part is rejected at offset > max_offset_px"."""
        value = rule.removeprefix("a part is rejected at ").split(" ")[0]
        shown = rule.replace(">=", "≥")
        self.getPlotItem().setLabel("bottom", f"{value} ({shown})")

    def _on_moved(self, line: pg.InfiniteLine) -> None:
        self.candidateMoved.emit(float(line.value()))

    def show_histogram(self, hist: Histogram, in_force: float | None) -> None:
        """Draw ``hist`` (and the threshold in force); the view fits the bins."""
        self.histogram = hist
        self._draw_bars()
        self.in_force.setVisible(in_force is not None)
        if in_force is not None:
            self.in_force.setValue(in_force)
        self.candidate.setVisible(True)
        self.getPlotItem().enableAutoRange()

    def set_log(self, log: bool) -> None:
        """Counts on a log scale (or not); the bars are redrawn from the same histogram."""
        self.log = log
        self.getPlotItem().getAxis("left").setLogMode(False, log)
        self.getPlotItem().setLabel("left", "parts (log scale)" if log else "parts")
        self._draw_bars()
        self.getPlotItem().enableAutoRange()

    def _draw_bars(self) -> None:
        hist = self.histogram
        if hist is None:
            return
        for bar, (bottom, height) in zip(self.bars, stacked_bars(hist, self.log), strict=True):
            bar.setOpts(x0=hist.edges[:-1], x1=hist.edges[1:], y0=bottom, height=height)
            bar.setVisible(True)

    def set_candidate(self, value: float) -> None:
        """Put the candidate line at ``value`` (``candidateMoved`` follows, as for a drag)."""
        self.candidate.setValue(float(value))

    def clear_data(self) -> None:
        self.histogram = None
        for item in (*self.bars, self.in_force, self.candidate):
            item.setVisible(False)


class RocPrPlot(pg.GraphicsLayoutWidget):
    """ROC (false reject rate of good parts → share of bad parts rejected) and PR (recall →
    precision) of the labelled parts, with the threshold in force and the candidate marked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.roc = self.addPlot(row=0, col=0, title="ROC")
        self.pr = self.addPlot(row=0, col=1, title="PR")
        self.roc.setLabel("bottom", "good rejected")
        self.roc.setLabel("left", "bad rejected")
        self.pr.setLabel("bottom", "recall")
        self.pr.setLabel("left", "precision")
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.in_force: dict[str, pg.ScatterPlotItem] = {}
        self.candidate: dict[str, pg.ScatterPlotItem] = {}
        for name, plot in (("roc", self.roc), ("pr", self.pr)):
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=False)
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.05)
            self.curves[name] = plot.plot(pen=pg.mkPen("#c8ccd0", width=1.5))
            self.in_force[name] = pg.ScatterPlotItem(
                size=12, pen=pg.mkPen(IN_FORCE_COLOUR, width=2), brush=None
            )
            self.candidate[name] = pg.ScatterPlotItem(
                size=10, pen=None, brush=pg.mkBrush(CANDIDATE_COLOUR)
            )
            plot.addItem(self.in_force[name])
            plot.addItem(self.candidate[name])

    def show_curves(self, curves: Curves) -> None:
        self.curves["roc"].setData(curves.fpr, curves.tpr)
        keep = np.isfinite(curves.precision)
        self.curves["pr"].setData(curves.tpr[keep], curves.precision[keep])

    @staticmethod
    def _put(items: dict[str, pg.ScatterPlotItem], point: tuple[float, float, float]) -> None:
        fpr, tpr, precision = point
        for name, (x, y) in (("roc", (fpr, tpr)), ("pr", (tpr, precision))):
            shown = math.isfinite(x) and math.isfinite(y)
            items[name].setData([x] if shown else [], [y] if shown else [])

    def show_in_force(self, point: tuple[float, float, float] | None) -> None:
        """(fpr, tpr, precision) at the threshold in force, or None: no mark."""
        self._put(self.in_force, point or (math.nan, math.nan, math.nan))

    def show_candidate(self, point: tuple[float, float, float]) -> None:
        """(fpr, tpr, precision) at the candidate threshold (NaN: not marked)."""
        self._put(self.candidate, point)

    def clear_data(self) -> None:
        for curve in self.curves.values():
            curve.setData([], [])
        self.show_in_force(None)
        self.show_candidate((math.nan, math.nan, math.nan))
