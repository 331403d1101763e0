"""Privacy masks drawn on a camera's image: click the corners of each area to black out.

Masks are polygons in frame pixels, saved into the recipe; the station applies them at
acquisition, before any tool, screen, archive or export sees the frame (DESIGN §10). The frame
shown here comes from the running station (already masked with the masks in force) or, when the
station is stopped, from a connection test run as a job: that one is raw, so that areas can be
drawn on what the camera really sees, and an amber banner "Unmasked: engineers only" stays over
it for as long as it is shown. Every other screen (live view, Cameras preview) shows masked frames.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QPen, QPolygonF
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QGraphicsPolygonItem,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import confirm, theme
from app.jobs_bridge import JobWatcher
from app.live_view import display_image
from inspection.jobs import Job, JobPool
from inspection.recipe import Recipe
from inspection.sources.probe import ProbeResult, probe_camera
from inspection.types import Frame

log = logging.getLogger(__name__)

Polygon = list[tuple[float, float]]

UNMASKED_BANNER = "Unmasked: engineers only"


class MaskEditor(QDialog):
    """Edits one camera's privacy masks at a time; ``recipeChanged(Recipe)`` on save."""

    recipeChanged = Signal(object)

    def __init__(
        self,
        recipe: Recipe,
        jobs: JobPool,
        newest_frame: Any = None,
        parent: QWidget | None = None,
        *,
        station_running: Callable[[], bool] | None = None,
    ) -> None:
        """``newest_frame(camera) -> Frame | None``: the running station's, when there is one.
        ``station_running()``: whether saving restarts a running station (asked first)."""
        super().__init__(parent)
        self.setWindowTitle("Privacy masks")
        self.recipe = recipe
        self._jobs = jobs
        self._newest = newest_frame
        self._station_running = station_running or (lambda: False)
        self._watchers: list[JobWatcher] = []
        self.masks: dict[str, list[Polygon]] = {
            c.id: [list(map(tuple, p)) for p in c.privacy_masks] for c in recipe.cameras
        }
        self.drawing: Polygon = []
        self._items: list[QGraphicsPolygonItem] = []

        self.camera_box = QComboBox()
        for cam in recipe.cameras:
            self.camera_box.addItem(cam.id, cam.id)
        self.grab_button = QPushButton("Take a frame")
        self.finish_button = QPushButton("Finish area")
        self.undo_button = QPushButton("Undo point")
        self.remove_button = QPushButton("Remove last area")
        self.clear_button = QPushButton("Clear all")
        self.save_button = QPushButton("Save to recipe")
        self.close_button = QPushButton("Close")
        self.hint = QLabel(
            "Click the corners of an area to black out, then Finish area. Masked pixels are "
            "blacked out before any tool, screen or archive sees them."
        )
        self.hint.setWordWrap(True)
        self.unmasked_banner = QLabel(
            f"{UNMASKED_BANNER} — this frame is straight from the camera, before its privacy "
            "masks. Do not show it on the line."
        )
        self.unmasked_banner.setObjectName("unmaskedBanner")
        self.unmasked_banner.setWordWrap(True)
        self.unmasked_banner.setStyleSheet(
            f"background: {theme.WARNING_BACKGROUND}; color: #000; font-weight: bold; padding: 6px;"
        )
        self.unmasked_banner.hide()

        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(theme.BACKGROUND)
        self.box: pg.ViewBox = self.view.addViewBox()
        self.box.setAspectLocked(True)
        self.box.invertY(True)
        self.box.setMouseEnabled(False, False)
        self.box.setMenuEnabled(False)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.box.addItem(self.image_item)
        self.outline = pg.PlotCurveItem(pen=pg.mkPen(theme.BAD_COLOUR, width=2))
        self.outline.setZValue(10)
        self.box.addItem(self.outline)
        self.view.scene().sigMouseClicked.connect(self._on_click)

        top = QHBoxLayout()
        top.addWidget(QLabel("camera"))
        top.addWidget(self.camera_box)
        top.addWidget(self.grab_button)
        top.addStretch(1)
        edit = QHBoxLayout()
        for b in (self.finish_button, self.undo_button, self.remove_button, self.clear_button):
            edit.addWidget(b)
        edit.addStretch(1)
        edit.addWidget(self.save_button)
        edit.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.hint)
        layout.addWidget(self.unmasked_banner)
        layout.addWidget(self.view, 1)
        layout.addLayout(edit)
        self.resize(1000, 760)

        # with a running station the image stays live, so areas are drawn on what the camera
        # sees now (a door, a walkway), not on an old frame
        self._live_timer = QTimer(self)
        self._live_timer.setInterval(100)
        self._live_timer.timeout.connect(self._refresh_live)
        self._shown: tuple[str, int] | None = None
        if self._newest is not None:
            self._live_timer.start()

        self.camera_box.currentIndexChanged.connect(lambda _i: self._camera_changed())
        self.grab_button.clicked.connect(self.take_frame)
        self.finish_button.clicked.connect(self.finish_area)
        self.undo_button.clicked.connect(self.undo_point)
        self.remove_button.clicked.connect(self.remove_last)
        self.clear_button.clicked.connect(self.clear_all)
        self.save_button.clicked.connect(self.save)
        self.close_button.clicked.connect(self.reject)
        self._camera_changed()

    # ---- the frame -----------------------------------------------------------------------------

    def camera(self) -> str:
        return str(self.camera_box.currentData())

    def _camera_changed(self) -> None:
        self.drawing = []
        frame = self._newest(self.camera()) if self._newest is not None else None
        if frame is not None:
            self.show_frame(frame)
        else:
            self.take_frame()
        self._redraw()

    def _refresh_live(self) -> None:
        frame = self._newest(self.camera()) if self._newest is not None else None
        if frame is not None and (frame.camera, frame.seq) != self._shown:
            self.show_frame(frame)

    def show_frame(self, frame: Frame, *, masked: bool = True) -> None:
        """Show ``frame``; ``masked=False`` (a raw frame from the camera) raises the banner."""
        self.unmasked_banner.setVisible(not masked)
        self._shown = (frame.camera, frame.seq)
        image = display_image(frame.image)
        old = self.image_item.image
        same_size = old is not None and old.shape[:2] == image.shape[:2]
        self.image_item.setImage(image, autoLevels=False, levels=(0, 255))
        if not same_size:
            h, w = image.shape[:2]
            self.box.setRange(xRange=(0, w), yRange=(0, h), padding=0.0)

    def take_frame(self) -> Job[ProbeResult] | None:
        """A frame from the camera itself (the station may be stopped); runs as a job."""
        cam = next((c for c in self.recipe.cameras if c.id == self.camera()), None)
        if cam is None:
            return None
        self.grab_button.setEnabled(False)
        job = self._jobs.submit(
            f"frame from {cam.id}",
            lambda _p, cancel: probe_camera(cam, frames=1, cancel=cancel),
        )
        self._watchers.append(JobWatcher(job, self, on_finished=self._on_frame))
        return job

    def _on_frame(self, job: Job[ProbeResult]) -> None:
        self.grab_button.setEnabled(True)
        if job.error is None and job.result().frame is not None:
            frame = job.result().frame
            assert frame is not None
            self.show_frame(frame, masked=False)  # straight from the camera
        else:
            why = job.error or job.result().message
            self.hint.setText(f"No frame from camera {self.camera()}: {why}")

    # ---- drawing -------------------------------------------------------------------------------

    def _on_click(self, event: Any) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        point = self.box.mapSceneToView(event.scenePos())
        self.add_point(point.x(), point.y())
        if event.double():
            self.finish_area()

    def add_point(self, x: float, y: float) -> None:
        """A corner of the area being drawn, in frame pixels (clipped to the frame)."""
        image = self.image_item.image
        if image is not None:
            h, w = image.shape[:2]
            x, y = min(max(x, 0.0), float(w)), min(max(y, 0.0), float(h))
        self.drawing.append((round(x, 1), round(y, 1)))
        self._redraw()

    def finish_area(self) -> bool:
        if len(self.drawing) < 3:
            self.hint.setText("An area needs at least 3 corners.")
            return False
        self.masks[self.camera()].append(self.drawing)
        self.drawing = []
        self._redraw()
        return True

    def undo_point(self) -> None:
        if self.drawing:
            self.drawing.pop()
            self._redraw()

    def remove_last(self) -> None:
        if self.masks[self.camera()]:
            self.masks[self.camera()].pop()
            self._redraw()

    def clear_all(self) -> None:
        self.masks[self.camera()] = []
        self.drawing = []
        self._redraw()

    def _redraw(self) -> None:
        for item in self._items:
            self.box.removeItem(item)
        self._items = []
        colour = QColor(theme.BAD_COLOUR)
        for poly in self.masks[self.camera()]:
            item = QGraphicsPolygonItem(QPolygonF([QPointF(x, y) for x, y in poly]))
            fill = QColor(colour)
            fill.setAlpha(110)
            item.setBrush(QBrush(fill))
            item.setPen(QPen(colour, 0))
            item.setZValue(5)
            self.box.addItem(item)
            self._items.append(item)
        if self.drawing:
            xy = np.asarray(self.drawing, dtype=np.float64)
            self.outline.setData(xy[:, 0], xy[:, 1])
        else:
            self.outline.setData(np.empty(0), np.empty(0))

    # ---- saving --------------------------------------------------------------------------------

    def saved_masks(self) -> dict[str, list[Polygon]]:
        return {c.id: [list(map(tuple, p)) for p in c.privacy_masks] for c in self.recipe.cameras}

    def has_unsaved_changes(self) -> bool:
        """Areas drawn, removed or being drawn that the recipe does not have yet."""
        return bool(self.drawing) or self.masks != self.saved_masks()

    def save(self) -> Recipe | None:
        """Save the masks into the recipe and emit it; while the station runs, saving restarts
        it, so that is asked first (None when declined)."""
        if self._station_running() and not confirm.ask(
            self,
            "Save privacy masks",
            "Save the privacy masks and restart the station?",
            "The station restarts with the new settings; inspection pauses for a few seconds.",
            yes="Save and restart",
        ):
            self.hint.setText("Not saved; the station runs on with the masks in force.")
            return None
        if len(self.drawing) >= 3:
            self.finish_area()  # an area left open is meant to be masked too
        cams = [
            c.model_copy(update={"privacy_masks": [list(p) for p in self.masks[c.id]]})
            for c in self.recipe.cameras
        ]
        recipe = self.recipe.model_copy(update={"cameras": cams})
        # re-validated the way a recipe file is, so a saved mask always loads again
        recipe = Recipe.model_validate(recipe.model_dump(mode="json", exclude_none=True))
        self.recipe = recipe
        self.recipeChanged.emit(recipe)
        return recipe

    def reject(self) -> None:
        # Close, Escape and the window's close button all come here
        if self.has_unsaved_changes():
            answer = confirm.unsaved_changes(
                self,
                "privacy masks",
                f"Areas drawn or removed are not saved to recipe {self.recipe.name}; Discard "
                "drops them and the masks in force stay as they are.",
            )
            if answer is confirm.Unsaved.CANCEL:
                return
            if answer is confirm.Unsaved.SAVE and self.save() is None:
                return
        super().reject()

    def done(self, result: int) -> None:
        self._live_timer.stop()
        for watcher in self._watchers:
            watcher.detach()
            watcher.job.cancel()
        super().done(result)
