"""`lineside run --headless` with a PLC link in the station settings: the PLC (a pymodbus client
on 127.0.0.1) triggers parts, changes the recipe over, and every part it triggered is recorded."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import yaml
from support.modbus_plc import PlcPlayer, free_port
from support.pipeline_tools import software_recipe_file

from inspection.cli import main
from inspection.integrations.plc.signals import Status, StatusBit
from inspection.paths import user_paths


def connect(port: int, timeout_s: float = 20.0) -> PlcPlayer:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return PlcPlayer(port)
        except AssertionError:
            assert time.monotonic() < deadline, "the station's PLC server never listened"
            time.sleep(0.1)


def test_a_plc_runs_a_headless_station_through_a_changeover(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = (
        software_recipe_file(tmp_path, "product-a", rate_hz=30.0),
        software_recipe_file(tmp_path, "product-b", rate_hz=30.0),
    )
    port = free_port()
    paths = user_paths().ensure()
    paths.station_file.parent.mkdir(parents=True, exist_ok=True)
    paths.station_file.write_text(
        yaml.safe_dump(
            {"plc": {"role": "server", "port": port, "recipes": {1: str(a), 2: str(b)}}}
        ),
        encoding="utf-8",
    )
    codes: list[int] = []
    run = threading.Thread(
        target=lambda: codes.append(
            main(["run", "--headless", "--recipe", str(a), "--timeout", "25", "--json"])
        )
    )
    run.start()
    player = connect(port)
    results = []
    try:
        for i in range(3):
            results.append(player.cycle(100 + i, timeout_s=20))
        assert player.status()[Status.RECIPE] == 1  # the table's number of the recipe it runs
        player.select_recipe(2)
        deadline = time.monotonic() + 20
        while player.status()[Status.RECIPE] != 2:
            assert time.monotonic() < deadline, "the changeover never finished"
            time.sleep(0.01)
        for i in range(2):
            results.append(player.cycle(200 + i, timeout_s=20))
    finally:
        player.close()
    run.join(40)
    assert not run.is_alive()
    assert [r[Status.PART_ID] for r in results] == [100, 101, 102, 200, 201]
    assert all(r[Status.WORD] & (StatusBit.OK | StatusBit.NG) for r in results)
    summary = json.loads(capsys.readouterr().out)
    assert summary["recipe"].startswith("product-b")  # the run ended on the recipe it changed to
    with sqlite3.connect(paths.results_db) as conn:
        rows = conn.execute(
            "SELECT recipe_name, COUNT(*) FROM inspections GROUP BY recipe_name ORDER BY 1"
        ).fetchall()
    assert rows == [("product-a", 3), ("product-b", 2)]  # every triggered part, recorded once
    assert codes == [1]  # ended by its time limit, which it reports as a problem
