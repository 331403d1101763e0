"""Alarms that tell the truth on screen: the banner follows the alarm book (acknowledged means
silenced, still active; it goes when the cause clears), a lost camera's view says NO SIGNAL,
and the shift's alarm list shows each episode."""

from __future__ import annotations

import numpy as np
from support.pipeline_tools import BrightnessTool, UnpluggableCamera, make_recipe

from app import theme
from app.alarm_list import ACKNOWLEDGED, CLEARED, LEVEL, WHAT, AlarmListDialog
from app.live_view import LiveView
from app.main_window import MainWindow
from app.status_panel import AlarmBanner
from inspection.pipeline.alarms import AlarmBook
from inspection.pipeline.station import Station
from inspection.types import Frame, StatusLevel, StatusUpdate


def _banner(qtbot, width: int = 1200) -> AlarmBanner:
    banner = AlarmBanner()
    qtbot.addWidget(banner)
    banner.set_button_height(60)
    banner.resize(width, 80)
    return banner


def _update(level: StatusLevel, source: str, message: str) -> StatusUpdate:
    return StatusUpdate(level=level, source=source, message=message)


def _colour(banner: AlarmBanner) -> str:
    return banner.styleSheet().split("background-color:")[1].split(";")[0].strip()


def test_acknowledge_silences_but_keeps_the_alarm_until_its_cause_clears(qtbot) -> None:
    banner = _banner(qtbot)
    banner.show_status(_update(StatusLevel.ALARM, "cam1", "camera cam1 lost"))
    assert not banner.isHidden()
    assert banner.full_text.startswith("ALARM: camera cam1 lost (since ")
    assert _colour(banner) == theme.ALARM_BACKGROUND
    assert not banner.ack_button.isHidden()

    with qtbot.waitSignal(banner.acknowledgeRequested, timeout=1000):
        banner.ack_button.click()
    assert not banner.isHidden() and banner.acknowledged
    assert banner.full_text.startswith("ACKNOWLEDGED — still active: camera cam1 lost (since ")
    assert _colour(banner) == theme.PANEL  # calm, no longer the alarm red
    assert banner.ack_button.isHidden()

    # the station retrying (in other words) keeps it silenced; another source's notice is not it
    banner.show_status(_update(StatusLevel.ALARM, "cam1", "camera cam1 cannot be opened"))
    banner.show_status(_update(StatusLevel.INFO, "station", "recipe running"))
    assert banner.acknowledged and "cannot be opened" in banner.full_text

    # the camera back: gone by itself
    banner.show_status(_update(StatusLevel.INFO, "cam1", "camera cam1 connected"))
    assert banner.isHidden()


def test_a_warning_is_amber_and_an_escalation_after_acknowledgement_re_arms(qtbot) -> None:
    banner = _banner(qtbot)
    banner.show_status(_update(StatusLevel.WARNING, "sink", "a result receiver failed"))
    assert banner.full_text.startswith("WARNING: ")
    assert _colour(banner) == theme.WARNING_BACKGROUND
    banner.acknowledge()
    assert banner.acknowledged
    banner.show_status(_update(StatusLevel.ALARM, "sink", "the PLC gets no results"))
    assert not banner.acknowledged
    assert banner.full_text.startswith("ALARM: the PLC gets no results")
    assert _colour(banner) == theme.ALARM_BACKGROUND
    assert not banner.ack_button.isHidden()


def test_the_banner_shows_the_books_active_alarms_on_one_line(qtbot) -> None:
    banner = _banner(qtbot, width=900)
    banner.show()
    book = AlarmBook()
    book.update(_update(StatusLevel.ALARM, "cam1", "camera cam1 lost: " + "x" * 200), 1.0)
    banner.show_alarms(book.active())
    one = banner.height()
    for i in range(2, 6):
        book.update(_update(StatusLevel.ALARM, f"cam{i}", f"camera cam{i} lost " * 10), 1.0)
    banner.show_alarms(book.active())
    qtbot.waitUntil(lambda: banner.message.text().endswith("…"))
    assert banner.height() == one  # five long alarms: still one line, no taller window
    assert banner.sizeHint().height() <= 60 + 2 * 8 + 10
    assert all(f"camera cam{i} lost" in banner.full_text for i in range(1, 6))
    assert "cam5: camera cam5 lost" in banner.toolTip()

    book.acknowledge(2.0)
    banner.show_alarms(book.active())
    assert banner.acknowledged and banner.height() == one  # the hidden button keeps its room
    banner.show_alarms(())
    assert banner.isHidden()


def test_a_lost_camera_shows_no_signal_over_its_last_frame(qtbot) -> None:
    view = LiveView()
    qtbot.addWidget(view)
    view.resize(640, 480)
    frame = Frame(camera="cam1", seq=1, t_ns=0, image=np.full((96, 128), 90, np.uint8))
    view.set_source(lambda: frame)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.image_item.image is not None)
    assert view.no_signal_item.isVisible() is False

    view.set_signal(False, "NO SIGNAL — camera cam1 lost")
    assert view.no_signal_item.isVisible()
    assert view.no_signal_item.textItem.toPlainText() == "NO SIGNAL — camera cam1 lost"
    assert view.image_item.opacity() < 0.5  # the old frame is dimmed, not taken for live
    centre = view.no_signal_item.pos()
    assert (centre.x(), centre.y()) == (64.0, 48.0)  # over the middle of the picture
    assert view.no_signal_item.zValue() > max(i.zValue() for i in view.overlay_items())

    view.set_signal(True)
    assert not view.no_signal_item.isVisible()
    assert view.image_item.opacity() == 1.0


def test_alarm_list_shows_each_episode_readably(qtbot) -> None:
    book = AlarmBook()
    book.update(_update(StatusLevel.ALARM, "cam1", "camera cam1 lost"), 1000.0)
    book.update(_update(StatusLevel.ALARM, "cam1", "camera cam1 cannot be opened"), 1001.0)
    book.acknowledge(1005.0)
    book.update(_update(StatusLevel.INFO, "cam1", "camera cam1 connected"), 1025.0)
    book.update(_update(StatusLevel.WARNING, "sink", "a result receiver failed"), 1030.0)
    dialog = AlarmListDialog(book.history)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 2
    assert dialog.summary.text() == "2 alarm episodes this shift, 1 still active"
    newest, first = (
        [dialog.table.item(row, col).text() for col in range(dialog.table.columnCount())]
        for row in range(2)
    )
    assert newest[LEVEL] == "WARNING" and newest[CLEARED].startswith("still active")
    assert newest[ACKNOWLEDGED] == "—"
    assert first[WHAT].startswith("camera cam1 lost\nlatest: camera cam1 cannot be opened")
    assert first[CLEARED].endswith("after 25 s\ncamera cam1 connected")
    assert first[ACKNOWLEDGED] != "—"
    # readable on the dark panel: light text, active rows in a bright warning colour
    assert dialog.table.item(1, WHAT).foreground().color().lightness() > 200
    assert dialog.table.item(0, CLEARED).foreground().color().name() == "#ffc940"
    assert theme.PANEL in dialog.table.styleSheet()


def test_operator_sees_a_lost_camera_acknowledges_and_the_alarm_goes_by_itself(qtbot) -> None:
    cam = UnpluggableCamera("cam1", period_s=0.02)
    window = MainWindow(
        lambda recipe: Station(
            recipe, store_results=False, sources=[cam], make_tools=lambda: [BrightnessTool()]
        )
    )
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    window.control.load(make_recipe(cameras=1), start=True)
    qtbot.waitUntil(lambda: window.control.running and not window.control.busy, timeout=10_000)
    station = window.station
    assert station is not None
    screen = window.screen_widget
    banner, view = screen.alarm_banner, screen.live_view
    qtbot.waitUntil(lambda: view.image_item.image is not None, timeout=5_000)
    assert banner.isHidden() and view.signal_ok

    cam.unplugged.set()
    qtbot.waitUntil(lambda: not banner.isHidden() and not view.signal_ok, timeout=5_000)
    assert "camera cam1" in banner.full_text and banner.full_text.startswith("ALARM")
    assert view.signal_text == "NO SIGNAL — camera cam1 lost"

    banner.ack_button.click()
    assert station.alarms()[0].acknowledged
    reports = station.alarms()[0].occurrences
    # the station goes on retrying: the banner stays calm and visible across polls
    qtbot.waitUntil(lambda: station.alarms()[0].occurrences > reports, timeout=5_000)
    qtbot.waitUntil(lambda: banner.episodes == station.alarms(), timeout=2_000)
    assert not banner.isHidden() and banner.acknowledged
    assert banner.full_text.startswith("ACKNOWLEDGED — still active: camera cam1")

    dialog = window.open_alarm_list()
    assert dialog is not None and dialog.table.rowCount() == 1
    assert dialog.table.item(0, CLEARED).text().startswith("still active")

    cam.unplugged.clear()  # a new camera on the cable
    qtbot.waitUntil(lambda: banner.isHidden() and view.signal_ok, timeout=5_000)
    assert station.alarms() == ()
    dialog.refresh()
    assert dialog.table.item(0, CLEARED).text().endswith("camera cam1 connected")
    dialog.close()
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible() and not station.running, timeout=15_000)


def test_a_camera_alarm_does_not_outlive_the_station_that_raised_it(qtbot) -> None:
    """The shift's story: the camera died, the engineer put in a new one through the Cameras
    dialog (the recipe is saved and a new station runs it), parts pass: the alarm must go."""
    dead, replacement = UnpluggableCamera("cam1"), UnpluggableCamera("cam1")
    dead.unplugged.set()
    cameras = iter([dead, replacement])
    window = MainWindow(
        lambda recipe: Station(
            recipe,
            store_results=False,
            sources=[next(cameras)],
            make_tools=lambda: [BrightnessTool()],
        )
    )
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    banner = window.screen_widget.alarm_banner
    window.control.load(make_recipe(cameras=1), start=True)
    qtbot.waitUntil(lambda: window.control.running and not window.control.busy, timeout=10_000)
    first = window.station
    qtbot.waitUntil(lambda: not banner.isHidden(), timeout=5_000)
    assert "camera cam1 cannot be opened" in banner.full_text

    window.control.load(make_recipe(cameras=1), start=True)  # the new camera's recipe
    qtbot.waitUntil(
        lambda: window.station is not first and window.control.running and not window.control.busy,
        timeout=10_000,
    )
    qtbot.waitUntil(lambda: banner.isHidden(), timeout=2_000)  # no Acknowledge needed
    qtbot.waitUntil(lambda: window.screen_widget.live_view.signal_ok, timeout=2_000)
    second = window.station
    assert second is not None and second.alarms() == ()
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible() and not second.running, timeout=15_000)
