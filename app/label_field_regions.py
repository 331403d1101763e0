"""A label tool's field regions, drawn on its taught label: where each printed text is read.

Field regions are in pixels of the taught label reference (the straightened label), not of the
camera frame, so they are placed on that image. A field without a region is searched for on the
whole label; "Own region" gives it one.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.jobs_bridge import PageJobs
from app.region_view import Rect, RegionView
from inspection.errors import LinesideError
from inspection.jobs import Job
from inspection.paths import Paths
from inspection.pipeline.teaching import tool_context
from inspection.recipe import Recipe
from inspection.recipe.tools import LabelToolSettings
from inspection.tools.label import reference_path

log = logging.getLogger(__name__)

FIELD_COLOUR = "#ffb000"


def read_reference(path: Path) -> np.ndarray:
    """The taught label as uint8 grey (H, W); LinesideError when it was never taught."""
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) if path.is_file() else None
    if image is None:
        raise LinesideError(f"{path}: no taught label reference (teach the label first)")
    return image


class LabelFieldRegions(QWidget):
    """The fields of one label tool on its reference; ``changed()`` after each edit."""

    changed = Signal()

    def __init__(self, jobs: PageJobs, paths: Paths, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._jobs = jobs
        self.paths = paths
        self._gen = 0
        self.fields: dict[str, Rect | None] = {}
        self.view = RegionView()
        self.field_box = QComboBox()
        self.field_region = QCheckBox("Own region (else the whole label is searched)")
        self.note = QLabel()
        self.note.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(QLabel("Label fields on the taught label:"))
        row.addWidget(self.field_box)
        row.addWidget(self.field_region)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.note)
        self.field_box.currentIndexChanged.connect(lambda _i: self._show_choice())
        self.field_region.toggled.connect(self._own_region_toggled)
        self.view.regionChanged.connect(self._moved)

    def show_tool(self, recipe: Recipe, tool: LabelToolSettings) -> Job[Any]:
        """Show ``tool``'s fields as in force and read its reference (a job)."""
        self.view.remove_all()
        self.fields = {}
        self.field_box.blockSignals(True)
        self.field_box.clear()
        for field in tool.fields:
            r = field.region
            self.fields[field.name] = None if r is None else Rect(x=r.x, y=r.y, w=r.w, h=r.h)
            self.field_box.addItem(field.name, field.name)
            self._draw(field.name)
        self.field_box.blockSignals(False)
        self._show_choice()
        return self._load(recipe, tool)

    def _draw(self, name: str) -> None:
        self.view.set_rect(name, self.fields.get(name), colour=FIELD_COLOUR)

    def _show_choice(self) -> None:
        name = self.field_box.currentData()
        self.field_region.setEnabled(name is not None)
        self.field_region.blockSignals(True)
        self.field_region.setChecked(name is not None and self.fields.get(name) is not None)
        self.field_region.blockSignals(False)

    def _own_region_toggled(self, own: bool) -> None:
        name = self.field_box.currentData()
        if name is None:
            return
        if not own:
            self.fields[name] = None
        elif self.fields.get(name) is None:
            w, h = self.view.image_size or (64, 32)
            self.fields[name] = Rect(x=w // 4, y=h // 4, w=max(w // 2, 1), h=max(h // 4, 1))
        self._draw(name)
        self.changed.emit()

    def _moved(self, name: str) -> None:
        self.fields[name] = self.view.rect(name)
        self.changed.emit()

    def _load(self, recipe: Recipe, tool: LabelToolSettings) -> Job[Any]:
        self._gen += 1
        gen, path = self._gen, reference_path(tool, tool_context(recipe, self.paths))
        self.note.setText(f"reading {path.name}…")
        return self._jobs.submit(
            "label reference",
            lambda _p, _c: read_reference(path),
            lambda job: self._on_loaded(gen, path, job),
        )

    def _on_loaded(self, gen: int, path: Path, job: Job[Any]) -> None:
        if gen != self._gen:
            return
        if job.error is not None:
            self.view.clear_image()
            self.note.setText(str(job.error))
            return
        image = job.result()
        self.view.show_image(image)
        self.note.setText(
            f"{path.name}: {image.shape[1]}×{image.shape[0]} px; field regions are in its pixels"
        )
