"""The Trends page driven like a quality engineer would: series loaded and stacked, limits and
violations drawn, a point clicked to open its part, the chart and its data saved."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage
from support.trend_parts import PARTS, T0, good_score, score, write_trend_parts
from support.windows import close_window, open_window

from app.pages.trends import TrendsPage
from inspection.jobs import JobPool
from inspection.paths import Paths, user_paths
from inspection.trends.points_csv import HEADER

NOW = T0 + 10 * PARTS + 5  # just after the last part: "Last hour" holds every part
DEFECTS = (9, 19, 29, 39)  # surface score 0.9: far beyond 3 sigma of the good parts


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def paths() -> Paths:
    p = user_paths().ensure()
    write_trend_parts(p.results_db)
    return p


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _page(qtbot, paths: Paths, clock: Clock) -> tuple[TrendsPage, JobPool]:
    jobs = JobPool()
    page = TrendsPage(paths, jobs, clock=clock)
    qtbot.addWidget(page)
    page.resize(1400, 900)
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.show()  # the first show lists the series and loads the default ones
        qtbot.waitExposed(page)
    return page, jobs


@pytest.fixture
def page(qtbot, paths: Paths, clock: Clock):
    page, jobs = _page(qtbot, paths, clock)
    yield page
    page.detach()
    assert jobs.shutdown(5.0)


def _show(qtbot, page: TrendsPage, *keys: str):
    with qtbot.waitSignal(page.loaded, timeout=10_000) as blocker:
        page.check_series(list(keys))
    return blocker.args[0]


def test_first_show_lists_series_and_draws_yield_and_a_score(page: TrendsPage) -> None:
    listed = [
        page.series_list.item(i).data(Qt.ItemDataRole.UserRole)
        for i in range(page.series_list.count())
    ]
    assert {"station.yield", "surface.score", "label.lot_contrast", "serial.attempts"} <= set(
        listed
    )
    assert page.checked_series()[0] == "station.yield"
    assert page.chart.order == page.checked_series()
    # a name cut off by the list's width is read whole in its tooltip
    yield_item = page.series_list.item(listed.index("station.yield"))
    assert yield_item.toolTip() == yield_item.text() == "station.yield: yield [fraction]"


def test_a_series_is_drawn_from_the_database(qtbot, page: TrendsPage) -> None:
    loaded = _show(qtbot, page, "surface.score")
    plot = page.chart.plots["surface.score"]
    np.testing.assert_allclose(plot.mean.xData, [T0 + 10 * i for i in range(PARTS)])
    np.testing.assert_allclose(plot.mean.yData, [score(i) for i in range(PARTS)])
    assert not plot.band.isVisible()  # one part a point: no min/max band
    assert page.status_label.text().startswith(f"surface.score: {PARTS} parts in {PARTS} points")
    assert loaded.charts["surface.score"].parts == PARTS
    # the curves are built for speed (DESIGN §8)
    assert plot.mean.opts["skipFiniteCheck"] and plot.mean.opts["clipToView"]
    assert plot.mean.opts["autoDownsample"] and plot.mean.opts["downsampleMethod"] == "peak"


def test_threshold_and_control_limits_are_drawn(qtbot, page: TrendsPage) -> None:
    _show(qtbot, page, "surface.score")
    plot = page.chart.plots["surface.score"]
    assert plot.threshold.isVisible() and plot.threshold.value() == pytest.approx(0.5)
    assert plot.threshold.pen.style() == Qt.PenStyle.DashLine
    good = [good_score(i) for i in range(PARTS) if i % 10 != 9]
    assert plot.centre.isVisible() and plot.centre.value() == pytest.approx(np.mean(good))
    assert plot.ucl.value() > plot.centre.value() > plot.lcl.value()
    # each line says its value (a label made while hidden must not keep saying 0)
    for line, name in ((plot.threshold, "threshold"), (plot.ucl, "UCL"), (plot.lcl, "LCL")):
        assert line.label.toPlainText() == f"{name} {line.value():.4g}"
    # the defects are marked in red
    xs, _ys = plot.marks.getData()
    assert {T0 + 10 * i for i in DEFECTS} <= set(xs.tolist())


def test_no_limits_label_is_cut_off_by_the_plots_edge(qtbot, page: TrendsPage) -> None:
    """The y scale often ends at the upper control limit: its value must still be read whole."""
    _show(qtbot, page, "station.yield", "surface.score")
    qtbot.wait(100)  # laid out
    for key, shown in page.chart.plots.items():
        area = shown.plot.vb.sceneBoundingRect()
        for line in (shown.ucl, shown.centre, shown.lcl):
            if line.isVisible():
                label = line.label
                assert area.contains(label.sceneBoundingRect()), (key, label.toPlainText())


def test_limit_labels_do_not_overlap_when_the_lines_lie_close(qtbot, page: TrendsPage) -> None:
    # outliers stretch the y scale: UCL, centre and LCL come to lie a few pixels apart
    _show(qtbot, page, "surface.score")
    shown = page.chart.plots["surface.score"]
    ucl, lcl = shown.ucl.value(), shown.lcl.value()
    shown.plot.disableAutoRange(axis="y")
    shown.plot.setYRange(lcl - 40 * (ucl - lcl), ucl + 2 * (ucl - lcl), padding=0)
    qtbot.wait(100)  # laid out
    rects = [line.label.sceneBoundingRect() for line in (shown.ucl, shown.centre, shown.lcl)]
    assert (
        abs(
            shown.plot.vb.mapViewToScene(QPointF(0, ucl)).y()
            - shown.plot.vb.mapViewToScene(QPointF(0, lcl)).y()
        )
        < rects[0].height()
    )  # the lines really lie closer than a label is tall
    for i in range(3):
        for j in range(i + 1, 3):
            assert not rects[i].intersects(rects[j]), (i, j)


def test_stacked_series_share_the_time_axis(qtbot, page: TrendsPage) -> None:
    _show(qtbot, page, "station.yield", "surface.score")
    assert page.chart.order == ["station.yield", "surface.score"]
    top = page.chart.plots["station.yield"].plot
    under = page.chart.plots["surface.score"].plot
    assert under.vb.linkedView(under.vb.XAxis) is top.vb
    top.setXRange(T0 + 100, T0 + 200, padding=0)
    qtbot.waitUntil(lambda: under.vb.viewRange()[0] == pytest.approx([T0 + 100, T0 + 200], abs=1))
    # the plots are kept on a reload, not made anew
    kept = page.chart.plots["surface.score"]
    _show(qtbot, page, "station.yield", "surface.score")
    assert page.chart.plots["surface.score"] is kept


def test_violations_are_listed_and_a_row_centres_the_chart(qtbot, page: TrendsPage) -> None:
    _show(qtbot, page, "surface.score")
    table = page.violations
    assert table.horizontalHeaderItem(0).text().startswith("Time")
    assert [table.horizontalHeaderItem(c).text() for c in range(1, 4)] == [
        "Rule",
        "Points",
        "Series",
    ]
    rows = [
        (table.item(r, 3).text(), table.item(r, 1).text(), key_at)
        for r, key_at in enumerate(table.rows)
    ]
    # each cell's tooltip says the whole row, whatever the panel's width cuts off
    tip = table.item(0, 0).toolTip()
    assert rows[0][0] in tip and rows[0][1] in tip and "point" in tip
    beyond = [at for series, rule, (_k, at, _v) in rows if rule == "1 point beyond 3 sigma"]
    assert sorted(beyond) == [T0 + 10 * i for i in DEFECTS]
    assert all(series == "surface.score" for series, _rule, _ in rows)
    row = next(r for r, (_s, rule, (_k, at, _v)) in enumerate(rows) if at == T0 + 190)
    page.chart.show_range(T0, T0 + 100)
    table.setCurrentCell(row, 0)
    low, high = page.chart.x_range()
    assert (low + high) / 2 == pytest.approx(T0 + 190, abs=2)
    focus_x, focus_y = page.chart.plots["surface.score"].focus.getData()
    assert focus_x.tolist() == [T0 + 190] and focus_y.tolist() == pytest.approx([0.9])


def _click(qtbot, page: TrendsPage, key: str, t: float, value: float) -> None:
    vb = page.chart.plots[key].plot.vb
    scene = vb.mapViewToScene(QPointF(t, value))
    at = page.chart.mapFromScene(scene)
    qtbot.mouseClick(page.chart.viewport(), Qt.MouseButton.LeftButton, pos=at)


def test_clicking_a_point_asks_for_its_part(qtbot, page: TrendsPage) -> None:
    _show(qtbot, page, "station.yield", "surface.score")
    page.chart.show_range(T0, T0 + 10 * PARTS)
    with qtbot.waitSignal(page.partRequested, timeout=2_000) as blocker:
        _click(qtbot, page, "surface.score", T0 + 190, 0.9)
    assert blocker.args == ["run1-00019"]
    assert "run1-00019" in page.status_label.text()


def test_an_interval_point_has_no_single_part(qtbot, page: TrendsPage) -> None:
    loaded = _show(qtbot, page, "station.yield")
    yields = loaded.charts["station.yield"].shown
    page.chart.show_range(float(yields.t[0]) - 30, NOW)  # intervals start before the first part
    with qtbot.assertNotEmitted(page.partRequested, wait=100):
        _click(qtbot, page, "station.yield", float(yields.t[0]), float(yields.value[0]))
    assert "not one part" in page.status_label.text()


def test_chart_saved_as_png_and_data_as_csv(qtbot, page: TrendsPage, tmp_path: Path) -> None:
    loaded = _show(qtbot, page, "station.yield", "surface.score")
    png = tmp_path / "chart.png"
    with qtbot.waitSignal(page.exportEnded, timeout=5_000) as blocker:
        page.export_png(png)
    assert blocker.args[0].error is None
    image = QImage(str(png))
    assert not image.isNull() and image.width() == page.chart.width()

    path = tmp_path / "points.csv"
    with qtbot.waitSignal(page.exportEnded, timeout=5_000):
        page.export_csv(path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as f:
        table = [dict(zip(HEADER, r, strict=True)) for r in list(csv.reader(f))[1:]]
    surface = [r for r in table if r["series"] == "surface.score"]
    assert [float(r["value"]) for r in surface] == pytest.approx([score(i) for i in range(PARTS)])
    assert [r["part"] for r in surface] == [f"run1-{i:05d}" for i in range(PARTS)]
    yields = [r for r in table if r["series"] == "station.yield"]
    assert len(yields) == len(loaded.charts["station.yield"].shown)
    assert sum(int(r["parts"]) for r in yields) == PARTS
    assert f"{len(table)} points saved" in page.status_label.text()


def test_an_empty_range_and_a_bad_series_are_said(qtbot, page: TrendsPage) -> None:
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.set_range(NOW + 3600, NOW + 7200)
    assert "no parts in this range" in page.status_label.text()
    # a series the range does not have (its tool is unknown) is reported, the others drawn
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.set_range(T0, NOW)
    page.series_list.item(0).setData(Qt.ItemDataRole.UserRole, "nothing.score")
    with qtbot.waitSignal(page.loaded, timeout=10_000) as blocker:
        page.check_series(["nothing.score", "surface.score"])
    assert "surface.score" in blocker.args[0].charts
    assert "nothing.score: series nothing.score: no tool 'nothing'" in page.status_label.text()


def test_no_database_yet(qtbot, clock: Clock) -> None:
    paths = user_paths().ensure()
    jobs = JobPool()
    page = TrendsPage(paths, jobs, clock=clock)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: "No parts recorded yet" in page.status_label.text(), timeout=5_000)
    assert page.series_list.count() == 0
    page.detach()
    assert jobs.shutdown(5.0)


def test_live_follows_new_parts(qtbot, page: TrendsPage, paths: Paths, clock: Clock) -> None:
    _show(qtbot, page, "surface.score")
    page.live_box.setChecked(True)
    assert page.live_timer.isActive() and page.live_timer.interval() >= 2000
    write_trend_parts(paths.results_db, first=PARTS, count=5)
    clock.now = NOW + 50
    with qtbot.waitSignal(page.loaded, timeout=6_000) as blocker:
        pass
    assert blocker.args[0].charts["surface.score"].parts == PARTS + 5
    assert len(page.chart.plots["surface.score"].mean.yData) == PARTS + 5
    page.range_combo.setCurrentText("Last shift")  # a range that does not end now: not live
    assert not page.live_box.isChecked() and not page.live_timer.isActive()


def test_main_window_opens_a_clicked_part_in_history(qtbot, folder_recipe: Path) -> None:
    write_trend_parts(user_paths().ensure().results_db)
    window = open_window(qtbot, folder_recipe, start=False, size=(1400, 900))
    try:
        page = window.trends_page
        window.pages.show_page("Trends")
        with qtbot.waitSignal(page.loaded, timeout=10_000):
            page.set_range(T0, NOW)
        _show(qtbot, page, "surface.score")
        page.chart.show_range(T0, NOW)
        with qtbot.waitSignal(window.history_page.recordShown, timeout=10_000) as blocker:
            _click(qtbot, page, "surface.score", T0 + 290, 0.9)
        assert window.pages.current_name == "History"
        assert blocker.args[0].part.inspection_id == "run1-00029"
    finally:
        close_window(qtbot, window)


def test_aggregated_points_have_a_band_and_open_the_part_at_either_end(
    qtbot, page: TrendsPage
) -> None:
    page.max_points = 8  # 40 parts in 8 buckets of 5
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.set_range(T0, NOW)
    loaded = _show(qtbot, page, "surface.score")
    shown = loaded.charts["surface.score"].shown
    assert shown.aggregated and len(shown) <= 8
    plot = page.chart.plots["surface.score"]
    assert plot.band.isVisible()
    np.testing.assert_allclose(plot.high.yData, shown.high)
    np.testing.assert_allclose(plot.low.yData, shown.low)
    assert "40 parts in" in page.status_label.text()
    # the bucket holding part 9 (a defect): its max is part 9, its min another part
    bucket = int(np.flatnonzero(np.isclose(shown.high, 0.9))[0])
    with qtbot.waitSignal(page.partRequested, timeout=2_000) as high:
        _click(qtbot, page, "surface.score", float(shown.t[bucket]), 0.9)
    assert high.args == ["run1-00009"]
    low_part = loaded.part_names[int(shown.low_part_id[bucket])]
    with qtbot.waitSignal(page.partRequested, timeout=2_000) as low:
        _click(qtbot, page, "surface.score", float(shown.t[bucket]), float(shown.low[bucket]))
    assert low.args == [low_part] and low_part != "run1-00009"


def test_a_newer_load_drops_the_answer_of_an_older_one(qtbot, page: TrendsPage) -> None:
    answers = []
    page.loaded.connect(answers.append)
    page.check_series(["station.yield"])
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.check_series(["surface.score"])
    qtbot.wait(200)  # both jobs have ended by now; the older one's answer is never drawn
    assert [list(a.charts) for a in answers] == [["surface.score"]]


def test_limits_set_from_the_range_on_screen_are_kept_and_drawn(
    qtbot, page: TrendsPage, paths: Paths
) -> None:
    from inspection.trends.limits import load_limits

    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.check_series(["surface.score"])
    # the last ten parts of version 2 (parts 30-39; part 39 a defect) as the new baseline
    start, end = T0 + 10 * 30, T0 + 10 * PARTS
    with qtbot.waitSignal(page.limitsSaved, timeout=10_000) as said:
        page.rebaseline(["surface.score"], start, end)
    (line,) = said.args[0]
    assert line.startswith("surface.score: centre ") and "from 9 good parts" in line
    stored = load_limits(paths.results_db, "surface.score", "demo", "2")
    good = [good_score(i) for i in range(30, 39)]
    assert stored is not None and stored.centre == pytest.approx(np.mean(good))
    assert stored.baseline.startswith("window ")
    qtbot.waitUntil(
        lambda: page.chart.plots["surface.score"].centre.value() == pytest.approx(stored.centre),
        timeout=10_000,
    )


def test_violations_of_one_day_show_the_date_once(qtbot, page: TrendsPage) -> None:
    import dataclasses

    loaded = _show(qtbot, page, "surface.score")
    table = page.violations
    day = dt.datetime.fromtimestamp(table.rows[0][1], tz=page.violations.zone).date()
    assert table.horizontalHeaderItem(0).text() == f"Time ({day.isoformat()})"
    assert len(table.item(0, 0).text()) == len("20:11:53")  # the time alone: room for the rule
    assert day.isoformat() in table.item(0, 0).toolTip()
    # a violation on another day: every row says its date again
    data = loaded.charts["surface.score"]
    earlier = dataclasses.replace(data.violations[0], at=data.violations[0].at - 86_400.0)
    two_days = dataclasses.replace(data, violations=(earlier, *data.violations[1:]))
    table.show_charts({"surface.score": two_days})
    assert table.horizontalHeaderItem(0).text() == "Time"
    assert all(len(table.item(r, 0).text()) == len("2026-12-07 20:11:53") for r in range(2))


def test_the_side_panel_has_two_sevenths_of_the_width_on_a_small_screen(
    qtbot, page: TrendsPage
) -> None:
    page.resize(1366, 700)
    qtbot.wait(50)
    side, chart = page.split.sizes()
    assert side == pytest.approx(2 / 7 * (side + chart), abs=10)
    assert side >= 370  # a violation's time and rule, and a series' name, have room
