"""Edit tools: a tool's ROI dragged on its camera's frame lands in whole pixels inside the frame,
a label's field regions on its taught label, a typed invalid parameter turns Apply off and says
why, and Apply makes the main window run the next version with the new ROI.

Only the answers a person types are filled in (the reason); the rest is real: the dialog, the
station on the simulated line, the recipe files and their versions.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication
from support.recipes import MANUAL, write_recipe
from support.windows import close_window, open_window

from app import recipe_versions
from app.region_view import Rect, snapped
from app.tool_editor import ROI, ToolEditor
from inspection.jobs import JobPool
from inspection.paths import Paths, user_paths
from inspection.recipe import Recipe, load_recipe
from inspection.tuning import versions
from inspection.types import Frame

EDITED = """
schema_version: 1
name: edited
version: "7"
cameras:
  - id: cam1
    source: {type: synthetic, seed: 3, rate_hz: 20, width: 320, height: 240}
tools:
  - id: surface
    type: anomaly
    roi: {x: 40, y: 30, w: 100, h: 80}
  - id: label
    type: label
    fields:
      - name: lot
        region: {x: 10, y: 5, w: 60, h: 20}
        rule: batch
      - name: expiry
"""


@pytest.fixture
def pool() -> Iterator[JobPool]:
    jobs = JobPool()
    yield jobs
    assert jobs.shutdown(5.0)


@pytest.fixture
def paths(lineside_home: Path) -> Paths:
    return user_paths().ensure()


def live_frame(camera: str) -> Frame:
    image = np.zeros((240, 320), dtype=np.uint8)
    image[60:180, 80:240] = 200
    return Frame(camera=camera, seq=1, t_ns=1, image=image)


def open_editor(qtbot, recipe: Recipe, pool: JobPool, paths: Paths) -> ToolEditor:
    editor = ToolEditor(recipe, pool, paths, newest_frame=live_frame)
    # closed at the test's end without its "changes not applied" question, which nobody would
    # answer (a failed test must fail, not hang)
    qtbot.addWidget(editor, before_close_func=lambda w: w.discard_changes())
    editor.show()
    qtbot.waitExposed(editor)
    assert editor.frame_view.image_size == (320, 240)  # the live frame, at once
    return editor


def roi_of(recipe: Recipe, tool_id: str) -> tuple[int, int, int, int] | None:
    tool = next(t for t in recipe.tools if t.id == tool_id)
    r = tool.roi
    return None if r is None else (r.x, r.y, r.w, r.h)


def test_snapping_keeps_whole_pixels_inside_the_image() -> None:
    size = (320, 240)
    assert snapped(10.4, 20.6, 50.2, 30.3, size, False) == Rect(x=10, y=21, w=51, h=30)
    # dragged past the right edge: pushed back whole; resized past it: cut at the edge
    assert snapped(300.0, 10.0, 50.0, 30.0, size, True) == Rect(x=270, y=10, w=50, h=30)
    assert snapped(300.0, 10.0, 50.0, 30.0, size, False) == Rect(x=300, y=10, w=20, h=30)
    assert snapped(-8.0, -3.0, 20.0, 20.0, size, False) == Rect(x=0, y=0, w=12, h=17)
    assert snapped(50.0, 50.0, -20.0, 10.0, size, False) == Rect(x=30, y=50, w=20, h=10)


def test_dragging_the_roi_changes_the_recipe_by_whole_pixels(
    qtbot, tmp_path: Path, pool: JobPool, paths: Paths
) -> None:
    recipe = load_recipe(write_recipe(tmp_path, EDITED, "edited"))
    editor = open_editor(qtbot, recipe, pool, paths)
    roi = editor.frame_view.rois[ROI]
    assert editor.roi() == Rect(x=40, y=30, w=100, h=80)
    assert not editor.apply_button.isEnabled()

    # the bottom-right handle dragged to a point between pixels, as the mouse would move it
    corner = next(h for h in roi.handles if tuple(h["pos"]) == (1.0, 1.0))
    roi.movePoint(corner["item"], QPointF(160.4, 121.7), finish=True)
    assert editor.roi() == Rect(x=40, y=30, w=120, h=92)
    assert (roi.size().x(), roi.size().y()) == (120.0, 92.0)
    assert roi_of(editor.candidate(), "surface") == (40, 30, 120, 92)
    assert editor.apply_button.isEnabled()
    assert "surface.roi.w 100 → 120" in editor.change_label.text()

    # the top-left handle pulled outside the frame: cut at its edge
    origin = next(h for h in roi.handles if tuple(h["pos"]) == (0.0, 0.0))
    roi.movePoint(origin["item"], QPointF(-30.2, -12.9), finish=True)
    assert editor.roi() == Rect(x=0, y=0, w=160, h=122)

    # a real mouse drag on the rectangle's body moves it, whole, by whole pixels
    view = editor.frame_view
    start = view.mapFromScene(view.box.mapViewToScene(QPointF(80.0, 60.0)))
    end = view.mapFromScene(view.box.mapViewToScene(QPointF(131.3, 97.6)))
    drag(view.viewport(), start, end)
    moved = editor.roi()
    assert moved is not None and (moved.w, moved.h) == (160, 122)
    # Towards the drag's end, by whole pixels. After the other GUI tests pyqtgraph starts the
    # drag some pixels late (its start distance), so the exact distance is not asserted.
    assert 25 <= moved.x <= 52 and 19 <= moved.y <= 39, moved
    assert roi_of(editor.candidate(), "surface") == (moved.x, moved.y, 160, 122)

    # and the whole frame, no ROI at all
    editor.whole_frame.setChecked(True)
    assert roi_of(editor.candidate(), "surface") is None
    assert editor.roi_label.text() == "ROI: the whole frame"
    editor._candidate = None  # close without the unsaved-changes question
    editor.close()


def drag(widget, start: QPoint, end: QPoint) -> None:
    """Press, move in steps with the button held, release: what a hand on the mouse does."""
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    mods = Qt.KeyboardModifier.NoModifier

    def send(kind: QEvent.Type, at: QPoint, button, buttons) -> None:
        local = QPointF(at)
        event = QMouseEvent(kind, local, widget.mapToGlobal(local), button, buttons, mods)
        QApplication.sendEvent(widget, event)

    send(QEvent.Type.MouseButtonPress, start, left, left)
    for i in range(1, 11):
        step = start + (end - start) * (i / 10)
        send(QEvent.Type.MouseMove, step, none, left)
    send(QEvent.Type.MouseButtonRelease, end, left, none)


def test_a_typed_invalid_parameter_turns_apply_off_and_says_why(
    qtbot, tmp_path: Path, pool: JobPool, paths: Paths
) -> None:
    recipe = load_recipe(write_recipe(tmp_path, EDITED, "edited"))
    editor = open_editor(qtbot, recipe, pool, paths)
    form = editor.form
    assert form is not None and "roi" not in form.widgets and "id" not in form.widgets
    qtbot.keyClicks(form.widgets["min_area_px"], "-3")
    assert not editor.apply_button.isEnabled()
    assert "tools[0] (surface).min_area_px" in editor.error_label.text()
    assert "greater than or equal to 0" in editor.error_label.text()
    form.widgets["min_area_px"].setText("12")
    assert editor.error_label.text() == ""
    assert editor.apply_button.isEnabled()
    assert editor.change_label.text() == "Changes: surface.min_area_px 0 → 12"
    form.widgets["threshold"].setText("zero point six")
    assert not editor.apply_button.isEnabled()
    assert "tools[0] (surface).threshold" in editor.error_label.text()
    form.widgets["threshold"].setText("")  # empty: the taught one, as before
    form.widgets["min_area_px"].setText("")
    assert not editor.apply_button.isEnabled()
    assert editor.change_label.text() == "No change yet."
    editor.close()


def test_label_field_regions_are_edited_on_the_taught_label(
    qtbot, tmp_path: Path, pool: JobPool, paths: Paths
) -> None:
    recipe = load_recipe(write_recipe(tmp_path, EDITED, "edited"))
    reference = paths.models / "edited" / "label.label.png"
    reference.parent.mkdir(parents=True)
    cv2.imwrite(str(reference), np.full((60, 200), 180, dtype=np.uint8))
    editor = open_editor(qtbot, recipe, pool, paths)
    editor.tool_box.setCurrentIndex(editor.tool_box.findData("label"))
    assert editor.label_fields.isVisibleTo(editor)
    qtbot.waitUntil(lambda: editor.label_fields.view.image_size == (200, 60), timeout=5_000)
    assert "label.label.png: 200×60 px" in editor.label_fields.note.text()
    lot = editor.label_fields.view.rois["lot"]
    lot.setPos((150.6, 5.2))  # moved as a drag does: pushed back inside the label, whole
    assert editor.label_fields.fields["lot"] == Rect(x=140, y=5, w=60, h=20)

    editor.label_fields.field_box.setCurrentIndex(editor.label_fields.field_box.findData("expiry"))
    assert not editor.label_fields.field_region.isChecked()  # searched on the whole label
    editor.label_fields.field_region.setChecked(True)
    assert editor.label_fields.fields["expiry"] == Rect(x=50, y=15, w=100, h=15)
    fields = {f.name: f.region for f in editor.candidate().tools[1].fields}
    assert fields["lot"] is not None and (fields["lot"].x, fields["lot"].y) == (140, 5)
    assert fields["expiry"] is not None and fields["expiry"].w == 100
    assert "label.fields.lot.region.x 10 → 140" in editor.change_label.text()
    editor._candidate = None
    editor.close()


def test_apply_runs_the_next_version_with_the_new_roi(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, critical_calls
) -> None:
    asked: list[str] = []

    def ask_reason(parent, title, question, what_happens, *, ok):
        asked.append(what_happens)
        return "the code sits lower on the new carton"

    monkeypatch.setattr(recipe_versions, "ask_reason", ask_reason)
    path = write_recipe(tmp_path, MANUAL, "manual")
    window = open_window(qtbot, path, start=False)
    try:
        editor = window.open_tool_editor()
        assert editor is not None and editor.tool_id == "serial"
        # the station is stopped: a frame is taken from the camera itself, as a job
        qtbot.waitUntil(lambda: editor.frame_view.image_size is not None, timeout=10_000)
        roi = editor.frame_view.rois[ROI]
        roi.setPos((600.4, 250.2))  # as a drag leaves it
        assert editor.roi() == Rect(x=600, y=250, w=484, h=420)
        with qtbot.waitSignal(window.control.stationChanged, timeout=15_000):
            assert editor.ask_apply()
        assert (
            "manual is saved as version 2 (serial.roi.x 588 → 600; serial.roi.y 232 → 250)"
            in (asked[-1])
        )
        station = window.station
        assert station is not None and station.recipe.version == "2"
        assert roi_of(station.recipe, "serial") == (600, 250, 484, 420)
        assert roi_of(load_recipe(path), "serial") == (600, 250, 484, 420)
        entry = versions.versions(path)[0]
        assert (entry.version, entry.action) == ("2", "apply")
        assert entry.reason == "the code sits lower on the new carton"
        # the dialog follows the version in force: nothing left to apply
        assert editor.recipe.version == "2"
        assert not editor.apply_button.isEnabled()
        editor.close()
    finally:
        close_window(qtbot, window)
    assert not critical_calls
