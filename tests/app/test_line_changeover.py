"""The operator screen under a PLC: the PLC (a pymodbus client on 127.0.0.1) changes the recipe
over through the window's station control, a bad recipe leaves the running one with no dialog in
the way, and the screen shows the link."""

from __future__ import annotations

from pathlib import Path

import yaml
from PySide6.QtWidgets import QApplication
from support.modbus_plc import PlcPlayer, free_port
from support.pipeline_tools import software_recipe_file
from support.windows import close_window

from app import theme
from app.line_changeover import open_links, station_factory
from app.main_window import MainWindow
from inspection.integrations.line_links import LineLink
from inspection.integrations.plc.signals import ErrorCode, Status, StatusBit
from inspection.paths import user_paths


def test_the_plc_changes_the_screens_recipe_over(qtbot, tmp_path: Path) -> None:
    a, b = (
        software_recipe_file(tmp_path, "product-a", rate_hz=30.0),
        software_recipe_file(tmp_path, "product-b", rate_hz=30.0),
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("cameras: 7\n", encoding="utf-8")
    paths = user_paths().ensure()
    port = free_port()
    paths.station_file.parent.mkdir(parents=True, exist_ok=True)
    paths.station_file.write_text(
        yaml.safe_dump({"plc": {"port": port, "recipes": {1: str(a), 2: str(b), 3: str(broken)}}}),
        encoding="utf-8",
    )
    links: list[LineLink] = []
    window = MainWindow(station_factory(paths, lambda: links))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    opened, problem = open_links(window, paths)
    links += opened
    (link,) = links
    assert problem == ""
    player: PlcPlayer | None = None
    try:
        assert window.open_recipe(a, start=True)
        qtbot.waitUntil(lambda: window.control.running and not window.control.busy, timeout=15_000)
        player = PlcPlayer(port)
        qtbot.waitUntil(lambda: player.status()[Status.RECIPE] == 1, timeout=5_000)
        qtbot.waitUntil(lambda: StatusBit.READY in player.bits(), timeout=10_000)
        # the operator sees the link beside the outputs
        qtbot.waitUntil(lambda: "PLC" in window.screen_widget.status.outputs.text(), timeout=5_000)
        # and, large in the header, that the PLC talks to the station
        badge = window.screen_widget.link_badge
        qtbot.waitUntil(lambda: badge.isVisible() and badge.text() == "PLC OK", timeout=5_000)

        player.select_recipe(2)
        qtbot.waitUntil(
            lambda: player.status()[Status.RECIPE] == 2 and StatusBit.READY in player.bits(),
            timeout=20_000,
        )
        assert window.station is not None and window.station.recipe.name == "product-b"
        assert "product-b" in window.windowTitle()
        result = player.cycle(31, timeout_s=20)
        assert result[Status.PART_ID] == 31 and result[Status.RECIPE] == 2

        player.select_recipe(3)  # a file that is no recipe: refused, product-b goes on
        qtbot.waitUntil(
            lambda: player.status()[Status.ERROR_CODE] == ErrorCode.RECIPE_NOT_LOADED,
            timeout=10_000,
        )
        assert window.station.recipe.name == "product-b" and window.control.running
        assert QApplication.activeModalWidget() is None  # no dialog waits for anyone

        player.close()  # the PLC goes away: the header says so, on red
        player = None
        qtbot.waitUntil(lambda: badge.text() == "PLC LOST", timeout=5_000)
        assert theme.ALARM_BACKGROUND in badge.styleSheet()
        assert "closed its connection" in badge.toolTip()
    finally:
        if player is not None:
            player.close()
        close_window(qtbot, window)
        link.close()
