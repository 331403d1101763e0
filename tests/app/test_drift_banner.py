"""The operator sees a drift warning the station raised, touches Seen, and it is gone: the
station records the acknowledgement for the shift report."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from PySide6.QtCore import Qt
from support.pipeline_tools import drifting_station

from app.operator_screen import OperatorScreen
from inspection.paths import user_paths


def test_the_operator_sees_the_warning_and_acknowledges_it(qtbot, lineside_home: Path) -> None:
    station = drifting_station(user_paths().ensure())
    screen = OperatorScreen()
    qtbot.addWidget(screen)
    screen.resize(1366, 700)
    screen.show()
    qtbot.waitExposed(screen)
    screen.set_station(station)
    station.start()
    try:
        assert station.wait_finished(30.0)
        banner = screen.drift_banner
        qtbot.waitUntil(banner.isVisible, timeout=3000)  # the screen's timer reads the station
        assert banner.full_text.startswith("TREND ▲ surface score drifting up (")
        assert "surface.score" in banner.toolTip()
        assert banner.seen_button.height() >= 60  # glove-sized
        qtbot.mouseClick(banner.seen_button, Qt.MouseButton.LeftButton)
        assert not banner.isVisible()
        assert station.drift_warnings() == ()
        screen.poll_counters()
        assert not banner.isVisible()  # and it stays gone
    finally:
        screen.set_station(None)
        station.stop(10.0)
    with closing(sqlite3.connect(user_paths().results_db)) as conn:
        kinds = [k for (k,) in conn.execute("SELECT kind FROM events WHERE kind LIKE 'drift%'")]
    assert kinds == ["drift", "drift_acknowledged"]
