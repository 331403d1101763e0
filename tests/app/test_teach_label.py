from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox
from support.pipeline_tools import good_part_image

from app.main_window import MainWindow
from inspection.paths import demo_recipe, user_paths
from inspection.pipeline.station import Station
from inspection.recipe import Recipe, load_recipe
from inspection.types import Frame


@pytest.fixture
def messages(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """QMessageBox statics recorded (kind, title, text) instead of blocking on a modal box."""
    calls: list[tuple[str, str, str]] = []

    def recorder(kind: str):
        def record(parent, title, text, *args, **kwargs):
            calls.append((kind, title, text))
            return QMessageBox.StandardButton.Ok

        return staticmethod(record)

    for kind in ("critical", "information", "warning"):
        monkeypatch.setattr(QMessageBox, kind, recorder(kind))
    return calls


def _station(recipe: Recipe) -> Station:
    return Station(recipe, paths=user_paths())


def _window(qtbot, *, start: bool) -> MainWindow:
    window = MainWindow(_station)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.open_recipe(demo_recipe(), start=start)
    qtbot.waitUntil(lambda: window.station is not None and not window.control.busy, timeout=10_000)
    return window


def _close(qtbot, window: MainWindow) -> None:
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=15_000)
    assert not window.jobs.running()


def test_teaches_the_label_from_a_rendered_frame(qtbot, messages) -> None:
    window = _window(qtbot, start=False)
    recipe = load_recipe(demo_recipe())
    reference = user_paths().models / recipe.name / "label.label.png"
    assert not reference.exists()

    with qtbot.waitSignal(window.label_teaching.taught, timeout=30_000) as taught:
        job = window.label_teaching.teach(recipe, "label", good_part_image(recipe))
    assert taught.args == ["label", reference]
    assert reference.is_file()
    assert job.done and job.result() == reference
    kind, title, text = messages[-1]
    assert (kind, title) == ("information", "Label taught")
    assert str(reference) in text
    _close(qtbot, window)


def test_no_label_in_the_roi_is_reported(qtbot, messages) -> None:
    window = _window(qtbot, start=False)
    recipe = load_recipe(demo_recipe())
    blank = np.full((1024, 1280), 40, dtype=np.uint8)
    with qtbot.waitSignal(window.label_teaching.failed, timeout=30_000) as failed:
        window.label_teaching.teach(recipe, "label", blank)
    tool_id, message = failed.args
    assert tool_id == "label"
    assert "no bright label rectangle found in region x=200 y=220" in message
    assert messages == [("critical", "Label not taught", message)]
    assert not (user_paths().models / recipe.name / "label.label.png").exists()
    _close(qtbot, window)


def test_current_frame_needs_a_frame(qtbot, messages) -> None:
    window = _window(qtbot, start=False)
    window.teach_label_action.trigger()
    assert [m[:2] for m in messages] == [("warning", "No frame to teach from")]
    assert not window.jobs.running()
    _close(qtbot, window)


def test_teaches_from_the_frame_on_screen_while_the_station_runs(qtbot, messages) -> None:
    window = _window(qtbot, start=True)
    station = window.station
    assert station is not None and window.teach_label_action.isEnabled()
    shown: list[Frame] = []

    def good_frame_on_screen() -> bool:
        # the simulated line also shows bad parts (skewed or missing labels): teach from a good one
        frame = station.newest_frame("cam1")
        if frame is not None and frame.truth is not None and frame.truth.is_good:
            shown.append(frame)
        return bool(shown)

    qtbot.waitUntil(good_frame_on_screen, timeout=20_000)
    cameras: list[str] = []

    def newest_frame(camera: str) -> Frame:
        cameras.append(camera)
        return shown[0]

    with qtbot.waitSignal(window.label_teaching.taught, timeout=30_000) as taught:
        window.label_teaching.teach_current_frame(station.recipe, newest_frame)
    assert cameras == ["cam1"]
    assert taught.args[0] == "label" and Path(taught.args[1]).is_file()
    assert window.control.running  # the line kept running while the label was taught
    assert window.station is station
    _close(qtbot, window)
