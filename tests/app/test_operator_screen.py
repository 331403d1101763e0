from __future__ import annotations

from app import theme
from app.operator_screen import OperatorScreen
from app.part_strip import STRIP_LENGTH
from inspection.types import StatusLevel, StatusUpdate, Verdict


def _screen(qtbot, size: tuple[int, int] = (1920, 1080)) -> OperatorScreen:
    screen = OperatorScreen()
    qtbot.addWidget(screen)
    screen.resize(*size)
    screen.show()
    qtbot.waitExposed(screen)
    return screen


def test_fail_lights_the_lamp_counts_and_joins_the_strip(qtbot, make_inspection) -> None:
    screen = _screen(qtbot)
    screen.show_inspection(make_inspection(Verdict.FAIL, "serial: no code found", seq=0))

    assert screen.lamp.verdict_label.text() == "FAIL"
    assert screen.lamp.property("verdict") == "FAIL"
    assert screen.lamp.reason_label.text() == "serial: no code found"
    assert screen.counters.total.value.text() == "1"
    assert screen.counters.passed.value.text() == "0"
    assert screen.counters.failed.value.text() == "1"
    assert screen.counters.yield_.value.text() == "0.0 %"
    entry = screen.strip.entries[0]
    assert entry.verdict is Verdict.FAIL
    assert entry.reason == "serial: no code found"
    assert entry.pixmap is not None and entry.pixmap.height() > 0
    tile = screen.strip._tiles[0]
    assert tile.text.text() == "#1 FAIL"
    # wrapped onto (at most) two lines, never cut while it fits
    assert tile.reason.text().replace("\n", " ") == "serial: no code found"
    assert tile.toolTip() == "serial: no code found"


def test_pass_after_fail(qtbot, make_inspection) -> None:
    screen = _screen(qtbot)
    screen.show_inspection(make_inspection(Verdict.FAIL, "serial: no code found", seq=0))
    screen.show_inspection(make_inspection(Verdict.PASS, seq=1))

    assert screen.lamp.verdict_label.text() == "PASS"
    assert screen.lamp.reason_label.text() == "all checks passed"
    assert screen.counters.total.value.text() == "2"
    assert screen.counters.passed.value.text() == "1"
    assert screen.counters.yield_.value.text() == "50.0 %"
    assert [e.part_seq for e in screen.strip.entries] == [1, 0]  # newest first


def test_error_is_shown_as_error_and_counted_as_a_reject(qtbot, make_inspection) -> None:
    screen = _screen(qtbot)
    screen.show_inspection(make_inspection(Verdict.ERROR, "no frame from camera cam1", seq=0))

    assert screen.lamp.verdict_label.text() == "ERROR"
    assert screen.lamp.reason_label.text() == "no frame from camera cam1"
    # its own amber tile: FAIL counts only parts found bad, TOTAL every part
    assert screen.counters.errors.value.text() == "1"
    assert screen.counters.failed.value.text() == "0"
    assert screen.counters.total.value.text() == "1"
    assert screen.counters.passed.value.text() == "0"
    assert screen.counters.yield_.value.text() == "0.0 %"
    assert theme.VERDICT_BACKGROUND[Verdict.ERROR] in screen.counters.errors.value.styleSheet()


def test_strip_keeps_only_the_last_parts(qtbot, make_inspection) -> None:
    screen = _screen(qtbot)
    for seq in range(20):
        screen.show_inspection(make_inspection(Verdict.PASS, seq=seq))

    assert len(screen.strip.entries) == STRIP_LENGTH
    assert screen.strip.entries[0].part_seq == 19
    assert screen.counters.total.value.text() == "20"


def test_readable_from_two_metres(qtbot) -> None:
    screen = _screen(qtbot)

    assert screen.lamp.verdict_label.font().pixelSize() >= 120
    assert screen.counters.total.value.font().pixelSize() >= 48
    assert screen.lamp.reason_label.font().pixelSize() >= 32
    for button in (screen.start_stop_button, screen.reset_button):
        assert button.height() >= 60, button.text()


def test_alarm_stays_until_cleared_and_acknowledging_only_silences_it(qtbot) -> None:
    screen = _screen(qtbot)
    banner = screen.alarm_banner
    assert not banner.isVisible()

    screen.show_status(
        StatusUpdate(level=StatusLevel.ALARM, source="cam1", message="camera cam1 lost")
    )
    assert banner.isVisible()
    assert "camera cam1 lost" in banner.message.text()
    assert banner.ack_button.height() >= 60

    # an unrelated notice does not clear it
    screen.show_status(StatusUpdate(level=StatusLevel.INFO, source="station", message="running"))
    assert banner.isVisible()
    assert "station: running" in screen.status.notice.text()

    # the same source reporting back clears it
    screen.show_status(StatusUpdate(level=StatusLevel.INFO, source="cam1", message="cam1 back"))
    assert not banner.isVisible()

    screen.show_status(
        StatusUpdate(level=StatusLevel.WARNING, source="sink", message="a receiver failed")
    )
    assert banner.isVisible()
    assert banner.message.text().startswith("WARNING")
    banner.ack_button.click()
    # acknowledged: silenced, but still there until the sink reports back
    assert banner.isVisible()
    assert banner.message.text().startswith("ACKNOWLEDGED — still active")
    screen.show_status(StatusUpdate(level=StatusLevel.INFO, source="sink", message="sink ok"))
    assert not banner.isVisible()


def test_reset_counts_asks_instead_of_resetting(qtbot, make_inspection) -> None:
    screen = _screen(qtbot)
    screen.show_inspection(make_inspection(Verdict.PASS, seq=0))
    assert screen.reset_button.text() == "Reset counts…"  # the ellipsis: it asks first
    with qtbot.waitSignal(screen.resetRequested):
        screen.reset_button.click()
    assert screen.counters.total.value.text() == "1"  # nothing zeroed by the button itself


def test_recipe_and_station_names_are_never_cut(qtbot) -> None:
    from inspection.paths import demo_recipe
    from inspection.pipeline.station import Station
    from inspection.recipe import load_recipe

    screen = _screen(qtbot, (1366, 700))
    screen.set_station(Station(load_recipe(demo_recipe()), store_results=False))
    qtbot.waitUntil(lambda: screen.station_label.text() == "station demo-station")
    for label in (screen.recipe_label, screen.station_label):
        assert label.width() >= label.sizeHint().width(), label.text()
