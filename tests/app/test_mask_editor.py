"""Privacy masks drawn on the live image are saved into the recipe and black out the frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, Qt
from support.recipes import BAY, write_recipe
from support.windows import close_window, open_window

from inspection.paths import demo_recipe, user_paths
from inspection.recipe import load_recipe


def test_drawn_mask_is_saved_and_blacks_out_the_live_frames(
    qtbot, tmp_path: Path, questions
) -> None:
    path = write_recipe(tmp_path, BAY, "bay")
    window = open_window(qtbot, path, start=True)
    qtbot.waitUntil(
        lambda: window.station is not None and window.station.newest_frame() is not None
    )
    editor = window.open_mask_editor()
    assert editor is not None
    assert editor.image_item.image is not None  # the running station's newest frame
    first = editor._shown
    qtbot.waitUntil(lambda: editor._shown != first, timeout=5_000)  # and it stays live

    # a real click on the view lands on the frame pixel under the mouse
    qtbot.waitExposed(editor)
    view_pos = editor.box.mapViewToScene(editor.box.mapToView(editor.box.rect().center()))
    target = editor.view.mapFromScene(view_pos)
    qtbot.mouseClick(editor.view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(target))
    assert len(editor.drawing) == 1
    editor.undo_point()
    for x, y in [(10, 10), (200, 10), (200, 120), (10, 120)]:
        editor.add_point(x, y)
    assert editor.finish_area()
    editor.add_point(5000, -20)  # clipped to the frame
    assert editor.drawing == [(640.0, 0.0)]
    editor.undo_point()

    with qtbot.waitSignal(window.control.stationChanged, timeout=15_000):
        editor.save()
    assert questions.titles == ["Save privacy masks"]  # the running station restarts
    saved = load_recipe(path)
    assert saved.version == "2"
    assert saved.cameras[0].privacy_masks == [[(10, 10), (200, 10), (200, 120), (10, 120)]]
    station = window.station
    assert station is not None
    qtbot.waitUntil(lambda: station.running and station.newest_frame() is not None, timeout=15_000)
    image = station.newest_frame().image
    assert np.all(image[12:118, 12:198] == 0)  # masked before anyone sees the frame
    assert image[200:, 300:].mean() > 20  # the rest is the line
    editor.close()
    close_window(qtbot, window)


def test_the_shipped_demo_is_saved_as_a_copy_in_the_users_recipes(qtbot) -> None:
    window = open_window(qtbot, demo_recipe(), start=False)
    editor = window.open_mask_editor()
    assert editor is not None
    qtbot.waitUntil(lambda: editor.image_item.image is not None, timeout=15_000)  # taken as a job
    for x, y in [(0, 0), (100, 0), (100, 50)]:
        editor.add_point(x, y)
    before = demo_recipe().read_text(encoding="utf-8")
    with qtbot.waitSignal(window.control.stationChanged, timeout=15_000):
        editor.save()
    assert demo_recipe().read_text(encoding="utf-8") == before  # the install folder is untouched
    copy = user_paths().config / "recipes" / "demo.yaml"
    assert load_recipe(copy).cameras[0].privacy_masks == [[(0, 0), (100, 0), (100, 50)]]
    editor.close()
    close_window(qtbot, window)
