"""`lineside tune`: the JSON a user gets, labels from the ground truth, and bad input."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from support.tuning_parts import T0, Part, write_parts

from inspection.cli import main
from inspection.tuning.labels import set_label

KEYS = {"tool", "parameter", "threshold", "histogram", "at_threshold", "candidate", "suggestions"}


def iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, tz=dt.UTC).isoformat()


def tune(capsys: pytest.CaptureFixture[str], db: Path, *args: str) -> tuple[int, str, str]:
    code = main(["tune", "--db", str(db), "--from", iso(T0), "--to", iso(T0 + 1000), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_tune_as_json(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_parts(db, [Part(0.1), Part(0.3), Part(0.55), Part(0.4), Part(0.8), Part(0.2)])
    for part, label in ((1, "good"), (3, "good"), (4, "defect"), (5, "defect")):
        set_label(db, part, label)
    code, out, err = tune(
        capsys, db, "--tool", "surface", "--threshold", "0.35", "--bins", "7", "--json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == KEYS
    assert data["tool"] == "surface" and data["threshold"] == 0.5
    assert data["parameter"] == "threshold"
    h = data["histogram"]
    assert h["edges"] == pytest.approx([0.1 + 0.1 * k for k in range(8)])
    assert (sum(h["good"]), sum(h["defect"]), sum(h["unlabelled"])) == (2, 2, 2)
    assert data["at_threshold"] == {"false_rejects": 1, "escapes": 1, "yield": pytest.approx(4 / 6)}
    assert data["candidate"] == {"false_rejects": 1, "escapes": 0, "yield": pytest.approx(3 / 6)}
    (first, best) = data["suggestions"]
    assert first["threshold"] == 0.4 and (first["false_rejects"], first["escapes"]) == (1, 0)
    assert first["yield"] == pytest.approx(3 / 6) and "0.4" in first["why"]
    assert best["threshold"] == 0.8 and (best["false_rejects"], best["escapes"]) == (0, 1)
    # the text summary for a person says the same
    code, text, err = tune(capsys, db, "--tool", "surface", "--threshold", "0.35")
    assert code == 0, err
    assert "candidate 0.35: 1 false rejects, 0 escapes, yield 50.00 %" in text
    assert "suggested 0.4:" in text


def test_labels_from_the_ground_truth(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_parts(
        db,
        [
            Part(0.2, defects=()),
            Part(0.7, defects=("scratch",)),
            Part(0.45, defects=("dent", "misprinted_lot")),
            Part(0.6, defects=("misprinted_lot",)),  # a label defect: good for the surface tool
            Part(0.3),  # no truth recorded: unlabelled
        ],
    )
    set_label(db, 1, "defect")  # engineers' labels are not read with --labels truth
    code, out, err = tune(capsys, db, "--tool", "surface", "--labels", "truth", "--json")
    assert code == 0, err
    data = json.loads(out)
    h = data["histogram"]
    assert (sum(h["good"]), sum(h["defect"]), sum(h["unlabelled"])) == (2, 2, 1)
    assert data["at_threshold"] == {"false_rejects": 1, "escapes": 1, "yield": pytest.approx(3 / 5)}
    assert data["candidate"] is None
    assert data["suggestions"][0]["threshold"] == 0.45


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tool", "nope"], "no results of tool 'nope' in the range; tools: label, surface"),
        (["--tool", "label"], "tool 'label' (label) records no threshold"),
        (["--tool", "surface", "--from", "yesterday"], "--from 'yesterday' is not an ISO 8601"),
        (["--tool", "surface", "--threshold", "nan"], "--threshold nan is not a number"),
    ],
)
def test_bad_input_exits_2_with_the_reason(
    db: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    write_parts(db, [Part(0.2)])
    code = main(["tune", "--db", str(db), "--from", iso(T0), "--to", iso(T0 + 100), *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err, err


def test_a_range_with_no_parts(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_parts(db, [Part(0.2)])
    code = main(
        [
            "tune",
            "--db",
            str(db),
            "--tool",
            "surface",
            "--from",
            iso(T0 + 500),
            "--to",
            iso(T0 + 900),
        ]
    )
    assert code == 2 and "the range has no recorded parts" in capsys.readouterr().err
