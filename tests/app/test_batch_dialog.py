from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog
from support.windows import close_window, open_window

from app.batch_dialog import MAX_VALUE_LENGTH, BatchDialog, batch_keys, value_problem
from app.main_window import MainWindow
from inspection.paths import demo_recipe
from inspection.recipe import load_recipe


def _window(qtbot, recipe_path: Path, *, start: bool) -> MainWindow:
    return open_window(qtbot, recipe_path, start=start, size=None)


def _close(qtbot, window: MainWindow) -> None:
    close_window(qtbot, window)


def test_the_recipe_names_the_batch_values_its_labels_check() -> None:
    # the demo's label checks product and lot against the batch; expiry is a date rule
    assert batch_keys(load_recipe(demo_recipe())) == ["product", "lot"]


def test_values_are_validated() -> None:
    assert value_problem("L2417") == ""
    assert value_problem("") == "required"
    assert value_problem(" L2417") == "no spaces at the start or end"
    assert value_problem("L2417 ") == "no spaces at the start or end"
    assert value_problem("x" * MAX_VALUE_LENGTH) == ""
    assert value_problem("x" * (MAX_VALUE_LENGTH + 1)).startswith("at most 64 characters")
    assert value_problem("L24\t17") == "printable characters only"


def test_dialog_shows_the_reason_beside_the_field_and_refuses_ok(qtbot) -> None:
    dialog = BatchDialog(["product", "lot"], {"product": "PX-20"})
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.edits["product"].text() == "PX-20"
    assert dialog.edits["lot"].text() == ""

    dialog.ok_button.click()
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.problems["lot"].text() == "required"
    assert dialog.problems["product"].text() == ""

    dialog.edits["lot"].setText(" L2417")
    assert dialog.problems["lot"].text() == "no spaces at the start or end"  # as it is typed
    dialog.edits["lot"].setText("L2417")
    assert dialog.problems["lot"].text() == ""
    dialog.ok_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.values() == {"product": "PX-20", "lot": "L2417"}


def test_batch_action_sets_the_station_batch_and_shows_the_lot(qtbot) -> None:
    window = _window(qtbot, demo_recipe(), start=True)
    station = window.station
    assert station is not None
    assert window.batch_action.isEnabled() and window.batch_bar.isVisible()
    assert window.batch_bar.button.height() >= 60  # glove-sized
    # the simulated line announces its batch at start; the screen shows it
    announced = station.batch.get("lot")
    assert announced and announced in window.batch_bar.label.text()

    prefilled: dict[str, str] = {}

    def fill_in() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, BatchDialog)
        prefilled.update(dialog.values())
        dialog.edits["lot"].setText("L9000")
        dialog.edits["product"].setText("PX-99")
        dialog.ok_button.click()

    QTimer.singleShot(0, fill_in)
    window.batch_action.trigger()  # runs the modal dialog until fill_in clicks OK
    assert prefilled["lot"] == announced
    assert station.batch.get("lot") == "L9000"
    assert station.batch.get("product") == "PX-99"
    assert "lot L9000" in window.batch_bar.label.text()
    assert "product PX-99" in window.batch_bar.label.text()
    _close(qtbot, window)


def test_a_recipe_without_batch_fields_hides_the_batch(qtbot, folder_recipe: Path) -> None:
    window = _window(qtbot, folder_recipe, start=False)
    assert not window.batch_action.isEnabled()
    assert not window.batch_bar.isVisible()
    _close(qtbot, window)
