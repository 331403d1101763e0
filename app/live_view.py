"""Live camera view: the newest frame pulled on a timer, with ROI and result overlays.

One ImageItem is reused for every frame (row-major, contiguous uint8 shown as it is: no levels,
which would make pyqtgraph draw an indexed image, converted again at every paint). A frame larger
than the view is scaled down to the view's pixels once, as it arrives (OpenCV, off the GIL),
rather than by Qt at every paint of the view (each overlay change repaints the image under it);
the item keeps the frame's own pixel coordinates, so overlays and ROIs are placed as before. The
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
from PySide6.QtCore import QRect, QRectF, Qt, QTimer
from PySide6.QtGui import QFontMetrics, QHideEvent, QResizeEvent, QShowEvent
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
# ... but a stream (new frames at least STREAM_FPS a second) is held only briefly: a conveyor
# at a part a second would otherwise stand still 40 % of the time (the live view keeps >= 25 fps)
LIVE_RESULT_HOLD_S = 0.1
STREAM_FPS = 10.0
# "NO SIGNAL — ..." over a lost camera's picture: this big, smaller on a narrow view so that it
# is never cut (it takes at most this share of the view's width)
NO_SIGNAL_PX = 36
NO_SIGNAL_MIN_PX = 16
NO_SIGNAL_WIDTH_SHARE = 0.9


def display_image(image: np.ndarray) -> np.ndarray:
    """A frame image for the ImageItem: C-contiguous uint8, grey (H, W) or RGB (H, W, 3)."""
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)  # a fresh contiguous array
    return np.ascontiguousarray(image)


def fit_to_view(image: np.ndarray, width: float, height: float) -> np.ndarray:
    """``image`` scaled down (aspect kept) to fit ``width`` x ``height`` device pixels, or itself
    when it fits already: what the screen would show of it anyway."""
    h, w = image.shape[:2]
    scale = min(width / w, height / h) if w and h and width > 0 and height > 0 else 1.0
    if scale >= 1.0:
        return image
    size = (max(round(w * scale), 1), max(round(h * scale), 1))
    k = int(1.0 / scale)
    if k >= 2:
        # averaged by a whole number first, which keeps a thin scratch visible and is OpenCV's
        # fast path (0.07 ms for 1.3 MP; a fractional area average takes 3 ms). Up to k - 1
        # edge pixels are left out: under one screen pixel once drawn.
        hk, wk = h // k * k, w // k * k
        image = cv2.resize(image[:hk, :wk], (wk // k, hk // k), interpolation=cv2.INTER_AREA)
    if (image.shape[1], image.shape[0]) != size:
        image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)  # less than 2x left
    return image


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


Box = tuple[float, float, float, float]
"""x0, y0, x1, y1 in image pixels (y downwards)."""

LABEL_GAP = 4.0  # image pixels between a region and its read-out


def bounding_box(points: np.ndarray) -> Box:
    """The axis-aligned box around an (N, 2) array of x, y points."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return (float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max()))


def overlap_area(a: Box, b: Box) -> float:
    """Area two boxes share (0 when they only touch or are apart)."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def place_labels(
    regions: Sequence[Box],
    sizes: Sequence[tuple[float, float]],
    image_size: tuple[float, float],
    obstacles: Sequence[Box] = (),
    gap: float = LABEL_GAP,
) -> list[Box]:
    """Where to draw the read-out of each region: beside it, never on it, so the text (or code)
    it read stays visible. ``sizes``: each read-out's (w, h) in image pixels; ``image_size``:
    (width, height). Tries right, below, left and above (stepping along the side to get clear
    of read-outs placed before), inside the image, and takes the place that covers the least of
    the other read-outs, the other regions and ``obstacles`` (e.g. other overlay polygons)."""
    width, height = image_size
    placed: list[Box] = []
    for region, (w, h) in zip(regions, sizes, strict=True):
        x0, y0, x1, y1 = region
        corners: list[tuple[float, float]] = []
        for k in range(4):  # along each side, one read-out height (or width) at a time
            dy, dx = k * (h + gap), k * (w + gap)
            corners += [
                (x1 + gap, y0 + dy),  # right
                (x0 + dx, y1 + gap),  # below
                (x0 - gap - w, y0 + dy),  # left
                (x0 + dx, y0 - gap - h),  # above
            ]
        best: Box | None = None
        best_cost = float("inf")
        others = [r for r in regions if r is not region] + list(obstacles)
        for cx, cy in corners:
            # kept inside the image; a side that has no room pushes the box back over the region,
            # which the own-region test below then refuses
            cx = min(max(cx, 0.0), max(width - w, 0.0))
            cy = min(max(cy, 0.0), max(height - h, 0.0))
            box = (cx, cy, cx + w, cy + h)
            if overlap_area(box, region) > 0:
                continue
            cost = 10 * sum(overlap_area(box, p) for p in placed) + sum(
                overlap_area(box, o) for o in others
            )
            if cost < best_cost:
                best, best_cost = box, cost
                if cost == 0:
                    break
        if best is None:  # the region fills the image: the top-left corner, on it after all
            best = (0.0, 0.0, w, h)
        placed.append(best)
    return placed


def _rect(x: float, y: float, w: float, h: float) -> np.ndarray:
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], dtype=np.float64)


class LiveView(QWidget):
    """The newest frame of one camera, refreshed at most ``MAX_FPS`` times a second."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._source: FrameSource | None = None
        self._frame_image: np.ndarray | None = None  # the shown frame at full size
        self._camera: str | None = None
        self._shown: tuple[str, int] | None = None  # (camera, seq) now in the ImageItem
        self._shape: tuple[int, int] | None = None
        self._hold_until = 0.0
        self._last_new_at: float | None = None
        self._frame_gap_s: float | None = None  # smoothed time between new frames
        self._result_drawn = False
        self.frames_shown = 0
        """New frames put on screen so far (``lineside bench --gui`` reads it as fps): a part's
        frame shown again with its result, after newer live frames, is not counted twice."""
        self._newest_seq = -1

        self._plot = pg.GraphicsLayoutWidget()
        self._plot.setBackground(theme.BACKGROUND)
        self._plot.ci.setContentsMargins(0, 0, 0, 0)
        self._box: pg.ViewBox = self._plot.addViewBox()
        self._box.setAspectLocked(True)
        self._box.invertY(True)  # image rows run downwards
        self._box.setMouseEnabled(False, False)  # a glove must not pan the view away
        self._box.setMenuEnabled(False)

        self.image_item = pg.ImageItem(axisOrder="row-major", autoDownsample=False)
        self._box.addItem(self.image_item)
        self._roi_curve = self._curve(theme.ROI_COLOUR, Qt.PenStyle.DashLine)
        self._ok_curve = self._curve(theme.OK_COLOUR, Qt.PenStyle.SolidLine)
        self._bad_curve = self._curve(theme.BAD_COLOUR, Qt.PenStyle.SolidLine)
        self._labels: list[pg.TextItem] = []
        self.label_boxes: list[Box] = []
        """Where the read-outs of the last result are, in image pixels (``place_labels``)."""
        for _ in range(MAX_LABELS):
            label = pg.TextItem(anchor=(0, 0), fill=pg.mkBrush(0, 0, 0, 190))
            label.setFont(theme.font(18, bold=True))
            label.setZValue(20)
            label.hide()
            self._box.addItem(label)
            self._labels.append(label)
        # "no signal" over a lost camera's last frame (which is dimmed): made once, shown or hidden
        self.no_signal_item = pg.TextItem(
            anchor=(0.5, 0.5),
            fill=pg.mkBrush(0, 0, 0, 215),
            border=pg.mkPen(theme.BAD_COLOUR, width=4),
        )
        self.no_signal_item.setFont(theme.font(NO_SIGNAL_PX, bold=True))
        self.no_signal_item.setZValue(30)
        self.no_signal_item.hide()
        self._box.addItem(self.no_signal_item, ignoreBounds=True)
        self._box.sigRangeChanged.connect(self._on_range_changed)
        self.signal_ok = True
        self.signal_text = ""

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._plot)

        self._timer = QTimer(self)
        self._timer.setInterval(round(1000 / MAX_FPS))
        # a child timer, so it dies with the view (a deleted view must not be re-fitted)
        self._refit_timer = QTimer(self)
        self._refit_timer.setSingleShot(True)
        self._refit_timer.setInterval(0)
        self._refit_timer.timeout.connect(self._refit)
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

    @property
    def camera(self) -> str | None:
        """The camera this view shows (the recipe's first); None without a recipe."""
        return self._camera

    def set_signal(self, camera_ok: bool, message: str = "") -> None:
        """Whether the shown camera delivers. Not: its last frame stays, dimmed, under
        ``message`` (default "NO SIGNAL"), so nobody takes an old picture for the line now."""
        if camera_ok:
            if not self.signal_ok:
                self.no_signal_item.hide()
                self.image_item.setOpacity(1.0)
            self.signal_ok = True
            self.signal_text = ""
            return
        text = message or "NO SIGNAL"
        if text != self.signal_text:
            self.no_signal_item.setText(text, color=theme.TEXT)
            self.signal_text = text
            self._fit_no_signal()
        self._centre_no_signal()
        if self.signal_ok:
            self.no_signal_item.show()
            self.image_item.setOpacity(0.35)
        self.signal_ok = False

    def set_source(self, source: FrameSource | None, recipe: Recipe | None = None) -> None:
        """Pull frames from ``source`` (e.g. ``station.newest_frame``); draw the recipe's ROIs."""
        self._source = source
        self._shown = None
        self._newest_seq = -1  # a new station counts its frames from 0 again
        self._last_new_at = self._frame_gap_s = None
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
        self._show_labels([o for o in overlays if o.label], overlays)
        self._result_drawn = True
        streaming = self._frame_gap_s is not None and self._frame_gap_s * STREAM_FPS < 1.0
        self._hold_until = time.monotonic() + (LIVE_RESULT_HOLD_S if streaming else RESULT_HOLD_S)

    def refresh(self) -> None:
        """Timer tick: take the newest frame and show it unless it is the one already shown."""
        if self._source is None or time.monotonic() < self._hold_until:
            return
        frame = self._source()
        if frame is None or (frame.camera, frame.seq) == self._shown:
            return
        now = time.monotonic()
        if self._last_new_at is not None:  # how fast new frames come: a stream, or parts
            gap = now - self._last_new_at
            self._frame_gap_s = (
                gap if self._frame_gap_s is None else 0.8 * self._frame_gap_s + 0.2 * gap
            )
        self._last_new_at = now
        self._show_frame(frame)
        self._clear_result()  # the last result's polygons belong to an older frame

    # ---- internals -----------------------------------------------------------------------------

    @property
    def frame_shape(self) -> tuple[int, int] | None:
        """(rows, columns) of the frame on screen, at its own size (the item may hold a copy
        scaled to the view); None before the first frame."""
        return self._shape

    def _show_frame(self, frame: Frame) -> None:
        image = display_image(frame.image)
        self._frame_image = image
        self._put_image(image)
        if frame.seq > self._newest_seq:
            self.frames_shown += 1
            self._newest_seq = frame.seq
        self._shown = (frame.camera, frame.seq)
        shape = (image.shape[0], image.shape[1])
        if shape != self._shape:
            self._shape = shape
            self._box.setRange(xRange=(0, shape[1]), yRange=(0, shape[0]), padding=0.0)

    def _put_image(self, image: np.ndarray) -> None:
        """The frame, scaled to the view's device pixels, in the frame's own coordinates."""
        ratio = self.devicePixelRatioF()
        size = self._box.size()
        shown = fit_to_view(image, size.width() * ratio, size.height() * ratio)
        self.image_item.setImage(shown, autoLevels=False)
        self.image_item.setRect(QRectF(0.0, 0.0, float(image.shape[1]), float(image.shape[0])))

    def _show_rois(self, recipe: Recipe | None) -> None:
        rects = []
        if recipe is not None:
            for tool in recipe.tools:
                if tool.roi is not None and recipe.camera_for(tool) == self._camera:
                    rects.append(_rect(tool.roi.x, tool.roi.y, tool.roi.w, tool.roi.h))
        self._roi_curve.setData(*_polyline(rects), connect="finite")

    def _show_labels(self, overlays: Sequence[Overlay], everything: Sequence[Overlay]) -> None:
        """Read-outs beside their regions (``place_labels``), clear of ``everything`` drawn."""
        shown = list(overlays[: len(self._labels)])
        sizes = []
        # a TextItem keeps its size in screen pixels: its size in image pixels depends on zoom
        px_w, px_h = self._box.viewPixelSize()
        if not (px_w > 0 and px_h > 0):
            px_w = px_h = 1.0
        for label, o in zip(self._labels, shown, strict=False):
            colour = theme.OK_COLOUR if o.ok else theme.BAD_COLOUR
            label.setText(o.label, color=colour)
            rect = label.textItem.boundingRect()
            sizes.append((rect.width() * px_w, rect.height() * px_h))
        regions = [bounding_box(o.points) for o in shown]
        labelled = {id(o) for o in shown}
        obstacles = [bounding_box(o.points) for o in everything if id(o) not in labelled]
        height, width = self._shape or (0, 0)
        boxes = place_labels(regions, sizes, (float(width), float(height)), obstacles)
        self.label_boxes = boxes
        for i, label in enumerate(self._labels):
            if i < len(shown):
                label.setPos(boxes[i][0], boxes[i][1])
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

    def no_signal_rect(self) -> QRect:
        """Where the "no signal" text is drawn, in the view's pixels (for layout checks)."""
        text = self.no_signal_item.textItem
        rect = self._plot.mapFromScene(text.mapToScene(text.boundingRect())).boundingRect()
        return rect.translated(self._plot.pos())

    def _centre_no_signal(self) -> None:
        # in the middle of what the view shows: the image, or (no frame yet) whatever range the
        # view's size gives it, which changes with every resize
        (x0, x1), (y0, y1) = self._box.viewRange()
        self.no_signal_item.setPos((x0 + x1) / 2, (y0 + y1) / 2)

    def _fit_no_signal(self) -> None:
        """The "no signal" text as big as fits the view's width (never cut at its ends)."""
        width = self.width() * NO_SIGNAL_WIDTH_SHARE
        px = NO_SIGNAL_PX
        while px > NO_SIGNAL_MIN_PX:
            font = theme.font(px, bold=True)
            if QFontMetrics(font).horizontalAdvance(self.signal_text) <= width:
                break
            px -= 2
        self.no_signal_item.setFont(theme.font(px, bold=True))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.signal_text:
            self._fit_no_signal()
        if self._frame_image is not None:
            # a frame that stays (stopped line, held result) is re-fitted once the layout has
            # sized the plot, rather than left at the old size's sharpness
            self._refit_timer.start()

    def _refit(self) -> None:
        if self._frame_image is not None:
            self._put_image(self._frame_image)

    def _on_range_changed(self, *_: object) -> None:
        if self.signal_text:
            self._centre_no_signal()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._source is not None:
            self._timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        # nobody sees a hidden view: stop pulling frames
        self._timer.stop()
        super().hideEvent(event)
