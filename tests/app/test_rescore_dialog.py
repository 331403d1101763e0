"""The re-score dialog on a real recorded run: the re-taught model is offered, Run fills the
table with the recorded and new scores side by side (flips highlighted, sortable), Cancel stops."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from support.rescore_line import RecordedLine, recorded_line

from app.rescore_dialog import COLUMNS, NEWLY_PASSED, NEWLY_REJECTED, RescoreDialog
from inspection.jobs import JobPool
from inspection.tuning.rescore import RescoreResult
from inspection.tuning.scores import TuningError


@pytest.fixture(scope="module")
def line(tmp_path_factory: pytest.TempPathFactory) -> RecordedLine:
    return recorded_line(tmp_path_factory.mktemp("line"))


@pytest.fixture
def pool() -> Iterator[JobPool]:
    pool = JobPool()
    yield pool
    assert pool.shutdown(10.0)


def part_times(db: Path) -> tuple[float, float]:
    with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as conn:
        lo, hi = conn.execute("SELECT MIN(wall_time), MAX(wall_time) FROM inspections").fetchone()
    conn.close()
    return float(lo), float(hi)


def open_dialog(qtbot, line: RecordedLine, pool: JobPool) -> RescoreDialog:
    dialog = RescoreDialog(line.paths, pool, line.recipe, "surface")
    qtbot.addWidget(dialog)
    lo, hi = part_times(line.paths.results_db)
    dialog.range_bar.set_range(lo - 5.0, hi + 5.0)
    return dialog


def test_run_fills_the_table_side_by_side_with_flips_highlighted(
    qtbot, line: RecordedLine, pool: JobPool
) -> None:
    dialog = open_dialog(qtbot, line, pool)
    assert dialog.model_path() == line.retaught  # the re-taught model beside the one in force
    assert not dialog.apply_button.isEnabled()
    with qtbot.waitSignal(dialog.rescored, timeout=60_000) as got:
        qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    result: RescoreResult = got.args[0]
    qtbot.waitUntil(lambda: not dialog.busy)

    table = dialog.table
    assert table.rowCount() == result.summary.rescored == len(result.parts) > 0
    assert dialog.summary_label.text() == result.summary.line()
    assert dialog.progress_bar.value() == dialog.progress_bar.maximum()
    flips = {p.inspection_id: p.flip for p in result.parts if p.flip}
    assert flips, "the recorded run should have parts whose verdict flips"
    new_col = COLUMNS.index("New score")
    for row in range(table.rowCount()):
        part_id = table.item(row, 0).text()
        part = next(p for p in result.parts if p.inspection_id == part_id)
        assert table.item(row, new_col).text() == f"{part.new_score:.4g}"
        assert table.item(row, COLUMNS.index("Old verdict")).text() == part.old_verdict.value
        colour = table.item(row, new_col).background().color()
        if part_id in flips:
            want = NEWLY_REJECTED if flips[part_id] == "newly rejected" else NEWLY_PASSED
            assert colour == want
        else:
            assert colour not in (NEWLY_REJECTED, NEWLY_PASSED)
    assert len(dialog.flipped_rows()) == len(flips)

    # sortable by the new score, numerically
    table.sortItems(new_col, Qt.SortOrder.DescendingOrder)
    shown = [float(table.item(r, new_col).text()) for r in range(table.rowCount())]
    assert shown == sorted(shown, reverse=True)

    # applying is asked for, not done here
    assert dialog.apply_button.isEnabled()
    with qtbot.waitSignal(dialog.applyModelRequested) as asked:
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert asked.args == ["surface", str(line.retaught)]
    assert "Recipe → Versions" in dialog.apply_button.toolTip()
    with qtbot.waitSignal(dialog.partRequested) as opened:
        dialog.table.cellDoubleClicked.emit(0, 3)
    assert opened.args == [table.item(0, 0).text()]


def test_cancel_stops_the_job_and_leaves_the_table_empty(
    qtbot, line: RecordedLine, pool: JobPool
) -> None:
    dialog = open_dialog(qtbot, line, pool)
    dialog.run()
    assert dialog.busy and dialog.cancel_button.text() == "Cancel"
    with qtbot.waitSignal(dialog.ended, timeout=30_000) as ended:
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert ended.args == ["cancelled"]
    assert dialog.table.rowCount() == 0 and dialog.result is None
    assert "nothing was changed" in dialog.message_label.text()
    assert dialog.cancel_button.text() == "Close" and dialog.run_button.isEnabled()


def test_a_missing_model_fails_with_the_reason(
    qtbot, line: RecordedLine, pool: JobPool, tmp_path: Path
) -> None:
    dialog = open_dialog(qtbot, line, pool)
    dialog.model_edit.setText(str(tmp_path / "gone.lsam"))
    with qtbot.waitSignal(dialog.ended, timeout=30_000) as ended:
        dialog.run()
    assert ended.args == ["failed"]
    assert "does not exist" in dialog.message_label.text()
    dialog.model_edit.setText("")
    dialog.run()
    assert not dialog.busy and "Choose the re-taught model" in dialog.message_label.text()


def test_only_defect_tools_can_be_rescored(qtbot, line: RecordedLine, pool: JobPool) -> None:
    codes = line.recipe.model_copy(update={"tools": []})
    with pytest.raises(TuningError, match="no tool 'surface'"):
        RescoreDialog(line.paths, pool, codes, "surface")


def test_the_teach_menu_opens_re_scoring_for_the_recipes_defect_tool(qtbot, tmp_path) -> None:
    from support.windows import close_window, open_window

    from app.rescore_dialog import RescoreDialog
    from inspection.paths import demo_recipe

    window = open_window(qtbot, demo_recipe(), start=False)
    try:
        window.rescore_action.trigger()
        dialogs = window.findChildren(RescoreDialog)
        assert len(dialogs) == 1 and dialogs[0].isVisible()
        assert dialogs[0].tool_id == "surface"
        dialogs[0].close()
    finally:
        close_window(qtbot, window)
