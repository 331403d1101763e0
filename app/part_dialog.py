"""One part, opened from the operator screen's strip: its image, overlays and each tool's result.

The frame of every camera is shown in a ``LiveView`` of its own (no source: it only shows this
part), with the tools' ROIs drawn as dashed rectangles labelled with the tool and its verdict. Beside
it: the verdict, the reason, where the part came from, each tool's full reason, measurements and
key details, and how long the part took. Everything the tools wrote is shown unabridged; long text
wraps and the column scrolls.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Iterable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.live_view import LiveView
from app.part_facts import (
    detail_lines,
    measurement_lines,
    short_hashes,
    timing_lines,
    when,
)
from inspection.types import Inspection, Region, ToolResult, Verdict

log = logging.getLogger(__name__)

SCREEN_SHARE = 0.9  # the dialog never covers more than this of the screen's free area
VERDICT_PX = 72
HEADING_PX = 24
TEXT_PX = 20
SMALL_PX = 17

# The app-wide operator stylesheet styles only a few widget kinds; scroll areas, tabs and their
# viewports would otherwise paint the platform's light palette under light text.
_STYLE = f"""
QDialog#partDialog, QWidget#partPanel, QScrollArea, QScrollArea > QWidget {{
    background-color: {theme.BACKGROUND};
    color: {theme.TEXT};
}}
QLabel {{ color: {theme.TEXT}; font-size: {TEXT_PX}px; }}
QLabel[muted="true"] {{ color: {theme.MUTED_TEXT}; font-size: {SMALL_PX}px; }}
QTabWidget::pane {{ border: 2px solid {theme.PANEL}; background-color: {theme.BACKGROUND}; }}
QTabBar::tab {{
    background-color: {theme.PANEL}; color: {theme.TEXT}; font-size: {TEXT_PX}px;
    padding: 10px 24px; min-height: 40px;
}}
QTabBar::tab:selected {{ background-color: {theme.IDLE_BACKGROUND}; font-weight: bold; }}
QScrollBar:vertical {{ background: {theme.PANEL}; width: 20px; }}
QScrollBar::handle:vertical {{ background: {theme.IDLE_BACKGROUND}; min-height: 40px; }}
QScrollBar::add-line:vertical, QScrollBar::sub-line:vertical {{ height: 0px; }}
"""


# ---- pure helpers: where on the image ------------------------------------------------------


def results_by_camera(inspection: Inspection) -> dict[str, tuple[ToolResult, ...]]:
    """Each frame's camera → the results drawn on it; a result naming no camera goes to the first."""
    cameras = [f.camera for f in inspection.frames]
    out: dict[str, list[ToolResult]] = {c: [] for c in cameras}
    for r in inspection.tool_results:
        camera = r.camera if r.camera in out else (cameras[0] if cameras else None)
        if camera is not None:
            out[camera].append(r)
    return {c: tuple(rs) for c, rs in out.items()}


def roi_rectangles(results: Iterable[ToolResult]) -> tuple[np.ndarray, np.ndarray]:
    """The results' ROIs as one closed polyline, rectangles separated by NaN (``connect='finite'``)."""
    xs: list[float] = []
    ys: list[float] = []
    for r in results:
        roi: Region | None = r.roi
        if roi is None or roi.is_empty:
            continue
        x0, y0, x1, y1 = roi.x, roi.y, roi.x + roi.w, roi.y + roi.h
        xs += [x0, x1, x1, x0, x0, math.nan]
        ys += [y0, y0, y1, y1, y0, math.nan]
    return np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)


def fitted_size(available: QRect, wanted: tuple[int, int]) -> tuple[int, int]:
    """``wanted`` (w, h) cut to ``SCREEN_SHARE`` of the screen's available area."""
    return (
        min(wanted[0], int(available.width() * SCREEN_SHARE)),
        min(wanted[1], int(available.height() * SCREEN_SHARE)),
    )


# ---- widgets ---------------------------------------------------------------------------------


def _label(text: str, *, px: int = TEXT_PX, bold: bool = False, muted: bool = False) -> QLabel:
    # plain text: decoded codes and OCR output are data, never markup
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setFont(theme.font(px, bold=bold))
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    if muted:
        label.setProperty("muted", True)
    return label


def _verdict_badge(verdict: Verdict, px: int) -> QLabel:
    badge = QLabel(verdict.value)
    badge.setObjectName("verdictBadge")
    badge.setFont(theme.font(px, bold=True))
    badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
    pad = max(px // 6, 4)
    badge.setStyleSheet(
        f"background-color: {theme.VERDICT_BACKGROUND[verdict]};"
        f"color: {theme.VERDICT_TEXT[verdict]}; border-radius: 8px;"
        f"padding: {pad}px {pad * 3}px; font-size: {px}px; font-weight: bold;"
    )
    return badge


class ToolCard(QFrame):
    """One tool's result: id, type, verdict, full reason, measurements and key details."""

    def __init__(self, result: ToolResult, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("toolCard")
        self.result = result
        colour = theme.VERDICT_BACKGROUND[result.verdict]
        self.setStyleSheet(
            f"QFrame#toolCard {{ border-left: 10px solid {colour}; "
            f"background-color: {theme.PANEL}; }}"
        )
        self.verdict = _verdict_badge(result.verdict, HEADING_PX)
        self.title = _label(result.tool_id, px=HEADING_PX, bold=True)
        head = QHBoxLayout()
        head.setSpacing(12)
        head.addWidget(self.verdict, 0, Qt.AlignmentFlag.AlignTop)
        head.addWidget(self.title, 1)

        self.reason = _label(result.reason or "no finding", bold=bool(result.reason))
        measured = measurement_lines(result.measurements)
        self.measurements = _label("\n".join(measured))
        # what the measurements already say is not repeated from the details
        facts = [line for line in detail_lines(result.details) if line not in measured]
        self.details = _label("\n".join(facts), muted=True)
        where = [f"{result.tool_type} tool", f"camera {result.camera}" if result.camera else ""]
        if result.roi is not None:
            r = result.roi
            where.append(f"ROI x {r.x}, y {r.y}, {r.w} × {r.h} px")
        if result.duration_ns:
            where.append(f"{result.duration_ns / 1e6:.1f} ms")
        self.where = _label("  ·  ".join(w for w in where if w), muted=True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 10, 12, 10)
        layout.setSpacing(6)
        layout.addLayout(head)
        for label in (self.reason, self.measurements, self.details, self.where):
            label.setVisible(bool(label.text()))
            layout.addWidget(label)

    def texts(self) -> list[str]:
        """Every text on the card (for finding what it shows)."""
        return [
            w.text()
            for w in (self.title, self.verdict, self.reason, self.measurements, self.details)
        ] + [self.where.text()]


class PartDialog(QDialog):
    """Everything Lineside knows about one inspected part, on the dark theme."""

    def __init__(self, inspection: Inspection, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.inspection = inspection
        self.setObjectName("partDialog")
        self.setStyleSheet(_STYLE)
        number_ = inspection.part_seq + 1
        self.setWindowTitle(f"Part #{number_} — {inspection.verdict.value}")

        # ---- the image(s) ---------------------------------------------------------------------
        self.views: dict[str, LiveView] = {}
        self.roi_curves: dict[str, pg.PlotCurveItem] = {}
        self.roi_labels: dict[str, list[pg.TextItem]] = {}
        self.no_image: QLabel | None = None
        self.camera_tabs: QTabWidget | None = None
        by_camera = results_by_camera(inspection)
        for frame in inspection.frames:
            if frame.camera in self.views:
                log.warning("part %d: second frame of %s not shown", number_, frame.camera)
                continue
            view = LiveView()
            results = by_camera[frame.camera]
            # an Inspection of this camera alone: LiveView shows its first frame and all overlays
            view.show_result(dataclasses.replace(inspection, frames=(frame,), tool_results=results))
            self._draw_rois(view, frame.camera, results)
            self.views[frame.camera] = view
        if not self.views:
            self.no_image = QLabel("no image")
            self.no_image.setObjectName("noImage")
            self.no_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.no_image.setFont(theme.font(36, bold=True))
            self.no_image.setStyleSheet(
                f"background-color: {theme.PANEL}; color: {theme.MUTED_TEXT}; border-radius: 8px;"
            )
            image_area: QWidget = self.no_image
        elif len(self.views) == 1:
            image_area = next(iter(self.views.values()))
        else:
            self.camera_tabs = QTabWidget()
            for camera, view in self.views.items():
                self.camera_tabs.addTab(view, camera)
            image_area = self.camera_tabs
        image_area.setMinimumSize(240, 180)

        # ---- the verdict and where the part came from -----------------------------------------
        self.verdict_label = _verdict_badge(inspection.verdict, VERDICT_PX)
        self.part_label = _label(
            f"Part #{number_}  ·  {when(inspection.wall_time)}", px=HEADING_PX, bold=True
        )
        self.reason_label = _label(
            inspection.reason or "every tool passed", px=HEADING_PX, bold=bool(inspection.reason)
        )
        self.facts_label = _label(
            "\n".join(
                [
                    f"recipe {inspection.recipe_name} v{inspection.recipe_version}",
                    f"station {inspection.station}",
                    f"models: {short_hashes(inspection.model_hashes)}",
                    f"record {inspection.inspection_id}",
                ]
            ),
            muted=True,
        )

        # ---- each tool, then the timings -----------------------------------------------------
        self.tool_cards = [ToolCard(r) for r in inspection.tool_results]
        self.timings_label = _label("\n".join(timing_lines(inspection.timing)), muted=True)

        panel = QWidget()
        panel.setObjectName("partPanel")
        column = QVBoxLayout(panel)
        column.setContentsMargins(0, 0, 8, 0)
        column.setSpacing(10)
        column.addWidget(self.reason_label)
        column.addWidget(self.facts_label)
        column.addWidget(_label("Tools", px=HEADING_PX, bold=True))
        if not self.tool_cards:
            column.addWidget(_label("no tool ran", muted=True))
        for card in self.tool_cards:
            column.addWidget(card)
        column.addWidget(_label("Timing", px=HEADING_PX, bold=True))
        column.addWidget(self.timings_label)
        column.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidget(panel)
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)

        right = QVBoxLayout()
        right.setSpacing(8)
        right.addWidget(self.verdict_label)
        right.addWidget(self.part_label)
        right.addWidget(self.scroll, 1)

        body = QHBoxLayout()
        body.setSpacing(16)
        body.addWidget(image_area, 1)
        body.addLayout(right, 1)

        self.close_button = QPushButton("Close")
        self.close_button.setObjectName("closeButton")
        self.close_button.setFont(theme.font(theme.BUTTON_TEXT_PX, bold=True))
        self.close_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(10)
        layout.addLayout(body, 1)
        layout.addLayout(buttons)
        self._fit_to_screen()

    # ---- internals -----------------------------------------------------------------------------

    def _draw_rois(self, view: LiveView, camera: str, results: Sequence[ToolResult]) -> None:
        """Dashed ROI rectangles and a ``tool VERDICT`` label at each (LiveView draws only the
        recipe's ROIs, and this dialog has no recipe: it shows what the part was inspected with)."""
        box = view.image_item.getViewBox()
        curve = pg.PlotCurveItem(
            pen=pg.mkPen(theme.ROI_COLOUR, width=2, style=Qt.PenStyle.DashLine), connect="finite"
        )
        curve.setZValue(9)
        curve.setData(*roi_rectangles(results), connect="finite")
        box.addItem(curve)
        labels = []
        for r in results:
            if r.roi is None or r.roi.is_empty:
                continue
            colour = theme.ROI_COLOUR if r.verdict is Verdict.PASS else theme.BAD_COLOUR
            label = pg.TextItem(
                f"{r.tool_id} {r.verdict.value}",
                color=colour,
                anchor=(0, 1),
                fill=pg.mkBrush(0, 0, 0, 170),
            )
            label.setFont(theme.font(16, bold=True))
            label.setZValue(19)
            # inside the bottom-left corner: the tools' own labels sit above their findings
            label.setPos(float(r.roi.x), float(r.roi.y + r.roi.h))
            box.addItem(label)
            labels.append(label)
        self.roi_curves[camera] = curve
        self.roi_labels[camera] = labels

    def _fit_to_screen(self) -> None:
        button_px = theme.button_height(self)
        self.close_button.setMinimumHeight(button_px)
        self.close_button.setMinimumWidth(button_px * 3)
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        available = screen.availableGeometry()
        w, h = fitted_size(available, (1500, 950))
        self.setMaximumSize(
            int(available.width() * SCREEN_SHARE), int(available.height() * SCREEN_SHARE)
        )
        self.resize(w, h)
