"""An image with rectangles to drag and resize, kept in whole pixels inside the image.

A tool's ROI on a camera frame, a label's field regions on its taught reference: each rectangle
is a pyqtgraph ``RectROI`` with a handle on every corner and side. After each move it is snapped
to whole pixels and clipped to the image (a moved rectangle is pushed back inside whole, a
resized one loses what reaches outside), so what the recipe gets is what the tool will cut.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from app import theme
from app.live_view import display_image

log = logging.getLogger(__name__)

# Handles on each corner and side: (where on the rectangle, the point it scales about).
_HANDLES = (
    ((0, 0), (1, 1)),
    ((1, 0), (0, 1)),
    ((0, 1), (1, 0)),
    ((0.5, 0), (0.5, 1)),
    ((0.5, 1), (0.5, 0)),
    ((0, 0.5), (1, 0.5)),
    ((1, 0.5), (0, 0.5)),
)  # RectROI brings (1, 1) about (0, 0) itself


@dataclass(frozen=True, slots=True, kw_only=True)
class Rect:
    """A rectangle in image pixels: x right, y down, from the top-left pixel."""

    x: int
    y: int
    w: int
    h: int

    def as_settings(self) -> dict[str, int]:
        """As a recipe's region: ``{"x": .., "y": .., "w": .., "h": ..}``."""
        return {"x": self.x, "y": self.y, "w": self.w, "h": self.h}


def snapped(
    x: float, y: float, w: float, h: float, size: tuple[int, int] | None, moved_only: bool
) -> Rect:
    """(x, y, w, h) in whole pixels inside an image of ``size`` (w, h; None: no limit).

    ``moved_only``: the rectangle kept its size (it was dragged, not resized), so it is pushed
    back inside whole rather than cut at the edge.
    """
    if w < 0:
        x, w = x + w, -w
    if h < 0:
        y, h = y + h, -h
    x0, y0 = round(x), round(y)
    x1, y1 = round(x + w), round(y + h)
    if size is None:
        return Rect(x=max(x0, 0), y=max(y0, 0), w=max(x1 - x0, 1), h=max(y1 - y0, 1))
    width, height = size
    if moved_only:
        rw, rh = min(max(x1 - x0, 1), width), min(max(y1 - y0, 1), height)
        x0, y0 = min(max(x0, 0), width - rw), min(max(y0, 0), height - rh)
        return Rect(x=x0, y=y0, w=rw, h=rh)
    x0, x1 = min(max(x0, 0), width - 1), min(max(x1, 1), width)
    y0, y1 = min(max(y0, 0), height - 1), min(max(y1, 1), height)
    return Rect(x=x0, y=y0, w=max(x1 - x0, 1), h=max(y1 - y0, 1))


class RegionView(pg.GraphicsLayoutWidget):
    """One image and named rectangles on it; ``regionChanged(name)`` after each move or resize."""

    regionChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground(theme.BACKGROUND)
        self.box: pg.ViewBox = self.addViewBox()
        self.box.setAspectLocked(True)
        self.box.invertY(True)
        self.box.setMenuEnabled(False)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.box.addItem(self.image_item)
        self.rois: dict[str, pg.RectROI] = {}
        self._labels: dict[str, pg.TextItem] = {}
        self._rects: dict[str, Rect] = {}
        self._adjusting = False

    @property
    def image_size(self) -> tuple[int, int] | None:
        """(width, height) of the image shown, None before one is."""
        image = self.image_item.image
        return None if image is None else (int(image.shape[1]), int(image.shape[0]))

    def show_image(self, image: np.ndarray) -> None:
        """Show ``image`` (uint8 grey (H, W) or BGR (H, W, 3)); the view fits a new size."""
        old = self.image_size
        self.image_item.setImage(display_image(image), autoLevels=False, levels=(0, 255))
        if self.image_size != old:
            w, h = self.image_size or (1, 1)
            self.box.setRange(xRange=(0, w), yRange=(0, h), padding=0.02)

    def clear_image(self) -> None:
        self.image_item.clear()

    def set_rect(
        self, name: str, rect: Rect | None, *, colour: QColor | str, label: str = ""
    ) -> None:
        """Show ``rect`` as the movable rectangle ``name`` (None: remove it)."""
        if rect is None:
            self.remove_rect(name)
            return
        roi = self.rois.get(name)
        if roi is None:
            roi = pg.RectROI(
                [rect.x, rect.y],
                [rect.w, rect.h],
                pen=pg.mkPen(colour, width=2),
                hoverPen=pg.mkPen(colour, width=3),
                handlePen=pg.mkPen(colour, width=2),
                snapSize=1.0,
                translateSnap=True,
                scaleSnap=True,
                rotatable=False,
                removable=False,
            )
            for pos, centre in _HANDLES:
                roi.addScaleHandle(pos, centre)
            roi.setZValue(10)
            self.box.addItem(roi)
            roi.sigRegionChanged.connect(lambda _roi, n=name: self._on_moved(n))
            text = pg.TextItem(label or name, color=colour, anchor=(0, 1))
            text.setZValue(11)
            self.box.addItem(text)
            self.rois[name], self._labels[name] = roi, text
        self._rects[name] = rect
        self._place(name, rect)

    def remove_rect(self, name: str) -> None:
        roi, text = self.rois.pop(name, None), self._labels.pop(name, None)
        self._rects.pop(name, None)
        for item in (roi, text):
            if item is not None:
                self.box.removeItem(item)

    def remove_all(self) -> None:
        for name in list(self.rois):
            self.remove_rect(name)

    def rect(self, name: str) -> Rect | None:
        """The rectangle ``name`` as the recipe gets it (whole pixels, inside the image)."""
        return self._rects.get(name)

    def _place(self, name: str, rect: Rect) -> None:
        roi = self.rois[name]
        self._adjusting = True
        try:
            roi.setPos((rect.x, rect.y), update=False)
            roi.setSize((rect.w, rect.h), update=False)
            roi.stateChanged(finish=False)
        finally:
            self._adjusting = False
        self._labels[name].setPos(rect.x, rect.y)

    def _on_moved(self, name: str) -> None:
        if self._adjusting or name not in self.rois:
            return
        roi, before = self.rois[name], self._rects.get(name)
        (x, y), (w, h) = roi.pos(), roi.size()
        moved_only = before is not None and (round(w), round(h)) == (before.w, before.h)
        rect = snapped(x, y, w, h, self.image_size, moved_only)
        if (x, y, w, h) != (rect.x, rect.y, rect.w, rect.h):
            self._place(name, rect)  # the drag carries on from the snapped place
        else:
            self._labels[name].setPos(rect.x, rect.y)
        if rect != before:
            self._rects[name] = rect
            self.regionChanged.emit(name)
