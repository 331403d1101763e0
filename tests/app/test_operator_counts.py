"""The operator's counts agree with the lamp: TOTAL is always the lamp's "Nth this shift".

The station counts a part before the screen shows it, so a counters snapshot may run ahead of
the lamp; the screen adds the parts it shows and takes a snapshot only when it cannot disagree.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from support.recipes import MANUAL, write_recipe
from support.windows import close_window, open_window

from app.counter_board import Counts
from app.operator_screen import OperatorScreen
from app.verdict_lamp import ordinal
from inspection.pipeline.counters import CountersSnapshot
from inspection.types import Inspection, Verdict


class _Published:
    """A station listener: set when the station has counted and published a part."""

    def __init__(self) -> None:
        self.parts: list[int] = []
        self.event = threading.Event()

    def on_inspection(self, inspection: Inspection) -> None:
        self.parts.append(inspection.part_seq)
        self.event.set()

    def on_status(self, update) -> None:
        pass


def _agree(screen: OperatorScreen) -> None:
    counts = screen.counters.counts
    assert screen.counters.total.value.text() == f"{counts.parts:,}"
    if screen.lamp.part_seq is not None and screen.lamp.count_number is not None:
        assert screen.lamp.count_number == counts.parts
        assert f"{ordinal(counts.parts)} this shift" in screen.lamp.part_label.text()


def test_ordinals() -> None:
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111, 1834)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th",
        "1,834th",
    ]  # fmt: skip


def test_snapshot_rules() -> None:
    counts = Counts(parts=3, passed=2, failed=1, last_part=12, first_part=10)
    ahead = CountersSnapshot(parts=4, passed=3, failed=1, last_part=13, first_part=10)
    same = CountersSnapshot(parts=4, passed=3, failed=1, last_part=12, first_part=10)
    reset = CountersSnapshot(parts=0, last_part=13, first_part=14)
    assert not counts.accepts(ahead)  # the lamp has not shown part 13 yet
    assert counts.accepts(same)  # same last part: the record corrects the display
    assert counts.accepts(reset)  # a new count began
    assert counts.counts_part(13) and not counts.counts_part(12)
    plus = counts.plus(Verdict.ERROR, 13)
    assert (plus.parts, plus.errors, plus.last_part, plus.first_part) == (4, 1, 13, 10)
    assert Counts.from_snapshot(reset).first_part == 14
    assert counts.number_of(12) == 3 and counts.number_of(11) is None
    assert Counts.from_snapshot(reset).number_of(13) is None  # counted before the reset


@pytest.mark.parametrize("rounds", [3])
def test_total_is_the_lamps_count_number_through_parts_polls_and_a_reset(
    qtbot, tmp_path: Path, rounds: int
) -> None:
    path = write_recipe(tmp_path, MANUAL, "manual")
    window = open_window(qtbot, path, start=True)
    screen = window.screen_widget
    station = window.station
    assert station is not None
    qtbot.waitUntil(lambda: station.camera_connected("cam1"), timeout=10_000)
    published = _Published()
    station.add_listener(published)  # after the window's bridge: it hears each part last

    def one_part() -> None:
        published.event.clear()
        before = screen.counters.counts.parts
        station.trigger()
        # the station counted and published it; the screen has not been told yet (queued)
        assert published.event.wait(10.0)
        snap = station.counters()
        assert snap.last_part == published.parts[-1]
        assert snap.parts == before + 1  # the snapshot runs ahead of the lamp
        screen.poll_counters()
        assert screen.counters.counts.parts == before  # ... and is not taken
        _agree(screen)
        qtbot.waitUntil(lambda: screen.lamp.part_seq == published.parts[-1], timeout=10_000)
        assert screen.counters.counts.parts == before + 1
        assert screen.lamp.count_number == before + 1
        _agree(screen)
        screen.poll_counters()  # now it matches the lamp: taken, and still the same
        assert screen.counters.counts == Counts.from_snapshot(station.counters())
        _agree(screen)

    for _ in range(rounds):
        one_part()
    assert screen.counters.total.value.text() == str(rounds)
    assert f"{ordinal(rounds)} this shift" in screen.lamp.part_label.text()

    # a new count: the next poll zeroes the board; the part on the lamp was the old count's
    first = station.reset_counts()
    assert first == published.parts[-1] + 1
    screen.poll_counters()
    assert screen.counters.total.value.text() == "0"
    assert screen.lamp.count_number is None
    assert "this shift" not in screen.lamp.part_label.text()
    one_part()
    assert screen.lamp.part_seq == first  # part numbers go on ...
    assert screen.lamp.count_number == 1  # ... the count starts again
    assert f"part {first + 1} · 1st this shift" in screen.lamp.part_label.text()
    station.remove_listener(published)
    close_window(qtbot, window)
