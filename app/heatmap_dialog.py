"""Heatmaps of recent parts for a taught defect tool: where it looks, and what it finds.

The model runs as a job (never on the GUI thread); the dialog shows each part's ROI with the
anomaly map over it, red at the threshold, and the part's score against the threshold. The
engineer picks the last few parts or the last few failed ones (often the ones in question).
"""

from __future__ import annotations

import logging
from collections import deque

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.jobs_bridge import JobWatcher
from app.part_strip import thumbnail
from inspection.jobs import Job, JobPool
from inspection.paths import Paths
from inspection.pipeline.preview import HeatmapPreview, heatmap_previews
from inspection.recipe import AnomalyToolSettings, Recipe
from inspection.types import Frame, Inspection, Verdict

log = logging.getLogger(__name__)

RECENT_PARTS = 6
COLUMNS = 2
SCREEN_SHARE = 0.8  # of the screen's available area: big pictures, the window's edges on screen
RECENT, FAILED = "recent", "failed"


def anomaly_tools(recipe: Recipe) -> list[str]:
    return [t.id for t in recipe.tools if isinstance(t, AnomalyToolSettings)]


class RecentParts:
    """The last few inspected parts and the last few FAIL parts, with their frames and verdicts
    (kept for the preview, nothing else: at most ``2 × size`` parts)."""

    def __init__(self, size: int = RECENT_PARTS) -> None:
        self._parts: deque[Inspection] = deque(maxlen=size)
        self._failed: deque[Inspection] = deque(maxlen=size)

    def add(self, inspection: Inspection) -> None:
        if not inspection.frames:
            return
        self._parts.append(inspection)
        if inspection.verdict is Verdict.FAIL:
            self._failed.append(inspection)

    def parts(self, *, failed: bool = False) -> list[Inspection]:
        """Oldest first."""
        return list(self._failed if failed else self._parts)

    def frames(self, camera: str, *, failed: bool = False) -> list[tuple[int, Frame]]:
        """(part number, frame of ``camera``) of the kept parts, oldest first."""
        return [
            (i.part_seq, f)
            for i in self.parts(failed=failed)
            for f in i.frames
            if f.camera == camera
        ]


def screen_size(widget: QWidget | None) -> tuple[int, int]:
    """The available width and height (px) of the screen ``widget`` is on (else the primary)."""
    screen = widget.screen() if widget is not None else None
    screen = screen or QGuiApplication.primaryScreen()
    if screen is None:
        return 1280, 720
    area = screen.availableGeometry()
    return area.width(), area.height()


class HeatmapDialog(QDialog):
    """Runs the preview job for one defect tool and shows its results in a scrollable grid."""

    def __init__(
        self,
        recipe: Recipe,
        tool_id: str,
        paths: Paths,
        pool: JobPool,
        recent: RecentParts,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Heatmaps — {tool_id}")
        self._recipe = recipe
        self._tool_id = tool_id
        self._paths = paths
        self._pool = pool
        self._recent = recent
        self._camera = recipe.camera_for(next(t for t in recipe.tools if t.id == tool_id))
        self._verdicts: dict[int, Verdict] = {}

        self.choice_box = QComboBox()
        self.choice_box.addItem(f"Last {RECENT_PARTS} parts", RECENT)
        self.choice_box.addItem(f"Last {RECENT_PARTS} failed parts", FAILED)
        self.message = QLabel("")
        self.message.setStyleSheet("font-size: 18px;")
        self.message.setWordWrap(True)
        self.grid = QGridLayout()
        pictures = QWidget()
        pictures.setObjectName("heatmapGrid")
        pictures.setLayout(self.grid)
        self.scroll = QScrollArea()
        self.scroll.setObjectName("heatmapScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(pictures)
        # the scroll area's light default would hide the dark theme's light captions
        self.scroll.setStyleSheet(
            "QScrollArea#heatmapScroll, QWidget#heatmapGrid { background: transparent; }"
        )
        top = QHBoxLayout()
        top.addWidget(QLabel("Show"))
        top.addWidget(self.choice_box)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.scroll, 1)

        # sized to the screen from the start: never a tiny box that then grows off-screen
        width, height = screen_size(parent)
        self.resize(int(width * SCREEN_SHARE), int(height * SCREEN_SHARE))
        rows = -(-RECENT_PARTS // COLUMNS)
        self._thumb_px = max(120, min(360, int(height * SCREEN_SHARE) // rows - 80))

        self.previews: list[HeatmapPreview] = []
        self.job: Job[list[HeatmapPreview]] | None = None
        self._watcher: JobWatcher | None = None
        self.choice_box.currentIndexChanged.connect(lambda _i: self.score())
        self.score()

    def choice(self) -> str:
        return str(self.choice_box.currentData())

    def score(self) -> Job[list[HeatmapPreview]]:
        """Score the chosen parts as a job (a job still scoring the other choice is cancelled)."""
        self._stop_job()
        self._clear_grid()
        self.previews = []
        failed = self.choice() == FAILED
        chosen = self._recent.parts(failed=failed)
        self._verdicts = {i.part_seq: i.verdict for i in chosen}
        parts = self._recent.frames(self._camera, failed=failed)
        which = "failed parts" if failed else "recent parts"
        self.message.setText(f"Scoring {len(parts)} {which} with {self._tool_id}…")
        recipe, tool_id, paths = self._recipe, self._tool_id, self._paths
        job = self._pool.submit(
            f"heatmaps-{tool_id}",
            lambda progress, cancel: heatmap_previews(
                recipe, tool_id, paths, parts, progress=progress, cancel=cancel
            ),
        )
        self.job = job
        self._watcher = JobWatcher(job, self, on_finished=self._on_finished)
        return job

    def _stop_job(self) -> None:
        if self._watcher is not None:
            self._watcher.detach()
            self._watcher = None
        if self.job is not None:
            self.job.cancel()

    def _clear_grid(self) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()

    def _on_finished(self, job: Job[list[HeatmapPreview]]) -> None:
        if job is not self.job:
            return  # the other choice's job, cancelled
        if self._watcher is not None:
            self._watcher.detach()
        if job.error is not None:
            self.message.setText(f"No heatmaps: {job.error}")
            return
        self.previews = job.result()
        if not self.previews:
            failed = self.choice() == FAILED
            self.message.setText(
                "No failed part among the recent parts to show."
                if failed
                else "No part in the recent frames to show."
            )
            return
        self.message.setText("Red where a part reaches the threshold. Score / threshold per part.")
        for n, p in enumerate(self.previews):
            picture = QLabel()
            picture.setPixmap(QPixmap.fromImage(thumbnail(p.image, height=self._thumb_px)))
            picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
            seen = "defect" if p.score >= p.threshold else "good"
            verdict = self._verdicts.get(p.part_seq)
            line = f", line said {verdict.value}" if verdict is not None else ""
            caption = QLabel(f"part {p.part_seq}: {p.score:.2f} / {p.threshold:.2f} ({seen}{line})")
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            caption.setStyleSheet("font-size: 16px;")
            self.grid.addWidget(picture, 2 * (n // COLUMNS), n % COLUMNS)
            self.grid.addWidget(caption, 2 * (n // COLUMNS) + 1, n % COLUMNS)

    def done(self, result: int) -> None:
        self._stop_job()
        super().done(result)
