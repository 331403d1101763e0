"""The History page driven like a quality engineer would: filter, page, open a part, export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support.history_parts import Part, code_tool, defect_tool, write_parts
from support.windows import close_window, open_window

from app.pages.history import HistoryPage
from app.pages.history_table import COLUMNS
from inspection.jobs import JobPool
from inspection.paths import Paths, user_paths
from inspection.types import Frame, Inspection, Verdict

FAIL, PASS = Verdict.FAIL, Verdict.PASS


def _parts(n: int = 23) -> list[Part]:
    return [
        Part(
            verdict=FAIL if i % 3 == 0 else PASS,
            reason="surface: defect found" if i % 3 == 0 else "",
            shift=("2026-06-01", "Early" if i < 12 else "Late"),
            lot="L1" if i < 8 else "L2",
            tools=(code_tool(f"SN{i:03d}"), defect_tool(FAIL if i % 3 == 0 else PASS, 0.9)),
            image=i % 3 == 0,
        )
        for i in range(n)
    ]


@pytest.fixture
def paths() -> Paths:
    p = user_paths().ensure()
    write_parts(p.results_db, _parts(), p.archive)
    return p


@pytest.fixture
def page(qtbot, paths: Paths):
    jobs = JobPool()
    page = HistoryPage(paths, jobs)
    qtbot.addWidget(page)
    page.resize(1400, 900)
    page.show()
    qtbot.waitExposed(page)
    yield page
    page.detach()
    assert jobs.shutdown(5.0)


def _search(qtbot, page: HistoryPage) -> None:
    with qtbot.waitSignal(page.pageLoaded, timeout=5_000):
        page.search()


def _numbers(page: HistoryPage) -> list[int]:
    return [r.part_number for r in page.model.rows]


def test_filters_show_the_right_parts(qtbot, page: HistoryPage) -> None:
    page.filters.verdict_boxes[FAIL].setChecked(True)
    _search(qtbot, page)
    assert _numbers(page) == [22, 19, 16, 13, 10, 7, 4, 1]
    qtbot.waitUntil(lambda: page.count_label.text() == "8 parts", timeout=5_000)

    page.filters.verdict_boxes[FAIL].setChecked(False)
    page.filters.shift_box.setChecked(True)
    page.filters.day_edit.setDate(
        page.filters.day_edit.date().fromString("2026-06-01", "yyyy-MM-dd")
    )
    page.filters.shift_combo.setCurrentText("Late")
    _search(qtbot, page)
    assert _numbers(page) == list(range(23, 12, -1))

    page.filters.shift_box.setChecked(False)
    page.filters.lot_edit.setText("L1")
    _search(qtbot, page)
    assert _numbers(page) == list(range(8, 0, -1))

    page.filters.lot_edit.clear()
    page.filters.text_edit.setText("SN004")
    _search(qtbot, page)
    assert _numbers(page) == [5]
    assert page.model.data(page.model.index(0, 7)) == "SN004"


def test_paging_loads_the_rest(qtbot, page: HistoryPage, monkeypatch) -> None:
    monkeypatch.setattr("app.pages.history.PAGE_SIZE", 10)
    _search(qtbot, page)
    assert _numbers(page) == list(range(23, 13, -1))
    assert page.load_more_button.isEnabled()
    for _ in range(2):
        with qtbot.waitSignal(page.pageLoaded, timeout=5_000):
            page.load_more_button.click()
    assert _numbers(page) == list(range(23, 0, -1))
    assert not page.load_more_button.isEnabled()


def test_selecting_a_row_shows_its_detail_with_overlays(qtbot, page: HistoryPage) -> None:
    page.filters.verdict_boxes[FAIL].setChecked(True)
    _search(qtbot, page)
    with qtbot.waitSignal(page.recordShown, timeout=5_000) as shown:
        page.table.selectRow(1)  # part #19
    record = shown.args[0]
    assert record.part.part_number == 19 and record.image_exists
    detail = page.detail
    assert detail.view.isVisible()
    assert detail.view.image_item.image is not None
    _roi, _ok_curve, bad_curve, *labels = detail.view.overlay_items()
    xs, _ys = bad_curve.getData()
    assert xs is not None and np.nanmax(xs) == 62  # the defect region's right edge
    assert [label.toPlainText() for label in labels if label.isVisible()] == ["SN018", "0.90"]
    text = "\n".join(detail.texts())
    assert "Part #19" in text and "surface" in text and "score = 0.9" in text
    assert "surface: " + "ab" * 32 in text and "capture → stored" in text
    assert "recipe demo v1" in text


def test_export_writes_the_selection(qtbot, page: HistoryPage, tmp_path: Path) -> None:
    page.filters.lot_edit.setText("L2")
    _search(qtbot, page)
    out = tmp_path / "l2.csv"
    with qtbot.waitSignal(page.exportEnded, timeout=10_000) as ended:
        assert page.export_to(out) is not None
    assert ended.args[0].result() == 15
    frame = pd.read_csv(out, encoding="utf-8-sig")
    assert list(frame["part_number"]) == list(range(23, 8, -1))
    assert set(frame["lot"]) == {"L2"}
    assert "15 parts written" in page.status_label.text()
    assert not page.progress.isVisible() and page.export_button.isEnabled()


def test_a_touched_failed_part_opens_in_history(qtbot, paths: Paths, folder_recipe: Path) -> None:
    window = open_window(qtbot, folder_recipe, start=False)
    assert window.pages.current_name == "Operator"
    image = np.full((96, 128), 40, dtype=np.uint8)
    # a part the writer has not committed yet: shown from memory, then from its record
    inspection = Inspection(
        inspection_id="run1-00023",
        station="st1",
        part_seq=23,
        verdict=FAIL,
        reason="serial: no code found",
        tool_results=(code_tool("", FAIL, "serial: no code found"),),
        frames=(Frame(camera="cam1", seq=1, t_ns=1, image=image),),
        recipe_name="demo",
        recipe_version="1",
    )
    page = window.history_page
    with qtbot.waitSignal(page.recordShown, timeout=8_000) as shown:
        window.screen_widget.partOpened.emit(inspection)
        assert window.pages.current_name == "History"
        assert page.isVisible()
        assert "Part #24" in page.detail.title.text()  # from memory at once
        write_parts(
            paths.results_db, [Part(verdict=FAIL, reason="serial: no code found")], first_seq=23
        )
    assert shown.args[0].part.inspection_id == "run1-00023"
    assert np.array_equal(page.detail.view.image_item.image, image)  # nothing archived
    window.pages.action("Operator").trigger()
    assert window.pages.current_name == "Operator" and window.screen_widget.isVisible()
    close_window(qtbot, window)


def test_no_filter_or_column_names_a_person(page: HistoryPage) -> None:
    person = ("operator", "user", "person", "worker", "employee", "badge", "login", "who")
    words = [header for header, _key in COLUMNS]
    words += [
        e.placeholderText()
        for e in (
            page.filters.reason_edit,
            page.filters.tool_edit,
            page.filters.lot_edit,
            page.filters.version_edit,
            page.filters.text_edit,
        )
    ]
    words += [
        b.text() for b in (page.filters.from_box, page.filters.to_box, page.filters.shift_box)
    ]
    words += [b.text() for b in page.filters.verdict_boxes.values()]
    assert not [w for w in words if any(p in w.lower() for p in person)], words


def test_the_list_gets_three_fifths_of_the_width(qtbot, page: HistoryPage) -> None:
    # the detail's image asks for much width; the list must keep its share for times and reasons
    for width in (1366, 1920):
        page.resize(width, 900)
        qtbot.waitUntil(lambda w=width: page.width() == w)
        left, detail = page.split.sizes()
        assert left / (left + detail) == pytest.approx(0.6, abs=0.05)


def test_columns_start_wide_enough_for_a_time_on_one_line(qtbot, page: HistoryPage) -> None:
    from app.pages.history_table import COLUMNS

    _search(qtbot, page)
    keys = [key for _title, key in COLUMNS]
    metrics = page.table.fontMetrics()
    time_text = page.model.data(page.model.index(0, keys.index("time")))
    assert page.table.columnWidth(keys.index("time")) > metrics.horizontalAdvance(time_text)
    widths = {key: page.table.columnWidth(i) for i, key in enumerate(keys)}
    assert widths["reason"] == max(w for k, w in widths.items() if k != keys[-1])
    assert widths["part_number"] < widths["time"] < widths["reason"]
