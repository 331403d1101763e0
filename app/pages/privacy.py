"""Privacy page: "What this station records", for the people on the line, and Save as PDF….

A thin view over ``inspection.privacy``: the notice is built by the core in the job pool (taking
a camera's picture may wait for it, and reading the station settings touches the disk), then its
sections and the mask drawings are laid out here. While the station runs, its newest (already
masked) frames are used and the cameras are left alone; a stopped station's cameras are asked
for one picture each, with a timeout. The notice is built anew each time the page is shown, so
it always follows the recipe in force.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from PySide6.QtCore import Qt, Signal, SignalInstance
from PySide6.QtGui import QImage, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.jobs_bridge import PageJobs
from inspection.errors import LinesideError
from inspection.jobs import Job, JobPool
from inspection.paths import Paths
from inspection.privacy import TITLE, PrivacyNotice, build_notice
from inspection.privacy.notice import INTRO
from inspection.privacy.notice_pdf import write_notice_pdf
from inspection.recipe.station import load_station_settings

if TYPE_CHECKING:
    from inspection.pipeline.station import Station

log = logging.getLogger(__name__)
T = TypeVar("T")

HEADING_PX = 28
TEXT_PX = 20
PICTURE_PX = 520
"""Width of each mask drawing on the page."""
CAMERA_TIMEOUT_S = 3.0


def _pixmap(image: np.ndarray, width: int) -> QPixmap:
    """A uint8 (H, W, 3) BGR picture as a pixmap ``width`` pixels wide."""
    rgb = np.ascontiguousarray(image[:, :, ::-1])
    h, w = rgb.shape[:2]
    qimage = QImage(rgb.data, w, h, rgb.strides[0], QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(qimage).scaledToWidth(
        width, Qt.TransformationMode.SmoothTransformation
    )


def _label(text: str, px: int, *, bold: bool = False, name: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)  # recipe text is never markup
    label.setWordWrap(True)
    label.setFont(theme.font(px, bold=bold))
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if name:
        label.setObjectName(name)
    return label


class PrivacyPage(QWidget):
    """The notice as the station's configuration says it today; ``Save as PDF…`` prints it."""

    noticeShown = Signal(object)  # the PrivacyNotice now on screen
    noticeFailed = Signal(str)
    saved = Signal(object)  # Path of the PDF written
    saveFailed = Signal(str)

    def __init__(
        self,
        paths: Paths,
        jobs: JobPool,
        station: Callable[[], Station | None],
        recipe_file: Callable[[], Path | None] = lambda: None,
        parent: QWidget | None = None,
    ) -> None:
        """``station()``: the window's station (its recipe, and its frames while it runs);
        ``recipe_file()``: the file that recipe came from, named at the foot of the notice."""
        super().__init__(parent)
        self.setObjectName("privacyPage")
        self.paths = paths
        self._station = station
        self._recipe_file = recipe_file
        self._jobs = PageJobs(jobs, self)
        self.notice: PrivacyNotice | None = None
        self.build_job: Job[PrivacyNotice] | None = None
        self.save_job: Job[Path] | None = None

        self.title = _label(TITLE, HEADING_PX + 8, bold=True, name="privacyTitle")
        self.subtitle = _label("", TEXT_PX, name="privacySubtitle")
        self.intro = _label(INTRO, TEXT_PX, bold=True)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Build the notice again, with new camera pictures")
        self.refresh_button.clicked.connect(self.refresh)
        self.save_button = QPushButton("Save as PDF…")
        self.save_button.setObjectName("privacySavePdf")
        self.save_button.setToolTip("An A4 PDF to pin up beside the station or hand out")
        self.save_button.clicked.connect(self.choose_pdf)
        self.save_button.setEnabled(False)
        for button in (self.refresh_button, self.save_button):
            button.setMinimumHeight(theme.button_height(self))
        self.status = _label("", theme.CAPTION_PX, name="privacyStatus")

        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        self.sections_box = QVBoxLayout()
        self.sections_box.setSpacing(6)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.intro)
        layout.addLayout(self.sections_box)
        layout.addStretch(1)
        self.section_labels: dict[str, QLabel] = {}
        self.picture_labels: dict[str, QLabel] = {}

    # ---- building ------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> Job[PrivacyNotice] | None:
        """Build the notice from the recipe in force (in the job pool); None without a recipe
        or while a build is under way."""
        if self.build_job is not None and not self.build_job.done:
            return None
        station = self._station()
        if station is None:
            self.status.setText("Open a recipe first: the notice is made from it.")
            return None
        recipe = station.recipe
        # a running station holds its cameras: use what it shows (masked), never open them again
        running = station.running
        frames: dict[str, np.ndarray] = {}
        if running:
            for cam in recipe.cameras:
                frame = station.newest_frame(cam.id)
                if frame is not None:
                    frames[cam.id] = frame.image
        recipe_file = self._recipe_file()
        paths = self.paths

        def build(_progress: Any, cancel: threading.Event) -> PrivacyNotice:
            return build_notice(
                recipe,
                load_station_settings(paths.station_file),
                paths,
                recipe_file=recipe_file,
                frames=frames,
                use_cameras=not running,
                timeout_s=CAMERA_TIMEOUT_S,
                cancel=cancel,
            )

        self.status.setText("Taking the cameras' pictures…" if not running else "Making…")
        self.build_job = self._jobs.submit("privacy notice", build, self._built)
        return self.build_job

    def _built(self, job: Job[PrivacyNotice]) -> None:
        notice = self._outcome(job, "The notice cannot be made", self.noticeFailed)
        if notice is not None:
            self.show_notice(notice)

    def _outcome(self, job: Job[T], failed: str, signal: SignalInstance) -> T | None:
        """The job's result, or None after saying why it failed (``failed``: the words before
        the reason) and emitting ``signal`` with the reason."""
        try:
            return job.result()
        except LinesideError as exc:
            reason = str(exc)
            self.status.setText(f"{failed}: {exc}")
        except Exception as exc:  # shown, logged with its traceback; the page stays usable
            log.exception("privacy page: %s", failed)
            reason = str(exc)
            self.status.setText(f"{failed}: {type(exc).__name__}: {exc}")
        signal.emit(reason)
        return None

    def show_notice(self, notice: PrivacyNotice) -> None:
        """Lay out ``notice``: its sections, then each camera's mask drawing."""
        self.notice = notice
        self.subtitle.setText(notice.subtitle)
        self._clear_sections()
        for i, section in enumerate(notice.sections()):
            heading = _label(section.heading, HEADING_PX, bold=True)
            heading.setContentsMargins(0, 14, 0, 0)  # sections apart at a glance
            body = _label("\n".join(f"•  {s}" for s in section.sentences), TEXT_PX)
            self.sections_box.addWidget(heading)
            self.sections_box.addWidget(body)
            self.section_labels[section.heading] = body
            if i == 0:
                self.sections_box.addWidget(self._pictures(notice))
        self.sections_box.addWidget(_label(notice.footer, theme.CAPTION_PX))
        self.save_button.setEnabled(True)
        self.status.setText("")
        self.noticeShown.emit(notice)

    def _pictures(self, notice: PrivacyNotice) -> QWidget:
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        for i, cam in enumerate(notice.cameras):
            picture = QLabel()
            picture.setObjectName(f"privacyPicture_{cam.camera}")
            picture.setPixmap(_pixmap(cam.picture.image, PICTURE_PX))
            picture.setToolTip(cam.picture.note)
            caption = _label(f"Camera {cam.camera}: {cam.picture.note}.", theme.CAPTION_PX)
            cell = QVBoxLayout()
            cell.addWidget(picture)
            cell.addWidget(caption)
            cell.addStretch(1)
            grid.addLayout(cell, i // 2, i % 2)
            self.picture_labels[cam.camera] = picture
        return box

    def _clear_sections(self) -> None:
        while self.sections_box.count():
            item = self.sections_box.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.section_labels.clear()
        self.picture_labels.clear()

    # ---- saving --------------------------------------------------------------------------

    def choose_pdf(self) -> None:
        start = str(self.paths.reports / "privacy-notice.pdf")
        path, _ = QFileDialog.getSaveFileName(self, "Save the notice as PDF", start, "PDF (*.pdf)")
        if path:
            self.save_pdf(Path(path) if path.lower().endswith(".pdf") else Path(f"{path}.pdf"))

    def save_pdf(self, path: Path) -> Job[Path] | None:
        """Write the notice on screen as an A4 PDF at ``path`` (in the job pool)."""
        notice = self.notice
        if notice is None or (self.save_job is not None and not self.save_job.done):
            return None
        self.save_button.setEnabled(False)
        self.status.setText(f"Saving {path}…")
        self.save_job = self._jobs.submit(
            "privacy notice PDF", lambda _p, _c: write_notice_pdf(notice, path), self._saved
        )
        return self.save_job

    def _saved(self, job: Job[Path]) -> None:
        self.save_button.setEnabled(self.notice is not None)
        path = self._outcome(job, "Not saved", self.saveFailed)
        if path is None:
            return
        self.status.setText(f"Saved {path}")
        self.saved.emit(path)

    def detach(self) -> None:
        """No job's answer reaches the page any more (before it goes away)."""
        self._jobs.detach()
