"""Apply a threshold, roll back, see the versions: the running station takes each version between
parts, and the parts record it (a real station on the simulated line, a real taught defect tool).

Only the answers a person types are filled in (the reason, Yes/No); everything else is real.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from PySide6.QtGui import QFont
from support.recipes import write_recipe
from support.windows import close_window, open_window

from app import recipe_versions
from app.main_window import MainWindow
from app.recipe_versions import ReasonDialog, RecipeVersionsDialog
from inspection.paths import user_paths
from inspection.pipeline import teaching
from inspection.recipe import load_recipe
from inspection.tuning import versions
from inspection.types import Inspection

# The simulated line on a software trigger with a small defect tool: taught in well under a second.
TUNED = """
schema_version: 1
name: tuned
version: "1"
cameras:
  - id: cam1
    source: {type: synthetic, seed: 3, width: 640, height: 512, codes: datamatrix}
trigger: {type: software, timeout_s: 2.0}
tools:
  - id: surface
    type: anomaly
    roi: {x: 200, y: 300, w: 160, h: 96}
    threshold: 0.5
pipeline: {workers: 1, queue_size: 4}
"""


class Reasons:
    """The reason dialog answered with ``reply`` (None: cancelled); what it was told is kept."""

    def __init__(self) -> None:
        self.reply: str | None = "false rejects on lot L-100"
        self.asked: list[tuple[str, str, str]] = []


@pytest.fixture
def reasons(monkeypatch: pytest.MonkeyPatch) -> Reasons:
    recorded = Reasons()

    def ask_reason(parent, title, question, what_happens, *, ok):
        recorded.asked.append((title, question, what_happens))
        return recorded.reply

    monkeypatch.setattr(recipe_versions, "ask_reason", ask_reason)
    return recorded


@pytest.fixture
def tuned_recipe(tmp_path: Path, lineside_home: Path) -> Path:
    path = write_recipe(tmp_path, TUNED, "tuned")
    recipe = load_recipe(path)
    paths = user_paths().ensure()
    frames = teaching.frames_from_camera(recipe, "cam1", 6)
    teaching.teach_anomaly(recipe, "surface", paths, frames)
    return path


def next_part(qtbot, window: MainWindow) -> Inspection:
    """Trigger one part and return its inspection as the window received it."""
    qtbot.waitUntil(
        lambda: window.station is not None and window.station.camera_connected("cam1"),
        timeout=10_000,
    )
    with qtbot.waitSignal(window.bridge.inspectionReady, timeout=15_000) as got:
        window.control.trigger()
    inspection: Inspection = got.args[0]
    return inspection


def surface_threshold(inspection: Inspection) -> float:
    assert any(r.tool_id == "surface" for r in inspection.tool_results), (
        inspection.reason,
        inspection.tool_results,
    )
    result = next(r for r in inspection.tool_results if r.tool_id == "surface")
    return result.measurements["threshold"]


def wait_for_version(qtbot, window: MainWindow, version: str) -> None:
    qtbot.waitUntil(
        lambda: (
            window.station is not None
            and window.station.recipe.version == version
            and not window.control.busy
            and window.control.running
        ),
        timeout=20_000,
    )


def test_apply_then_rollback_reach_the_next_part_and_its_record(
    qtbot, tuned_recipe: Path, reasons: Reasons, questions, critical_calls
) -> None:
    window = open_window(qtbot, tuned_recipe, start=True)
    try:
        first = next_part(qtbot, window)
        assert first.recipe_version == "1"
        assert surface_threshold(first) == pytest.approx(0.5)

        assert window.apply_threshold("surface", 0.62)
        _title, question, what_happens = reasons.asked[-1]
        assert question == "Apply threshold 0.62 to surface?"
        assert "Parts from the next one on are inspected with version 2 (threshold 0.62)" in (
            what_happens
        )
        assert "surface threshold 0.5 → 0.62" in what_happens
        wait_for_version(qtbot, window, "2")
        applied = next_part(qtbot, window)
        assert applied.recipe_version == "2"
        assert surface_threshold(applied) == pytest.approx(0.62)
        assert window.windowTitle().startswith("Lineside — tuned v2")

        # the way back: from the versions dialog, asked why and whether
        dialog = window.open_versions_dialog()
        assert dialog is not None
        assert [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())] == [
            "2 (in force)",
            "1",
        ]
        assert dialog.select_version("1")
        reasons.reply = "scratches got through at 0.62"
        assert dialog.ask_rollback()
        assert questions.asked[-1][1] == "Roll back from version 2 to version 1?"
        assert "surface.threshold 0.62 → 0.50" in questions.asked[-1][2]
        wait_for_version(qtbot, window, "1")
        back = next_part(qtbot, window)
        assert back.recipe_version == "1"
        assert surface_threshold(back) == pytest.approx(0.5)
        assert dialog.table.item(0, 2).text() == "rolled back from 2"
        assert dialog.table.item(0, 3).text() == "scratches got through at 0.62"
        dialog.close()

        # a further apply gets a new number, never 2 again
        reasons.reply = "second trial"
        assert window.apply_threshold("surface", 0.55)
        wait_for_version(qtbot, window, "3")
        assert surface_threshold(next_part(qtbot, window)) == pytest.approx(0.55)
    finally:
        close_window(qtbot, window)
    assert not critical_calls

    ids = [first.inspection_id, applied.inspection_id, back.inspection_id]
    with closing(sqlite3.connect(user_paths().results_db)) as conn:
        rows = conn.execute(
            "SELECT i.inspection_id, i.recipe_version, t.threshold FROM inspections i "
            "JOIN tool_results t ON t.inspection = i.id WHERE t.tool_id = 'surface'"
        ).fetchall()
    recorded = {inspection_id: (v, round(t, 3)) for inspection_id, v, t in rows}
    assert [recorded[i] for i in ids] == [("1", 0.5), ("2", 0.62), ("1", 0.5)]
    assert [(e.version, e.action) for e in versions.versions(tuned_recipe)] == [
        ("3", "apply"),
        ("1", "rollback"),
        ("2", "apply"),
        ("1", "save"),
    ]


def test_apply_is_refused_without_a_reason_or_for_a_tool_without_a_threshold(
    qtbot, tmp_path: Path, lineside_home: Path, reasons: Reasons, critical_calls
) -> None:
    path = write_recipe(tmp_path, TUNED, "tuned")
    window = open_window(qtbot, path, start=False)
    try:
        reasons.reply = None  # cancelled
        assert not window.apply_threshold("surface", 0.7)
        assert load_recipe(path).version == "1" and versions.versions(path) == []
        assert not window.apply_threshold("surface", -1.0)
        assert critical_calls[-1][0] == "Threshold not applied"
        assert "tools[0] (surface).threshold: -1.0" in critical_calls[-1][1]
        assert len(reasons.asked) == 1  # a bad value is refused before anyone is asked
    finally:
        close_window(qtbot, window)


def test_the_dialog_lists_versions_shows_the_diff_and_asks_a_reason_to_roll_back(
    qtbot, tmp_path: Path, lineside_home: Path, reasons: Reasons, questions
) -> None:
    path = write_recipe(tmp_path, TUNED, "tuned")
    versions.apply_threshold(path, load_recipe(path), "surface", 0.62, "trial one")
    versions.apply_threshold(path, load_recipe(path), "surface", 0.7, "trial two")
    dialog = RecipeVersionsDialog(path)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 3
    cells = [dialog.table.item(0, c).text() for c in range(5)]
    assert cells[0] == "3 (in force)" and cells[2] == "applied" and cells[3] == "trial two"
    assert cells[4] == "surface.threshold 0.62 → 0.70"
    assert "-  threshold: 0.62\n+  threshold: 0.7\n" in dialog.diff_view.toPlainText()
    assert dialog.diff_view.font().styleHint() == QFont.StyleHint.Monospace
    assert not dialog.rollback_button.isEnabled()  # the version in force

    assert dialog.select_version("1")
    assert dialog.diff_view.toPlainText() == "Nothing before it to compare with."
    assert dialog.rollback_button.isEnabled()
    requested: list[tuple[str, str]] = []
    dialog.rollbackRequested.connect(lambda v, r: requested.append((v, r)))

    reasons.reply = None  # no reason: nothing happens, nothing is asked next
    assert not dialog.ask_rollback()
    assert reasons.asked[-1][1] == "Roll back to version 1?"
    assert "inspected with version 1" in reasons.asked[-1][2]
    assert not questions.asked and not requested

    reasons.reply = "back to the taught threshold"
    questions.reply = False  # asked whether, said no
    assert not dialog.ask_rollback() and not requested
    questions.reply = True
    assert dialog.ask_rollback()
    assert requested == [("1", "back to the taught threshold")]
    assert questions.asked[-1][2].endswith("Reason: back to the taught threshold")


def test_the_reason_dialog_needs_a_reason(qtbot) -> None:
    dialog = ReasonDialog("Apply threshold", "Apply?", "What happens.", "Apply", None)
    qtbot.addWidget(dialog)
    assert not dialog.ok_button.isEnabled()
    dialog.reason_edit.setText("   ")
    assert not dialog.ok_button.isEnabled()
    dialog.reason_edit.setText(" false rejects ")
    assert dialog.ok_button.isEnabled() and dialog.reason() == "false rejects"


def test_a_saved_change_is_kept_too_and_never_reuses_a_version_after_a_rollback(
    qtbot, tmp_path: Path, lineside_home: Path, critical_calls
) -> None:
    path = write_recipe(tmp_path, TUNED, "tuned")
    window = open_window(qtbot, path, start=False)
    try:
        recipe = window.recipe
        assert recipe is not None
        assert window.save_and_reload(recipe.model_copy(update={"description": "night shift"}))
        qtbot.waitUntil(lambda: window.recipe is not None and window.recipe.version == "2")
        assert [(e.version, e.action) for e in versions.versions(path)] == [
            ("2", "save"),
            ("1", "save"),
        ]
        assert versions.versions(path)[0].summary == "description (empty) → night shift"

        assert window.roll_back("1", "the description was wrong")
        qtbot.waitUntil(lambda: window.recipe is not None and window.recipe.version == "1")
        assert "Rolled back from version 2 to 1" in window.statusBar().currentMessage()
        assert window.save_and_reload(window.recipe.model_copy(update={"description": "day"}))
        qtbot.waitUntil(lambda: window.recipe is not None and window.recipe.version == "3")
        assert versions.archived_versions(path) == ["1", "2", "3"]
    finally:
        close_window(qtbot, window)
    assert not critical_calls


def test_a_re_taught_model_applied_from_re_score_runs_from_the_next_part(
    qtbot, tuned_recipe: Path, reasons: Reasons, critical_calls
) -> None:
    from inspection.inference.session import sha256_file
    from inspection.tuning.rescore import model_in_force, retaught_path

    recipe = load_recipe(tuned_recipe)
    paths = user_paths().ensure()
    in_force = model_in_force(recipe, "surface", paths)
    assert in_force is not None
    # re-taught beside the model in force, on other good parts (as Re-score expects it)
    other = recipe.model_copy(
        update={
            "cameras": [
                c.model_copy(update={"source": c.source.model_copy(update={"seed": 19})})
                for c in recipe.cameras
            ]
        }
    )
    retaught = teaching.teach_anomaly(
        recipe,
        "surface",
        paths,
        teaching.frames_from_camera(other, "cam1", 6),
        target=retaught_path(in_force),
    )
    window = open_window(qtbot, tuned_recipe, start=True)
    try:
        first = next_part(qtbot, window)
        assert first.model_hashes["surface"] == sha256_file(in_force)
        reasons.reply = "re-taught on the new carton supplier"
        assert window.apply_model("surface", str(retaught))
        _title, question, what_happens = reasons.asked[-1]
        assert question == "Apply the re-taught model to surface?"
        assert "saved as version 2" in what_happens and "brings them back" in what_happens
        wait_for_version(qtbot, window, "2")
        applied = next_part(qtbot, window)
        assert applied.recipe_version == "2"
        assert applied.model_hashes["surface"] == sha256_file(retaught)
        # the old model's override went: the new model's own calibrated threshold decides
        assert surface_threshold(applied) != pytest.approx(0.5)
    finally:
        close_window(qtbot, window)
    assert not critical_calls
    (entry, *_) = versions.versions(tuned_recipe)
    assert (entry.version, entry.action, entry.reason) == (
        "2",
        "apply",
        "re-taught on the new carton supplier",
    )
