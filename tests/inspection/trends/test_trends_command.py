"""`lineside trends`: the JSON a user gets, stored limits, and bad input."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest
from support.trend_parts import PARTS, T0, good_score, score, write_trend_parts

from inspection.cli import main

UTC = dt.UTC


def iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, tz=UTC).isoformat()


def trends(capsys: pytest.CaptureFixture[str], db: Path, *args: str) -> tuple[int, dict, str]:
    code = main(
        [
            "trends",
            "--db",
            str(db),
            "--from",
            iso(T0),
            "--to",
            iso(T0 + 10 * PARTS),
            *args,
        ]
    )
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else {}), err


def test_a_tools_score_as_json(trend_db: Path, capsys):
    code, data, err = trends(capsys, trend_db, "--series", "surface.score", "--json")
    assert code == 0, err
    assert {"series", "points", "limits", "violations"} <= set(data)
    assert data["series"] == "surface.score"
    assert len(data["points"]) == PARTS
    first_time, first_value = data["points"][0]
    assert dt.datetime.fromisoformat(first_time).timestamp() == T0
    assert first_value == pytest.approx(score(0))
    # no limits stored: computed from the range's good parts, and it says so
    limits = data["limits"]
    assert {"centre", "ucl", "lcl", "baseline"} <= set(limits)
    good = [good_score(i) for i in range(PARTS) if i % 10 != 9]
    assert limits["centre"] == pytest.approx(sum(good) / len(good))
    assert limits["baseline"]["stored"] is False
    assert limits["baseline"]["n"] == len(good)
    assert "not stored" in limits["baseline"]["description"]
    # each defect (0.9) is far beyond 3 sigma of the good parts' scores
    beyond = [v for v in data["violations"] if v["rule"] == "1 point beyond 3 sigma"]
    assert [dt.datetime.fromisoformat(v["at"]).timestamp() for v in beyond] == [
        T0 + 10 * i for i in (9, 19, 29, 39)
    ]
    assert beyond[0]["points"] == [[beyond[0]["at"], 0.9]]


def test_points_are_aggregated_to_max_points(trend_db: Path, capsys):
    code, data, err = trends(
        capsys, trend_db, "--series", "label.lot_contrast", "--max-points", "8"
    )
    assert code == 0, err
    assert len(data["points"]) == 8 and data["aggregated"] and data["raw_count"] == PARTS


def test_station_yield_on_a_p_chart(trend_db: Path, capsys):
    code, data, err = trends(
        capsys, trend_db, "--series", "station.yield", "--interval", "100", "--json"
    )
    assert code == 0, err
    assert [v for _, v in data["points"]] == pytest.approx([0.9, 0.8, 0.9, 0.9])
    assert data["limits"]["chart"] == "p"
    assert data["limits"]["centre"] == pytest.approx(35 / 40)


def _rows(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM control_limits").fetchone()[0])
    finally:
        conn.close()


def test_limits_are_stored_when_asked_and_never_recomputed(trend_db: Path, capsys):
    code, saved, err = trends(capsys, trend_db, "--series", "surface.score", "--save-limits")
    assert code == 0, err
    baseline = saved["limits"]["baseline"]
    # the version in force is the newest part's (2, from part 30); its good parts are 30-38
    assert baseline["stored"] is True and baseline["recipe_version"] == "2"
    assert baseline["n"] == 9 and "version 2" in baseline["description"]
    good = [good_score(i) for i in range(30, 39)]
    assert saved["limits"]["centre"] == pytest.approx(sum(good) / 9)
    assert _rows(trend_db) == 1

    # more parts of version 2 with other scores: the stored limits still hold, unchanged
    write_trend_parts(trend_db, first=PARTS, count=20, version="2")
    code, again, err = trends(capsys, trend_db, "--series", "surface.score")
    assert code == 0, err
    assert again["limits"] == saved["limits"]
    assert _rows(trend_db) == 1

    # saving again makes a new row; the newest wins
    code, _, err = trends(
        capsys,
        trend_db,
        "--series",
        "surface.score",
        "--save-limits",
        "--baseline-from",
        iso(T0),
        "--baseline-to",
        iso(T0 + 100),
    )
    assert code == 0, err
    assert _rows(trend_db) == 2
    code, newest, err = trends(capsys, trend_db, "--series", "surface.score")
    assert newest["limits"]["baseline"]["description"].startswith("window ")
    assert newest["limits"]["baseline"]["n"] == 9  # parts 0-8; part 9 failed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--series", "nosuch.score"], "no tool 'nosuch'"),
        (["--series", "station.bogus"], "unknown station series"),
        (["--series", "surface"], "TOOL_ID.MEASURE"),
        (["--series", "surface.score", "--from", "yesterday"], "not an ISO 8601"),
        (["--series", "surface.score", "--baseline-from", "2026-01-01"], "--save-limits"),
    ],
)
def test_bad_input_exits_2_with_a_message(trend_db: Path, capsys, args, message):
    code, _, err = trends(capsys, trend_db, *args)
    assert code == 2
    assert message in err and err.startswith("lineside trends:")


def test_time_range_backwards_exits_2(trend_db: Path, capsys):
    code = main(
        [
            "trends",
            "--db",
            str(trend_db),
            "--series",
            "surface.score",
            "--from",
            iso(T0 + 100),
            "--to",
            iso(T0),
        ]
    )
    assert code == 2 and "not after" in capsys.readouterr().err


def test_missing_database_exits_2(tmp_path: Path, capsys):
    code = main(["trends", "--db", str(tmp_path / "none.sqlite"), "--series", "surface.score"])
    assert code == 2 and "does not exist" in capsys.readouterr().err


def test_without_from_it_takes_the_current_shift(trend_db: Path, capsys):
    # the parts are from 2026; the current shift has none of them: an empty series, exit 0
    code = main(["trends", "--db", str(trend_db), "--series", "surface.score", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert data["points"] == [] and data["limits"] is None and data["violations"] == []
    start = dt.datetime.fromisoformat(data["from"]).timestamp()
    end = dt.datetime.fromisoformat(data["to"]).timestamp()
    assert 0 < end - start <= 12 * 3600
