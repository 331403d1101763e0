"""Cameras of the recipe: choose a kind, fill in its settings, scan for GigE cameras, test the
connection with a preview, then save the camera into the recipe.

Scanning and testing talk to cameras, so they run as jobs of the window's job pool; the dialog
stays responsive and shows what they found (or why nothing) when they end. The preview gets the
camera's privacy masks in the job, before the GUI holds the frame, as the station applies them at
acquisition (DESIGN §10); only the mask editor shows a raw frame, under a banner.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import typing
from collections.abc import Callable
from typing import Any

import numpy as np
from pydantic import ValidationError
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app import confirm
from app.jobs_bridge import JobWatcher
from app.live_view import display_image
from app.settings_form import SettingsForm
from inspection.errors import SourceError
from inspection.jobs import Job, JobPool
from inspection.pipeline.masks import PrivacyMask
from inspection.recipe import SOURCE_TYPES, CameraSettings, Recipe
from inspection.recipe.sources import SourceSettings
from inspection.sources.probe import ProbeResult, probe_camera
from inspection.sources.urls import redact

log = logging.getLogger(__name__)

PREVIEW_W, PREVIEW_H = 480, 360


def _source_models() -> dict[str, Any]:
    """Recipe ``type:`` → its settings model, read from the recipe schema itself."""
    union = typing.get_args(SourceSettings)[0]  # Annotated[A | B | ..., Field(discriminator)]
    models = {
        typing.get_args(m.model_fields["type"].annotation)[0]: m for m in typing.get_args(union)
    }
    return {t: models[t] for t in SOURCE_TYPES}


def validation_message(exc: ValidationError) -> str:
    """pydantic's errors as the recipe loader words them: ``field: reason``, one per line."""
    lines = []
    for e in exc.errors()[:8]:
        loc = ".".join(str(p) for p in e["loc"] if p not in SOURCE_TYPES)
        lines.append(f"{loc or 'camera'}: {e['msg']}")
    return "\n".join(lines)


def masked_probe(camera: CameraSettings, cancel: threading.Event | None = None) -> ProbeResult:
    """A connection test whose frame has the camera's privacy masks applied (off the GUI thread)."""
    result = probe_camera(camera, cancel=cancel)
    mask = PrivacyMask(camera.privacy_masks)
    if result.frame is None or not mask:
        return result
    image = mask.apply(np.array(result.frame.image, copy=True))
    return dataclasses.replace(result, frame=dataclasses.replace(result.frame, image=image))


def to_qimage(image: np.ndarray) -> QImage:
    """A frame as a QImage that owns a copy of its pixels."""
    rgb = display_image(image)
    h, w = rgb.shape[:2]
    if rgb.ndim == 2:
        return QImage(rgb.data, w, h, rgb.strides[0], QImage.Format.Format_Grayscale8).copy()
    return QImage(rgb.data, w, h, rgb.strides[0], QImage.Format.Format_RGB888).copy()


class CameraDialog(QDialog):
    """Edits the recipe's cameras; ``recipeChanged(Recipe)`` when the engineer saves."""

    recipeChanged = Signal(object)

    def __init__(
        self,
        recipe: Recipe,
        jobs: JobPool,
        parent: QWidget | None = None,
        *,
        station_running: Callable[[], bool] | None = None,
    ) -> None:
        """``station_running()``: whether saving restarts a running station (asked first)."""
        super().__init__(parent)
        self.setWindowTitle("Cameras")
        self.recipe = recipe
        self._jobs = jobs
        self._station_running = station_running or (lambda: False)
        # what the form showed when it was filled in, to tell edits from what is saved
        self._shown: tuple[str, str, dict[str, Any]] | None = None
        self._new_row = False  # an added camera not saved yet
        self._models = _source_models()
        self._watchers: list[JobWatcher] = []
        self.last_probe: ProbeResult | None = None

        self.camera_list = QListWidget()
        self.add_button = QPushButton("Add camera")
        self.id_edit = QLineEdit()
        self.id_edit.setObjectName("cameraId")
        self.kind_box = QComboBox()
        for kind in self._models:
            self.kind_box.addItem(kind, kind)
        self.form_area = QScrollArea()
        self.form_area.setWidgetResizable(True)
        self.form_area.setObjectName("cameraForm")
        # the scroll area's own light default would hide the dark theme's light labels
        self.form_area.setStyleSheet(
            "QScrollArea#cameraForm, QScrollArea#cameraForm > QWidget > QWidget "
            "{ background: transparent; }"
        )
        self.form: SettingsForm = SettingsForm(self._models["synthetic"])
        self.scan_button = QPushButton("Scan for GigE cameras")
        self.found_box = QComboBox()
        self.found_box.setPlaceholderText("cameras found appear here")
        self.test_button = QPushButton("Test connection")
        self.save_button = QPushButton("Save to recipe")
        self.close_button = QPushButton("Close")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setObjectName("cameraMessage")
        self.preview = QLabel("no preview yet")
        self.preview.setFixedSize(PREVIEW_W, PREVIEW_H)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("background: #111; color: #aaa;")

        left = QVBoxLayout()
        left.addWidget(self.camera_list, 1)
        left.addWidget(self.add_button)
        top = QFormLayout()
        top.addRow("camera id *", self.id_edit)
        top.addRow("kind", self.kind_box)
        scan_row = QHBoxLayout()
        scan_row.addWidget(self.scan_button)
        scan_row.addWidget(self.found_box, 1)
        middle = QVBoxLayout()
        middle.addLayout(top)
        middle.addLayout(scan_row)
        middle.addWidget(self.form_area, 1)
        right = QVBoxLayout()
        right.addWidget(self.preview)
        right.addWidget(self.message, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.test_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.close_button)
        right.addLayout(buttons)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addLayout(middle, 2)
        layout.addLayout(right, 2)

        self.camera_list.currentRowChanged.connect(self._show_camera)
        self.add_button.clicked.connect(self._add_camera)
        self.kind_box.currentIndexChanged.connect(lambda _i: self._set_kind(self.kind(), {}))
        self.scan_button.clicked.connect(self.scan)
        self.found_box.activated.connect(self._use_found)
        self.test_button.clicked.connect(self.test_connection)
        self.save_button.clicked.connect(self.save)
        self.close_button.clicked.connect(self.reject)
        self._fill_list()

    # ---- what is shown -------------------------------------------------------------------------

    def kind(self) -> str:
        return str(self.kind_box.currentData())

    def _fill_list(self, select: int = 0, new: str = "") -> None:
        self.camera_list.blockSignals(True)
        self.camera_list.clear()
        for cam in self.recipe.cameras:
            self.camera_list.addItem(f"{cam.id} · {cam.source.type}")
        if new:
            self.camera_list.addItem(f"{new} · (new, not saved)")
        self._new_row = bool(new)
        self.camera_list.setCurrentRow(select)
        self.camera_list.blockSignals(False)
        self._show_camera(select)

    def _show_camera(self, row: int) -> None:
        if not 0 <= row < len(self.recipe.cameras):
            return
        cam = self.recipe.cameras[row]
        self.id_edit.setText(cam.id)
        data = cam.source.model_dump(mode="json", exclude_none=True)
        self.kind_box.blockSignals(True)
        self.kind_box.setCurrentIndex(self.kind_box.findData(cam.source.type))
        self.kind_box.blockSignals(False)
        self._set_kind(cam.source.type, data)
        self._shown = self._form_state()

    def _add_camera(self) -> None:
        taken = {c.id for c in self.recipe.cameras}
        n = len(taken) + 1
        while f"cam{n}" in taken:
            n += 1
        # the new camera is a row of its own at the end of the list until it is saved
        self._fill_list(len(self.recipe.cameras), new=f"cam{n}")
        self.id_edit.setText(f"cam{n}")
        self.kind_box.setCurrentIndex(self.kind_box.findData("rtsp"))
        self._set_kind("rtsp", {})
        self._say("New camera: fill in its settings, test it, then save it to the recipe.")

    def _set_kind(self, kind: str, values: dict[str, Any]) -> None:
        self.form = SettingsForm(self._models[kind])
        self.form.set_values(values)
        self.form_area.setWidget(self.form)
        is_gige = kind == "gige"
        self.scan_button.setVisible(is_gige)
        self.found_box.setVisible(is_gige)

    def _say(self, text: str, ok: bool | None = None) -> None:
        colour = {True: "#35e06a", False: "#ff6b6b", None: ""}[ok]
        self.message.setStyleSheet(f"color: {colour};" if colour else "")
        self.message.setText(text)

    # ---- the camera being edited ---------------------------------------------------------------

    def _form_state(self) -> tuple[str, str, dict[str, Any]]:
        return (self.id_edit.text().strip(), self.kind(), self.form.values())

    def has_unsaved_changes(self) -> bool:
        """True when the form holds edits (or a new camera) not saved to the recipe."""
        return self._new_row or (self._shown is not None and self._form_state() != self._shown)

    def current_camera(self) -> CameraSettings | None:
        """The camera the form describes, validated like a recipe; None (and why) if it is not."""
        row = self.camera_list.currentRow()
        old = self.recipe.cameras[row] if 0 <= row < len(self.recipe.cameras) else None
        data: dict[str, Any] = {
            "id": self.id_edit.text().strip(),
            "source": {"type": self.kind(), **self.form.values()},
        }
        if old is not None:  # what the form does not edit stays as it was
            data["privacy_masks"] = old.privacy_masks
            data["health"] = old.health.model_dump()
        try:
            return CameraSettings.model_validate(data)
        except ValidationError as exc:
            self._say(validation_message(exc), ok=False)
            return None

    def test_connection(self) -> Job[ProbeResult] | None:
        """Connect with the form's settings and show a frame; runs as a job."""
        cam = self.current_camera()
        if cam is None:
            return None
        where = redact(str(getattr(cam.source, "url", "") or cam.source.type))
        self._say(f"Connecting to {where}…")
        self.test_button.setEnabled(False)
        job = self._jobs.submit(
            f"test camera {cam.id}", lambda _progress, cancel: masked_probe(cam, cancel=cancel)
        )
        self._watch(job, self._on_probed)
        return job

    def _on_probed(self, job: Job[ProbeResult]) -> None:
        self.test_button.setEnabled(True)
        if job.error is not None:
            self._say(f"Test failed: {job.error}", ok=False)
            return
        result = job.result()
        self.last_probe = result
        if result.frame is not None:
            pixmap = QPixmap.fromImage(to_qimage(result.frame.image))
            self.preview.setPixmap(
                pixmap.scaled(
                    PREVIEW_W,
                    PREVIEW_H,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
        else:
            self.preview.setText("no frame")
        self._say(("Connected: " if result.ok else "Not working: ") + result.message, result.ok)

    def scan(self) -> Job[list[Any]]:
        """Look for GigE Vision cameras on every network interface (about a second)."""
        self.scan_button.setEnabled(False)
        self._say("Scanning for GigE Vision cameras…")

        def discover(_progress: Any, _cancel: Any) -> list[Any]:
            from inspection.sources.gige import discover_gige

            return list(discover_gige())

        job = self._jobs.submit("scan GigE cameras", discover)
        self._watch(job, self._on_scanned)
        return job

    def _on_scanned(self, job: Job[list[Any]]) -> None:
        self.scan_button.setEnabled(True)
        self.found_box.clear()
        if job.error is not None:
            reason = str(job.error) if isinstance(job.error, SourceError) else repr(job.error)
            self._say(f"Scan failed: {reason}", ok=False)
            return
        found = job.result()
        for info in found:
            self.found_box.addItem(
                f"{info.vendor} {info.model} · {info.serial} · {info.address}", info.device_id
            )
        if found:
            self._use_found(0)
            self._say(f"{len(found)} GigE camera(s) found; the first is filled in.", ok=True)
        else:
            self._say("No GigE Vision camera answered on any network interface.", ok=False)

    def _use_found(self, index: int) -> None:
        device = self.found_box.itemData(index)
        widget = self.form.widgets.get("device")
        if device and isinstance(widget, QLineEdit):
            widget.setText(str(device))

    def save(self) -> Recipe | None:
        """Put the camera into the recipe (replacing the one being edited) and emit it.

        While the station runs, saving restarts it: asked first; None when declined."""
        cam = self.current_camera()
        if cam is None:
            return None
        if self._station_running() and not confirm.ask(
            self,
            "Save cameras",
            f"Save camera {cam.id} and restart the station?",
            "The station restarts with the new settings; inspection pauses for a few seconds.",
            yes="Save and restart",
        ):
            self._say("Not saved; the station runs on with the cameras as they were.")
            return None
        row = self.camera_list.currentRow()
        cams = list(self.recipe.cameras)
        if 0 <= row < len(cams):
            cams[row] = cam
        else:
            cams.append(cam)
            row = len(cams) - 1
        data = self.recipe.model_dump(mode="json", exclude_none=True)
        data["cameras"] = [c.model_dump(mode="json", exclude_none=True) for c in cams]
        try:
            recipe = Recipe.model_validate(data)
        except ValidationError as exc:
            self._say(validation_message(exc), ok=False)
            return None
        self.recipe = recipe
        self._fill_list(row)
        self._say(f"Camera {cam.id} saved to recipe {recipe.name}.", ok=True)
        self.recipeChanged.emit(recipe)
        return recipe

    def _watch(self, job: Job[Any], slot: Any) -> None:
        self._watchers.append(JobWatcher(job, self, on_finished=slot))

    def reject(self) -> None:
        # Close, Escape and the window's close button all come here: edits are not dropped
        # without asking
        if self.has_unsaved_changes():
            answer = confirm.unsaved_changes(
                self,
                "cameras",
                f"Camera {self.id_edit.text().strip() or '(no id)'} has settings not saved to "
                f"recipe {self.recipe.name}; Discard drops them.",
            )
            if answer is confirm.Unsaved.CANCEL:
                return
            if answer is confirm.Unsaved.SAVE and self.save() is None:
                return  # not saved (invalid, or the restart declined): stay, with the reason
        super().reject()

    def done(self, result: int) -> None:
        for watcher in self._watchers:
            watcher.detach()
        for watcher in self._watchers:
            watcher.job.cancel()
        super().done(result)
