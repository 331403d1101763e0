"""The Tuning page on a tool's parameter, driven like an engineer would: parts recorded by the
real label tool on the simulated line, the label's rotation limit chosen beside the tool, the line
dragged with the numbers following (equal to numpy on the database), Apply asked for with the
parameter; and in the main window, Apply writes the next recipe version with the new limit."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from support.label_line import LIMITS, PARTS, recorded_label_line
from support.recipes import write_recipe
from support.windows import close_window, open_window

from app import recipe_versions
from app.pages.tuning import TuningPage
from inspection.jobs import JobPool
from inspection.paths import Paths, user_paths
from inspection.pipeline import teaching
from inspection.recipe import SyntheticSourceSettings, load_recipe
from inspection.sources.synthetic import SyntheticLine


@pytest.fixture(scope="module")
def line(tmp_path_factory: pytest.TempPathFactory) -> tuple[Paths, Path, float]:
    began = time.time()
    paths, recipe = recorded_label_line(tmp_path_factory.mktemp("label-page"))
    return paths, recipe, began


def rotation_on_db(db: Path) -> tuple[np.ndarray, np.ndarray]:
    """(|rotation| or NaN, decided by the rotation limit alone) per label part, from the rows."""
    conn = sqlite3.connect(db)
    found = conn.execute(
        "SELECT t.inspection, t.verdict, t.reason, m.value FROM tool_results t LEFT JOIN "
        "tool_measures m ON m.inspection = t.inspection AND m.tool_id = 'label' "
        "AND m.measure = 'rotation_deg' WHERE t.tool_id = 'label' ORDER BY t.inspection"
    ).fetchall()
    conn.close()
    rotation = np.array([abs(r[3]) if r[3] is not None else np.nan for r in found])
    decided = np.array(
        [
            v == "PASS" or all(x.startswith("label skewed (") for x in why.split("; "))
            for _, v, why, _ in found
        ]
    )
    return rotation, decided & np.isfinite(rotation)


def test_choose_the_rotation_limit_drag_it_and_apply(
    qtbot, line: tuple[Paths, Path, float]
) -> None:
    paths, recipe, began = line
    jobs = JobPool()
    page = TuningPage(paths, jobs, recipe_file=lambda: recipe)
    qtbot.addWidget(page)
    page.resize(1400, 900)
    try:
        with qtbot.waitSignal(page.toolsListed, timeout=10_000):
            page.set_range(began - 60, time.time() + 60)
        offered = [page.parameter_combo.itemData(i) for i in range(page.parameter_combo.count())]
        assert offered == ["max_offset_px", "max_rotation_deg", "min_match", "lot.min_confidence"]
        with qtbot.waitSignal(page.loaded, timeout=10_000):
            page.choose("label", "max_rotation_deg")
        view = page.view
        assert view is not None and view.limit_name == "max_rotation_deg"
        assert view.in_force == LIMITS["max_rotation_deg"]
        assert page.histogram.in_force.value() == 5.0
        axis = page.histogram.getPlotItem().getAxis("bottom").labelText
        assert axis == "rotation (a part is rejected at rotation > max_rotation_deg)"
        assert page.panel.candidate_title.text() == "Candidate max_rotation_deg"
        assert page.panel.false_rejects_title.text() == "False rejects (good > it)"
        rotation, decided = rotation_on_db(paths.results_db)
        for t in (3.0, 8.0, 12.0):
            page.histogram.candidate.setValue(t)  # what a drag does
            passes = decided & (rotation <= t)
            assert page.panel.yield_label.text() == (
                f"{100 * passes.sum() / PARTS:.2f} % of {PARTS:,} parts"
            )
            c = page.candidate_counts
            assert c is not None and c.passed == passes.sum()
            recorded_pass = decided & (rotation <= 5.0)
            assert c.newly_passed == int((passes & ~recorded_pass).sum())
            assert c.newly_rejected == int((recorded_pass & ~passes).sum())
            assert f"{c.newly_passed:,} rejects would pass" in page.panel.change_label.text()
        flips = view.flips_at(12.0, limit=500)
        want = (flips.newly_rejected.tolist(), flips.newly_passed.tolist())
        qtbot.waitUntil(lambda: page.flips.row_ids() == want, timeout=2_000)
        assert "rotation" in page.flips.passed.item(0).text()  # the value, in its own words
        assert page.panel.apply_button.isEnabled()
        with qtbot.waitSignal(page.parameterApplyRequested, timeout=1_000) as blocker:
            qtbot.mouseClick(page.panel.apply_button, Qt.MouseButton.LeftButton)
        assert blocker.args == ["label", "max_rotation_deg", pytest.approx(12.0)]
    finally:
        page.detach()
        assert jobs.shutdown(5.0)


# A label on the simulated line, on a software trigger (no OCR field: quick to inspect).
LABELLED = """
schema_version: 1
name: labelled
version: "1"
cameras:
  - id: cam1
    source: {type: synthetic, seed: 7}
trigger: {type: software, timeout_s: 2.0}
tools:
  - id: label
    type: label
    roi: {x: 200, y: 220, w: 480, h: 420}
    max_offset_px: 100
    max_rotation_deg: 5.0
pipeline: {workers: 1, queue_size: 4}
"""


def test_the_window_applies_a_label_limit_as_the_next_version(
    qtbot, tmp_path: Path, lineside_home: Path, monkeypatch: pytest.MonkeyPatch, critical_calls
) -> None:
    asked: list[tuple[str, str]] = []

    def ask_reason(parent, title, question, what_happens, *, ok):
        asked.append((question, what_happens))
        return "skew up to 8° passes the customer's check"

    monkeypatch.setattr(recipe_versions, "ask_reason", ask_reason)
    path = write_recipe(tmp_path, LABELLED, "labelled")
    recipe = load_recipe(path)
    source = SyntheticSourceSettings.model_validate({"type": "synthetic", "seed": 7})
    teaching.teach_label(
        recipe, "label", user_paths().ensure(), SyntheticLine(source).render_part(0)[0]
    )
    window = open_window(qtbot, path, start=True)
    try:
        assert window.apply_parameter("label", "max_rotation_deg", 8.0)
        question, what_happens = asked[-1]
        assert question == "Apply max_rotation_deg to label?"
        assert "label.max_rotation_deg 5.00 → 8.00" in what_happens, what_happens
        qtbot.waitUntil(
            lambda: (
                window.station is not None
                and window.station.recipe.version == "2"
                and not window.control.busy
                and window.control.running
            ),
            timeout=20_000,
        )
        assert window.station.recipe.tools[0].max_rotation_deg == 8.0
        qtbot.waitUntil(lambda: window.station.camera_connected("cam1"), timeout=10_000)
        with qtbot.waitSignal(window.bridge.inspectionReady, timeout=15_000) as got:
            window.control.trigger()
        assert got.args[0].recipe_version == "2"
        # a limit the recipe schema refuses is said, and nothing is written
        assert not window.apply_parameter("label", "max_rotation_deg", 120.0)
        assert "max_rotation_deg" in critical_calls[-1][1]
        assert load_recipe(path).version == "2"
    finally:
        close_window(qtbot, window)
