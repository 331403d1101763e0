"""A strip of the last parts: thumbnail, verdict colour as a border, and the reason.

Each thumbnail is downscaled once, when its result arrives; the tiles are made once and reused,
the newest part on the left.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from app import theme
from inspection.types import Inspection, Verdict

log = logging.getLogger(__name__)

STRIP_LENGTH = 8
THUMB_HEIGHT = 120


def thumbnail(image: np.ndarray, height: int = THUMB_HEIGHT) -> QImage:
    """A downscaled copy of a uint8 grey (H, W) or BGR (H, W, 3) image that owns its pixels."""
    h, w = image.shape[:2]
    scale = height / h if h else 1.0
    size = (max(round(w * scale), 1), max(round(h * scale), 1))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
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


class _PartTile(QFrame):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("partTile")
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setFixedHeight(THUMB_HEIGHT)
        self.image.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.text = QLabel()
        self.text.setFont(theme.font(theme.CAPTION_PX, bold=True))
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.reason = QLabel()
        self.reason.setFont(theme.font(theme.STATUS_PX - 2, bold=True))
        self.reason.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.reason.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.reason.setFixedHeight(self.reason.fontMetrics().lineSpacing() + 2)
        self._reason_text = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.image)
        layout.addWidget(self.text)
        layout.addWidget(self.reason)
        self._pixmap: QPixmap | None = None
        self._style = ""
        self.show_entry(None)

    def _restyle(self, style: str) -> None:
        # re-polishing is the costly part of a tile update; skip it when the colour is unchanged
        if style != self._style:
            self._style = style
            self.setStyleSheet(style)

    def show_entry(self, entry: StripEntry | None) -> None:
        self._pixmap = entry.pixmap if entry is not None else None
        if entry is None:
            self.image.clear()
            self.text.setText("")
            self._reason_text = ""
            self.reason.setText("")
            self._restyle(f"#partTile {{ border: 6px solid {theme.PANEL}; }}")
            return
        if entry.pixmap is not None:
            self._fit()
        else:
            self.image.setText("no image")
        colour = theme.VERDICT_BACKGROUND[entry.verdict]
        self.text.setText(f"#{entry.part_seq + 1} {entry.verdict.value}")
        self._reason_text = entry.reason if entry.verdict is not Verdict.PASS else ""
        self._elide_reason()
        self.setToolTip(entry.reason)
        self._restyle(
            f"#partTile {{ border: 6px solid {colour}; border-radius: 6px; }}"
            f"#partTile QLabel {{ color: {theme.TEXT}; }}"
        )

    def _fit(self) -> None:
        # a narrow window gets a smaller copy of the thumbnail rather than a cropped one
        pixmap = self._pixmap
        if pixmap is None:
            return
        width = self.image.width()
        if 0 < width < pixmap.width():
            pixmap = pixmap.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)
        self.image.setPixmap(pixmap)

    def _elide_reason(self) -> None:
        # one line, cut to the tile's width; the full reason is the tooltip
        width = max(self.reason.width() - 4, 20)
        metrics = self.reason.fontMetrics()
        self.reason.setText(
            metrics.elidedText(self._reason_text, Qt.TextElideMode.ElideRight, width)
        )

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()
        self._elide_reason()


class PartStrip(QWidget):
    """The last ``STRIP_LENGTH`` parts, newest first."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: deque[StripEntry] = deque(maxlen=STRIP_LENGTH)
        self._tiles = [_PartTile() for _ in range(STRIP_LENGTH)]
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        for tile in self._tiles:
            layout.addWidget(tile, 1)

    def add(self, inspection: Inspection) -> None:
        pixmap = None
        if inspection.frames:
            try:
                pixmap = QPixmap.fromImage(thumbnail(inspection.frames[0].image))
            except cv2.error:
                log.exception("part %d: no thumbnail", inspection.part_seq)
        self.entries.appendleft(
            StripEntry(inspection.part_seq, inspection.verdict, inspection.reason, pixmap)
        )
        self._redraw()

    def clear(self) -> None:
        self.entries.clear()
        self._redraw()

    def _redraw(self) -> None:
        for i, tile in enumerate(self._tiles):
            tile.show_entry(self.entries[i] if i < len(self.entries) else None)
