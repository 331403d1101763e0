"""The demo line through a shift on the operator screen: Stop → Start, re-teaching, a restart of
the application. No false rejects against the simulated line's ground truth, no part number
twice, and counts that go on."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import yaml
from support.recipes import demo_with_tools
from support.windows import close_window, open_window

from app.main_window import MainWindow
from inspection.evaluation.truth import TruthTally, covered_defects
from inspection.paths import user_paths
from inspection.types import Inspection


@pytest.fixture
def demo_line(tmp_path: Path) -> Path:
    """The demo recipe with its serial and label checks (the defect model's teaching of 100
    parts would only make the test slower; it is stopped and started the same way)."""
    data = demo_with_tools("codes", "label")
    data["cameras"][0]["source"]["rate_hz"] = 8
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _collect(window: MainWindow) -> list[Inspection]:
    seen: list[Inspection] = []
    window.bridge.inspectionReady.connect(seen.append)
    return seen


def _teach_label(qtbot, window: MainWindow) -> None:
    dialog = window.open_teach_dialog()
    assert dialog is not None
    dialog.parts_spin.setValue(4)
    for tool_id, box in dialog.tool_boxes.items():
        box.setChecked(tool_id == "label")
    dialog.confirm_replace = lambda: True  # type: ignore[method-assign]
    with qtbot.waitSignal(dialog.ended, timeout=60_000) as ended:
        dialog.teach_button.click()
    assert ended.args == ["taught"]
    dialog.accept()


def _wait_parts(qtbot, seen: list[Inspection], more: int) -> None:
    target = len(seen) + more
    qtbot.waitUntil(lambda: len(seen) >= target, timeout=60_000)


def _no_false_rejects(recipe_path: Path, seen: list[Inspection]) -> None:
    from inspection.recipe import load_recipe

    tally = TruthTally(covered_defects(load_recipe(recipe_path))).extend(seen)
    assert tally.fp == 0, tally.false_alarms
    assert not [
        i.reason
        for i in seen
        if "duplicate serial" in i.reason and i.truth and "duplicate_serial" not in i.truth.defects
    ]


def test_stop_start_and_reteach_give_no_false_rejects_and_no_repeated_part(
    qtbot, demo_line: Path, critical_calls
) -> None:
    window = open_window(qtbot, demo_line, start=False)
    screen = window.screen_widget
    seen = _collect(window)
    _teach_label(qtbot, window)

    screen.start_stop_button.click()
    _wait_parts(qtbot, seen, 8)
    screen.start_stop_button.click()  # STOP
    qtbot.waitUntil(lambda: not window.control.running and not window.control.busy, timeout=15_000)
    screen.start_stop_button.click()  # START again
    _wait_parts(qtbot, seen, 8)
    _teach_label(qtbot, window)  # re-teach on the running line: stops it, starts it again
    qtbot.waitUntil(lambda: window.control.running and not window.control.busy, timeout=15_000)
    _wait_parts(qtbot, seen, 8)

    numbers = [i.part_seq for i in seen]
    assert numbers == sorted(set(numbers)), "a part number was handed out twice"
    indices = [i.truth.part_index for i in seen if i.truth is not None]
    assert indices == sorted(set(indices)), "the simulated line made a part twice"
    _no_false_rejects(demo_line, seen)
    # the counts are the shift's: every part shown since the window opened
    qtbot.waitUntil(lambda: screen.counters.counts.parts >= len(seen), timeout=5_000)
    assert critical_calls == []
    close_window(qtbot, window)


def test_counts_and_numbers_survive_an_application_restart(
    qtbot, demo_line: Path, critical_calls
) -> None:
    window = open_window(qtbot, demo_line, start=False)
    seen = _collect(window)
    _teach_label(qtbot, window)
    window.screen_widget.start_stop_button.click()
    _wait_parts(qtbot, seen, 6)
    close_window(qtbot, window)
    qtbot.waitUntil(lambda: window.station is None or not window.station.running, timeout=15_000)
    with sqlite3.connect(user_paths().results_db) as conn:
        (recorded,) = conn.execute("SELECT COUNT(*) FROM inspections").fetchone()
    assert recorded >= 6

    again = open_window(qtbot, demo_line, start=False)
    counts = again.screen_widget.counters.counts
    # stopped: the counts of the shift are back before a single new part
    qtbot.waitUntil(lambda: again.screen_widget.counters.counts.parts == recorded, timeout=5_000)
    counts = again.screen_widget.counters.counts
    assert counts.passed + counts.failed + counts.errors == recorded
    more = _collect(again)
    again.screen_widget.start_stop_button.click()
    _wait_parts(qtbot, more, 4)
    assert more[0].part_seq == recorded  # numbering goes on
    _no_false_rejects(demo_line, seen + more)
    assert critical_calls == []
    close_window(qtbot, again)
