"""The Tuning page driven like a quality engineer would: a tool's recorded scores loaded and split
by label, the threshold dragged with the numbers following, a suggestion tried, a flipping part
opened, Apply asked for; and the page's bad states said in words."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication
from support.tuning_parts import T0, THRESHOLD, Part, write_parts
from support.windows import close_window, open_window

from app.pages.tuning import TuningPage
from app.pages.tuning_panel import LABEL_HINT, NO_LABELS
from inspection.jobs import JobPool
from inspection.paths import Paths, user_paths
from inspection.tuning.labels import set_label
from inspection.tuning.suggest import NO_ESCAPES
from inspection.tuning.whatif import Counts

N = 300
NOW = T0 + 10 * N + 5  # just after the last part: "Last hour" holds every part


def write_history(db: Path, *, labelled: bool = True) -> None:
    """N parts with uniform surface scores, some ERRORs, a few label-tool rejects, 80 labels."""
    rng = np.random.default_rng(11)
    scores = rng.uniform(0.0, 1.0, N)
    scores[rng.choice(N, 6, replace=False)] = math.nan
    fails = rng.random(N) < 0.05
    write_parts(
        db, [Part(float(s), label_fails=bool(f)) for s, f in zip(scores, fails, strict=True)]
    )
    if labelled:
        for part in rng.choice(np.arange(1, N + 1), 80, replace=False):
            set_label(db, int(part), str(rng.choice(["good", "defect", "escape", "unsure"])))


def numpy_on_db(db: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(scores, is good, is bad) of the surface tool straight from the rows, labels newest-wins."""
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT inspection, score FROM tool_results WHERE tool_id = 'surface' ORDER BY inspection"
    ).fetchall()
    labels = dict(
        conn.execute(
            "SELECT inspection, label FROM part_labels WHERE id IN "
            "(SELECT MAX(id) FROM part_labels GROUP BY inspection)"
        ).fetchall()
    )
    conn.close()
    kept = [(p, s) for p, s in rows if s is not None]
    score = np.array([s for _, s in kept])
    good = np.array([labels.get(p) == "good" for p, _ in kept])
    bad = np.array([labels.get(p) in ("defect", "escape") for p, _ in kept])
    return score, good, bad


@pytest.fixture
def paths() -> Paths:
    p = user_paths().ensure()
    write_history(p.results_db)
    return p


def _open(qtbot, paths: Paths) -> tuple[TuningPage, JobPool]:
    jobs = JobPool()
    page = TuningPage(paths, jobs, clock=lambda: NOW)
    qtbot.addWidget(page)
    page.resize(1400, 900)
    return page, jobs


@pytest.fixture
def page(qtbot, paths: Paths):
    page, jobs = _open(qtbot, paths)
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.show()  # the first show lists the tools and loads the first
        qtbot.waitExposed(page)
    yield page
    page.detach()
    assert jobs.shutdown(5.0)


def _shows(page: TuningPage, c: Counts) -> None:
    """The panel says exactly the core's counts ``c``."""
    view = page.view
    assert view is not None
    panel = page.panel
    assert (
        panel.false_rejects_label.text()
        == f"{c.false_rejects:,} of {len(view.good):,} labelled good"
    )
    assert panel.escapes_label.text() == f"{c.escapes:,} of {len(view.bad):,} labelled bad"
    assert panel.yield_label.text() == f"{100 * c.yield_:.2f} % of {N:,} parts"
    assert f"{c.newly_rejected:,} passes would be rejected" in panel.change_label.text()
    assert f"{c.newly_passed:,} rejects would pass" in panel.change_label.text()
    assert panel.candidate_spin.value() == pytest.approx(c.threshold, abs=1e-6)


def test_the_histogram_equals_numpy_on_the_database(page: TuningPage, paths: Paths) -> None:
    # the defect tool's threshold first; the label tool's field confidence is offered too
    tools = [page.tool_combo.itemData(i) for i in range(page.tool_combo.count())]
    assert tools == ["surface", "label"] and page.tool_combo.currentData() == "surface"
    offered = [page.parameter_combo.itemData(i) for i in range(page.parameter_combo.count())]
    assert offered == ["threshold"]  # no region areas recorded by these parts
    score, good, bad = numpy_on_db(paths.results_db)
    hist = page.histogram
    edges = np.linspace(min(score.min(), THRESHOLD), max(score.max(), THRESHOLD), 61)
    np.testing.assert_allclose(hist.bars[0].opts["x0"], edges[:-1])
    np.testing.assert_allclose(hist.bars[0].opts["x1"], edges[1:])
    want = [np.histogram(score[m], bins=edges)[0] for m in (good, bad, ~good & ~bad)]
    below = np.zeros(60)
    for bar, counts in zip(hist.bars, want, strict=True):
        np.testing.assert_array_equal(bar.opts["height"], counts)
        np.testing.assert_array_equal(bar.opts["y0"], below)  # stacked
        below = below + counts
    assert hist.in_force.value() == THRESHOLD and hist.candidate.value() == THRESHOLD
    assert "surface (anomaly): 300 parts" in page.status_label.text()
    assert not page.panel.apply_button.isEnabled()  # the candidate is the threshold in force


def test_log_counts_redraw_the_bars(qtbot, page: TuningPage, paths: Paths) -> None:
    linear = [bar.opts["height"].copy() for bar in page.histogram.bars]
    page.log_box.setChecked(True)
    total = sum(linear)
    top = page.histogram.bars[2]
    tops = np.asarray(top.opts["y0"]) + np.asarray(top.opts["height"])
    floor = math.log10(0.5)
    np.testing.assert_allclose(tops, np.where(total >= 1, np.log10(np.maximum(total, 1)), floor))
    assert page.histogram.getPlotItem().getAxis("left").logMode is True
    page.log_box.setChecked(False)
    for bar, heights in zip(page.histogram.bars, linear, strict=True):
        np.testing.assert_array_equal(bar.opts["height"], heights)


@pytest.mark.parametrize("t", [0.05, 0.37, 0.81, 1.2])
def test_moving_the_line_updates_the_numbers(qtbot, page: TuningPage, t: float) -> None:
    assert page.view is not None
    page.histogram.candidate.setValue(t)  # what a drag does: sigPositionChanged
    _shows(page, page.view.counts_at(t))
    assert page.panel.apply_button.isEnabled()
    # the flips follow within FLIP_LAG_MS, and are the core's
    flips = page.view.flips_at(t, limit=500)
    want = (flips.newly_rejected.tolist(), flips.newly_passed.tolist())
    qtbot.waitUntil(lambda: page.flips.row_ids() == want, timeout=2_000)
    fpr, tpr, _ = page.view.point_at(t)
    xs, ys = page.roc_pr.candidate["roc"].getData()
    assert [*xs.tolist(), *ys.tolist()] == pytest.approx([fpr, tpr])


def test_a_typed_threshold_moves_the_line(page: TuningPage) -> None:
    assert page.view is not None
    page.panel.candidate_spin.setValue(0.625)
    assert page.histogram.candidate.value() == pytest.approx(0.625)
    _shows(page, page.view.counts_at(0.625))


def _send(widget, kind: QEvent.Type, at: QPointF, buttons: Qt.MouseButton) -> None:
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    event = QMouseEvent(
        kind, at, widget.mapToGlobal(at), button, buttons, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, event)


def test_a_mouse_drag_moves_the_threshold(qtbot, page: TuningPage) -> None:
    hist = page.histogram
    vb = hist.getPlotItem().vb
    y = float(np.mean(vb.viewRange()[1]))

    def at(x: float) -> QPointF:
        return QPointF(hist.mapFromScene(vb.mapViewToScene(QPointF(x, y))))

    viewport = hist.viewport()
    left = Qt.MouseButton.LeftButton
    _send(viewport, QEvent.Type.MouseButtonPress, at(THRESHOLD), left)
    for x in np.linspace(THRESHOLD, 0.8, 12)[1:]:
        _send(viewport, QEvent.Type.MouseMove, at(float(x)), left)
    _send(viewport, QEvent.Type.MouseButtonRelease, at(0.8), Qt.MouseButton.NoButton)
    moved = hist.candidate.value()
    assert moved == pytest.approx(0.8, abs=0.02)  # within a pixel or two
    assert hist.in_force.value() == THRESHOLD  # the threshold in force stays
    assert page.view is not None
    _shows(page, page.view.counts_at(moved))


def test_a_suggestion_click_moves_the_line(qtbot, page: TuningPage) -> None:
    panel = page.panel
    kinds = [s.kind for s in panel.suggestions]
    assert kinds[0] == NO_ESCAPES and len(kinds) == 2
    item = panel.suggestion_list.item(0)
    rect = panel.suggestion_list.visualItemRect(item)
    qtbot.mouseClick(panel.suggestion_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    sug = panel.suggestions[0]
    assert page.histogram.candidate.value() == sug.threshold
    assert panel.escapes_label.text().startswith("0 of")
    # more escapes allowed: the best-yield suggestion is redone for N
    panel.max_escapes_spin.setValue(3)
    assert "≤ 3 escapes" in panel.suggestion_list.item(1).text()
    assert panel.suggestions[1].escapes <= 3


def test_double_clicking_a_flipping_part_asks_for_it(qtbot, page: TuningPage, paths: Paths) -> None:
    page.set_candidate(0.3)  # passes between 0.3 and 0.5 would be rejected
    box = page.flips.rejected
    qtbot.waitUntil(lambda: box.count() > 0 and "run1-" in box.item(0).text(), timeout=2_000)
    row_id = page.flips.row_ids()[0][0]
    conn = sqlite3.connect(paths.results_db)
    name, verdict = conn.execute(
        "SELECT inspection_id, verdict FROM inspections WHERE id = ?", (row_id,)
    ).fetchone()
    conn.close()
    assert verdict == "PASS"
    at = box.visualItemRect(box.item(0)).center()
    with qtbot.waitSignal(page.partRequested, timeout=2_000) as blocker:
        # Qt 6's double-click event alone opens nothing: the view wants the press before it
        qtbot.mouseClick(box.viewport(), Qt.MouseButton.LeftButton, pos=at)
        qtbot.mouseDClick(box.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert blocker.args == [name]
    assert "Passes that would be rejected" in page.flips.rejected_title.text()


def test_apply_carries_the_tool_and_the_candidate(qtbot, page: TuningPage) -> None:
    page.set_candidate(0.6)
    assert page.panel.apply_button.isEnabled()
    with qtbot.waitSignal(page.applyRequested, timeout=1_000) as blocker:
        qtbot.mouseClick(page.panel.apply_button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["surface", pytest.approx(0.6)]
    page.set_candidate(THRESHOLD)
    assert not page.panel.apply_button.isEnabled()


def _shown(qtbot, page: TuningPage, words: str) -> None:
    page.show()
    qtbot.waitUntil(lambda: words in page.status_label.text(), timeout=5_000)


def test_no_database_yet(qtbot) -> None:
    page, jobs = _open(qtbot, user_paths().ensure())
    _shown(qtbot, page, "No parts recorded yet")
    assert page.view is None and not page.panel.apply_button.isEnabled()
    assert not any(bar.isVisible() for bar in page.histogram.bars)
    page.detach()
    assert jobs.shutdown(5.0)


def test_a_range_with_no_parts_and_a_tool_with_no_threshold(qtbot, paths: Paths) -> None:
    page, jobs = _open(qtbot, paths)
    page.range_bar.set_range(NOW + 3600, NOW + 7200)
    _shown(qtbot, page, "No parts were recorded in this range")
    # parts whose surface tool only ever failed to run: no threshold recorded, nothing to tune
    # there; the label tool's recorded field confidence is all the range offers
    write_parts(paths.results_db, [Part(math.nan)] * 3, first=N + 1000)
    later = T0 + 10 * (N + 1000)
    with qtbot.waitSignal(page.toolsListed, timeout=5_000) as listed:
        page.set_range(later, later + 60)
    assert [(t.tool_id, t.parameters) for t in listed.args[0]] == [
        ("label", ("lot.min_confidence",))
    ]
    assert page.tool_combo.count() == 1 and page.tool_combo.currentData() == "label"
    page.detach()
    assert jobs.shutdown(5.0)


def test_no_labels_yet(qtbot) -> None:
    paths = user_paths().ensure()
    write_history(paths.results_db, labelled=False)
    page, jobs = _open(qtbot, paths)
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.show()
    page.set_candidate(0.7)
    assert page.panel.false_rejects_label.text() == NO_LABELS
    assert page.panel.escapes_label.text() == NO_LABELS
    assert LABEL_HINT in page.panel.hint_label.text()
    assert "No suggestions" in page.panel.suggestion_list.item(0).text()
    assert page.panel.yield_label.text().endswith(f"of {N:,} parts")  # yield needs no labels
    page.detach()
    assert jobs.shutdown(5.0)


def test_a_newer_load_drops_the_answer_of_an_older_one(qtbot, page: TuningPage) -> None:
    answers = []
    page.loaded.connect(answers.append)
    page.load()
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.load()
    qtbot.wait(200)
    assert len(answers) == 1


def test_main_window_opens_a_flipping_part_in_history(
    qtbot, paths: Paths, folder_recipe: Path
) -> None:
    window = open_window(qtbot, folder_recipe, start=False, size=(1400, 900))
    try:
        page = window.tuning_page
        with qtbot.waitSignal(page.loaded, timeout=10_000):
            window.pages.show_page("Tuning")
            page.set_range(T0, NOW)
        page.set_candidate(0.3)
        qtbot.waitUntil(lambda: page.flips.rejected.count() > 0, timeout=2_000)
        with qtbot.waitSignal(window.history_page.recordShown, timeout=10_000) as blocker:
            page.open_part(page.flips.row_ids()[0][0])
        assert window.pages.current_name == "History"
        assert blocker.args[0].part.inspection_id.startswith("run1-")
    finally:
        close_window(qtbot, window)
