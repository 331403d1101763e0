from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import yaml
from support.windows import close_window, open_window

from app.jobs_bridge import JobWatcher
from app.main_window import MainWindow
from app.teach_dialog import DEFAULT_GOOD_PARTS, Phase, TeachDialog
from inspection.jobs import JobPool, JobProgress
from inspection.paths import demo_recipe, user_paths
from inspection.types import Inspection

# the pack's lower band, where the simulated line's scratches, stains and dents occur
SURFACE_TOOL = {"id": "surface", "type": "anomaly", "roi": {"x": 200, "y": 580, "w": 880, "h": 220}}


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """The demo recipe (1280×1024 frames: the label ROI needs them) with a defect tool."""
    data = yaml.safe_load(demo_recipe().read_text(encoding="utf-8"))
    source = data["cameras"][0]["source"]
    assert (source["width"], source["height"]) == (1280, 1024)
    tools = data["tools"]
    if not any(t["type"] == "anomaly" for t in tools):
        tools.insert(1, SURFACE_TOOL)
    assert [t["type"] for t in tools] == ["codes", "anomaly", "label"]
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _window(qtbot, recipe_path: Path, *, start: bool) -> MainWindow:
    return open_window(qtbot, recipe_path, start=start)


def _close(qtbot, window: MainWindow) -> None:
    close_window(qtbot, window)
    assert not window.jobs.running()


def _open_dialog(window: MainWindow, parts: int) -> TeachDialog:
    dialog = window.open_teach_dialog()
    assert dialog is not None
    dialog.parts_spin.setValue(parts)
    return dialog


def test_job_watcher_delivers_on_the_gui_thread(qtbot) -> None:
    pool = JobPool()
    gate = threading.Event()

    def work(progress, cancel) -> int:
        gate.wait(5)
        progress(1, 2, "half")
        return 42

    job = pool.submit("watched", work)
    watcher = JobWatcher(job)
    seen: list[tuple[JobProgress, int]] = []
    watcher.progressed.connect(lambda p: seen.append((p, threading.get_ident())))
    with qtbot.waitSignal(watcher.finished, timeout=5000) as blocker:
        gate.set()
    assert blocker.args[0] is job and job.result() == 42
    qtbot.waitUntil(lambda: len(seen) == 1)
    progress, thread_id = seen[0]
    assert (progress.done, progress.total, progress.message) == (1, 2, "half")
    assert thread_id == threading.get_ident()
    assert pool.shutdown(2.0)


def test_teaches_a_stopped_station_and_writes_the_files(
    qtbot, demo_copy: Path, critical_calls
) -> None:
    window = _window(qtbot, demo_copy, start=False)
    dialog = _open_dialog(window, 6)
    assert dialog.isVisible()
    # nothing taught yet: both teachable tools are chosen, the code tool is not offered
    assert dialog.selected_tools() == ["surface", "label"]
    assert set(dialog.tool_boxes) == {"surface", "label"}
    values: list[int] = []
    dialog.progress_bar.valueChanged.connect(values.append)

    with qtbot.waitSignal(dialog.ended, timeout=60_000) as ended:
        dialog.teach_button.click()
    assert ended.args == ["taught"]
    assert critical_calls == []

    models = user_paths().models / "demo"
    assert (models / "surface.lsam").is_file()
    assert (models / "label.label.png").is_file()
    assert len(set(values)) > 3  # the bar moved through the collection and the fit
    assert dialog.progress_bar.maximum() > 1
    assert dialog.progress_bar.value() == dialog.progress_bar.maximum()
    result = dialog.result_label.text()
    assert "surface" in result and "surface.lsam" in result and "label.label.png" in result
    assert not window.control.running  # it was stopped before, it stays stopped
    assert dialog.job is not None and dialog.job.done

    # taught now: a second dialog offers both again, all chosen (re-teach everything)
    dialog.accept()
    again = _open_dialog(window, DEFAULT_GOOD_PARTS)
    assert again.selected_tools() == ["surface", "label"]
    assert "teach again" in again.tool_boxes["surface"].text()
    again.reject()
    _close(qtbot, window)


def test_teaching_a_running_station_stops_it_and_restarts_with_the_model(
    qtbot, demo_copy: Path, critical_calls
) -> None:
    window = _window(qtbot, demo_copy, start=True)
    assert window.control.running
    untaught: list[Inspection] = []
    taught: list[Inspection] = []

    def note(inspection: Inspection) -> None:
        surface = next(r for r in inspection.tool_results if r.tool_id == "surface")
        (untaught if "not been taught" in surface.reason else taught).append(inspection)

    window.bridge.inspectionReady.connect(note)
    qtbot.waitUntil(lambda: len(untaught) > 0, timeout=30_000)

    dialog = _open_dialog(window, 6)
    states: list[tuple[bool, bool]] = []
    window.control.stateChanged.connect(lambda r, b: states.append((r, b)))
    with qtbot.waitSignal(dialog.ended, timeout=60_000) as ended:
        dialog.teach_button.click()
    assert ended.args == ["taught"]
    assert (False, False) in states  # stopped before teaching read the camera
    assert "starts again" in dialog.result_label.text()

    # started again: the defect tool was rebuilt and loaded the new model
    qtbot.waitUntil(lambda: window.control.running and not window.control.busy, timeout=15_000)
    qtbot.waitUntil(lambda: len(taught) > 0, timeout=30_000)
    surface = next(r for r in taught[-1].tool_results if r.tool_id == "surface")
    assert surface.verdict.value in {"PASS", "FAIL"}
    assert critical_calls == []
    dialog.accept()
    _close(qtbot, window)


def test_cancel_writes_nothing(qtbot, demo_copy: Path, critical_calls) -> None:
    window = _window(qtbot, demo_copy, start=False)
    dialog = _open_dialog(window, 2000)
    with qtbot.waitSignal(dialog.progress_bar.valueChanged, timeout=30_000):
        dialog.teach_button.click()
    assert dialog.phase is Phase.TEACHING
    assert not dialog.close_button.isEnabled() and not dialog.teach_button.isEnabled()

    with qtbot.waitSignal(dialog.ended, timeout=30_000) as ended:
        dialog.cancel_button.click()
    assert ended.args == ["cancelled"]
    assert dialog.job is not None and dialog.job.cancelled
    assert dialog.message_label.text() == "Teaching cancelled; nothing was changed."
    models = user_paths().models / "demo"
    assert not (models / "surface.lsam").exists()
    assert not (models / "label.label.png").exists()
    assert critical_calls == []
    assert dialog.close_button.isEnabled()
    _close(qtbot, window)


def _short_folder_recipe(folder: Path) -> Path:
    """A folder of 3 images that does not loop: fewer good parts than teaching asks for."""
    images = folder / "few"
    images.mkdir()
    import cv2

    for i in range(3):
        cv2.imwrite(str(images / f"{i}.png"), np.full((120, 160), 90 + i, dtype=np.uint8))
    recipe = folder / "few.yaml"
    recipe.write_text(
        """schema_version: 1
name: few
station: test-station
cameras:
  - id: cam1
    source: {type: folder, path: few, loop: false}
tools:
  - {id: surface, type: anomaly}
pipeline: {workers: 1, queue_size: 4}
""",
        encoding="utf-8",
    )
    return recipe


def test_an_error_is_shown_and_the_line_restarted(qtbot, tmp_path: Path, critical_calls) -> None:
    window = _window(qtbot, _short_folder_recipe(tmp_path), start=True)
    assert window.control.running
    dialog = _open_dialog(window, 6)
    with qtbot.waitSignal(dialog.ended, timeout=30_000) as ended:
        dialog.teach_button.click()
    assert ended.args == ["failed"]
    assert len(critical_calls) == 1
    title, message = critical_calls[0]
    assert title == "Teaching failed"
    assert "gave only 3 good parts of the 6" in message
    assert not (user_paths().models / "few" / "surface.lsam").exists()
    # the line's state is restored: it was running, so it runs again
    qtbot.waitUntil(lambda: window.control.running and not window.control.busy, timeout=15_000)
    dialog.accept()
    _close(qtbot, window)


def test_closing_the_window_while_teaching_cancels_the_job(
    qtbot, demo_copy: Path, critical_calls
) -> None:
    window = _window(qtbot, demo_copy, start=False)
    dialog = _open_dialog(window, 2000)
    with qtbot.waitSignal(dialog.progress_bar.valueChanged, timeout=30_000):
        dialog.teach_button.click()
    job = dialog.job
    assert job is not None and not job.done
    _close(qtbot, window)
    assert job.done and job.cancelled
    assert not (user_paths().models / "demo" / "surface.lsam").exists()
    assert not window.control.running


def test_teaching_beside_keeps_the_model_in_use_and_writes_the_new_one_for_re_score(
    qtbot, demo_copy: Path, critical_calls, questions
) -> None:
    from inspection.pipeline import teaching
    from inspection.recipe import load_recipe

    recipe = load_recipe(demo_copy)
    paths = user_paths().ensure()
    teaching.teach_from_line(recipe, paths, good_parts=6, tools=["surface"])
    in_force = paths.models / "demo" / "surface.lsam"
    before = in_force.read_bytes()
    window = _window(qtbot, demo_copy, start=False)
    dialog = _open_dialog(window, 6)
    assert not dialog.beside_box.isHidden()  # a defect tool is taught: it can be kept
    dialog.tool_boxes["label"].setChecked(False)
    dialog.tool_boxes["surface"].setChecked(True)
    dialog.beside_box.setChecked(True)
    assert dialog.replaced_tools() == []  # nothing is replaced, so nothing is asked
    with qtbot.waitSignal(dialog.ended, timeout=60_000) as ended:
        dialog.teach_button.click()
    assert ended.args == ["taught"] and critical_calls == [] and questions.asked == []
    retaught = in_force.with_name("surface.retaught.lsam")
    assert retaught.is_file() and in_force.read_bytes() == before
    assert "Re-score" in dialog.result_label.text()
    dialog.accept()
    _close(qtbot, window)
