"""``lineside report --plant --dsn ...`` against a real PostgreSQL the tests start: three
stations write through the real ``postgres`` output, and the plant report counts each of them
and the totals; a station filter, an empty period, and databases that cannot give a report."""

from __future__ import annotations

import csv
import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from support.postgres import PASSWORD, PostgresServer
from support.report_records import berlin_calendar

from inspection.cli import main
from inspection.evaluation.peers import free_port
from inspection.integrations.postgres import postgres_output
from inspection.paths import user_paths
from inspection.plant_schema import (
    EVENT_COLUMNS,
    MIGRATIONS,
    PART_COLUMNS,
    SCHEMA_VERSION,
    TOOL_COLUMNS,
)
from inspection.recipe.outputs import PostgresOutputSettings
from inspection.recipe.station import StationSettings, save_station_settings
from inspection.types import Inspection, ToolResult, Verdict

DB = "plant"
STATIONS = {"station-a": 40, "station-b": 25, "station-c": 12}
"""Parts each station makes in the Early shift of 2026-12-04 (Europe/Berlin, 06:00-14:00)."""
LATE_PARTS = 5  # station-a's parts in the Late shift: never in the Early report


def verdict_of(k: int) -> Verdict:
    if k % 9 == 5:
        return Verdict.ERROR
    return Verdict.FAIL if k % 4 == 1 else Verdict.PASS


def part(station: str, k: int, wall_time: float) -> Inspection:
    verdict = verdict_of(k)
    reason = {Verdict.FAIL: "surface: defect found", Verdict.ERROR: "camera timeout"}.get(
        verdict, ""
    )
    surface = ToolResult(
        tool_id="surface",
        tool_type="anomaly",
        verdict=Verdict.PASS if verdict is Verdict.PASS else verdict,
        reason=reason,
        measurements={"score": 0.9 if verdict is Verdict.FAIL else 0.1, "threshold": 0.5},
    )
    serial = ToolResult(
        tool_id="serial",
        tool_type="codes",
        verdict=Verdict.PASS,
        measurements={"codes_read": 1.0, "quality_min": 0.8},
        details={"codes": [{"text": f"{station}-SN{k}"}]},
    )
    return Inspection(
        inspection_id=f"{station}-{k:05d}",
        station=station,
        part_seq=k,
        verdict=verdict,
        reason=reason,
        tool_results=(surface, serial),
        frames=(),
        recipe_name="housing",
        recipe_version="3",
        model_hashes={"surface": "a1b2c3"},
        wall_time=wall_time,
        lot="LOT-7",
    )


def station_parts(station: str) -> list[Inspection]:
    calendar = berlin_calendar()
    early = calendar.local_time(dt.datetime(2026, 12, 4, 6, 1))
    parts = [part(station, k, early + 60.0 * k) for k in range(STATIONS[station])]
    if station == "station-a":
        late = calendar.local_time(dt.datetime(2026, 12, 4, 15, 0))
        n = len(parts)
        parts += [part(station, n + k, late + 60.0 * k) for k in range(LATE_PARTS)]
    return parts


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    pg = PostgresServer().init().start()
    try:
        pg.sql(f"CREATE DATABASE {DB}")
        pg.sql("CREATE DATABASE empty")
        yield pg
    finally:
        pg.remove()


@pytest.fixture(scope="module")
def written(
    server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[Inspection]]:
    """Three stations' parts, sent at once through the real postgres output (outbox included)."""
    settings = PostgresOutputSettings(
        type="postgres", port=server.port, dbname=DB, password=PASSWORD, retry_s=0.2
    )
    folder = tmp_path_factory.mktemp("outbox")
    runners = {
        name: postgres_output(settings, station=name, line="line-2", outbox_folder=folder / name)
        for name in STATIONS
    }
    parts = {name: station_parts(name) for name in STATIONS}
    for runner in runners.values():
        runner.start()
    try:
        for name, runner in runners.items():
            for inspection in parts[name]:
                runner.on_inspection(inspection)
        deadline = time.monotonic() + 30
        while not all(
            r.state().sent >= len(parts[n]) and r.state().waiting == 0 for n, r in runners.items()
        ):
            assert time.monotonic() < deadline, [r.state() for r in runners.values()]
            time.sleep(0.05)
    finally:
        for runner in runners.values():
            runner.stop()
    return parts


@pytest.fixture(autouse=True)
def berlin_station(lineside_home: Path) -> None:
    save_station_settings(
        user_paths().station_file, StationSettings(line="this-pc", calendar=berlin_calendar())
    )


def dsn(server: PostgresServer, **override: str) -> str:
    fields = {
        "host": "127.0.0.1",
        "port": str(server.port),
        "dbname": DB,
        "user": "lineside",
        "password": PASSWORD,
    }
    fields.update(override)
    return " ".join(f"{k}={v}" for k, v in fields.items() if v)


def report(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object], str]:
    """``lineside report --json ...`` in this process: exit code, JSON object, stderr."""
    code = main(["report", "--json", *args])
    captured = capsys.readouterr()
    out = captured.out.strip()
    return code, (json.loads(out) if out else {}), captured.err


def plant(
    capsys: pytest.CaptureFixture[str], server: PostgresServer, args: str, **override: str
) -> tuple[int, dict[str, object], str]:
    """``lineside report --json --plant --dsn <the test server> ARGS`` (split at spaces)."""
    return report(capsys, "--plant", "--dsn", dsn(server, **override), *args.split())


def table(ws: Worksheet, name: str) -> list[tuple[object, ...]]:
    rows = ws[ws.tables[name].ref]
    return [tuple(c.value for c in r) for r in rows[1:]]


def early(parts: list[Inspection]) -> list[Inspection]:
    return parts[: STATIONS[parts[0].station]]


def counts(parts: list[Inspection]) -> dict[str, int]:
    verdicts = [p.verdict for p in parts]
    return {
        "parts": len(parts),
        "pass": verdicts.count(Verdict.PASS),
        "fail": verdicts.count(Verdict.FAIL),
        "error": verdicts.count(Verdict.ERROR),
    }


def test_the_plant_report_counts_each_station_and_the_totals(
    server: PostgresServer,
    written: dict[str, list[Inspection]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    args = f"--shift 2026-12-04/Early --format xlsx,csv,pdf --out {tmp_path}"
    code, data, err = plant(capsys, server, args)
    assert code == 0, err
    assert PASSWORD not in err and PASSWORD not in json.dumps(data)
    expected = {name: counts(early(parts)) for name, parts in written.items()}
    every = [p for parts in written.values() for p in early(parts)]
    total = counts(every)
    assert (data["parts"], data["pass"], data["fail"], data["error"]) == tuple(total.values())
    assert total["fail"] > 0 and total["error"] > 0  # every verdict made it
    assert data["yield"] == pytest.approx(total["pass"] / total["parts"])
    stations = data["stations"]
    assert isinstance(stations, dict)
    assert {n: {k: v for k, v in s.items() if k != "yield"} for n, s in stations.items()} == (
        expected
    )
    assert set(data["files"]) == {"xlsx", "csv", "pdf"}  # type: ignore[arg-type]
    assert "plant database" in str(data["source"])

    book = openpyxl.load_workbook(data["files"]["xlsx"])  # type: ignore[index]
    summary = book["Summary"]
    figures = dict(r[:2] for r in table(summary, "Figures"))
    assert figures["Station"] == "station-a, station-b, station-c"
    assert figures["Line"] == "line-2"  # the stations' line, not this PC's setting
    source = str(figures["Source"])
    assert source.startswith(f"plant database 127.0.0.1:{server.port}/{DB}, schema lineside")
    assert "station-a, station-b, station-c" in source
    assert (figures["Parts"], figures["PASS"], figures["FAIL"], figures["ERROR"]) == tuple(
        total.values()
    )
    notes = [str(r[1]) for r in table(summary, "Figures") if r[0] == "Note"]
    assert any("no image paths or thumbnails" in n for n in notes)
    per_station = {r[0]: r[1:5] for r in table(summary, "PerStation")}
    assert per_station == {n: tuple(c.values()) for n, c in expected.items()}
    assert sum(r[1] for r in table(book["Hourly"], "Hourly")) == total["parts"]  # type: ignore[misc]
    tools = {r[0]: r for r in table(book["Tools"], "Tools")}
    assert list(tools) == ["surface", "serial"]  # in the order they ran on each part
    assert tools["surface"][2:6] == (total["parts"], total["pass"], total["fail"], total["error"])
    assert tools["surface"][10] == 0.5  # the threshold, from the measurements
    rejects = table(book["Rejects"], "Rejects")
    assert len(rejects) == total["fail"] + total["error"]
    reject = next(r for r in rejects if r[7] == "station-b-00001")
    assert reject[2:5] == ("FAIL", "surface: defect found", "station-b-SN1")
    assert not any(r[8] for r in rejects)  # no image paths: the stations keep their images
    assert not book["Rejects"]._images  # and no thumbnails

    with open(data["files"]["csv"], encoding="utf-8-sig", newline="") as f:  # type: ignore[index]
        rows = list(csv.DictReader(f))
    assert len(rows) == total["parts"]
    assert {r["station"] for r in rows} == set(STATIONS)
    assert {r["codes read"] for r in rows} == {f"{p.station}-SN{p.part_seq}" for p in every}
    assert Path(data["files"]["pdf"]).read_bytes().startswith(b"%PDF")  # type: ignore[index]


def test_one_station_of_the_plant_with_the_password_from_a_variable(
    server: PostgresServer,
    written: dict[str, list[Inspection]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PLANT_PW", PASSWORD)
    args = f"--password-env PLANT_PW --station station-b --shift 2026-12-04/Early --out {tmp_path}"
    code, data, err = plant(capsys, server, f"{args} --format xlsx", password="")
    assert code == 0, err
    want = counts(early(written["station-b"]))
    assert (data["parts"], data["pass"], data["fail"], data["error"]) == tuple(want.values())
    assert list(data["stations"]) == ["station-b"]  # type: ignore[call-overload]
    book = openpyxl.load_workbook(data["files"]["xlsx"])  # type: ignore[index]
    figures = dict(r[:2] for r in table(book["Summary"], "Figures"))
    assert figures["Station"] == "station-b"
    assert figures["Parts"] == want["parts"]
    assert {r[7][: len("station-b")] for r in table(book["Rejects"], "Rejects")} == {"station-b"}


def test_a_period_without_parts_is_a_report_that_says_so(
    server: PostgresServer,
    written: dict[str, list[Inspection]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    args = f"--shift 2026-12-05/Early --format xlsx --out {tmp_path}"
    code, data, err = plant(capsys, server, args)
    assert code == 0, err  # as `lineside report` does for an empty shift
    assert data["parts"] == 0 and data["yield"] is None and data["stations"] == {}
    book = openpyxl.load_workbook(data["files"]["xlsx"])  # type: ignore[index]
    assert "No parts inspected" in str(book["Summary"]["A2"].value)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"password": "wrong"}, "refused the login"),
        ({"dbname": "empty"}, "has no Lineside records: schema 'lineside' lacks the table(s)"),
        ({"dbname": "nowhere"}, 'has no such database or role: database "nowhere" does not exist'),
        ({"port": "unused"}, "cannot be reached"),
    ],
)
def test_a_database_that_cannot_give_the_report_is_named_with_the_reason(
    server: PostgresServer,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    override: dict[str, str],
    message: str,
) -> None:
    if override.get("port") == "unused":
        override = {"port": str(free_port())}
    code, data, err = plant(capsys, server, f"--last-shift --out {tmp_path / 'out'}", **override)
    assert code == 1
    assert message in err and message in str(data["error"])
    assert "lineside report: plant database 127.0.0.1:" in err
    assert PASSWORD not in err and "password=" not in err
    assert not (tmp_path / "out").exists()  # no report written


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--plant", "--dsn", "host=127.0.0.1 password=secret-pw dbname"], "is not a connection"),
        (["--plant", "--dsn", "host=x", "--schema", "Bad-Name"], "schema 'Bad-Name' is not"),
        (["--plant"], "--plant needs --dsn"),
        (["--dsn", "host=x"], "--dsn only go with --plant"),
        (["--plant", "--dsn", "host=x", "--db", "r.sqlite"], "--db is this PC's results"),
        (["--plant", "--dsn", "host=x", "--password-env", "NOT_SET_PW"], "NOT_SET_PW"),
    ],
)
def test_bad_plant_options_exit_2_with_a_message(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = report(capsys, *args, "--last-shift")
    assert code == 2
    assert message in err
    assert "secret-pw" not in err


def test_an_unknown_station_names_the_plants_stations(
    server: PostgresServer,
    written: dict[str, list[Inspection]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = plant(capsys, server, "--station station-z --last-shift")
    assert code == 2
    assert "station 'station-z' has no records" in err
    assert "station-a, station-b, station-c" in err


def test_the_plant_tables_have_the_columns_the_report_reads(
    server: PostgresServer, written: dict[str, list[Inspection]]
) -> None:
    found: dict[str, set[str]] = {}
    for table_name, column in server.sql(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'lineside'",
        dbname=DB,
    ):
        found.setdefault(table_name, set()).add(column)
    assert set(PART_COLUMNS) <= found["inspections"]
    assert set(TOOL_COLUMNS) <= found["tool_results"]
    assert set(EVENT_COLUMNS) <= found["events"]
    assert server.sql("SELECT max(version) FROM lineside.schema_version", dbname=DB) == [
        (SCHEMA_VERSION,)
    ]


def test_a_database_of_schema_version_1_still_gives_a_report_that_says_what_it_lacks(
    server: PostgresServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Written by stations before version 2 (no model hashes, codes or tool order)."""
    server.sql("CREATE SCHEMA old", dbname=DB)
    server.sql("CREATE TABLE old.schema_version (version integer NOT NULL)", dbname=DB)
    for statement in MIGRATIONS[0]:
        server.sql(statement.format(s="old"), dbname=DB)
    server.sql("INSERT INTO old.schema_version (version) VALUES (1)", dbname=DB)
    at = "2026-12-04 07:00:00+01"
    for k, verdict in enumerate(("PASS", "FAIL", "PASS")):
        server.sql(
            "INSERT INTO old.inspections (station, inspection_id, line, part_seq, at, verdict,"
            f" reason, recipe, recipe_version, lot) VALUES ('st-old', 'old-{k}', 'line-1', {k},"
            f" timestamptz '{at}' + interval '{k} minutes', '{verdict}', '', 'housing', '2', '')",
            dbname=DB,
        )
        server.sql(
            "INSERT INTO old.tool_results (station, inspection_id, tool_id, tool_type, verdict,"
            f" measurements) VALUES ('st-old', 'old-{k}', 'surface', 'anomaly', '{verdict}',"
            """ '{"score": 0.3, "threshold": 0.5}')""",
            dbname=DB,
        )
    period = "--from 2026-12-04T06:00 --to 2026-12-04T08:00"
    code, data, err = plant(capsys, server, f"--schema old {period} --format csv --out {tmp_path}")
    assert code == 0, err
    assert (data["parts"], data["pass"], data["fail"]) == (3, 2, 1)
    summary = next(tmp_path.glob("*-summary.csv")).read_text(encoding="utf-8-sig")
    assert "The plant schema is version 1: codes read, model changes" in summary
    assert "st-old,3,2,1,0," in summary  # the per-station table
