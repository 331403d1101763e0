from __future__ import annotations

import threading
from pathlib import Path

from support.windows import close_window, make_station, open_window

from app.main_window import MainWindow
from inspection.paths import demo_recipe


def _window(qtbot, recipe_path: Path, *, start: bool) -> MainWindow:
    return open_window(qtbot, recipe_path, start=start)


def _close(qtbot, window: MainWindow) -> None:
    close_window(qtbot, window)
    assert window.station is None or not window.station.running


def test_broken_recipe_is_refused_and_the_old_one_stays(
    qtbot, tmp_path: Path, folder_recipe: Path, critical_calls
) -> None:
    window = _window(qtbot, folder_recipe, start=False)
    station = window.station
    title = window.windowTitle()
    assert "folderline" in title

    broken = tmp_path / "broken.yaml"
    broken.write_text("schema_version: 1\nname: broken\ncameras: []\n", encoding="utf-8")
    assert not window.open_recipe(broken)

    assert len(critical_calls) == 1
    heading, message = critical_calls[0]
    assert heading == "Recipe not loaded"
    assert "broken.yaml" in message and "cameras" in message
    assert window.station is station
    assert window.windowTitle() == title
    assert window.screen_widget.recipe_label.text().startswith("folderline")
    _close(qtbot, window)


def test_buttons_are_glove_sized(qtbot, folder_recipe: Path) -> None:
    window = _window(qtbot, folder_recipe, start=False)
    screen = window.screen_widget
    for button in (screen.start_stop_button, screen.reset_button):
        assert button.height() >= 60, button.text()
    _close(qtbot, window)


def test_runs_a_folder_line_then_stops_without_leftover_threads(qtbot, folder_recipe: Path) -> None:
    window = _window(qtbot, folder_recipe, start=True)
    screen = window.screen_widget
    assert window.control.running
    assert screen.start_stop_button.text() == "STOP"

    # the lamp waits for the first part shown after the station was set (the counts may be
    # ahead: parts inspected while the window took the new station)
    qtbot.waitUntil(
        lambda: screen.counters.counts.parts > 5 and screen.lamp.verdict_label.text() != "—",
        timeout=20_000,
    )
    # blank images carry no code: every part is a reject with the tool's reason
    assert screen.lamp.verdict_label.text() == "FAIL"
    assert screen.lamp.reason_label.text()
    assert screen.strip.entries[0].pixmap is not None
    qtbot.waitUntil(lambda: screen.live_view.image_item.image is not None)

    screen.start_stop_button.click()
    qtbot.waitUntil(lambda: not window.control.busy and not window.control.running, timeout=15_000)
    assert screen.start_stop_button.text() == "START"
    assert screen.start_stop_button.isEnabled()
    names = {t.name for t in threading.enumerate()}
    assert not {n for n in names if n.startswith(("acq-", "worker-", "dispatcher"))}

    _close(qtbot, window)


def test_reset_counts_starts_from_zero(qtbot, folder_recipe: Path, questions) -> None:
    window = _window(qtbot, folder_recipe, start=True)
    screen = window.screen_widget
    qtbot.waitUntil(lambda: screen.counters.counts.parts > 2, timeout=20_000)
    screen.start_stop_button.click()
    qtbot.waitUntil(lambda: not window.control.busy and not window.control.running, timeout=15_000)

    screen.reset_button.click()  # asked first (tests/app/test_confirmations.py); answered Yes
    assert [q for _t, q, _c in questions.asked] == ["Start a new shift count?"]
    qtbot.waitUntil(lambda: screen.counters.total.value.text() == "0", timeout=5_000)
    assert window.station is not None and window.station.counters().parts == 0
    _close(qtbot, window)


def test_demo_recipe_end_to_end(qtbot, tmp_path: Path) -> None:
    text = demo_recipe().read_text(encoding="utf-8")
    assert "rate_hz: 4" in text
    recipe = tmp_path / "demo-short.yaml"
    recipe.write_text(text.replace("rate_hz: 4", "rate_hz: 20\n      parts: 60"), "utf-8")

    window = _window(qtbot, recipe, start=True)
    screen = window.screen_widget
    assert window.windowTitle().startswith("Lineside — demo")

    qtbot.waitUntil(lambda: screen.counters.counts.parts > 5, timeout=30_000)
    assert screen.lamp.verdict_label.text() in {"PASS", "FAIL", "ERROR"}
    assert len(screen.strip.entries) >= 5
    qtbot.waitUntil(lambda: screen.live_view.image_item.image is not None)
    assert screen.live_view.frame_shape == (1024, 1280)
    screen.poll_counters()
    assert "fps" in screen.status.fps.text()

    _close(qtbot, window)
    names = {t.name for t in threading.enumerate()}
    assert not {n for n in names if n.startswith(("acq-", "worker-", "dispatcher", "station-"))}


def test_first_use_of_the_demo_teaches_the_label_from_the_simulated_line(
    qtbot, tmp_path: Path, lineside_home: Path
) -> None:
    window = MainWindow(make_station, teach_on_first_use=True)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.open_recipe(demo_recipe(), start=True)
    qtbot.waitUntil(lambda: window.teach_dialog is not None, timeout=10_000)
    dialog = window.teach_dialog
    assert dialog is not None
    with qtbot.waitSignal(dialog.ended, timeout=120_000) as ended:
        pass
    assert ended.args == ["taught"]
    assert (lineside_home / "data" / "models" / "demo" / "label.label.png").is_file()
    # the station starts only now, taught: no part was recorded as "not taught yet"
    qtbot.waitUntil(lambda: window.control.running and not window.control.busy, timeout=20_000)
    station = window.station
    assert station is not None
    qtbot.waitUntil(lambda: station.counters().parts >= 2, timeout=30_000)
    assert station.counters().errors == 0
    _close(qtbot, window)


def test_shifts_and_reports_settings_reach_the_running_station(qtbot, folder_recipe: Path) -> None:
    from inspection.recipe.station import ShiftCalendar, StationSettings

    window = _window(qtbot, folder_recipe, start=True)
    station = window.station
    assert station is not None
    qtbot.waitUntil(lambda: station.station_settings is not None, timeout=10_000)

    dialog = window.open_station_settings()
    new = StationSettings(line="Line 7", calendar=ShiftCalendar(timezone="Asia/Tokyo"))
    dialog.saved.emit(new)
    assert station.station_settings == new  # parts recorded from now on carry Line 7's shifts

    dialog.close()
    _close(qtbot, window)
