"""Teach good parts: the recipe's defect and label tools learn from parts shown to the camera.

Teaching reads the camera itself, so the station must not: a running station is stopped first
(through ``StationControl``, off the GUI thread), ``teach_from_line`` runs as a job of the window's
job pool, and the station is started again afterwards. A start builds the tools anew, so the
defect tools load the models just written.
"""

from __future__ import annotations

import logging
from enum import Enum
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app import confirm, theme
from app.jobs_bridge import JobWatcher
from app.station_control import StationControl
from inspection.errors import LinesideError
from inspection.jobs import Cancelled, Job, JobPool, JobProgress
from inspection.paths import Paths
from inspection.pipeline.teaching import TEACHABLE, teach_from_line, untaught_tools
from inspection.recipe import Recipe
from inspection.tools.anomaly import RETAUGHT

log = logging.getLogger(__name__)

DEFAULT_GOOD_PARTS = 100
MAX_GOOD_PARTS = 2000
_KIND = {"anomaly": "defect", "label": "label"}
DIALOG_TEXT_PX = 20
# The line's stylesheet colours labels and buttons only; these would stay black on the dark
# dialog. Touch-sized ticks: the station PC may have no mouse.
_STYLE = f"""
QWidget {{ font-size: {DIALOG_TEXT_PX}px; }}
QCheckBox, QGroupBox {{ color: {theme.TEXT}; }}
QCheckBox::indicator {{ width: 28px; height: 28px; }}
QCheckBox {{ spacing: 12px; padding: 6px 0; }}
"""


class Phase(Enum):
    IDLE = "idle"
    STOPPING = "stopping"  # waiting for the station to let go of the camera
    TEACHING = "teaching"
    DONE = "done"


def teachable_tools(recipe: Recipe) -> list[str]:
    """Ids of the recipe's tools that learn from good parts (defect and label tools)."""
    return [t.id for t in recipe.tools if t.type in TEACHABLE]


class TeachDialog(QDialog):
    """Choose the tools and the number of good parts, then teach with progress and Cancel."""

    taught = Signal(object)  # dict tool id → Path of the file written
    ended = Signal(str)  # "taught", "cancelled" or "failed", after the line's state is restored

    def __init__(
        self,
        recipe: Recipe,
        paths: Paths,
        pool: JobPool,
        control: StationControl,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Teach good parts — {recipe.name}")
        self.setObjectName("teachDialog")
        self.setStyleSheet(_STYLE)
        self.recipe = recipe
        self._paths = paths
        self._pool = pool
        self._control = control
        self.phase = Phase.IDLE
        self.job: Job[dict[str, Path]] | None = None
        self._watcher: JobWatcher | None = None
        self._was_running = False
        self._abandoned = False

        intro = QLabel(
            f"Recipe <b>{recipe.name}</b> v{recipe.version}. Show only <b>good</b> parts to "
            "the camera while teaching. A running station stops meanwhile and starts again "
            "with what was taught."
        )
        intro.setWordWrap(True)

        self.parts_spin = QSpinBox()
        self.parts_spin.setRange(1, MAX_GOOD_PARTS)
        self.parts_spin.setValue(DEFAULT_GOOD_PARTS)
        self.parts_spin.setSuffix(" parts")

        untaught = set(untaught_tools(recipe, paths))
        teachable = teachable_tools(recipe)
        # what was never taught is what the engineer came for; otherwise re-teach everything
        default = [t for t in teachable if t in untaught] or teachable
        self.tool_boxes: dict[str, QCheckBox] = {}
        tools_box = QGroupBox("Tools to teach")
        tools_layout = QVBoxLayout(tools_box)
        for tool in recipe.tools:
            if tool.id not in teachable:
                continue
            state = "not taught yet" if tool.id in untaught else "taught — teach again"
            box = QCheckBox(f"{tool.id}  ({_KIND[tool.type]} tool, {state})")
            box.setChecked(tool.id in default)
            box.toggled.connect(self._update_buttons)
            self.tool_boxes[tool.id] = box
            tools_layout.addWidget(box)

        form = QFormLayout()
        form.addRow("Good parts:", self.parts_spin)

        # A defect model taught again can be compared on the recorded parts before it is used
        self.beside_box = QCheckBox(
            "Keep the defect models in use: write the new ones beside them, then compare with "
            "Teach → Re-score… and apply one as a recipe version"
        )
        self.beside_box.setObjectName("teachBeside")
        taught_defects = [
            t.id
            for t in recipe.tools
            if t.type == "anomaly" and t.id in teachable and t.id not in untaught
        ]
        self.beside_box.setVisible(bool(taught_defects))
        self.beside_box.setChecked(False)

        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("%v / %m")
        self.progress_bar.setTextVisible(False)  # "0 / 1" before anything started says nothing
        self.progress_bar.setMinimumHeight(36)
        self.message_label = QLabel("Ready.")
        self.message_label.setWordWrap(True)
        self.result_label = QLabel("")
        self.result_label.setObjectName("teachResult")
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.teach_button = QPushButton("Teach")
        self.teach_button.setDefault(True)
        self.teach_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.teach_button, self.cancel_button, self.close_button):
            button.setMinimumHeight(theme.BUTTON_MIN_PX)
            button.setMinimumWidth(theme.BUTTON_MIN_PX * 2)
            buttons.addWidget(button)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(tools_box)
        layout.addWidget(self.beside_box)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.message_label)
        layout.addWidget(self.result_label)
        layout.addLayout(buttons)
        self.setMinimumWidth(720)
        self._update_buttons()

    # ---- what the engineer chose ---------------------------------------------------------------

    def selected_tools(self) -> list[str]:
        return [tool_id for tool_id, box in self.tool_boxes.items() if box.isChecked()]

    @property
    def busy(self) -> bool:
        return self.phase in (Phase.STOPPING, Phase.TEACHING)

    # ---- running -------------------------------------------------------------------------------

    def start(self) -> None:
        """Stop the station if it runs, then teach the chosen tools as a job.

        Tools taught already lose their model or label: asked first, naming them."""
        if self.busy or not self.selected_tools():
            return
        if not self.confirm_replace():
            self.message_label.setText("Nothing taught; the models in use stay.")
            return
        self._was_running = self._control.running
        self.result_label.setText("")
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.phase = Phase.STOPPING
        self._update_buttons()
        if self._control.running or self._control.busy:
            self.message_label.setText("Stopping the station…")
            self._control.stateChanged.connect(self._on_line_state)
            if not self._control.busy:
                self._control.stop()
            return
        self._submit()

    def cancel(self) -> None:
        """Cancel the teaching (nothing is changed); when idle, close the dialog."""
        if self.phase is Phase.TEACHING and self.job is not None:
            self.message_label.setText("Cancelling…")
            self.cancel_button.setEnabled(False)
            self.job.cancel()
        elif self.phase is Phase.STOPPING:
            self._control.stateChanged.disconnect(self._on_line_state)
            self._finish("cancelled", "Teaching cancelled; nothing was changed.")
        else:
            self.reject()

    def abandon(self) -> None:
        """The window closes: cancel the job and leave the station as it is."""
        self._abandoned = True
        if self._watcher is not None:
            self._watcher.detach()
        if self.job is not None:
            self.job.cancel()
        if self.phase is Phase.STOPPING:
            self._control.stateChanged.disconnect(self._on_line_state)
        self.phase = Phase.DONE

    def reject(self) -> None:
        # Escape or the window's close button while teaching: cancel, and stay until it ended
        if self.busy:
            self.cancel()
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.busy:
            self.cancel()
            event.ignore()
            return
        super().closeEvent(event)

    def replaced_tools(self) -> list[str]:
        """The chosen tools that are taught already (read from disk now, not when opened)."""
        untaught = set(untaught_tools(self.recipe, self._paths))
        kept = self.beside  # defect models taught beside stay in use
        types = {t.id: t.type for t in self.recipe.tools}
        return [
            t
            for t in self.selected_tools()
            if t not in untaught and not (kept and types[t] == "anomaly")
        ]

    @property
    def beside(self) -> bool:
        """Defect tools that have a model are taught beside it (it stays in use)."""
        return not self.beside_box.isHidden() and self.beside_box.isChecked()

    def confirm_replace(self) -> bool:
        replaced = self.replaced_tools()
        if not replaced:
            return True
        kinds = {t.id: _KIND[t.type] for t in self.recipe.tools if t.id in replaced}
        what = ", ".join(
            f"the {kinds[t]} {'model' if kinds[t] == 'defect' else 'reference'} of {t}"
            for t in replaced
        )
        running = (
            " The station stops while teaching and starts again afterwards."
            if self._control.running
            else ""
        )
        return confirm.ask(
            self,
            "Teach again",
            f"Replace {what}?",
            f"Teaching again replaces {what} with what the next {self.parts_spin.value()} "
            f"parts show. The one in use now is overwritten; Cancel keeps it.{running}",
            yes="Replace and teach",
        )

    # ---- internals -----------------------------------------------------------------------------

    def _on_line_state(self, running: bool, busy: bool) -> None:
        if self.phase is not Phase.STOPPING or busy:
            return
        if running:  # it was starting when we asked; now stop it
            self._control.stop()
            return
        self._control.stateChanged.disconnect(self._on_line_state)
        self._submit()

    def _submit(self) -> None:
        recipe, paths = self.recipe, self._paths
        tools, parts = self.selected_tools(), self.parts_spin.value()
        self.phase = Phase.TEACHING
        self.message_label.setText(f"Collecting {parts} good parts…")
        self._update_buttons()
        log.info("teaching %s of recipe %s from %d good parts", tools, recipe.name, parts)

        beside = self.beside

        def work(progress: Any, cancel: Any) -> dict[str, Path]:
            return teach_from_line(
                recipe,
                paths,
                good_parts=parts,
                tools=tools,
                progress=progress,
                cancel=cancel,
                beside=beside,
            )

        self.job = self._pool.submit(f"teach-{recipe.name}", work)
        self._watcher = JobWatcher(
            self.job, self, on_progress=self._on_progress, on_finished=self._on_finished
        )

    def _on_progress(self, progress: JobProgress) -> None:
        if self.phase is not Phase.TEACHING:
            return
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setRange(0, max(progress.total, 1))
        self.progress_bar.setValue(min(progress.done, max(progress.total, 1)))
        self.message_label.setText(f"{progress.message} ({progress.done} / {progress.total})")

    def _on_finished(self, job: Job[dict[str, Path]]) -> None:
        if self._watcher is not None:
            self._watcher.detach()
        if self._abandoned:
            return
        error = job.error
        if error is None:
            written = job.result()
            self.progress_bar.setValue(self.progress_bar.maximum())
            lines = "<br>".join(f"<b>{tool}</b> → {path}" for tool, path in written.items())
            after = (
                "The station starts again with them."
                if self._was_running
                else "They are used when the station starts."
            )
            if any(RETAUGHT in p.name for p in written.values()):
                after = (
                    "Models written beside the ones in use are not used yet: Teach → "
                    "Re-score… compares them on the recorded parts and applies one. " + after
                )
            self.result_label.setText(f"Written:<br>{lines}<br>{after}")
            for tool_id in written:
                box = self.tool_boxes.get(tool_id)
                if box is not None:
                    box.setText(box.text().replace("not taught yet", "taught just now"))
            self.adjustSize()  # room for the list of files, without squeezing the tools
            log.info("teaching wrote %s", {t: str(p) for t, p in written.items()})
            self.taught.emit(written)
            self._finish("taught", "Teaching done.")
        elif isinstance(error, Cancelled):
            self._finish("cancelled", "Teaching cancelled; nothing was changed.")
        else:
            message = (
                str(error)
                if isinstance(error, LinesideError)
                else f"{type(error).__name__}: {error}"
            )
            self._finish("failed", "Teaching failed; nothing was changed.")
            QMessageBox.critical(self, "Teaching failed", message)

    def _finish(self, outcome: str, message: str) -> None:
        self.phase = Phase.DONE
        self.message_label.setText(message)
        if self._was_running:
            self._control.start()
        self._update_buttons()
        self.ended.emit(outcome)

    def _update_buttons(self) -> None:
        busy = self.busy
        self.teach_button.setEnabled(not busy and bool(self.selected_tools()))
        self.teach_button.setText("Teach again" if self.phase is Phase.DONE else "Teach")
        self.cancel_button.setEnabled(busy)
        self.close_button.setEnabled(not busy)
        self.parts_spin.setEnabled(not busy)
        for box in self.tool_boxes.values():
            box.setEnabled(not busy)
