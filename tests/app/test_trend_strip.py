"""The operator's trend strip shows the shift's and the last hour's yield and top reject reasons.

Fed by the core's ShiftTrend with parts of known verdicts and reasons, and through a real
running station on the operator screen.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from support.recipes import MANUAL, write_recipe
from support.windows import close_window, open_window

from app.trend_strip import REFRESH_MS, TrendStrip, y_floor
from inspection.pipeline.shift_trend import ShiftTrend
from inspection.reasons import reason_category
from inspection.recipe.station import ShiftCalendar
from inspection.types import Inspection, Verdict

# make_inspection parts are at 1_700_000_000 + seq: 2023-11-14 22:13 UTC, in a night shift
CALENDAR = ShiftCalendar(timezone="UTC")
T0 = 1_700_000_000.0


def _strip_with(qtbot, trend: ShiftTrend, now: float) -> TrendStrip:
    strip = TrendStrip()
    qtbot.addWidget(strip)
    strip.resize(1018, 116)  # its place on a 1080p screen
    strip.show()
    qtbot.waitExposed(strip)
    strip.set_source(lambda: trend.snapshot(now))
    return strip


def test_the_strip_shows_the_counts_of_known_parts(qtbot, make_inspection) -> None:
    trend = ShiftTrend(CALENDAR)
    # 40 parts, one a second: 30 pass, 6 surface defects (each its own score), 3 serials, 1 ERROR
    verdicts = (
        [(Verdict.PASS, "")] * 30
        + [(Verdict.FAIL, f"surface: defect found (score 0.{60 + i})") for i in range(6)]
        + [(Verdict.FAIL, "serial: no code read")] * 3
        + [(Verdict.ERROR, "cam1: no frame in time")]
    )
    for seq, (verdict, reason) in enumerate(verdicts):
        trend.part_done(make_inspection(verdict, reason, seq=seq))
    strip = _strip_with(qtbot, trend, T0 + 40)

    assert strip.hour_value.text() == "75.0 %"
    assert strip.shift_value.text() == "75.0 %"
    assert strip.shift_value.toolTip().startswith("30 of 40 passed")
    assert [label.toolTip() for label in strip.reason_labels] == [
        "surface: defect found",
        "serial: no code read",
        "cam1: no frame in time",
    ]
    assert [label.text() for label in strip.count_labels] == ["6", "3", "1"]
    assert strip.reason_labels[0].text() == "surface: defect found"  # room enough: not cut
    # the line: one point per interval with parts, here the newest
    x, y = strip.curve.getData()
    assert list(y) == [75.0] and list(x) == [0.0]


def test_a_reason_too_long_for_its_place_is_cut_at_its_end(qtbot, make_inspection) -> None:
    trend = ShiftTrend(CALENDAR)
    long = "serial: code 'sn-2507-135037' does not match the expected format"
    for seq in range(3):
        trend.part_done(make_inspection(Verdict.FAIL, long, seq=seq))
    strip = _strip_with(qtbot, trend, T0 + 3)
    strip.resize(960, 116)  # a little narrower than on a 1080p screen: the reason is cut
    qtbot.wait(50)
    shown = strip.reason_labels[0].text()
    whole = strip.reason_labels[0].toolTip()
    assert whole == "serial: code '…' does not match the expected format"
    assert shown != whole and shown.endswith("…")
    assert whole.startswith(shown[:-1]) and len(shown) > len("serial: code '…' does")


def test_the_line_follows_the_intervals_and_refreshes_without_new_items(
    qtbot, make_inspection
) -> None:
    trend = ShiftTrend(CALENDAR, interval_s=60.0, window_s=600.0)
    seq = 0
    for minute in range(10):
        if minute == 4:
            continue  # no parts: left out of the line, not drawn as 0 %
        for i in range(10):  # minute m: m rejects of 10
            verdict = Verdict.FAIL if i < minute else Verdict.PASS
            part = make_inspection(verdict, "label: lot unreadable", seq=seq)
            trend.part_done(_at(part, T0 - T0 % 60 + minute * 60 + i))
            seq += 1
    now = T0 - T0 % 60 + 9 * 60 + 30
    strip = _strip_with(qtbot, trend, now)
    x, y = strip.curve.getData()
    assert list(x) == [-9.0, -8.0, -7.0, -6.0, -4.0, -3.0, -2.0, -1.0, 0.0]
    assert list(y) == pytest.approx([100.0 - 10 * m for m in range(10) if m != 4])
    lo, hi = strip.plot.getPlotItem().viewRange()[1]
    assert lo <= 10.0 and hi >= 100.0  # the worst interval (10 %) is on the scale
    assert strip.count_labels[0].text() == str(sum(m for m in range(10) if m != 4))

    items = list(strip.plot.getPlotItem().items)
    curve = strip.curve
    for _ in range(5):
        strip.refresh()
    assert strip.plot.getPlotItem().items == items and strip.curve is curve


def _at(part: Inspection, wall_time: float) -> Inspection:
    return dataclasses.replace(part, wall_time=wall_time)


def test_the_strip_pulls_on_a_timer_at_most_once_a_second(qtbot) -> None:
    assert REFRESH_MS >= 1000
    trend = ShiftTrend(CALENDAR)
    calls = []

    def source():
        calls.append(1)
        return trend.snapshot(T0)

    strip = TrendStrip()
    qtbot.addWidget(strip)
    strip.set_source(source)
    assert len(calls) == 1  # shown at once
    qtbot.waitUntil(lambda: len(calls) >= 2, timeout=3000)
    strip.set_source(None)
    assert strip.hour_value.text() == "—" and strip.count_labels[0].text() == ""


def test_an_empty_shift_says_so(qtbot) -> None:
    strip = _strip_with(qtbot, ShiftTrend(CALENDAR), T0)
    assert strip.shift_value.text() == "—" and strip.hour_value.text() == "—"
    assert strip.reason_labels[0].text() == "no parts this shift"
    assert strip.count_labels[0].text() == ""
    assert strip.curve.getData()[1] is None or len(strip.curve.getData()[1]) == 0


def test_the_scale_floor() -> None:
    assert y_floor(np.array([99.0, math.nan])) == 80.0
    assert y_floor(np.array([71.0, 98.0])) == 60.0
    assert y_floor(np.array([math.nan])) == 80.0
    assert y_floor(np.array([0.0])) == 0.0


class _Published:
    def __init__(self) -> None:
        self.parts: list[Inspection] = []
        self.event = threading.Event()

    def on_inspection(self, inspection: Inspection) -> None:
        self.parts.append(inspection)
        self.event.set()

    def on_status(self, update) -> None:
        pass


def test_the_operator_screen_shows_the_stations_shift(qtbot, tmp_path: Path) -> None:
    path = write_recipe(tmp_path, MANUAL, "manual")
    window = open_window(qtbot, path, start=True)
    screen = window.screen_widget
    station = window.station
    assert station is not None
    qtbot.waitUntil(lambda: station.camera_connected("cam1"), timeout=10_000)
    published = _Published()
    station.add_listener(published)
    for _ in range(4):
        published.event.clear()
        station.trigger()
        assert published.event.wait(10.0)

    parts = published.parts
    passed = sum(p.verdict is Verdict.PASS for p in parts)
    qtbot.waitUntil(lambda: screen.trend.snapshot is not None and screen.trend.snapshot.parts == 4)
    expected = f"{100.0 * passed / 4:.1f} %"
    assert screen.trend.shift_value.text() == expected
    assert screen.trend.hour_value.text() == expected
    reasons = Counter(reason_category(p.reason) for p in parts if p.verdict is not Verdict.PASS)
    shown = [
        (label.toolTip(), int(count.text()))
        for label, count in zip(screen.trend.reason_labels, screen.trend.count_labels, strict=True)
        if count.text()
    ]
    assert shown == reasons.most_common(3)
    assert screen.trend.snapshot.parts == station.counters().parts

    station.reset_counts()  # the new count zeroes the strip at its next refresh
    qtbot.waitUntil(lambda: screen.trend.snapshot.parts == 0, timeout=3000)
    assert screen.trend.shift_value.text() == "—"
    station.remove_listener(published)
    close_window(qtbot, window)
