"""The operator's TRIGGER button: there only for software-triggered recipes, one part per press."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from support.recipes import MANUAL, write_recipe
from support.windows import close_window, open_window

from inspection.paths import demo_recipe


def test_trigger_button_takes_one_part_per_press(qtbot, tmp_path: Path) -> None:
    path = write_recipe(tmp_path, MANUAL, "manual")
    window = open_window(qtbot, path, start=True)
    screen = window.screen_widget
    button = screen.trigger_button
    qtbot.waitUntil(lambda: window.station is not None and window.station.camera_connected("cam1"))
    assert button.isVisible() and button.isEnabled()
    assert button.height() >= 60  # glove-sized like START/STOP
    assert screen.counters.counts.parts == 0  # nothing is inspected without a trigger
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.counters.counts.parts == 1, timeout=10_000)
    assert "Trigger 1" in window.statusBar().currentMessage()
    window.trigger_action.trigger()  # F5 does the same
    qtbot.waitUntil(lambda: screen.counters.counts.parts == 2, timeout=10_000)
    assert screen.lamp.verdict_label.text() in {"PASS", "FAIL"}
    close_window(qtbot, window)


def test_free_running_recipes_show_no_trigger_button(qtbot) -> None:
    window = open_window(qtbot, demo_recipe(), start=False)
    assert not window.screen_widget.trigger_button.isVisible()
    # F5 stays enabled so it can say why it takes no part (tests/app/test_confirmations.py)
    assert window.trigger_action.isEnabled()
    close_window(qtbot, window)
