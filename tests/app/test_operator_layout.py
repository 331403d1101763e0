"""The operator screen fits 1280×720 and up with nothing hidden, cut or overlapping (DESIGN §8).

The whole main window (menu bar, toolbar, the status bar with the batch bar) at 1280×720,
1366×768 and 1920×1080, with and without an alarm banner, with the operator stylesheet. The
live view keeps a picture the operator can judge from two metres: about half the window's
width and most of its height, however small the window (it once shrank to 150×130 px).
"""

from __future__ import annotations

import itertools
import math
import socket
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QWidget
from support.windows import close_window, open_window

from app import theme
from app.counter_board import Counts
from app.main_window import MainWindow
from app.part_strip import MIN_TILES
from inspection.paths import demo_recipe, resources_dir
from inspection.pipeline.drift import DriftWarning
from inspection.pipeline.shift_trend import ReasonCount, ShiftTrendSnapshot
from inspection.trends.rules import RULE_NAMES
from inspection.types import Verdict

SIZES = [(1920, 1080), (1280, 720), (1366, 768)]  # shrinking, then growing again
CAMERA_ASPECT = 1280 / 1024  # the demo's camera: the picture's width for its height
# the live view's share of the window's width, and of the operator screen's height (without
# banners; with both an alarm and a drift warning above it)
VIEW_WIDTH_SHARE = 0.44
VIEW_HEIGHT_SHARE = 0.75
VIEW_HEIGHT_SHARE_UNDER_BANNERS = 0.45
LONG_REASON = "surface: defect found at 2 spots (largest 3.1 mm², score 0.83)"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _recipe(tmp_path: Path, *, camera_lost: bool) -> Path:
    """The demo recipe (its label checks a batch: the batch bar shows); ``camera_lost``: its
    camera is an HTTP camera nobody serves, so the started station raises a real alarm."""
    text = demo_recipe().read_text(encoding="utf-8")
    if camera_lost:
        start = text.index("    source:\n      type: synthetic")
        end = text.index("trigger:")
        url = f"http://127.0.0.1:{_closed_port()}/video.mjpg"
        text = text[:start] + f"    source:\n      type: http\n      url: {url}\n" + text[end:]
    path = tmp_path / "demo.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _settle() -> None:
    for _ in range(4):
        QApplication.processEvents()


def _rect_in(window: QWidget, widget: QWidget) -> QRect:
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def _visible(widgets: list[QWidget]) -> list[QWidget]:
    return [w for w in widgets if w.isVisible()]


def _describe(widget: QWidget) -> str:
    text = widget.text() if isinstance(widget, QLabel | QPushButton) else ""
    return f"{type(widget).__name__}({widget.objectName() or text!r})"


def _check_layout(
    window: MainWindow, size: tuple[int, int], *, alarm: bool, drift: bool = False
) -> None:
    screen = window.screen_widget
    assert window.size() == QSize(*size), "the window must not need more than the screen"
    whole = window.rect()
    banner = screen.alarm_banner
    assert banner.isVisible() is alarm
    drift_banner = screen.drift_banner
    assert drift_banner.isVisible() is drift
    seen = [drift_banner.seen_button] if drift else []
    strip_tiles = screen.strip.shown_tiles()
    tiles = screen.counters.tiles()
    buttons = _visible(screen.buttons())
    status_labels = screen.status.labels()
    assert len(strip_tiles) >= MIN_TILES
    assert not any(tile.isVisible() for tile in screen.strip.tiles()[len(strip_tiles) :])

    # the big blocks: inside the window, none over another
    middle = [screen.live_view, screen.trend, screen.lamp, screen.counters]
    blocks = _visible(
        [*buttons, banner, drift_banner, *middle, screen.strip, screen.status, window.batch_bar]
    )
    assert window.batch_bar.isVisible()  # the demo checks a batch
    for widget in blocks:
        rect = _rect_in(window, widget)
        assert whole.contains(rect), f"{_describe(widget)} {rect} is outside {whole} at {size}"
        assert rect.width() > 0 and rect.height() > 0, _describe(widget)
    for a, b in itertools.combinations(blocks, 2):
        assert not _rect_in(window, a).intersects(_rect_in(window, b)), (
            f"{_describe(a)} overlaps {_describe(b)} at {size}"
        )
    for group in (tiles, strip_tiles):
        for a, b in itertools.combinations(group, 2):
            assert not _rect_in(window, a).intersects(_rect_in(window, b))
        for tile in group:
            assert whole.contains(_rect_in(window, tile)), f"{_describe(tile)} at {size}"

    # nothing cut: every text at least as big as it needs
    uncut: list[QWidget] = [*buttons, window.batch_bar.button, *status_labels[:3]]
    for tile in tiles:
        uncut += [tile.value, tile.caption]
    uncut += [tile.text for tile in strip_tiles]
    if alarm:
        uncut.append(banner.ack_button)
    uncut += seen
    for widget in uncut:
        hint = widget.minimumSizeHint()
        assert widget.width() >= hint.width() and widget.height() >= hint.height(), (
            f"{_describe(widget)} {widget.size()} < {hint} at {size}"
        )
        assert whole.contains(_rect_in(window, widget)), f"{_describe(widget)} at {size}"
    trend = screen.trend
    uncut += [label for label in trend.labels() if label not in trend.reason_labels]
    trend_parts: list[QWidget] = [trend.plot, *trend.labels()]
    for a, b in itertools.combinations(trend_parts, 2):
        assert not _rect_in(window, a).intersects(_rect_in(window, b)), (
            f"{_describe(a)} overlaps {_describe(b)} in the trend strip at {size}"
        )
    for widget in trend_parts:
        assert _rect_in(window, trend).contains(_rect_in(window, widget)), _describe(widget)
    assert trend.plot.height() >= 28 and trend.plot.width() >= 60
    for label in trend.reason_labels:  # one whole line, cut with "…" to the width it has
        metrics = label.fontMetrics()
        assert label.height() >= metrics.height()
        assert metrics.horizontalAdvance(label.text()) <= label.width()
        assert label.text(), "three reasons were given"
    for tile in strip_tiles:  # the reason: two whole lines of text
        lines = tile.reason.text().split("\n")
        metrics = tile.reason.fontMetrics()
        assert tile.reason.height() >= len(lines) * metrics.lineSpacing()
        assert all(metrics.horizontalAdvance(line) <= tile.reason.width() for line in lines)
    verdict = screen.lamp.verdict_label
    assert QFontMetrics(verdict.font()).horizontalAdvance(verdict.text()) <= verdict.width()
    assert verdict.height() >= QFontMetrics(verdict.font()).height()
    reason = screen.lamp.reason_label
    assert reason.heightForWidth(reason.width()) <= reason.height(), f"lamp reason cut at {size}"
    assert screen.lamp.part_label.heightForWidth(screen.lamp.part_label.width()) <= (
        screen.lamp.part_label.height()
    )

    # read from two metres, touched with gloves
    acks = ([banner.ack_button] if alarm else []) + seen
    for button in [*buttons, window.batch_bar.button, *acks]:
        assert button.height() >= theme.BUTTON_MIN_PX, _describe(button)
    messages = ([banner.message] if alarm else []) + ([drift_banner.message] if drift else [])
    for message in messages:  # whole lines, readable, in the banner's height
        assert message.font().pixelSize() >= 18
        lines = message.text().split("\n")
        metrics = message.fontMetrics()
        assert all(metrics.horizontalAdvance(line) <= message.width() for line in lines)
        assert len(lines) * metrics.lineSpacing() <= message.height()
    if alarm:
        assert " ".join(banner.message.text().split("\n")).startswith("ALARM: ")
    if drift:  # saying what drifts
        text = " ".join(drift_banner.message.text().split("\n"))
        assert text.startswith("TREND ▲ surface score drifting up")
    assert verdict.font().pixelSize() >= 80
    assert screen.strip.tiles()[0].reason.font().pixelSize() >= 14
    assert trend.reason_labels[0].font().pixelSize() >= 14
    assert trend.hour_value.font().pixelSize() >= 24
    assert status_labels[0].font().pixelSize() >= 16
    if size[1] >= 1080:
        assert screen.counters.total.value.font().pixelSize() >= 48
        assert verdict.font().pixelSize() >= 120
        assert screen.strip.tiles()[0].reason.font().pixelSize() >= 18
        assert trend.reason_labels[0].font().pixelSize() >= 18
        assert trend.hour_value.font().pixelSize() >= 40
        assert status_labels[0].font().pixelSize() >= 18
    _check_live_view_share(window, size, alarm=alarm, drift=drift)
    # the lamp is the screen's loudest element: the biggest type, no narrower than the counters
    biggest = max(
        label.font().pixelSize() for label in screen.findChildren(QLabel) if label.isVisible()
    )
    assert verdict.font().pixelSize() == biggest
    # ... and wide enough for PASS and FAIL at (nearly) the full size of the screen's type
    assert verdict.font().pixelSize() >= 0.85 * theme.VERDICT_PX * screen.scale, size
    # "Reset counts…" is well away from START/STOP
    reset = _rect_in(window, screen.reset_button)
    start = _rect_in(window, screen.start_stop_button)
    assert start.left() - reset.right() >= 2 * theme.BUTTON_MIN_PX


def _check_live_view_share(
    window: MainWindow, size: tuple[int, int], *, alarm: bool, drift: bool
) -> None:
    """The live view keeps a big picture: about half the width, most of the height."""
    screen = window.screen_widget
    view = screen.live_view
    # the camera's picture fills the view's width or its height, whichever it reaches first
    picture = (min(view.width(), round(view.height() * CAMERA_ASPECT)), view.height())
    banners = alarm or drift
    share = VIEW_HEIGHT_SHARE_UNDER_BANNERS if banners else VIEW_HEIGHT_SHARE
    assert view.width() >= VIEW_WIDTH_SHARE * size[0], f"live view {view.size()} at {size}"
    assert view.height() >= share * screen.height(), f"live view {view.size()} at {size}"
    if not banners:
        assert picture[0] >= VIEW_WIDTH_SHARE * size[0], f"picture {picture} at {size}"
    # the camera lost (the alarm): "NO SIGNAL — ..." over the picture, whole
    assert view.signal_ok is not alarm
    if alarm:
        rect = view.no_signal_rect()
        assert view.rect().contains(rect), f"{view.signal_text!r} {rect} cut at {size}"
    # nothing else shares its column but the banners above it and the status line below it
    column = _rect_in(window, view)
    for widget in [screen.lamp, screen.counters, screen.trend, screen.strip]:
        rect = _rect_in(window, widget)
        assert rect.left() > column.right(), f"{_describe(widget)} beside the view at {size}"


@pytest.mark.parametrize(
    ("alarm", "drift"),
    [(False, False), (True, False), (True, True)],
    ids=["no-alarm", "alarm", "alarm-and-drift"],
)
def test_the_operator_screen_fits_small_and_large_monitors(
    qtbot, tmp_path: Path, make_inspection, alarm: bool, drift: bool
) -> None:
    window = open_window(
        qtbot, _recipe(tmp_path, camera_lost=alarm), start=alarm, size=(1920, 1080)
    )
    window.setStyleSheet((resources_dir() / "style" / "operator.qss").read_text("utf-8"))
    screen = window.screen_widget
    if alarm:
        # a real one: the station cannot open its camera
        qtbot.waitUntil(lambda: screen.alarm_banner.isVisible(), timeout=20_000)
    for seq, verdict in enumerate([Verdict.PASS, Verdict.FAIL, Verdict.ERROR, Verdict.FAIL] * 3):
        reason = "" if verdict is Verdict.PASS else LONG_REASON
        screen.show_inspection(make_inspection(verdict, reason, seq=seq))
    assert screen.lamp.verdict_label.text() == "FAIL"
    # the counters at their widest (a long shift); the station's own count, behind these, is
    # not taken over them (see Counts.accepts)
    snap = window.station.counters()
    widest = Counts(88_888, 77_777, 11_000, 111, snap.last_part + 10**6, snap.first_part)
    screen.counters.show_counts(widest)
    # the trend strip at its widest: long reasons, five-digit counts (held still, no station)
    snap = ShiftTrendSnapshot(
        shift="2026-12-04/Early",
        parts=99_999,
        passed=50_000,
        yield_shift=50.0,
        parts_last_hour=100,
        passed_last_hour=100,
        yield_last_hour=100.0,
        interval_starts=tuple(1_700_000_000.0 + 300 * i for i in range(12)),
        interval_yields=(100.0, math.nan, *(90.0 + i for i in range(10))),
        interval_parts=(10, 0, *(10,) * 10),
        top_reasons=(
            ReasonCount(LONG_REASON, 38_888),
            ReasonCount("serial: no code read", 9_999),
            ReasonCount("label: lot field unreadable (confidence N)", 1_112),
        ),
    )
    screen.trend.set_source(lambda: snap)
    if drift:  # held still, like the strip: a warning as the station's drift watch makes it
        warning = DriftWarning(
            series="surface.score",
            message="surface score drifting up: check the lighting and the lens",
            rule="WE4",
            rule_name=RULE_NAMES["WE4"],
            direction="up",
            values=(0.31,) * 8,
            times=tuple(1_700_000_000.0 + i for i in range(8)),
            parts=tuple(f"P{i}" for i in range(8)),
            centre=0.3,
            ucl=0.33,
            lcl=0.27,
            counts=(25,) * 8,
            raised_at=1_700_000_008.0,
        )
        screen.drift_banner.set_source(lambda: (warning,))

    for size in SIZES:
        window.resize(*size)
        _settle()
        _check_layout(window, size, alarm=alarm, drift=drift)
        assert screen.counters.counts == widest
        # an ERROR (wider than PASS and FAIL) fits too, in the same height
        lamp = screen.lamp
        height = lamp.verdict_label.height()
        lamp.show_inspection(make_inspection(Verdict.ERROR, "cam1: no frame in time", seq=99))
        _settle()
        metrics = QFontMetrics(lamp.verdict_label.font())
        assert metrics.horizontalAdvance("ERROR") <= lamp.verdict_label.width()
        assert lamp.verdict_label.height() == height >= metrics.height()
        lamp.show_inspection(make_inspection(Verdict.FAIL, LONG_REASON, seq=100))
    close_window(qtbot, window)
