"""Opening and closing the main window in GUI tests (plain helpers, not fixtures)."""

from __future__ import annotations

from pathlib import Path

from app.main_window import MainWindow
from inspection.paths import user_paths
from inspection.pipeline.station import Station
from inspection.recipe import Recipe


def make_station(recipe: Recipe) -> Station:
    """The station factory the window uses: results under the test's LINESIDE_HOME."""
    return Station(recipe, paths=user_paths())


def open_window(
    qtbot, recipe_path: Path, *, start: bool, size: tuple[int, int] | None = (1280, 800)
) -> MainWindow:
    """A shown main window on ``recipe_path``, once its station is built (and started)."""
    window = MainWindow(make_station)
    qtbot.addWidget(window)
    if size is not None:
        window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    assert window.open_recipe(recipe_path, start=start)
    qtbot.waitUntil(lambda: window.station is not None and not window.control.busy, timeout=10_000)
    return window


def close_window(qtbot, window: MainWindow) -> None:
    """Close the window and wait until it is gone (its station stopped off the GUI thread)."""
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=15_000)
