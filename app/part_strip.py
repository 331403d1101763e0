"""A strip of the last parts: thumbnail, verdict colour as a border, and the reason.

Each thumbnail is downscaled once, when its result arrives; the tiles are made once and reused,
the newest part on the left. A new part moves the oldest tile to the front and fills only that
one: the others keep their pictures and text, so a part costs one tile's update, not eight (a
full-rate line sends several parts a second, and the GUI thread must stay free for the lamp).
The verdict border is painted, not styled: a style sheet re-polishes the tile and its labels. While the pointer is over the strip it stands still (new parts wait,
counted in a "paused" mark), so the part under the pointer, its tooltip and a click on it are
always the same part. A click on a tile asks for that part's full record (``partClicked``).
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np
from PySide6.QtCore import QEvent, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QEnterEvent,
    QFontMetrics,
    QHideEvent,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from app import theme
from inspection.types import Inspection, Verdict

log = logging.getLogger(__name__)

STRIP_LENGTH = 8  # parts kept; as many tiles are shown as fit the strip's width
MIN_TILES = 3  # the screen shrinks its type rather than show fewer of the last parts
TILE_BORDER = 6  # the verdict colour around a tile (px)
TILE_RADIUS = 6  # its rounded corners (px)
# the caption a tile is made wide enough for; a longer part number is left out of a narrow
# tile's caption (the verdict stays, whole) rather than cut
WIDEST_CAPTION = f"#000 {Verdict.ERROR.value}"
# a tile's reason line holds about 17 characters (9.25 times its type size), so its two lines
# say what was found ("surface: defect found / at 2 spots")
REASON_LINE_EMS = 9.25
THUMB_HEIGHT = 120  # pixels of a stored thumbnail, and of a tile's picture on a 1080p screen
REASON_LINES = 2
# A touch screen leaves the pointer where the last touch was: the strip does not stay paused
# longer than this without the pointer moving.
HOVER_PAUSE_MS = 8000


def wrap_lines(text: str, metrics: QFontMetrics, width: int, max_lines: int) -> list[str]:
    """``text`` broken at spaces into at most ``max_lines`` lines of ``width`` pixels; the last
    line ends in "…" when the text does not fit. A word longer than a line is cut."""
    words = text.split()
    lines: list[str] = []
    current = ""
    while words and len(lines) < max_lines - 1:
        word = words[0]
        candidate = f"{current} {word}" if current else word
        if metrics.horizontalAdvance(candidate) <= width:
            current = candidate
            words.pop(0)
        elif current:
            lines.append(current)
            current = ""
        else:  # one word wider than the line
            n = len(word) - 1
            while n > 1 and metrics.horizontalAdvance(word[:n]) > width:
                n -= 1
            lines.append(word[:n])
            words[0] = word[n:]
    rest = " ".join([current, *words] if current else words)
    if rest:
        lines.append(metrics.elidedText(rest, Qt.TextElideMode.ElideRight, width))
    return lines


def thumbnail(image: np.ndarray, height: int = THUMB_HEIGHT) -> QImage:
    """A downscaled copy of a uint8 grey (H, W) or BGR (H, W, 3) image that owns its pixels."""
    h, w = image.shape[:2]
    scale = height / h if h else 1.0
    size = (max(round(w * scale), 1), max(round(h * scale), 1))
    # every n-th pixel first, keeping twice the thumbnail's size for the area average: a whole
    # 1.3 MP frame averaged took ~3 ms of the GUI thread per part, 0.2 ms this way
    step = max(1, h // (2 * height)) if height > 0 else 1
    small = cv2.resize(image[::step, ::step], size, interpolation=cv2.INTER_AREA)
    if small.ndim == 3:
        small = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
        fmt = QImage.Format.Format_RGB888
    else:
        fmt = QImage.Format.Format_Grayscale8
    small = np.ascontiguousarray(small)
    qimg = QImage(small.data, small.shape[1], small.shape[0], small.strides[0], fmt)
    return qimg.copy()  # detach from the numpy buffer, which goes away with this frame


@dataclass(frozen=True, slots=True)
class StripEntry:
    part_seq: int
    verdict: Verdict
    reason: str
    pixmap: QPixmap | None
    inspection: Inspection | None = None
    """The part itself, for its full record when the operator opens it."""


class _PartTile(QFrame):
    clicked = Signal(object)  # the Inspection of the part on this tile

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("partTile")
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.text = QLabel()
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.reason = QLabel()
        self.reason.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.reason.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._reason_text = ""
        layout = QVBoxLayout(self)
        inset = 4 + TILE_BORDER  # the labels sit inside the painted border
        layout.setContentsMargins(inset, inset, inset, inset)
        layout.setSpacing(2)
        layout.addWidget(self.image)
        layout.addWidget(self.text)
        layout.addWidget(self.reason)
        for widget in (self, self.image, self.text, self.reason):
            widget.setMouseTracking(True)  # moves reach the strip, which keeps its pause
        self.entry: StripEntry | None = None
        self._pixmap: QPixmap | None = None
        self._border = QColor(theme.PANEL)
        # the text colour is the same on every verdict: set once (a style sheet costs a re-polish)
        self.setStyleSheet(f"#partTile QLabel {{ color: {theme.TEXT}; }}")
        self.set_scale(1.0)
        self.show_entry(None)

    def narrowest(self) -> int:
        """The width below which the tile would cut its caption or squash its picture."""
        margins = self.layout().contentsMargins()
        picture = round(
            self.image.minimumHeight() * 4 / 3
        )  # a 4:3 thumbnail at the picture's height
        caption = self.text.fontMetrics().horizontalAdvance(WIDEST_CAPTION) + 4
        reason = round(self.reason.font().pixelSize() * REASON_LINE_EMS)
        return max(picture, caption, reason) + margins.left() + margins.right()

    def set_scale(self, scale: float) -> None:
        small = theme.text_scale(scale)
        self.image.setFixedHeight(max(round(THUMB_HEIGHT * scale), 40))
        self.text.setFont(theme.font(theme.scaled(theme.CAPTION_PX, small), bold=True))
        self.text.setFixedHeight(self.text.fontMetrics().height() + 2)
        self.reason.setFont(theme.font(theme.scaled(theme.STRIP_REASON_PX, small), bold=True))
        self.reason.setFixedHeight(self.reason.fontMetrics().lineSpacing() * REASON_LINES + 2)
        self._fit()
        self._caption()
        self._wrap_reason()

    @property
    def border_colour(self) -> QColor:
        """The colour of the border: the verdict's, or the panel's on an empty tile."""
        return QColor(self._border)

    def _set_border(self, colour: str) -> None:
        wanted = QColor(colour)
        if wanted != self._border:
            self._border = wanted
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(self._border, TILE_BORDER)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        half = TILE_BORDER / 2
        painter.drawRoundedRect(
            self.rect().toRectF().adjusted(half, half, -half, -half), TILE_RADIUS, TILE_RADIUS
        )
        painter.end()

    def show_entry(self, entry: StripEntry | None) -> None:
        self.entry = entry
        self._pixmap = entry.pixmap if entry is not None else None
        if entry is None:
            self.image.clear()
            self.text.setText("")
            self._reason_text = ""
            self.reason.setText("")
            self.setToolTip("")
            self.unsetCursor()
            self._set_border(theme.PANEL)
            return
        if entry.pixmap is not None:
            self._fit()
        else:
            self.image.setText("no image")
        colour = theme.VERDICT_BACKGROUND[entry.verdict]
        self._caption()
        self._reason_text = entry.reason if entry.verdict is not Verdict.PASS else ""
        self._wrap_reason()
        self.setToolTip(entry.reason)
        if entry.inspection is not None:
            self.setCursor(Qt.CursorShape.PointingHandCursor)
        else:
            self.unsetCursor()
        self._set_border(colour)

    def _fit(self) -> None:
        # a narrow window gets a smaller copy of the thumbnail rather than a cropped one
        pixmap = self._pixmap
        if pixmap is None:
            return
        width, height = self.image.width(), self.image.height()
        if width > 0 and height > 0 and (width < pixmap.width() or height < pixmap.height()):
            pixmap = pixmap.scaled(
                width,
                height,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        self.image.setPixmap(pixmap)

    def _caption(self) -> None:
        entry = self.entry
        if entry is None:
            return
        text = f"#{entry.part_seq + 1} {entry.verdict.value}"
        if self.text.fontMetrics().horizontalAdvance(text) > self.text.width() > 0:
            text = entry.verdict.value
        self.text.setText(text)

    def _wrap_reason(self) -> None:
        # two lines at a readable size, cut to the tile's width; the full reason is the tooltip
        width = max(self.reason.width() - 4, 20)
        lines = wrap_lines(self._reason_text, self.reason.fontMetrics(), width, REASON_LINES)
        self.reason.setText("\n".join(lines))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()
        self._caption()
        self._wrap_reason()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        inside = self.rect().contains(event.position().toPoint())
        entry = self.entry
        if event.button() is Qt.MouseButton.LeftButton and inside and entry is not None:
            if entry.inspection is not None:
                self.clicked.emit(entry.inspection)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        # accepted, so the release comes here too
        event.accept()


class PartStrip(QWidget):
    """The last parts, newest first, as many as fit its width (at least ``MIN_TILES``, at most
    ``STRIP_LENGTH``); still while the pointer is over it.

    The strip shares its column with the lamp and the counters so that the live view can be
    as tall as the screen; on a narrow column it shows fewer, readable tiles rather than eight
    whose captions and reasons are cut.
    """

    partClicked = Signal(object)  # the Inspection of the tile the operator touched

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: deque[StripEntry] = deque(maxlen=STRIP_LENGTH)
        """The last parts, newest first (what the tiles show unless the strip is paused)."""
        self.waiting = 0
        """Parts that arrived while the strip was paused."""
        self._paused = False
        self._tiles = [_PartTile() for _ in range(STRIP_LENGTH)]
        """In the order they stand, newest part first."""
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        for tile in self._tiles:
            layout.addWidget(tile, 1)
            tile.clicked.connect(self.partClicked)
        self.setMouseTracking(True)
        self.paused_mark = QLabel(self)
        self.paused_mark.setObjectName("stripPaused")
        self.paused_mark.setStyleSheet(
            f"#stripPaused {{ background-color: {theme.WARNING_BACKGROUND}; color: #000000;"
            " border-radius: 4px; padding: 2px 8px; }"
        )
        self.paused_mark.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.paused_mark.hide()
        self._pause_timer = QTimer(self)
        self._pause_timer.setSingleShot(True)
        self._pause_timer.setInterval(HOVER_PAUSE_MS)
        self._pause_timer.timeout.connect(self.resume)
        self._tile_width = 1
        self._shown = STRIP_LENGTH
        self.set_scale(1.0)

    @property
    def paused(self) -> bool:
        return self._paused

    def tiles(self) -> list[_PartTile]:
        return list(self._tiles)

    def shown_tiles(self) -> list[_PartTile]:
        """The tiles the strip's width has room for, newest first."""
        return self._tiles[: self._shown]

    def tiles_for(self, width: int) -> int:
        """How many tiles fit ``width`` pixels, each at least ``narrowest`` wide."""
        spacing = self.layout().spacing()
        fit = (width + spacing) // (self._tile_width + spacing)
        return int(min(max(fit, MIN_TILES), STRIP_LENGTH))

    def set_scale(self, scale: float) -> None:
        """Type and picture sizes for a screen ``scale`` times a 1080p one."""
        for tile in self._tiles:
            tile.set_scale(scale)
        self._tile_width = self._tiles[0].narrowest()
        spacing = self.layout().spacing()
        # the screen fits its type so that at least MIN_TILES whole tiles fit
        self.setMinimumWidth(MIN_TILES * self._tile_width + (MIN_TILES - 1) * spacing)
        small = theme.text_scale(scale)
        self.paused_mark.setFont(theme.font(theme.scaled(theme.CAPTION_PX, small), bold=True))
        self._show_tiles()
        self._place_mark()

    def add(self, inspection: Inspection) -> None:
        pixmap = None
        if inspection.frames:
            try:
                pixmap = QPixmap.fromImage(thumbnail(inspection.frames[0].image))
            except cv2.error:
                log.exception("part %d: no thumbnail", inspection.part_seq)
        self.entries.appendleft(
            StripEntry(
                inspection.part_seq, inspection.verdict, inspection.reason, pixmap, inspection
            )
        )
        if self._paused:
            self.waiting += 1
            self._show_mark()
        else:
            self._shift_in()

    def clear(self) -> None:
        self.entries.clear()
        self.waiting = 0
        self._show_mark()
        self._redraw()

    # ---- pausing under the pointer ------------------------------------------------------------

    def pause(self) -> None:
        """Hold the tiles still (the pointer is over them) for up to ``HOVER_PAUSE_MS``."""
        self._paused = True
        self._pause_timer.start()

    def resume(self) -> None:
        """Show the parts that came meanwhile."""
        if not self._paused:
            return
        self._paused = False
        self._pause_timer.stop()
        if self.waiting:
            QToolTip.hideText()  # a tooltip must not stay up over a tile that changes
        self.waiting = 0
        self._show_mark()
        self._redraw()

    def enterEvent(self, event: QEnterEvent) -> None:
        super().enterEvent(event)
        self.pause()

    def leaveEvent(self, event: QEvent) -> None:
        super().leaveEvent(event)
        self.resume()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._paused:
            self._pause_timer.start()  # still looking: keep still a while longer
        super().mouseMoveEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self.resume()
        super().hideEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._show_tiles()
        self._place_mark()

    def _show_tiles(self) -> None:
        # the hidden tiles keep their parts: a wider window shows them again
        shown = self.tiles_for(self.width())
        if shown == self._shown:
            return
        self._shown = shown
        for i, tile in enumerate(self._tiles):
            tile.setVisible(i < shown)
        self._redraw()  # tiles shown again show the parts of their places now

    def _show_mark(self) -> None:
        if self._paused and self.waiting:
            self.paused_mark.setText(f"paused — {self.waiting} new")
            self.paused_mark.adjustSize()
            self._place_mark()
            self.paused_mark.raise_()
            self.paused_mark.show()
        else:
            self.paused_mark.hide()

    def _place_mark(self) -> None:
        mark = self.paused_mark
        mark.adjustSize()
        mark.move(QPoint(max(self.width() - mark.width() - 8, 0), 8))

    def _shift_in(self) -> None:
        """The newest entry onto the oldest shown tile, moved to the front; the rest stay as
        drawn. The tiles the width hides are left alone (a wider strip redraws them)."""
        tile = self._tiles.pop(self._shown - 1)
        self._tiles.insert(0, tile)
        layout = self.layout()
        assert isinstance(layout, QHBoxLayout)
        layout.removeWidget(tile)
        layout.insertWidget(0, tile, 1)
        tile.show_entry(self.entries[0])

    def _redraw(self) -> None:
        for i, tile in enumerate(self._tiles):
            tile.show_entry(self.entries[i] if i < len(self.entries) else None)
