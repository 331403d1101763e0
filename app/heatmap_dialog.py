"""Heatmaps of recent parts for a taught defect tool: where it looks, and what it finds.

The model runs as a job (never on the GUI thread); the dialog shows each part's ROI with the
anomaly map over it, red at the threshold, and the part's score against the threshold.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QDialog, QGridLayout, QLabel, QVBoxLayout, QWidget

from app.jobs_bridge import JobWatcher
from app.part_strip import thumbnail
from inspection.jobs import Job, JobPool
from inspection.paths import Paths
from inspection.pipeline.preview import HeatmapPreview, heatmap_previews
from inspection.recipe import AnomalyToolSettings, Recipe
from inspection.types import Frame, Inspection

log = logging.getLogger(__name__)

RECENT_PARTS = 6
COLUMNS = 2


def anomaly_tools(recipe: Recipe) -> list[str]:
    return [t.id for t in recipe.tools if isinstance(t, AnomalyToolSettings)]


class RecentParts:
    """The last few inspected parts' frames by camera (kept for the preview, nothing else)."""

    def __init__(self, size: int = RECENT_PARTS) -> None:
        self._parts: deque[Inspection] = deque(maxlen=size)

    def add(self, inspection: Inspection) -> None:
        if inspection.frames:
            self._parts.append(inspection)

    def frames(self, camera: str) -> list[tuple[int, Frame]]:
        return [(i.part_seq, f) for i in self._parts for f in i.frames if f.camera == camera]


class HeatmapDialog(QDialog):
    """Runs the preview job for one defect tool and shows its results in a grid."""

    def __init__(
        self,
        recipe: Recipe,
        tool_id: str,
        paths: Paths,
        pool: JobPool,
        parts: Sequence[tuple[int, Frame]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Heatmaps — {tool_id}")
        self.message = QLabel(f"Scoring {len(parts)} recent parts with {tool_id}…")
        self.message.setStyleSheet("font-size: 18px;")
        self.grid = QGridLayout()
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addLayout(self.grid)
        self.previews: list[HeatmapPreview] = []
        self.job: Job[list[HeatmapPreview]] = pool.submit(
            f"heatmaps-{tool_id}",
            lambda progress, cancel: heatmap_previews(
                recipe, tool_id, paths, parts, progress=progress, cancel=cancel
            ),
        )
        self._watcher = JobWatcher(self.job, self, on_finished=self._on_finished)

    def _on_finished(self, job: Job[list[HeatmapPreview]]) -> None:
        self._watcher.detach()
        if job.error is not None:
            self.message.setText(f"No heatmaps: {job.error}")
            return
        self.previews = job.result()
        if not self.previews:
            self.message.setText("No part in the recent frames to show.")
            return
        self.message.setText("Red where a part reaches the threshold. Score / threshold per part.")
        for n, p in enumerate(self.previews):
            picture = QLabel()
            picture.setPixmap(QPixmap.fromImage(thumbnail(p.image, height=160)))
            verdict = "defect" if p.score >= p.threshold else "good"
            caption = QLabel(f"part {p.part_seq}: {p.score:.2f} / {p.threshold:.2f} ({verdict})")
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            caption.setStyleSheet("font-size: 16px;")
            self.grid.addWidget(picture, 2 * (n // COLUMNS), n % COLUMNS)
            self.grid.addWidget(caption, 2 * (n // COLUMNS) + 1, n % COLUMNS)

    def done(self, result: int) -> None:
        self._watcher.detach()
        self.job.cancel()
        super().done(result)
