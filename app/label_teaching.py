"""Teach a label tool from the frame on screen, while the station keeps running.

``teach_label`` finds the label in the tool's ROI and writes the reference file, so it runs as a
job, never on the GUI thread. The running label tool notices the new file and reloads it itself.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QInputDialog, QMessageBox, QWidget

from app import confirm
from app.jobs_bridge import JobWatcher
from inspection.errors import LinesideError
from inspection.jobs import Job, JobPool
from inspection.paths import Paths
from inspection.pipeline.teaching import find_tool, teach_label, untaught_tools
from inspection.recipe import LabelToolSettings, Recipe

log = logging.getLogger(__name__)


def label_tools(recipe: Recipe) -> list[str]:
    return [t.id for t in recipe.tools if isinstance(t, LabelToolSettings)]


class LabelTeaching(QObject):
    """Runs label teaching jobs for a window and tells the user how each one went."""

    taught = Signal(str, object)  # tool id, Path of the reference written
    failed = Signal(str, str)  # tool id, message

    def __init__(self, pool: JobPool, paths: Paths, window: QWidget) -> None:
        super().__init__(window)
        self._pool = pool
        self._paths = paths
        self._window = window
        self._watchers: list[JobWatcher] = []

    def choose_tool(self, recipe: Recipe) -> str | None:
        """The label tool to teach: the only one, or the one the engineer picks."""
        tools = label_tools(recipe)
        if not tools:
            QMessageBox.information(
                self._window, "No label tool", f"Recipe {recipe.name} has no label tool."
            )
            return None
        if len(tools) == 1:
            return tools[0]
        tool, ok = QInputDialog.getItem(
            self._window, "Teach label", "Label tool to teach:", tools, 0, False
        )
        return tool if ok and tool else None

    def teach_current_frame(self, recipe: Recipe, newest_frame: Any) -> Job[Path] | None:
        """Teach from ``newest_frame(camera)`` of the chosen tool's camera (the frame on screen)."""
        tool_id = self.choose_tool(recipe)
        if tool_id is None:
            return None
        camera = recipe.camera_for(find_tool(recipe, tool_id))
        frame = newest_frame(camera)
        if frame is None:
            QMessageBox.warning(
                self._window,
                "No frame to teach from",
                f"Camera {camera} has not delivered a frame yet. Start the station, put a good "
                "part in front of the camera, then teach again.",
            )
            return None
        if not self.confirm_replace(recipe, tool_id):
            return None
        return self.teach(recipe, tool_id, frame.image)

    def confirm_replace(self, recipe: Recipe, tool_id: str) -> bool:
        """A tool taught already loses its label reference: ask first (True when untaught)."""
        if tool_id in untaught_tools(recipe, self._paths):
            return True
        return confirm.ask(
            self._window,
            "Teach label",
            f"Replace the taught label of tool {tool_id}?",
            f"The label reference tool {tool_id} checks parts against now is replaced by the "
            "label in the current frame, from the next part on. Make sure the part on screen "
            "is a good one.",
            yes=f"Replace {tool_id}'s label",
        )

    def teach(self, recipe: Recipe, tool_id: str, image: np.ndarray) -> Job[Path]:
        """Teach ``tool_id`` from ``image`` (uint8 (H, W) grey or (H, W, 3) BGR) as a job."""
        paths = self._paths

        def work(progress: Any, cancel: Any) -> Path:
            progress(0, 1, f"finding the label of {tool_id}")
            path = teach_label(recipe, tool_id, paths, image)
            progress(1, 1, f"label {tool_id} taught")
            return path

        log.info("teaching label tool %s of recipe %s from one frame", tool_id, recipe.name)
        job = self._pool.submit(f"teach-label-{tool_id}", work)
        made: list[JobWatcher] = []  # the slot runs queued, after the watcher exists
        watcher = JobWatcher(
            job, self, on_finished=lambda j, t=tool_id: self._on_finished(j, made[0], t)
        )
        made.append(watcher)
        self._watchers.append(watcher)
        return job

    def detach(self) -> None:
        """The window closes: no more signals or messages from jobs still ending."""
        for watcher in self._watchers:
            watcher.detach()
        self._watchers.clear()

    def _on_finished(self, job: Job[Path], watcher: JobWatcher, tool_id: str) -> None:
        watcher.detach()
        if watcher in self._watchers:
            self._watchers.remove(watcher)
        watcher.deleteLater()
        error = job.error
        if error is None:
            path = job.result()
            self.taught.emit(tool_id, path)
            QMessageBox.information(
                self._window,
                "Label taught",
                f"Label tool {tool_id} taught from the current frame.\nReference written to "
                f"{path}.\nThe running station uses it from the next part.",
            )
            return
        message = (
            str(error) if isinstance(error, LinesideError) else f"{type(error).__name__}: {error}"
        )
        self.failed.emit(tool_id, message)
        QMessageBox.critical(self._window, "Label not taught", message)
