"""The Review page driven like a quality engineer would: a queue loaded, parts labelled with
the keys at speed (the next picture read ahead), a label undone, a failed write kept and
retried, labels imported from a CSV file; the inspection rows never change."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from support.history_parts import T0, Part, defect_tool, write_parts
from support.windows import close_window, make_station

from app.main_window import MainWindow
from app.pages.review import ReviewPage
from inspection.jobs import JobPool
from inspection.paths import Paths, user_paths
from inspection.tuning.labels import Label
from inspection.types import Verdict

FAIL, PASS = Verdict.FAIL, Verdict.PASS
SCORES = [0.1, 0.7, 0.45, 0.8, 0.2, 0.9, 0.48, 0.6, 0.3, 0.75, 0.05, 0.95]
REJECTS = [i for i, s in enumerate(SCORES) if s >= 0.5]  # 1, 3, 5, 7, 9, 11


def _parts() -> list[Part]:
    return [
        Part(
            verdict=FAIL if s >= 0.5 else PASS,
            reason="surface: defect found" if s >= 0.5 else "",
            tools=(defect_tool(FAIL if s >= 0.5 else PASS, s),),
            image=True,
        )
        for s in SCORES
    ]


def checksum(db: Path) -> str:
    """A digest of every inspections and tool_results row, in id order."""
    digest = hashlib.sha256()
    with sqlite3.connect(db) as conn:
        for table in ("inspections", "tool_results"):
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY id"):
                digest.update(repr(row).encode())
    return digest.hexdigest()


def stored_labels(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT i.inspection_id, l.label, l.reason FROM part_labels l "
            "JOIN inspections i ON i.id = l.inspection ORDER BY l.id"
        ).fetchall()


@pytest.fixture
def paths() -> Paths:
    p = user_paths().ensure()
    write_parts(p.results_db, _parts(), p.archive)
    return p


def _open(qtbot, paths: Paths) -> tuple[ReviewPage, JobPool]:
    jobs = JobPool()
    page = ReviewPage(paths, jobs, clock=lambda: T0 + 10 * len(SCORES) + 5)
    qtbot.addWidget(page)
    page.resize(1400, 900)
    with qtbot.waitSignals([page.queueLoaded, page.partShown], timeout=10_000):
        page.show()  # the first show lists the tools, loads the rejects, shows the newest
        qtbot.waitExposed(page)
    page.activateWindow()
    page.setFocus()
    return page, jobs


@pytest.fixture
def page(qtbot, paths: Paths):
    page, jobs = _open(qtbot, paths)
    yield page
    page.detach()
    assert jobs.shutdown(5.0)


def _idle(qtbot, page: ReviewPage) -> None:
    qtbot.waitUntil(lambda: page.writer.idle, timeout=5_000)


def _ids(page: ReviewPage) -> list[str]:
    return [i.inspection_id for i in page.model.items]


def test_the_rejects_queue_matches_the_database(page: ReviewPage, paths: Paths) -> None:
    with sqlite3.connect(paths.results_db) as conn:
        rows = conn.execute(
            "SELECT i.inspection_id, t.score FROM inspections i JOIN tool_results t "
            "ON t.inspection = i.id WHERE i.verdict IN ('FAIL', 'ERROR') ORDER BY i.id DESC"
        ).fetchall()
    assert [r[0] for r in rows] == [f"run1-{i:05d}" for i in reversed(REJECTS)]
    assert page.bar.tool_combo.currentText() == "surface"
    assert _ids(page) == [r[0] for r in rows]
    model = page.model
    assert [model.data(model.index(r, 3)) for r in range(model.rowCount())] == [
        f"{s} / 0.5" for _id, s in rows
    ]
    assert {model.data(model.index(r, 4)) for r in range(model.rowCount())} == {"—"}
    assert page.detail.record is not None and page.detail.record.part.inspection_id == rows[0][0]
    assert "0 labelled · 6 left in the queue" in page.counts_label.text()


def test_keys_label_and_move_on_with_the_next_picture_read_ahead(
    qtbot, page: ReviewPage, paths: Paths
) -> None:
    before = checksum(paths.results_db)
    queue = list(page.model.items)
    page.reason_edit.setText("scratch at the rim")
    for step, key in enumerate((Qt.Key.Key_D, Qt.Key.Key_G)):
        following = queue[step + 1]
        qtbot.waitUntil(lambda p=following.part_id: page.has_read(p), timeout=5_000)
        with qtbot.waitSignal(page.partShown, timeout=100) as shown:
            qtbot.keyClick(page, key)
            # shown within the key press itself: from memory, not from a job
            assert page.detail.record.part.inspection_id == following.inspection_id
        assert shown.args[1] is True and page.current == step + 1
        assert page.detail.view.image_item.image is not None
    _idle(qtbot, page)
    assert stored_labels(paths.results_db) == [
        (queue[0].inspection_id, "defect", "scratch at the rim"),
        (queue[1].inspection_id, "good", "scratch at the rim"),
    ]
    assert page.model.label_text(0) == "defect" and page.model.label_text(1) == "good"
    assert "2 labelled (defect 1 · good 1) · 4 left" in page.counts_label.text()

    qtbot.keyClick(page, Qt.Key.Key_Z)  # undo the "good": the part is unlabelled again
    assert page.current == 1
    _idle(qtbot, page)
    assert stored_labels(paths.results_db) == [
        (queue[0].inspection_id, "defect", "scratch at the rim")
    ]
    assert page.model.label_text(1) == "—"
    assert "1 labelled (defect 1) · 5 left" in page.counts_label.text()

    page.reason_edit.clear()
    qtbot.keyClick(page, Qt.Key.Key_E)
    qtbot.keyClick(page, Qt.Key.Key_K)  # back to the part just labelled
    assert page.current == 1
    qtbot.keyClick(page, Qt.Key.Key_U)  # a new label: a new row, the newest wins
    _idle(qtbot, page)
    assert stored_labels(paths.results_db)[1:] == [
        (queue[1].inspection_id, "escape", ""),
        (queue[1].inspection_id, "unsure", ""),
    ]
    assert page.model.label_text(1) == "unsure"
    assert checksum(paths.results_db) == before  # labels never alter the record


def test_a_failed_write_stays_not_saved_until_retried(
    qtbot, page: ReviewPage, paths: Paths
) -> None:
    with sqlite3.connect(paths.results_db) as conn:  # the database refuses labels for now
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON part_labels "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    first = page.model.items[0]
    page.label_buttons[Label.DEFECT].click()  # by mouse
    qtbot.waitUntil(lambda: page.retry_button.isVisible(), timeout=5_000)
    assert page.model.label_text(0) == "defect (not saved)"
    assert "not saved: disk full" in page.status_label.text()
    assert "1 not saved yet" in page.counts_label.text()
    assert stored_labels(paths.results_db) == []
    with sqlite3.connect(paths.results_db) as conn:
        conn.execute("DROP TRIGGER refuse")
    page.retry_button.click()
    _idle(qtbot, page)
    assert stored_labels(paths.results_db) == [(first.inspection_id, "defect", "")]
    assert page.model.label_text(0) == "defect" and page.retry_button.isHidden()


def test_csv_import_lists_bad_lines_then_imports_the_good_ones(
    qtbot, page: ReviewPage, paths: Paths, tmp_path: Path
) -> None:
    before = checksum(paths.results_db)
    csv = tmp_path / "rework.csv"
    csv.write_text(
        "inspection_id;label;reason\nrun1-00001;NG;burr\nrun1-00003;maybe;\nrun1-00005;ok;\n",
        encoding="utf-8",
    )
    imports = page.imports
    with qtbot.waitSignal(imports.importEnded, timeout=5_000) as ended:
        imports.import_file(csv)
    assert ended.args[0].stored == 0
    assert stored_labels(paths.results_db) == []
    assert imports.errors.count() == 1 and "line 3: unknown label 'maybe'" in (
        imports.errors.item(0).text()
    )
    assert "nothing stored" in imports.outcome.text()
    assert imports.anyway_button.isVisible()
    assert imports.anyway_button.text() == "Import the 2 good lines anyway"
    with qtbot.waitSignal(imports.importEnded, timeout=5_000):
        imports.anyway_button.click()
    assert stored_labels(paths.results_db) == [
        ("run1-00001", "defect", "burr"),
        ("run1-00005", "good", ""),
    ]
    assert "2 labels stored (1 defect, 1 good)" in imports.outcome.text()
    assert not imports.anyway_button.isVisible()
    # the loaded rows show the imported labels
    row_of = {item.inspection_id: r for r, item in enumerate(page.model.items)}
    qtbot.waitUntil(lambda: page.model.label_text(row_of["run1-00005"]) == "good", timeout=5_000)
    assert page.model.label_text(row_of["run1-00001"]) == "defect"
    assert checksum(paths.results_db) == before


def test_other_queues_and_a_new_sample(qtbot, page: ReviewPage) -> None:
    page.bar.kind_combo.setCurrentIndex(page.bar.kind_combo.findData("near_threshold"))
    page.bar.band_spin.setValue(0.1)
    with qtbot.waitSignal(page.queueLoaded, timeout=5_000):
        page.bar.load_button.click()
    assert _ids(page) == ["run1-00006", "run1-00002"]  # 0.48, 0.45: passes just below 0.5
    assert page.bar.judge_tool_box.isChecked()
    page.bar.kind_combo.setCurrentIndex(page.bar.kind_combo.findData("sample_passes"))
    page.bar.sample_spin.setValue(3)
    with qtbot.waitSignal(page.queueLoaded, timeout=5_000):
        page.bar.load_button.click()
    first = _ids(page)
    assert len(first) == 3 and all(SCORES[int(i[-5:])] < 0.5 for i in first)
    seen = {tuple(first)}
    for _ in range(4):
        with qtbot.waitSignal(page.queueLoaded, timeout=5_000):
            page.bar.new_sample_button.click()
        seen.add(tuple(_ids(page)))
    assert len(seen) > 1  # another seed, another sample
    page.bar.range_bar.set_range(T0 - 100, T0 - 50)
    with qtbot.waitSignal(page.queueLoaded, timeout=5_000):
        page.bar.load_button.click()
    assert page.status_label.text() == "No passed parts in this range."
    assert "0 left in the queue" in page.counts_label.text()


def test_an_empty_database_says_so(qtbot) -> None:
    paths = user_paths().ensure()
    jobs = JobPool()
    page = ReviewPage(paths, jobs)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.bar.toolsListed, timeout=5_000):
        page.show()
    qtbot.waitUntil(lambda: "results database is empty" in page.status_label.text(), timeout=5_000)
    qtbot.keyClick(page, Qt.Key.Key_D)
    assert page.status_label.text() == "No part to label: load a queue first."
    page.detach()
    assert jobs.shutdown(5.0)


def test_the_window_hosts_the_review_page(qtbot, paths: Paths) -> None:
    window = MainWindow(make_station)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert "Review" in window.pages.names()
    with qtbot.waitSignal(window.review_page.queueLoaded, timeout=10_000):
        window.pages.show_page("Review")  # the first show loads the rejects of the last hour
    assert window.review_page.status_label.text() == "No rejects in this range."
    close_window(qtbot, window)


def test_undo_right_after_a_label_leaves_nothing_stored(
    qtbot, page: ReviewPage, paths: Paths
) -> None:
    qtbot.keyClick(page, Qt.Key.Key_D)
    qtbot.keyClick(page, Qt.Key.Key_Backspace)  # while it is written, or before
    _idle(qtbot, page)
    assert stored_labels(paths.results_db) == []
    assert page.current == 0 and page.model.label_text(0) == "—"
    with sqlite3.connect(paths.results_db) as conn:
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON part_labels "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    qtbot.keyClick(page, Qt.Key.Key_E)
    qtbot.waitUntil(lambda: page.retry_button.isVisible(), timeout=5_000)
    qtbot.keyClick(page, Qt.Key.Key_Z)  # a label never saved is simply dropped
    assert page.model.label_text(0) == "—" and page.writer.idle
    assert page.retry_button.isHidden() and "0 labelled" in page.counts_label.text()


def test_the_queue_names_parts_by_number_and_keeps_score_and_label_in_sight(
    page: ReviewPage, paths: Paths
) -> None:
    model, table = page.model, page.table
    first = model.items[0]
    with sqlite3.connect(paths.results_db) as conn:
        (seq,) = conn.execute(
            "SELECT part_seq FROM inspections WHERE inspection_id = ?", (first.inspection_id,)
        ).fetchone()
    assert model.data(model.index(0, 1)) == f"#{seq + 1}"  # as History and the operator count
    assert first.inspection_id in model.data(model.index(0, 1), Qt.ItemDataRole.ToolTipRole)
    # the 32-digit id no longer pushes the score and the label out of the list's view
    assert table.columnViewportPosition(4) < table.viewport().width()
