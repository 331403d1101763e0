"""`lineside report` as a user runs it: a separate process, JSON on stdout, exit codes."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from support.report_records import berlin_calendar, write_sample_day

from inspection.paths import user_paths
from inspection.recipe.station import StationSettings, save_station_settings

ROOT = Path(__file__).resolve().parents[3]


def lineside(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m inspection.cli ...`` with this test's LINESIDE_HOME (set by the conftest)."""
    return subprocess.run(
        [sys.executable, "-m", "inspection.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        check=False,
    )


@pytest.fixture
def station_db(lineside_home: Path) -> Path:
    paths = user_paths()
    save_station_settings(
        paths.station_file, StationSettings(line="L1", calendar=berlin_calendar())
    )
    write_sample_day(paths.results_db)
    return paths.results_db


def test_report_of_a_shift_as_json(station_db: Path, tmp_path: Path):
    out = tmp_path / "out"
    run = lineside(
        "report", "--shift", "2026-12-04/Early", "--format", "csv", "--out", str(out), "--json"
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert set(data) == {"files", "parts", "pass", "fail", "error", "yield", "stations"}
    conn = sqlite3.connect(station_db)
    counts = dict(
        conn.execute(
            "SELECT verdict, COUNT(*) FROM inspections WHERE production_day = '2026-12-04' "
            "AND shift = 'Early' GROUP BY verdict"
        ).fetchall()
    )
    conn.close()
    assert (data["parts"], data["pass"], data["fail"], data["error"]) == (
        200,
        counts["PASS"],
        counts["FAIL"],
        counts["ERROR"],
    )
    assert data["yield"] == pytest.approx(counts["PASS"] / 200)
    one = {"parts": 200, "pass": counts["PASS"], "fail": counts["FAIL"], "error": counts["ERROR"]}
    assert data["stations"] == {"st1": {**one, "yield": data["yield"]}}
    assert list(data["files"]) == ["csv"]
    csv_path = Path(data["files"]["csv"])
    assert csv_path.parent == out and csv_path.name == "lineside-st1-2026-12-04-Early.csv"
    assert len(pd.read_csv(csv_path, encoding="utf-8-sig")) == 200
    assert (out / "lineside-st1-2026-12-04-Early-summary.csv").is_file()


def test_report_of_a_range_and_of_an_empty_shift(station_db: Path, lineside_home: Path):
    run = lineside(
        "report",
        "--from",
        "2026-12-04T22:00",
        "--to",
        "2026-12-05T06:00",
        "--format",
        "csv",
        "--json",
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["parts"] == 100 and data["fail"] == 5
    # Default folder: the data folder's reports.
    assert Path(data["files"]["csv"]).parent == user_paths().reports

    empty = lineside("report", "--shift", "2026-12-04/Late", "--format", "csv", "--json")
    assert empty.returncode == 0, empty.stderr
    assert json.loads(empty.stdout)["parts"] == 0 and json.loads(empty.stdout)["yield"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shift", "2026-12-04"], "DAY/NAME"),
        (["--shift", "2026-12-04/Lunch"], "no shift named 'Lunch'"),
        (["--from", "2026-12-05T06:00"], "--from needs --to"),
        (["--from", "someday", "--to", "2026-12-05T06:00"], "'someday' is not an ISO 8601"),
        (["--shift", "2026-12-04/Early", "--format", "docx"], "unknown report format 'docx'"),
        (["--shift", "2026-12-04/Early", "--format", "csv"], ""),  # with no DB: see below
    ],
)
def test_bad_input_exits_2_with_a_message(station_db: Path, tmp_path: Path, args, message):
    if not message:
        missing = tmp_path / "nowhere.sqlite"
        run = lineside("report", *args, "--db", str(missing))
        message = f"results database {missing} does not exist"
    else:
        run = lineside("report", *args)
    assert run.returncode == 2
    assert message in run.stderr
    assert run.stdout == ""


def test_choosing_no_period_is_a_usage_error(station_db: Path):
    run = lineside("report", "--json")
    assert run.returncode == 2
    assert "--shift" in run.stderr
