"""The strip of last parts: readable reasons, still under the pointer, a touch opens the part."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QApplication

from app.operator_screen import OperatorScreen
from app.part_strip import HOVER_PAUSE_MS, wrap_lines
from inspection.types import Verdict

REASON = "surface: defect found at 2 spots (largest 3.1 mm², score 0.83)"


def _screen(qtbot, size=(1280, 720)) -> OperatorScreen:
    screen = OperatorScreen()
    qtbot.addWidget(screen)
    screen.resize(*size)
    screen.show()
    qtbot.waitExposed(screen)
    return screen


def test_wrap_lines_breaks_at_spaces_and_cuts_only_the_last_line(qapp) -> None:
    font = QFont()
    font.setPixelSize(18)
    metrics = QFontMetrics(font)
    width = metrics.horizontalAdvance("surface: defect found")
    lines = wrap_lines(REASON, metrics, width, 2)
    assert lines[0] == "surface: defect found"
    assert len(lines) == 2 and lines[1].endswith("…")
    assert all(metrics.horizontalAdvance(line) <= width for line in lines)
    assert wrap_lines("short", metrics, width, 2) == ["short"]
    assert wrap_lines("", metrics, width, 2) == []
    long_word = wrap_lines("x" * 200, metrics, width, 2)
    assert len(long_word) == 2 and all(metrics.horizontalAdvance(s) <= width for s in long_word)


def test_reasons_wrap_on_two_lines_at_a_readable_size(qtbot, make_inspection) -> None:
    screen = _screen(qtbot, (1920, 1080))
    screen.show_inspection(make_inspection(Verdict.FAIL, "surface: defect found at 2 spots"))
    tile = screen.strip.tiles()[0]
    assert tile.reason.font().pixelSize() >= 18
    assert tile.reason.text().replace("\n", " ") == "surface: defect found at 2 spots"
    assert "\n" in tile.reason.text()  # did not fit one line: wrapped, not cut
    assert screen.status.fps.font().pixelSize() >= 18


def test_touching_a_tile_opens_that_part(qtbot, make_inspection) -> None:
    screen = _screen(qtbot)
    parts = [make_inspection(Verdict.FAIL, REASON, seq=seq) for seq in range(3)]
    for inspection in parts:
        screen.show_inspection(inspection)
    tiles = screen.strip.tiles()
    with qtbot.waitSignal(screen.partOpened) as opened:
        qtbot.mouseClick(tiles[1], Qt.MouseButton.LeftButton)
    assert opened.args[0] is parts[1]  # newest first: the second tile is part 1
    with qtbot.waitSignal(screen.strip.partClicked) as clicked:
        qtbot.mouseClick(tiles[2].reason, Qt.MouseButton.LeftButton)  # on its text too
    assert clicked.args[0] is parts[0]
    # an empty tile opens nothing
    with qtbot.assertNotEmitted(screen.partOpened):
        qtbot.mouseClick(tiles[5], Qt.MouseButton.LeftButton)


def test_the_strip_stands_still_under_the_pointer(qtbot, make_inspection) -> None:
    screen = _screen(qtbot)
    strip = screen.strip
    for seq in range(3):
        screen.show_inspection(make_inspection(Verdict.FAIL, f"reason of part {seq}", seq=seq))
    tile = strip.tiles()[0]
    assert tile.text.text() == "#3 FAIL" and tile.toolTip() == "reason of part 2"

    qtbot.mouseMove(tile, QPoint(10, 10))
    qtbot.waitUntil(lambda: strip.paused)
    for seq in range(3, 5):
        screen.show_inspection(make_inspection(Verdict.PASS, seq=seq))
    # what the pointer is on did not change under it; the counts and lamp went on
    assert tile.text.text() == "#3 FAIL" and tile.toolTip() == "reason of part 2"
    assert screen.lamp.part_seq == 4
    assert screen.counters.counts.parts == 5
    assert strip.paused_mark.isVisible()
    assert strip.paused_mark.text() == "paused — 2 new"
    with qtbot.waitSignal(screen.partOpened) as opened:
        qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)
    assert opened.args[0].part_seq == 2  # the part the operator saw

    # the pointer leaves (sent by hand: QTest's offscreen moves do not always deliver Leave)
    QApplication.sendEvent(strip, QEvent(QEvent.Type.Leave))
    assert not strip.paused
    assert tile.text.text() == "#5 PASS"
    assert not strip.paused_mark.isVisible()


def test_a_parked_pointer_does_not_stop_the_strip_for_ever(qtbot, make_inspection) -> None:
    # a touch screen leaves the pointer where the last touch was
    screen = _screen(qtbot)
    strip = screen.strip
    screen.show_inspection(make_inspection(Verdict.PASS, seq=0))
    qtbot.mouseMove(strip.tiles()[0], QPoint(10, 10))
    qtbot.waitUntil(lambda: strip.paused)
    screen.show_inspection(make_inspection(Verdict.FAIL, "late", seq=1))
    assert strip.tiles()[0].text.text() == "#1 PASS"
    qtbot.waitUntil(lambda: not strip.paused, timeout=HOVER_PAUSE_MS + 2000)
    assert strip.tiles()[0].text.text() == "#2 FAIL"


def test_a_thumbnail_of_a_full_frame_keeps_its_shape_and_its_picture(qapp) -> None:
    """Taken from every 4th pixel then area-averaged (cheap on the GUI thread), a thumbnail
    still shows what the frame shows: its aspect, and a bright part on a dark belt where it is."""
    import numpy as np

    from app.part_strip import THUMB_HEIGHT, thumbnail

    frame = np.full((1024, 1280), 30, np.uint8)
    frame[256:768, 320:960] = 220  # the part: the middle half each way
    image = thumbnail(frame)
    assert (image.height(), image.width()) == (THUMB_HEIGHT, 150)
    middle = image.pixelColor(75, 60).value()
    corner = image.pixelColor(5, 5).value()
    assert abs(middle - 220) <= 2 and abs(corner - 30) <= 2


def _shown_parts(screen: OperatorScreen) -> list[int | None]:
    return [t.entry.part_seq if t.entry else None for t in screen.strip.shown_tiles()]


def test_each_tile_shows_its_place_through_new_parts_and_width_changes(
    qtbot, make_inspection
) -> None:
    from app import theme
    from app.part_strip import STRIP_LENGTH

    screen = _screen(qtbot, (1920, 1080))
    verdicts = [Verdict.PASS, Verdict.FAIL, Verdict.ERROR]
    for seq in range(11):
        screen.show_inspection(make_inspection(verdicts[seq % 3], seq=seq))
        shown = len(screen.strip.shown_tiles())
        # newest first, one tile per part, none skipped or doubled
        assert _shown_parts(screen) == [seq - i if seq - i >= 0 else None for i in range(shown)]
    for tile in screen.strip.shown_tiles():
        assert tile.entry is not None
        assert tile.text.text().endswith(tile.entry.verdict.value)
        assert tile.border_colour.name() == theme.VERDICT_BACKGROUND[tile.entry.verdict].lower()

    # narrower, then wider again: the tiles shown again show their places' parts, not old ones
    screen.resize(1280, 720)
    qtbot.waitUntil(lambda: len(screen.strip.shown_tiles()) < STRIP_LENGTH)
    screen.show_inspection(make_inspection(Verdict.PASS, seq=11))
    screen.resize(2560, 1440)
    qtbot.waitUntil(lambda: len(screen.strip.shown_tiles()) > 3)
    shown = len(screen.strip.shown_tiles())
    assert _shown_parts(screen) == [11 - i for i in range(shown)]
