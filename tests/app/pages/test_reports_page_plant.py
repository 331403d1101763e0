"""The Reports page on the plant database: a quality engineer picks "Plant database", types its
address, and sees and exports every station's figures (or one station's) from a real PostgreSQL
the test starts, written by the real ``postgres`` output; a wrong address or station is said
plainly, and the password typed is never shown."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import QDate
from support.postgres import PASSWORD, PostgresServer

from app.pages.reports import ReportsPage
from inspection.integrations.postgres import postgres_output
from inspection.paths import Paths, user_paths
from inspection.recipe.outputs import PostgresOutputSettings
from inspection.recipe.station import ShiftCalendar, StationSettings, save_station_settings
from inspection.types import Inspection, ToolResult, Verdict

DB = "plant"
EARLY = dt.datetime(2026, 12, 4, 6, 5, tzinfo=dt.UTC).timestamp()
PARTS = {"press-1": 6, "press-2": 4}
"""Parts each station makes in the Early shift of 2026-12-04 (UTC); every third one FAILs."""


def part(station: str, k: int) -> Inspection:
    verdict = Verdict.FAIL if k % 3 == 2 else Verdict.PASS
    reason = "surface: defect found" if verdict is Verdict.FAIL else ""
    return Inspection(
        inspection_id=f"{station}-{k:04d}",
        station=station,
        part_seq=k,
        verdict=verdict,
        reason=reason,
        tool_results=(
            ToolResult(
                tool_id="surface",
                tool_type="anomaly",
                verdict=verdict,
                reason="defect found" if reason else "",
                measurements={"score": 0.9 if reason else 0.1},
            ),
        ),
        frames=(),
        recipe_name="housing",
        recipe_version="3",
        wall_time=EARLY + 120.0 * k,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    pg = PostgresServer().init().start()
    try:
        pg.sql(f"CREATE DATABASE {DB}")
        settings = PostgresOutputSettings(
            type="postgres", port=pg.port, dbname=DB, password=PASSWORD, retry_s=0.2
        )
        folder = tmp_path_factory.mktemp("outbox")
        for station, n in PARTS.items():
            runner = postgres_output(settings, station=station, line="L2", outbox_folder=folder)
            runner.start()
            try:
                for k in range(n):
                    runner.on_inspection(part(station, k))
                deadline = time.monotonic() + 30
                while runner.state().sent < n:
                    assert time.monotonic() < deadline, runner.state()
                    time.sleep(0.05)
            finally:
                runner.stop()
        yield pg
    finally:
        pg.remove()


@pytest.fixture
def page(qtbot, tmp_path: Path) -> Iterator[ReportsPage]:
    paths: Paths = user_paths({"LINESIDE_HOME": str(tmp_path / "home")}).ensure()
    save_station_settings(
        paths.station_file, StationSettings(line="this-pc", calendar=ShiftCalendar(timezone="UTC"))
    )
    widget = ReportsPage(paths)
    qtbot.addWidget(widget)
    widget.resize(1366, 768)
    widget.show()
    widget.shift_radio.setChecked(True)
    widget.day_edit.setDate(QDate(2026, 12, 4))
    widget.shift_combo.setCurrentText("Early")
    yield widget
    assert widget.shutdown(5.0)


def choose_plant(page: ReportsPage, server: PostgresServer, **fields: str) -> None:
    page.source_box.plant_radio.setChecked(True)
    page.source_box.dsn_edit.setText(
        fields.get("dsn", f"host=127.0.0.1 port={server.port} dbname={DB} user=lineside")
    )
    page.source_box.password_edit.setText(fields.get("password", PASSWORD))
    page.source_box.station_edit.setText(fields.get("station", ""))


def test_the_plant_fields_are_used_only_when_the_plant_is_chosen(page: ReportsPage) -> None:
    source = page.source_box
    assert source.station_radio.isChecked() and not source.dsn_edit.isVisible()
    source.plant_radio.setChecked(True)
    assert source.dsn_edit.isVisible() and source.password_edit.isEnabled()
    assert source.password_edit.echoMode() == source.password_edit.EchoMode.Password


def test_shows_every_stations_figures_from_the_plant_database(
    qtbot, page: ReportsPage, server: PostgresServer
) -> None:
    choose_plant(page, server)

    with qtbot.waitSignal(page.reportShown, timeout=60_000) as blocker:
        page.show_button.click()

    report = blocker.args[0]
    total = sum(PARTS.values())
    fails = sum(1 for n in PARTS.values() for k in range(n) if k % 3 == 2)
    assert page.headline.values["Parts"].text() == str(total)
    assert page.headline.values["FAIL"].text() == str(fails)
    assert page.headline.values["PASS"].text() == str(total - fails)
    assert {s.station: s.parts for s in report.per_station} == PARTS
    assert "plant database 127.0.0.1" in page.status_label.text()
    assert PASSWORD not in page.status_label.text()


def test_one_station_of_the_plant_exported_as_excel(
    qtbot, page: ReportsPage, server: PostgresServer, tmp_path: Path
) -> None:
    choose_plant(page, server, station="press-2")
    out = tmp_path / "exports"
    page.folder_edit.setText(str(out))
    for fmt, box in page.format_boxes.items():
        box.setChecked(fmt == "xlsx")

    with qtbot.waitSignal(page.exportEnded, timeout=60_000) as blocker:
        page.export_button.click()

    assert blocker.args == ["exported"], page.export_message.text()
    (xlsx,) = page.exported_files
    summary = openpyxl.load_workbook(xlsx, read_only=True)["Summary"]
    rows = [row for row in summary.iter_rows(values_only=True) if row and row[0] is not None]
    figures = {row[0]: row[1] for row in rows if len(row) > 1}
    assert figures["Parts"] == PARTS["press-2"]  # that station's parts alone
    assert figures["FAIL"] == 1  # press-2's part 2
    cells = [str(c) for row in rows for c in row if c is not None]
    assert any("plant database" in c for c in cells)


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"dsn": ""}, "enter the plant database's address"),
        ({"station": "press-9"}, "its stations: press-1, press-2"),
        ({"password": "wrong"}, "password authentication failed"),
    ],
)
def test_a_plant_report_that_cannot_be_made_says_why(
    qtbot, page: ReportsPage, server: PostgresServer, fields: dict[str, str], said: str
) -> None:
    choose_plant(page, server, **fields)

    with qtbot.waitSignal(page.showFailed, timeout=60_000) as blocker:
        page.show_button.click()

    assert said in blocker.args[0]
    assert "wrong" not in blocker.args[0] and PASSWORD not in blocker.args[0]
