"""Actions that lose counts, models, edits or inspection time ask first, saying what is lost."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QMainWindow, QMenu, QMessageBox
from support.pipeline_tools import good_part_image
from support.recipes import BAY, MANUAL, write_recipe
from support.windows import close_window, open_window

from app import confirm
from app.recipe_saving import next_version
from app.teach_dialog import Phase
from inspection.paths import demo_recipe, resources_dir, user_paths
from inspection.pipeline.teaching import teach_label
from inspection.recipe import load_recipe
from inspection.types import Frame


@pytest.fixture
def boxes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """QMessageBox information / warning / critical recorded instead of blocking."""
    calls: list[tuple[str, str]] = []

    def record(parent, title, text, *args, **kwargs):
        calls.append((title, text))
        return QMessageBox.StandardButton.Ok

    for kind in ("critical", "information", "warning"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(record))
    return calls


def _recipe_file(tmp_path: Path, text: str = BAY, name: str = "bay") -> Path:
    return write_recipe(tmp_path, text, name)


def _answer_box(qtbot, act) -> dict[str, object]:
    """Run ``act(box)`` on the modal message box once it is up (from inside its event loop)."""
    seen: dict[str, object] = {}

    def poke() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, poke)
            return
        seen["default"] = box.defaultButton().text() if box.defaultButton() else None
        seen["text"], seen["cost"] = box.text(), box.informativeText()
        act(box)

    QTimer.singleShot(0, poke)
    return seen


# ---- the one place that asks -----------------------------------------------------------------


def test_ask_names_the_cost_and_defaults_to_the_safe_answer(qtbot) -> None:
    seen = _answer_box(qtbot, lambda box: qtbot.keyClick(box, Qt.Key.Key_Return))
    assert not confirm.ask(None, "T", "Reset?", "You lose X.", yes="Reset", no="Keep")
    assert seen == {"default": "Keep", "text": "Reset?", "cost": "You lose X."}

    seen = _answer_box(qtbot, lambda box: qtbot.keyClick(box, Qt.Key.Key_Escape))
    assert not confirm.ask(None, "T", "Reset?", "You lose X.", yes="Reset")

    def click_yes(box: QMessageBox) -> None:
        next(b for b in box.buttons() if b.text() == "Reset").click()

    _answer_box(qtbot, click_yes)
    assert confirm.ask(None, "T", "Reset?", "You lose X.", yes="Reset")


def test_unsaved_changes_offers_save_discard_cancel(qtbot) -> None:
    seen = _answer_box(qtbot, lambda box: qtbot.keyClick(box, Qt.Key.Key_Escape))
    assert confirm.unsaved_changes(None, "cameras", "cam2 is lost") is confirm.Unsaved.CANCEL
    assert seen["text"] == "Discard your changes to cameras?"
    assert seen["cost"] == "cam2 is lost"

    def click(role: QMessageBox.StandardButton):
        return lambda box: box.button(role).click()

    _answer_box(qtbot, click(QMessageBox.StandardButton.Save))
    assert confirm.unsaved_changes(None, "cameras", "") is confirm.Unsaved.SAVE
    _answer_box(qtbot, click(QMessageBox.StandardButton.Discard))
    assert confirm.unsaved_changes(None, "cameras", "") is confirm.Unsaved.DISCARD


# ---- reset counts ----------------------------------------------------------------------------


def test_reset_counts_asks_and_keeps_counting_when_declined(
    qtbot, folder_recipe: Path, questions
) -> None:
    window = open_window(qtbot, folder_recipe, start=True)
    screen = window.screen_widget
    station = window.station
    assert station is not None
    qtbot.waitUntil(lambda: station.counters().parts > 2, timeout=20_000)

    questions.reply = False
    screen.reset_button.click()
    _title, question, cost = questions.asked[-1]
    assert question == "Start a new shift count?"
    assert "TOTAL, PASS, FAIL and ERROR go back to 0" in cost
    assert "a serial repeated from before will not be caught as a duplicate" in cost
    assert "Recorded parts stay in the database" in cost
    before = station.counters().parts
    assert before > 2
    qtbot.waitUntil(lambda: station.counters().parts > before, timeout=20_000)  # never zeroed

    questions.reply = True
    screen.start_stop_button.click()
    qtbot.waitUntil(lambda: not window.control.busy and not window.control.running, timeout=15_000)
    screen.reset_button.click()
    qtbot.waitUntil(lambda: station.counters().parts == 0, timeout=5_000)
    qtbot.waitUntil(lambda: screen.counters.total.value.text() == "0", timeout=5_000)
    assert len(questions.asked) == 2
    close_window(qtbot, window)


# ---- quitting --------------------------------------------------------------------------------


def test_quit_while_inspecting_asks_and_stays_when_declined(
    qtbot, tmp_path: Path, questions
) -> None:
    window = open_window(qtbot, _recipe_file(tmp_path), start=True)
    questions.reply = False
    window.quit_action.trigger()  # Ctrl+Q
    assert questions.asked[-1][1] == "Quit while the station is inspecting?"
    assert "parts in the machine are finished and recorded first" in questions.asked[-1][2]
    assert window.isVisible() and window.control.running

    # the window's close button (a close from the window system) asks the same
    event = QCloseEvent()
    QApplication.sendEvent(window.windowHandle(), event)
    assert len(questions.asked) == 2
    assert window.isVisible() and window.control.running

    questions.reply = True
    window.quit_action.trigger()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=15_000)
    assert window.station is None or not window.station.running
    assert len(questions.asked) == 3  # the close after the stop does not ask again


def test_quit_when_stopped_does_not_ask(qtbot, tmp_path: Path, questions) -> None:
    window = open_window(qtbot, _recipe_file(tmp_path), start=False)
    window.quit_action.trigger()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=15_000)
    assert questions.asked == []


# ---- cameras and masks -----------------------------------------------------------------------


def test_saving_cameras_while_running_asks_and_bumps_the_version(
    qtbot, tmp_path: Path, questions
) -> None:
    path = _recipe_file(tmp_path)
    window = open_window(qtbot, path, start=True)
    dialog = window.open_camera_dialog()
    assert dialog is not None
    rate = dialog.form.widgets["rate_hz"]
    assert isinstance(rate, QLineEdit)
    rate.setText("15")
    assert dialog.has_unsaved_changes()

    questions.reply = False
    assert dialog.save() is None
    assert questions.asked[-1][:2] == ("Save cameras", "Save camera cam1 and restart the station?")
    assert "inspection pauses for a few seconds" in questions.asked[-1][2]
    assert path.read_text(encoding="utf-8") == BAY  # nothing written

    questions.reply = True
    with qtbot.waitSignal(window.control.stationChanged, timeout=15_000):
        assert dialog.save() is not None
    saved = load_recipe(path)
    assert saved.version == "2" and saved.cameras[0].source.rate_hz == 15
    assert "version 2" in window.statusBar().currentMessage()
    assert "bay v2" in window.windowTitle()
    assert not dialog.has_unsaved_changes()

    # the dialog still holds the recipe it opened with (v1): the next save is v3, not v2 again
    rate = dialog.form.widgets["rate_hz"]  # the form was filled in anew from the saved recipe
    assert isinstance(rate, QLineEdit)
    rate.setText("12")
    with qtbot.waitSignal(window.control.stationChanged, timeout=15_000):
        assert dialog.save() is not None
    assert load_recipe(path).version == "3"
    dialog.close()  # saved: closes without a question
    assert len(questions.asked) == 3
    close_window(qtbot, window)


def _closed(widget) -> bool:
    """Closed: hidden, or already deleted (the window's dialogs delete themselves on close)."""
    return not shiboken6.isValid(widget) or not widget.isVisible()


def test_closing_cameras_with_unsaved_edits_asks(qtbot, tmp_path: Path, questions) -> None:
    path = _recipe_file(tmp_path)
    window = open_window(qtbot, path, start=False)
    dialog = window.open_camera_dialog()
    assert dialog is not None
    qtbot.waitExposed(dialog)
    dialog.close_button.click()  # nothing edited: no question
    assert questions.asked == [] and _closed(dialog)

    dialog = window.open_camera_dialog()
    assert dialog is not None
    qtbot.waitExposed(dialog)
    dialog.add_button.click()
    questions.unsaved_reply = confirm.Unsaved.CANCEL
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert questions.asked[-1][1] == "Discard your changes to cameras?"
    assert "cam2" in questions.asked[-1][2]
    assert dialog.isVisible()  # Cancel: still editing

    questions.unsaved_reply = confirm.Unsaved.DISCARD
    dialog.close_button.click()
    assert _closed(dialog)
    assert len(load_recipe(path).cameras) == 1

    dialog = window.open_camera_dialog()
    assert dialog is not None
    dialog.add_button.click()
    dialog.kind_box.setCurrentIndex(dialog.kind_box.findData("synthetic"))
    questions.unsaved_reply = confirm.Unsaved.SAVE
    with qtbot.waitSignal(window.control.stationChanged, timeout=15_000):
        dialog.close_button.click()
    assert _closed(dialog)
    assert [c.id for c in load_recipe(path).cameras] == ["cam1", "cam2"]
    close_window(qtbot, window)


def test_saving_masks_while_running_asks_first(qtbot, tmp_path: Path, questions) -> None:
    path = _recipe_file(tmp_path)
    window = open_window(qtbot, path, start=True)
    editor = window.open_mask_editor()
    assert editor is not None
    for x, y in [(0, 0), (100, 0), (100, 50)]:
        editor.add_point(x, y)
    questions.reply = False
    assert editor.save() is None
    assert questions.asked[-1][0] == "Save privacy masks"
    assert "station restarts with the new settings" in questions.asked[-1][2]
    assert load_recipe(path).cameras[0].privacy_masks == []
    assert editor.has_unsaved_changes()

    questions.unsaved_reply = confirm.Unsaved.CANCEL
    editor.reject()
    assert questions.asked[-1][1] == "Discard your changes to privacy masks?"
    questions.unsaved_reply = confirm.Unsaved.DISCARD
    editor.reject()
    assert load_recipe(path).cameras[0].privacy_masks == []
    close_window(qtbot, window)


# ---- recipe versions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("1", "2"),
        ("9", "10"),
        ("1.4", "1.5"),
        ("1.09", "1.10"),
        ("2026-03", "2026-03.1"),
        ("2026-03.1", "2026-03.2"),
        ("v1", "v1.1"),
    ],
)
def test_next_version(old: str, new: str) -> None:
    assert next_version(old) == new


def test_next_version_stays_within_the_recipe_limit() -> None:
    assert len(next_version("a" * 32)) == 32
    assert next_version("a" * 32).endswith(".1")


# ---- teaching --------------------------------------------------------------------------------


def test_teach_label_from_frame_asks_before_replacing_a_taught_label(
    qtbot, questions, boxes
) -> None:
    window = open_window(qtbot, demo_recipe(), start=False)
    recipe = load_recipe(demo_recipe())
    image = good_part_image(load_recipe(demo_recipe()))
    frame = Frame(camera="cam1", seq=1, t_ns=0, image=image)
    teaching = window.label_teaching

    # not taught yet: nothing to lose, no question
    with qtbot.waitSignal(teaching.taught, timeout=30_000):
        assert teaching.teach_current_frame(recipe, lambda _camera: frame) is not None
    assert questions.asked == []

    questions.reply = False
    assert teaching.teach_current_frame(recipe, lambda _camera: frame) is None
    _title, question, cost = questions.asked[-1]
    assert question == "Replace the taught label of tool label?"
    assert "replaced by the label in the current frame" in cost
    assert not window.jobs.running()

    questions.reply = True
    with qtbot.waitSignal(teaching.taught, timeout=30_000):
        assert teaching.teach_current_frame(recipe, lambda _camera: frame) is not None
    close_window(qtbot, window)


def test_teaching_again_names_the_model_replaced(qtbot, questions, boxes) -> None:
    window = open_window(qtbot, demo_recipe(), start=False)
    recipe = load_recipe(demo_recipe())
    teach_label(recipe, "label", user_paths().ensure(), good_part_image(load_recipe(demo_recipe())))
    dialog = window.open_teach_dialog()
    assert dialog is not None
    for tool_id, box in dialog.tool_boxes.items():
        box.setChecked(tool_id == "label")
    questions.reply = False
    dialog.start()
    assert questions.asked[-1][1] == "Replace the label reference of label?"
    assert "Cancel keeps it" in questions.asked[-1][2]
    assert dialog.phase is Phase.IDLE and dialog.job is None

    # an untaught tool alone replaces nothing: no question, teaching starts
    for tool_id, box in dialog.tool_boxes.items():
        box.setChecked(tool_id == "surface")
    dialog.parts_spin.setValue(5)
    dialog.start()
    assert len(questions.asked) == 1
    assert dialog.phase is Phase.TEACHING
    with qtbot.waitSignal(dialog.ended, timeout=60_000):
        dialog.cancel()
    dialog.reject()
    close_window(qtbot, window)


# ---- F5 --------------------------------------------------------------------------------------


def test_f5_says_why_it_takes_no_part(qtbot, tmp_path: Path) -> None:
    window = open_window(qtbot, demo_recipe(), start=False)
    assert window.trigger_action.isEnabled()  # so F5 reaches it
    window.trigger_action.trigger()
    assert window.statusBar().currentMessage() == (
        "F5 takes a part only on recipes with a software trigger; demo takes parts by its "
        "every_frame trigger."
    )
    close_window(qtbot, window)

    window = open_window(qtbot, _recipe_file(tmp_path, MANUAL, "manual"), start=False)
    window.trigger_action.trigger()
    assert window.statusBar().currentMessage().startswith("Start the station first")
    close_window(qtbot, window)


# ---- disabled items look disabled --------------------------------------------------------------


def _brightest(image) -> int:
    """The highest grey level (0..255) among the pixels of a QImage."""
    from PySide6.QtGui import QImage

    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = rgb.width(), rgb.height(), rgb.bytesPerLine()
    data = np.frombuffer(rgb.constBits(), dtype=np.uint8, count=stride * height)
    pixels = data.reshape(height, stride)[:, : width * 3].reshape(height, width, 3)
    return int(pixels.max(axis=2).max())


def test_disabled_toolbar_buttons_and_menu_items_look_disabled(qtbot) -> None:
    qss = (resources_dir() / "style" / "operator.qss").read_text(encoding="utf-8")
    for rule in ("QMenu::item:disabled", "QToolButton:disabled", "QComboBox QAbstractItemView"):
        assert rule in qss

    window = QMainWindow()
    qtbot.addWidget(window)
    window.setStyleSheet(qss)
    on, off = QAction("Teach", window), QAction("Teach", window)
    off.setEnabled(False)
    bar = window.addToolBar("Main")
    bar.addAction(on)
    bar.addAction(off)
    menu = QMenu(window)
    menu.addAction(on)
    menu.addAction(off)
    window.show()
    qtbot.waitExposed(window)
    bright_on = _brightest(bar.widgetForAction(on).grab().toImage())
    bright_off = _brightest(bar.widgetForAction(off).grab().toImage())
    assert bright_on > 200 and bright_off < bright_on - 60

    menu.adjustSize()
    picture = menu.grab().toImage()
    bright = [_brightest(picture.copy(menu.actionGeometry(a))) for a in (on, off)]
    assert bright[0] > 200 and bright[1] < bright[0] - 60


def test_re_baselining_drift_asks_and_says_how_long_no_warning_comes(
    qtbot, tmp_path: Path, questions
) -> None:
    window = open_window(qtbot, demo_recipe(), start=False)
    station = window.station
    assert station is not None
    questions.reply = False
    assert not window.rebaseline_drift()
    _title, question, cost = questions.asked[-1]
    assert question == "Set the drift warnings' limits anew?"
    assert "surface.score, label.lot_contrast" in cost and "next 100 minutes" in cost
    questions.reply = True
    assert window.rebaseline_drift()
    close_window(qtbot, window)
