"""Live camera view: the newest frame pulled on a timer, with ROI and result overlays.

One ImageItem is reused for every frame (row-major, contiguous uint8, fixed levels 0..255). The
overlays are a fixed set of items made once: one curve for all recipe ROIs, one for good and one
for bad result polygons (NaN-separated), and a small pool of text labels; results only call
``setData`` / ``setText`` on them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

import cv2
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app import theme
from inspection.recipe import Recipe
from inspection.types import Frame, Inspection, Overlay

log = logging.getLogger(__name__)

FrameSource = Callable[[], "Frame | None"]

MAX_FPS = 30.0
MAX_LABELS = 8
# After a part's result arrives, its own frame (with overlays that match it) stays up this long
# before newer live frames replace it; otherwise overlays would sit on the wrong part.
RESULT_HOLD_S = 0.4


def display_image(image: np.ndarray) -> np.ndarray:
    """A frame image for the ImageItem: C-contiguous uint8, grey (H, W) or RGB (H, W, 3)."""
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)  # a fresh contiguous array
    return np.ascontiguousarray(image)


def _polyline(polygons: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Closed polygons joined into one x, y pair, separated by NaN for ``connect='finite'``."""
    parts: list[np.ndarray] = []
    for pts in polygons:
        p = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
        if len(p) == 0:
            continue
        parts.append(np.vstack([p, p[:1], [[np.nan, np.nan]]]))
    if not parts:
        return np.empty(0), np.empty(0)
    xy = np.vstack(parts)
    return xy[:, 0], xy[:, 1]


def _rect(x: float, y: float, w: float, h: float) -> np.ndarray:
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], dtype=np.float64)


class LiveView(QWidget):
    """The newest frame of one camera, refreshed at most ``MAX_FPS`` times a second."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._source: FrameSource | None = None
        self._camera: str | None = None
        self._shown: tuple[str, int] | None = None  # (camera, seq) now in the ImageItem
        self._shape: tuple[int, int] | None = None
        self._hold_until = 0.0
        self._result_drawn = False

        self._plot = pg.GraphicsLayoutWidget()
        self._plot.setBackground(theme.BACKGROUND)
        self._plot.ci.setContentsMargins(0, 0, 0, 0)
        self._box: pg.ViewBox = self._plot.addViewBox()
        self._box.setAspectLocked(True)
        self._box.invertY(True)  # image rows run downwards
        self._box.setMouseEnabled(False, False)  # a glove must not pan the view away
        self._box.setMenuEnabled(False)

        self.image_item = pg.ImageItem(axisOrder="row-major", autoDownsample=True)
        self._box.addItem(self.image_item)
        self._roi_curve = self._curve(theme.ROI_COLOUR, Qt.PenStyle.DashLine)
        self._ok_curve = self._curve(theme.OK_COLOUR, Qt.PenStyle.SolidLine)
        self._bad_curve = self._curve(theme.BAD_COLOUR, Qt.PenStyle.SolidLine)
        self._labels: list[pg.TextItem] = []
        for _ in range(MAX_LABELS):
            label = pg.TextItem(anchor=(0, 1), fill=pg.mkBrush(0, 0, 0, 170))
            label.setFont(theme.font(18, bold=True))
            label.setZValue(20)
            label.hide()
            self._box.addItem(label)
            self._labels.append(label)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._plot)

        self._timer = QTimer(self)
        self._timer.setInterval(round(1000 / MAX_FPS))
        self._timer.timeout.connect(self.refresh)

    def _curve(self, colour: object, style: Qt.PenStyle) -> pg.PlotCurveItem:
        curve = pg.PlotCurveItem(pen=pg.mkPen(colour, width=3, style=style), connect="finite")
        curve.setZValue(10)
        self._box.addItem(curve)
        return curve

    # ---- what the screen calls ---------------------------------------------------------------

    def overlay_items(self) -> list[object]:
        """Every overlay item of the view (a fixed set, made once)."""
        return [self._roi_curve, self._ok_curve, self._bad_curve, *self._labels]

    def set_source(self, source: FrameSource | None, recipe: Recipe | None = None) -> None:
        """Pull frames from ``source`` (e.g. ``station.newest_frame``); draw the recipe's ROIs."""
        self._source = source
        self._shown = None
        self._camera = recipe.cameras[0].id if recipe is not None else None
        self._show_rois(recipe)
        self._result_drawn = True  # force a clear: the old recipe's result may still be drawn
        self._clear_result()
        if source is not None and self.isVisible():
            self._timer.start()
        elif source is None:
            self._timer.stop()

    def show_result(self, inspection: Inspection) -> None:
        """Draw this part's frame with the polygons and labels of its tools' findings."""
        frame = next(
            (f for f in inspection.frames if self._camera in (None, f.camera)),
            None,
        )
        if frame is None:
            self._clear_result()
            return
        self._show_frame(frame)
        overlays = [o for r in inspection.tool_results for o in r.overlays]
        self._ok_curve.setData(*_polyline([o.points for o in overlays if o.ok]), connect="finite")
        self._bad_curve.setData(
            *_polyline([o.points for o in overlays if not o.ok]), connect="finite"
        )
        self._show_labels([o for o in overlays if o.label])
        self._result_drawn = True
        self._hold_until = time.monotonic() + RESULT_HOLD_S

    def refresh(self) -> None:
        """Timer tick: take the newest frame and show it unless it is the one already shown."""
        if self._source is None or time.monotonic() < self._hold_until:
            return
        frame = self._source()
        if frame is None or (frame.camera, frame.seq) == self._shown:
            return
        self._show_frame(frame)
        self._clear_result()  # the last result's polygons belong to an older frame

    # ---- internals -----------------------------------------------------------------------------

    def _show_frame(self, frame: Frame) -> None:
        image = display_image(frame.image)
        self.image_item.setImage(image, autoLevels=False, levels=(0, 255))
        self._shown = (frame.camera, frame.seq)
        shape = (image.shape[0], image.shape[1])
        if shape != self._shape:
            self._shape = shape
            self._box.setRange(xRange=(0, shape[1]), yRange=(0, shape[0]), padding=0.0)

    def _show_rois(self, recipe: Recipe | None) -> None:
        rects = []
        if recipe is not None:
            for tool in recipe.tools:
                if tool.roi is not None and recipe.camera_for(tool) == self._camera:
                    rects.append(_rect(tool.roi.x, tool.roi.y, tool.roi.w, tool.roi.h))
        self._roi_curve.setData(*_polyline(rects), connect="finite")

    def _show_labels(self, overlays: Sequence[Overlay]) -> None:
        for i, label in enumerate(self._labels):
            if i < len(overlays):
                o = overlays[i]
                p = np.asarray(o.points, dtype=np.float64).reshape(-1, 2)
                colour = theme.OK_COLOUR if o.ok else theme.BAD_COLOUR
                label.setText(o.label, color=colour)
                label.setPos(float(p[:, 0].min()), float(p[:, 1].min()))
                label.show()
            else:
                label.hide()
        if len(overlays) > len(self._labels):
            log.debug("%d overlay labels, showing the first %d", len(overlays), len(self._labels))

    def _clear_result(self) -> None:
        if not self._result_drawn:
            return
        self._result_drawn = False
        empty = np.empty(0)
        self._ok_curve.setData(empty, empty)
        self._bad_curve.setData(empty, empty)
        for label in self._labels:
            label.hide()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._source is not None:
            self._timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        # nobody sees a hidden view: stop pulling frames
        self._timer.stop()
        super().hideEvent(event)
