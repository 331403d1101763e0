"""The Cameras dialog: a camera added, tested against a real MJPEG simulator, saved to the recipe."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLineEdit
from support.windows import close_window, open_window

from app import confirm
from app.camera_dialog import CameraDialog
from inspection.jobs import Job, JobPool
from inspection.recipe import load_recipe
from inspection.simulators.peers import Peer, running_peer
from inspection.sources.genicam import CameraInfo

RECIPE = """
schema_version: 1
name: bay
cameras:
  - id: cam1
    source: {type: synthetic, seed: 3, rate_hz: 10}
"""


@pytest.fixture
def mjpeg() -> Iterator[Peer]:
    with running_peer("mjpeg", width=640, height=480, fps=10) as peer:
        yield peer


@pytest.fixture
def recipe_file(tmp_path: Path) -> Path:
    path = tmp_path / "bay.yaml"
    path.write_text(RECIPE, encoding="utf-8")
    return path


def field(dialog: CameraDialog, name: str) -> QLineEdit:
    widget = dialog.form.widgets[name]
    assert isinstance(widget, QLineEdit)
    return widget


def test_add_test_and_save_an_http_camera(qtbot, mjpeg: Peer, recipe_file: Path) -> None:
    window = open_window(qtbot, recipe_file, start=False)
    dialog = window.open_camera_dialog()
    assert dialog is not None
    assert dialog.camera_list.count() == 1 and dialog.kind() == "synthetic"

    dialog.add_button.click()
    dialog.kind_box.setCurrentIndex(dialog.kind_box.findData("http"))
    field(dialog, "url").setText(mjpeg.url)
    job = dialog.test_connection()
    assert job is not None
    qtbot.waitUntil(lambda: dialog.last_probe is not None, timeout=15_000)
    assert dialog.last_probe is not None and dialog.last_probe.ok, dialog.message.text()
    assert dialog.message.text().startswith("Connected: 640×480")
    assert dialog.preview.pixmap() is not None and not dialog.preview.pixmap().isNull()

    with qtbot.waitSignal(window.control.stationChanged, timeout=15_000):
        saved = dialog.save()
    assert saved is not None and [c.id for c in saved.cameras] == ["cam1", "cam2"]
    # written to the recipe the window runs, the old text kept beside it
    on_disk = load_recipe(recipe_file)
    assert on_disk.cameras[1].source.type == "http"
    assert getattr(on_disk.cameras[1].source, "url", None) == mjpeg.url
    assert recipe_file.with_suffix(".yaml.bak").read_text(encoding="utf-8") == RECIPE
    assert window.recipe is not None and len(window.recipe.cameras) == 2
    dialog.close()
    close_window(qtbot, window)


def test_bad_settings_are_named_and_nothing_is_saved(qtbot, recipe_file: Path, questions) -> None:
    window = open_window(qtbot, recipe_file, start=False)
    dialog = window.open_camera_dialog()
    assert dialog is not None
    dialog.add_button.click()  # a new RTSP camera
    field(dialog, "url").setText("http://10.0.0.9/live")
    field(dialog, "timeout_s").setText("soon")
    assert dialog.save() is None
    text = dialog.message.text()
    assert "url: Value error, an RTSP camera's url starts with rtsp://" in text
    assert "timeout_s: Input should be a valid number" in text
    assert len(load_recipe(recipe_file).cameras) == 1
    questions.unsaved_reply = confirm.Unsaved.DISCARD
    dialog.close()  # the unsaved camera is not dropped without asking
    assert questions.titles == ["Unsaved changes"]
    close_window(qtbot, window)


def test_a_camera_that_does_not_answer_says_so_without_its_password(
    qtbot, recipe_file: Path
) -> None:
    from inspection.simulators.peers import free_port

    dialog = CameraDialog(load_recipe(recipe_file), JobPool())
    qtbot.addWidget(dialog)
    dialog.add_button.click()
    dialog.kind_box.setCurrentIndex(dialog.kind_box.findData("http"))
    field(dialog, "url").setText(f"http://op:hunter2@127.0.0.1:{free_port()}/mjpg")
    field(dialog, "timeout_s").setText("2")
    dialog.test_connection()
    qtbot.waitUntil(lambda: dialog.last_probe is not None, timeout=15_000)
    assert dialog.message.text().startswith("Not working: cannot connect")
    assert "hunter2" not in dialog.message.text()


def test_scan_results_fill_in_the_device(qtbot, recipe_file: Path) -> None:
    # The scan itself broadcasts on every network interface, which tests must not do here; the
    # GigE tests run it inside a network namespace. This checks what the dialog does with finds.
    dialog = CameraDialog(load_recipe(recipe_file), JobPool())
    qtbot.addWidget(dialog)
    dialog.kind_box.setCurrentIndex(dialog.kind_box.findData("gige"))
    assert not dialog.scan_button.isHidden()
    found = [
        CameraInfo(
            device_id="Acme-Cam5-X1", vendor="Acme", model="Cam5", serial="X1", address="10.0.0.5"
        )
    ]
    job: Job[list[CameraInfo]] = Job("scan", lambda _p, _c: found).start()
    job.wait(5)
    dialog._on_scanned(job)
    assert dialog.found_box.count() == 1
    assert field(dialog, "device").text() == "Acme-Cam5-X1"
    assert "1 GigE camera(s) found" in dialog.message.text()
