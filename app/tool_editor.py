"""Edit a tool of the recipe in force: its ROI drawn on a frame, a label's field regions on the
taught label, its parameters in a form made from the recipe schema.

The frame is the camera's live one (the running station's newest, else one taken as a job) or a
stored part's archived frame (by inspection id, or the newest kept). A label's field regions are
in pixels of its taught reference, so they are drawn on that image, not on the frame. Every
change is checked by the recipe schema as it is made; the error shows beside the form and Apply
stays off until the tool is valid. Apply asks for the reason, says what changes, and hands the
changed recipe to the window (``applyRequested``), which writes it as the next version
(inspection/tuning/recipe_edit.py) and runs it: the same versions and rollback as a threshold.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app import confirm, recipe_versions, theme
from app.jobs_bridge import PageJobs
from app.label_field_regions import LabelFieldRegions
from app.region_view import Rect, RegionView
from app.settings_form import SettingsForm
from inspection.errors import LinesideError, RecipeError
from inspection.history.part_image import stored_frame
from inspection.jobs import Job, JobPool
from inspection.paths import Paths
from inspection.recipe import Recipe
from inspection.recipe.common import RegionSettings
from inspection.recipe.tools import LabelToolSettings, ToolSettings
from inspection.sources.probe import probe_camera
from inspection.storage.queries import open_reader
from inspection.tuning.recipe_edit import describe_change, recipe_data, with_tool
from inspection.tuning.versions import version_after
from inspection.types import Frame

log = logging.getLogger(__name__)

LIVE, STORED = "live", "stored"
ROI = "roi"
LIVE_REFRESH_MS = 200  # the frame follows the camera while the station runs; ROIs stay put
NewestFrame = Callable[[str], Frame | None]


def _rect(region: RegionSettings | None) -> Rect | None:
    return None if region is None else Rect(x=region.x, y=region.y, w=region.w, h=region.h)


class ToolEditor(QDialog):
    """One tool of ``recipe`` at a time; ``applyRequested(Recipe, reason)`` once Apply is asked."""

    applyRequested = Signal(object, str)  # the changed recipe (schema-checked), the reason

    def __init__(
        self,
        recipe: Recipe,
        jobs: JobPool,
        paths: Paths,
        parent: QWidget | None = None,
        *,
        newest_frame: NewestFrame | None = None,
        versions_path: Path | None = None,
    ) -> None:
        """``newest_frame(camera)``: the running station's newest frame (None when stopped).
        ``versions_path``: the recipe file whose versions are kept (to name the next one)."""
        super().__init__(parent)
        self.setWindowTitle("Edit tools")
        self.recipe = recipe
        self.paths = paths
        self._jobs = PageJobs(jobs, self)
        self._newest = newest_frame
        self._versions_path = versions_path
        self._image_gen = 0
        self._shown: tuple[str, int] | None = None
        self._candidate: Recipe | None = None
        self.tool_id = ""

        self.tool_box = QComboBox()
        for tool in recipe.tools:
            self.tool_box.addItem(f"{tool.id} ({tool.type})", tool.id)
        self.source_box = QComboBox()
        self.source_box.addItem("Live frame", LIVE)
        self.source_box.addItem("Stored part", STORED)
        self.part_edit = QLineEdit()
        self.part_edit.setPlaceholderText("inspection id (empty: the newest stored part)")
        self.load_button = QPushButton("Load image")
        self.image_note = QLabel()
        self.image_note.setWordWrap(True)
        self.frame_view = RegionView()
        self.whole_frame = QCheckBox("Whole frame (no ROI)")
        self.roi_label = QLabel()

        self.label_fields = LabelFieldRegions(self._jobs, paths)

        self.form: SettingsForm | None = None
        self.form_area = QScrollArea()
        self.form_area.setWidgetResizable(True)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {theme.BAD_COLOUR.name()};")
        self.change_label = QLabel()
        self.change_label.setWordWrap(True)
        self.apply_button = QPushButton("Apply…")
        self.close_button = QPushButton("Close")

        top = QHBoxLayout()
        top.addWidget(QLabel("tool"))
        top.addWidget(self.tool_box)
        top.addSpacing(16)
        top.addWidget(QLabel("image"))
        top.addWidget(self.source_box)
        top.addWidget(self.part_edit, 1)
        top.addWidget(self.load_button)
        frame_panel = QWidget()
        frame_layout = QVBoxLayout(frame_panel)
        frame_layout.setContentsMargins(0, 0, 0, 0)
        frame_layout.addWidget(self.frame_view, 1)
        roi_row = QHBoxLayout()
        roi_row.addWidget(self.whole_frame)
        roi_row.addWidget(self.roi_label, 1)
        frame_layout.addLayout(roi_row)
        images = QSplitter(Qt.Orientation.Vertical)
        images.addWidget(frame_panel)
        images.addWidget(self.label_fields)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(QLabel("Parameters"))
        side_layout.addWidget(self.form_area, 1)
        side_layout.addWidget(self.error_label)
        side_layout.addWidget(self.change_label)
        middle = QSplitter(Qt.Orientation.Horizontal)
        middle.addWidget(images)
        middle.addWidget(side)
        middle.setStretchFactor(0, 3)
        middle.setStretchFactor(1, 2)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.image_note)
        layout.addWidget(middle, 1)
        layout.addLayout(buttons)
        self.resize(1200, 800)

        self._live_timer = QTimer(self)
        self._live_timer.setInterval(LIVE_REFRESH_MS)
        self._live_timer.timeout.connect(self._refresh_live)
        self.tool_box.currentIndexChanged.connect(lambda _i: self._tool_chosen())
        self.source_box.currentIndexChanged.connect(lambda _i: self.load_image())
        self.load_button.clicked.connect(self.load_image)
        self.part_edit.returnPressed.connect(self.load_image)
        self.whole_frame.toggled.connect(self._whole_frame_toggled)
        self.frame_view.regionChanged.connect(lambda _name: self._revalidate())
        self.label_fields.changed.connect(self._revalidate)
        self.apply_button.clicked.connect(self.ask_apply)
        self.close_button.clicked.connect(self.reject)
        self._show_tool()
        self.load_image()

    # ---- the tool --------------------------------------------------------------------------------

    def tool(self) -> ToolSettings:
        """The chosen tool as it is in force."""
        return next(t for t in self.recipe.tools if t.id == self.tool_id)

    def camera(self) -> str:
        return self.recipe.camera_for(self.tool())

    def _tool_chosen(self) -> None:
        chosen = str(self.tool_box.currentData())
        if chosen == self.tool_id:
            return
        if self._candidate is not None and not confirm.ask(
            self,
            "Edit tools",
            f"Discard the changes to {self.tool_id}?",
            f"They are not applied; {self.tool_id} stays as it is in force.",
            yes="Discard changes",
            no="Keep editing",
        ):
            self.tool_box.blockSignals(True)
            self.tool_box.setCurrentIndex(self.tool_box.findData(self.tool_id))
            self.tool_box.blockSignals(False)
            return
        camera = self.camera()
        self._show_tool()
        if self.camera() != camera:
            self.load_image()

    def _show_tool(self) -> None:
        """Show the chosen tool as in force: its ROI, its fields' regions, its parameters."""
        self.tool_id = str(self.tool_box.currentData())
        tool = self.tool()
        rect = _rect(tool.roi)
        self.frame_view.set_rect(ROI, rect, colour=theme.ROI_COLOUR, label=tool.id)
        self.whole_frame.blockSignals(True)
        self.whole_frame.setChecked(rect is None)
        self.whole_frame.blockSignals(False)

        self.label_fields.setVisible(isinstance(tool, LabelToolSettings))
        if isinstance(tool, LabelToolSettings):
            self.label_fields.show_tool(self.recipe, tool)

        form = SettingsForm(type(tool), skip={"id", "roi"})
        form.set_values(tool.model_dump(mode="json", exclude_none=True))
        for widget in form.widgets.values():
            edit = widget if isinstance(widget, QLineEdit) else widget.findChild(QLineEdit)
            if isinstance(widget, QComboBox):
                widget.currentIndexChanged.connect(lambda _i: self._revalidate())
            elif isinstance(widget, QCheckBox):
                widget.toggled.connect(lambda _on: self._revalidate())
            elif edit is not None:
                edit.textChanged.connect(lambda _text: self._revalidate())
        self.form = form
        self.form_area.setWidget(form)
        self._revalidate()

    # ---- what the engineer made of it ------------------------------------------------------------

    def roi(self) -> Rect | None:
        """The ROI on screen, None for the whole frame."""
        return None if self.whole_frame.isChecked() else self.frame_view.rect(ROI)

    def tool_data(self) -> dict[str, Any]:
        """The tool as edited, as recipe data (the parameters as typed, not yet checked)."""
        assert self.form is not None
        data = self.tool().model_dump(mode="json", exclude_none=True)
        for name in self.form.widgets:
            data.pop(name, None)  # an emptied field falls back to its default
        data.update(self.form.values())
        roi = self.roi()
        if roi is None:
            data.pop("roi", None)
        else:
            data["roi"] = roi.as_settings()
        if "fields" in data:
            fields = []
            for field in data["fields"]:
                field = dict(field)
                region = self.label_fields.fields.get(field["name"])
                if region is None:
                    field.pop("region", None)
                else:
                    field["region"] = region.as_settings()
                fields.append(field)
            data["fields"] = fields
        return data

    def candidate(self) -> Recipe:
        """The recipe in force with the tool as edited; RecipeError names the field path."""
        return with_tool(self.recipe, self.tool_id, self.tool_data())

    def _revalidate(self) -> None:
        self._show_roi_numbers()
        try:
            candidate = self.candidate()
        except RecipeError as exc:
            self._candidate = None
            self.error_label.setText(str(exc))
            self.change_label.setText("")
            self.apply_button.setEnabled(False)
            return
        self.error_label.setText("")
        changed = recipe_data(candidate) != recipe_data(self.recipe)
        self._candidate = candidate if changed else None
        self.apply_button.setEnabled(changed)
        self.change_label.setText(
            f"Changes: {describe_change(self.recipe, candidate)}" if changed else "No change yet."
        )

    def _show_roi_numbers(self) -> None:
        roi, size = self.roi(), self.frame_view.image_size
        if roi is None:
            self.roi_label.setText("ROI: the whole frame")
            return
        text = f"ROI x {roi.x}, y {roi.y}, {roi.w} × {roi.h} px"
        if size is not None and (roi.x + roi.w > size[0] or roi.y + roi.h > size[1]):
            text += f" — reaches outside this {size[0]}×{size[1]} image"
        self.roi_label.setText(text)

    def _whole_frame_toggled(self, whole: bool) -> None:
        if whole:
            self.frame_view.remove_rect(ROI)
        elif self.frame_view.rect(ROI) is None:
            w, h = self.frame_view.image_size or (128, 128)
            start = Rect(x=w // 4, y=h // 4, w=max(w // 2, 1), h=max(h // 2, 1))
            self.frame_view.set_rect(ROI, start, colour=theme.ROI_COLOUR, label=self.tool_id)
        self._revalidate()

    # ---- the image -------------------------------------------------------------------------------

    def source(self) -> str:
        return str(self.source_box.currentData())

    def load_image(self) -> Job[Any] | None:
        """The chosen tool's camera image from the chosen source (the live one at once when the
        station runs; otherwise as a job)."""
        self._image_gen += 1
        gen, camera = self._image_gen, self.camera()
        self.part_edit.setEnabled(self.source() == STORED)
        if self.source() == LIVE:
            frame = self._newest(camera) if self._newest is not None else None
            if frame is not None:
                self._show_frame(frame)
                self.image_note.setText(f"Live frame of camera {camera}")
                self._live_timer.start()
                return None
            self._live_timer.stop()
            cam = next(c for c in self.recipe.cameras if c.id == camera)
            self.image_note.setText(f"Taking a frame from camera {camera}…")
            return self._jobs.submit(
                f"frame from {camera}",
                lambda _p, cancel: probe_camera(cam, frames=1, cancel=cancel),
                lambda job: self._on_probe(gen, job),
            )
        self._live_timer.stop()
        part = self.part_edit.text().strip() or None
        db, archive, name = self.paths.results_db, self.paths.archive, self.recipe.name
        self.image_note.setText("Reading the stored part…")

        def read(_progress: Any, _cancel: threading.Event) -> Any:
            if not db.is_file():
                raise LinesideError("no part has been recorded yet")
            conn = open_reader(db)
            try:
                return stored_frame(
                    conn,
                    archive,
                    camera,
                    inspection_id=part,
                    recipe_name=None if part is not None else name,
                )
            finally:
                conn.close()

        return self._jobs.submit("stored frame", read, lambda job: self._on_stored(gen, job))

    def _on_probe(self, gen: int, job: Job[Any]) -> None:
        if gen != self._image_gen:
            return
        result = job.result() if job.error is None else None
        if result is None or result.frame is None:
            why = job.error or (result.message if result is not None else "no frame")
            self.image_note.setText(f"No frame from camera {self.camera()}: {why}")
            return
        self._show_frame(result.frame)
        self.image_note.setText(f"A frame just taken from camera {self.camera()}")

    def _on_stored(self, gen: int, job: Job[Any]) -> None:
        if gen != self._image_gen:
            return
        if job.error is not None:
            self.image_note.setText(f"No stored image: {job.error}")
            return
        stored = job.result()
        self.frame_view.show_image(stored.image)
        self._shown = None
        self.image_note.setText(f"Stored part {stored.inspection_id}, camera {stored.camera}")
        self._revalidate()

    def _show_frame(self, frame: Frame) -> None:
        self._shown = (frame.camera, frame.seq)
        self.frame_view.show_image(frame.image)
        self._show_roi_numbers()

    def _refresh_live(self) -> None:
        frame = self._newest(self.camera()) if self._newest is not None else None
        if frame is not None and (frame.camera, frame.seq) != self._shown:
            self._show_frame(frame)

    # ---- applying ----------------------------------------------------------------------------------

    def use_station(self, station: Any) -> None:
        """The window built a station (a recipe opened, or an applied version): follow it."""
        self.use_recipe(station.recipe)

    def use_recipe(self, recipe: Recipe) -> None:
        """The window runs ``recipe`` now (e.g. the version just applied): edit from it."""
        if recipe_data(recipe) == recipe_data(self.recipe):
            return  # the same recipe restarted: the edits on screen stay
        if recipe.name != self.recipe.name or not any(t.id == self.tool_id for t in recipe.tools):
            self.recipe = recipe
            self._candidate = None
            self.reject()  # another recipe: its tools are not these
            return
        self.recipe = recipe
        self._show_tool()

    def ask_apply(self) -> bool:
        """Ask for the reason, saying what changes, then emit ``applyRequested``."""
        candidate = self._candidate
        if candidate is None:
            return False
        recipe, summary = self.recipe, describe_change(self.recipe, candidate)
        try:
            version = (
                version_after(self._versions_path, recipe.version)
                if self._versions_path is not None
                else "the next version"
            )
        except RecipeError:
            version = "the next version"
        reason = recipe_versions.ask_reason(
            self,
            "Apply tool settings",
            f"Apply the changes to {self.tool_id}?",
            f"{recipe.name} is saved as version {version} ({summary}). Parts from the next one "
            f"on are inspected with version {version} and record it; a part being inspected now "
            f"finishes with version {recipe.version}. Version {recipe.version} stays kept: "
            "Recipe → Versions… brings it back.",
            ok="Apply",
        )
        if reason is None:
            return False
        self.applyRequested.emit(candidate, reason)
        return True

    def discard_changes(self) -> None:
        """Drop the edits on screen: the tool is shown as it is in force, nothing to ask."""
        self._candidate = None
        self._show_tool()
        self._candidate = None

    def reject(self) -> None:
        # Close, Escape and the window's close button all come here
        if self._candidate is not None:
            answer = confirm.unsaved_changes(
                self,
                f"tool {self.tool_id}",
                f"The changes to {self.tool_id} are not applied; Discard drops them and the "
                "tool stays as it is in force.",
            )
            if answer is confirm.Unsaved.CANCEL:
                return
            if answer is confirm.Unsaved.SAVE and not self.ask_apply():
                return
        super().reject()

    def done(self, result: int) -> None:
        self._live_timer.stop()
        self._jobs.detach()
        super().done(result)
