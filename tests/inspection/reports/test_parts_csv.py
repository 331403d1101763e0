"""The parts CSV and the summary CSV read back with pandas, the export's files, and privacy."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import re
import sqlite3
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from support.report_records import (
    ACCENTED_REASON,
    BERLIN,
    COMMA_REASON,
    PartSpec,
    berlin_calendar,
    default_tools,
    write_records,
    write_sample_day,
)

from inspection.jobs import Cancelled
from inspection.recipe.station import StationSettings
from inspection.reports.aggregate import build_report, shift_period
from inspection.reports.export import report_stem, safe_name, write_report
from inspection.reports.parts_csv import (
    part_columns,
    summary_rows,
    utc_offsets,
    write_parts_csv,
    write_summary_csv,
)

PERSON_WORDS = re.compile(r"operator|user|worker|employee|person|staff|badge|login", re.I)


@pytest.fixture
def sample_db(tmp_path: Path) -> tuple[Path, StationSettings]:
    db = tmp_path / "results.sqlite"
    calendar = write_sample_day(db)
    return db, StationSettings(line="L1", calendar=calendar)


def test_parts_csv_reads_back_with_pandas(sample_db, tmp_path: Path):
    db, settings = sample_db
    period = shift_period(settings.calendar, "2026-12-04/Early")
    path = tmp_path / "parts.csv"
    n = write_parts_csv(db, period, path, timezone=BERLIN)
    assert n == 200
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8

    df = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False, na_values=[""])
    assert len(df) == 200
    assert list(df.columns) == part_columns(["surface", "code", "label"])
    assert df["part number"].dtype == "int64"
    assert df["part number"].tolist() == list(range(1, 201))
    for tool in ("surface", "code", "label"):
        assert df[f"{tool} score"].dtype == "float64"
    assert df["inspection id"].is_unique
    assert df["local time"].iloc[0] == "2026-12-04 06:00:30"
    assert pd.to_datetime(df["local time"]).is_monotonic_increasing
    assert set(df["shift"]) == {"Early"} and set(df["production day"]) == {"2026-12-04"}
    assert df["verdict"].value_counts().to_dict() == {"PASS": 155, "FAIL": 37, "ERROR": 8}
    assert (df["reason"] == ACCENTED_REASON).sum() == 14  # accents survive the round trip
    assert (df["reason"] == COMMA_REASON).sum() == 3  # commas and quotes are quoted
    assert df["codes read"].iloc[3] == "SN00003"
    assert df["image path"].iloc[3] == "images/part-3.png"
    assert set(df["recipe version"].astype(str)) == {"1", "2"}
    assert df["lot"].tolist()[119:121] == ["L-A", "L-B"]
    errors = df[df["verdict"] == "ERROR"]
    assert errors["code verdict"].isna().all() and (errors["surface verdict"] == "ERROR").all()

    conn = sqlite3.connect(db)
    expected = conn.execute(
        "SELECT t.score FROM tool_results t JOIN inspections i ON t.inspection = i.id "
        "WHERE i.shift = 'Early' AND t.tool_id = 'label' ORDER BY i.id"
    ).fetchall()
    conn.close()
    label = df.loc[df["label score"].notna(), "label score"].tolist()
    assert label == pytest.approx([s for (s,) in expected])


def test_local_times_across_the_autumn_switch(tmp_path: Path):
    calendar = berlin_calendar()
    period = shift_period(calendar, "2026-10-24/Night")
    times = [period.start + 600.0 * k + 7 for k in range(54)]
    db = tmp_path / "dst.sqlite"
    write_records(
        db, [PartSpec(wall_time=t, tools=default_tools()) for t in times], calendar=calendar
    )
    path = tmp_path / "night.csv"
    assert write_parts_csv(db, period, path, timezone=BERLIN) == 54
    df = pd.read_csv(path, encoding="utf-8-sig")
    zone = ZoneInfo(BERLIN)
    expected = [dt.datetime.fromtimestamp(t, tz=zone).strftime("%Y-%m-%d %H:%M:%S") for t in times]
    assert df["local time"].tolist() == expected
    assert sum(v.startswith("2026-10-25 02:") for v in expected) == 12  # the doubled hour
    steps = utc_offsets(zone, period.start, period.end)
    assert [offset for _, offset in steps] == [7200, 3600]


def test_summary_csv(sample_db, tmp_path: Path):
    db, settings = sample_db
    report = build_report(
        db, shift_period(settings.calendar, "2026-12-04/Early"), settings=settings
    )
    path = write_summary_csv(report, tmp_path / "summary.csv")
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    values = {r[0]: r[1] for r in rows if len(r) == 2}
    assert values["parts"] == "200" and values["FAIL"] == "37" and values["ERROR"] == "8"
    assert values["recipe versions"] == "demo v1, demo v2"
    assert values["alarm downtime s"] == "2400"
    assert values["top reason 1"] == "scratch (20)"
    header = next(r for r in rows if r and r[0] == "tool")
    tools = {r[0]: dict(zip(header, r, strict=True)) for r in rows[rows.index(header) + 1 :]}
    assert tools["surface"]["FAIL"] == "20" and tools["surface"]["thresholds"] == "0.5 0.6"

    empty = build_report(db, shift_period(settings.calendar, "2026-12-04/Late"), settings=settings)
    assert ["note", "no parts inspected"] in summary_rows(empty)


def test_export_writes_complete_files_and_nothing_half_written(sample_db, tmp_path: Path):
    db, settings = sample_db
    period = shift_period(settings.calendar, "2026-12-04/Early")
    out = tmp_path / "reports"
    done = write_report(db, period, ["csv"], out, settings=settings)
    assert set(done.files) == {"csv", "summary_csv"}
    assert done.files["csv"].name == "lineside-st1-2026-12-04-Early.csv"
    assert done.files["summary_csv"].name == "lineside-st1-2026-12-04-Early-summary.csv"
    assert len(pd.read_csv(done.files["csv"], encoding="utf-8-sig")) == done.report.parts == 200
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in done.files.values())

    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        write_report(db, period, ["csv"], tmp_path / "cancelled", settings=settings, cancel=cancel)
    assert not (tmp_path / "cancelled").exists() or not any((tmp_path / "cancelled").iterdir())

    # Cancelled once the parts CSV is being written: its unfinished file is removed.
    halfway = threading.Event()
    target = tmp_path / "halfway"

    def cancel_when_writing(done: int, total: int, message: str) -> None:
        if message == "writing csv":
            halfway.set()

    with pytest.raises(Cancelled):
        write_report(
            db,
            period,
            ["csv"],
            target,
            settings=settings,
            progress=cancel_when_writing,
            cancel=halfway,
        )
    assert list(target.iterdir()) == []
    with pytest.raises(ValueError, match=r"'docx'.*xlsx, csv, pdf"):
        write_report(db, period, ["csv", "docx"], out, settings=settings)


def test_file_names_are_safe_on_windows_shares():
    assert safe_name('a<b>:c"d/e\\f|g?h*i. ') == "a-b-c-d-e-f-g-h-i"
    cal = berlin_calendar()
    span = shift_period(cal, "2026-12-04/Night")
    assert report_stem(span, "Line 2: station/A") == "lineside-Line_2-station-A-2026-12-04-Night"


@pytest.mark.skipif(
    importlib.util.find_spec("inspection.reports.xlsx") is None
    or importlib.util.find_spec("inspection.reports.pdf") is None,
    reason="the xlsx and pdf writers are written by another helper",
)
def test_export_in_every_format(sample_db, tmp_path: Path):
    db, settings = sample_db
    period = shift_period(settings.calendar, "2026-12-04/Early")
    done = write_report(db, period, ["xlsx", "csv", "pdf"], tmp_path, settings=settings)
    assert {"xlsx", "csv", "pdf"} <= set(done.files)
    for path in done.files.values():
        assert path.is_file() and path.stat().st_size > 0
    assert not list(tmp_path.glob(".*partial*"))


def test_no_report_column_names_a_person(sample_db, tmp_path: Path):
    db, settings = sample_db
    period = shift_period(settings.calendar, "2026-12-04/Early")
    path = tmp_path / "parts.csv"
    write_parts_csv(db, period, path, timezone=BERLIN)
    header = pd.read_csv(path, encoding="utf-8-sig", nrows=0).columns.tolist()
    report = build_report(db, period, settings=settings)
    keys = [row[0] for row in summary_rows(report) if row]
    tool_header = next(row for row in summary_rows(report) if row and row[0] == "tool")
    for name in [*header, *keys, *tool_header]:
        assert not PERSON_WORDS.search(name), f"report column {name!r} names a person"


@pytest.mark.parametrize("period_text", ["shift", "range"])
def test_a_large_period_written_in_two_halves_is_the_same_file(
    sample_db, tmp_path, monkeypatch, period_text
):
    import inspection.reports.parts_csv as parts_csv
    from inspection.reports.aggregate import range_period

    db, settings = sample_db
    period = (
        shift_period(settings.calendar, "2026-12-04/Early")
        if period_text == "shift"
        else range_period(settings.calendar, "2026-12-04T05:00", "2026-12-04T15:00")
    )
    whole = tmp_path / "whole.csv"
    n_whole = write_parts_csv(db, period, whole, timezone="Europe/Berlin")
    monkeypatch.setattr(parts_csv, "_SPLIT_AT", 10)  # every period here is "large"
    seen: list[int] = []
    halves = tmp_path / "halves.csv"
    n_halves = write_parts_csv(
        db, period, halves, timezone="Europe/Berlin", progress=lambda d, _t, _m: seen.append(d)
    )
    assert n_whole == n_halves == 200
    assert halves.read_bytes() == whole.read_bytes()
    assert max(seen) == 200
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []

    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        write_parts_csv(db, period, tmp_path / "c.csv", timezone="Europe/Berlin", cancel=cancel)
    assert not [p for p in tmp_path.iterdir() if "second-half" in p.name]
