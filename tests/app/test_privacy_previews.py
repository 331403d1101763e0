"""Privacy masks on every preview: the Cameras dialog shows masked frames; only the mask editor
shows a raw frame, under a visible "Unmasked: engineers only" banner."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage
from support.recipes import write_recipe
from support.windows import close_window, open_window

from app.camera_dialog import PREVIEW_H, PREVIEW_W
from app.mask_editor import UNMASKED_BANNER
from inspection.recipe import load_recipe
from inspection.sources.probe import probe_camera

# 640 × 480 frames; the left half of the frame is masked
MASKED_BAY = """
schema_version: 1
name: bay
cameras:
  - id: cam1
    source: {type: synthetic, seed: 3, mode: video, rate_hz: 20, width: 640, height: 480}
    health: {frozen_frames: 0}
    privacy_masks:
      - [[0, 0], [320, 0], [320, 480], [0, 480]]
"""


def grey_pixels(image: QImage) -> np.ndarray:
    """(h, w) uint8 grey values of a QImage."""
    grey = image.convertToFormat(QImage.Format.Format_Grayscale8)
    h, w = grey.height(), grey.width()
    raw = np.frombuffer(grey.constBits(), np.uint8, count=grey.bytesPerLine() * h)
    return raw.reshape(h, grey.bytesPerLine())[:, :w].copy()


def test_the_camera_dialog_preview_is_masked(qtbot, tmp_path: Path) -> None:
    path = write_recipe(tmp_path, MASKED_BAY, "bay")
    raw = probe_camera(load_recipe(path).cameras[0], frames=1).frame
    assert raw is not None and raw.image[:, 40:300].mean() > 20  # the camera sees something there
    window = open_window(qtbot, path, start=False)
    dialog = window.open_camera_dialog()
    assert dialog is not None

    assert dialog.test_connection() is not None
    qtbot.waitUntil(lambda: dialog.last_probe is not None, timeout=15_000)
    assert dialog.last_probe is not None and dialog.last_probe.frame is not None
    assert np.all(dialog.last_probe.frame.image[:, :320] == 0)
    pixmap = dialog.preview.pixmap()
    assert (pixmap.width(), pixmap.height()) == (PREVIEW_W, PREVIEW_H)  # 640 × 480 scaled by 0.75
    shown = grey_pixels(pixmap.toImage())
    assert np.all(shown[:, : 240 - 2] == 0)  # the masked half (a smoothed edge pixel aside)
    assert shown[:, 240 + 2 :].mean() > 20  # the rest is the line
    dialog.close()
    close_window(qtbot, window)


def test_the_mask_editor_marks_a_raw_frame_unmasked(qtbot, tmp_path: Path) -> None:
    path = write_recipe(tmp_path, MASKED_BAY, "bay")
    window = open_window(qtbot, path, start=False)
    editor = window.open_mask_editor()  # station stopped: a frame straight from the camera
    assert editor is not None
    qtbot.waitUntil(lambda: editor.image_item.image is not None, timeout=15_000)
    qtbot.waitExposed(editor)

    assert editor.image_item.image[:, :320].mean() > 20  # raw: the masked area is drawn on
    assert editor.unmasked_banner.isVisible()
    assert UNMASKED_BANNER == "Unmasked: engineers only"
    assert editor.unmasked_banner.text().startswith(UNMASKED_BANNER)
    editor.close()
    close_window(qtbot, window)


def test_the_mask_editor_shows_the_running_station_masked_without_the_banner(
    qtbot, tmp_path: Path
) -> None:
    path = write_recipe(tmp_path, MASKED_BAY, "bay")
    window = open_window(qtbot, path, start=True)
    qtbot.waitUntil(
        lambda: window.station is not None and window.station.newest_frame() is not None
    )
    editor = window.open_mask_editor()
    assert editor is not None
    qtbot.waitExposed(editor)
    assert editor.image_item.image is not None
    assert np.all(editor.image_item.image[:, :320] == 0)  # masked at acquisition
    assert not editor.unmasked_banner.isVisible()
    editor.close()
    close_window(qtbot, window)
