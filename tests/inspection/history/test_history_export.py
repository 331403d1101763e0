"""The selection to CSV: every matching part once, readable by pandas; progress and Cancel."""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd
import pytest
from support.history_parts import Part, write_parts

from inspection.history.export import CSV_COLUMNS, export_csv
from inspection.history.filters import PartFilter
from inspection.jobs import Cancelled
from inspection.types import Verdict


def _db(tmp_path: Path, n: int = 40) -> Path:
    db = tmp_path / "results.sqlite"
    parts = [
        Part(
            verdict=Verdict.FAIL if i % 4 == 0 else Verdict.PASS,
            reason="Prüfung: no code found" if i % 4 == 0 else "",
            code=f"SN{i:03d}",
            lot="L-Ä" if i % 2 else "L1",
        )
        for i in range(n)
    ]
    write_parts(db, parts)
    return db


def test_the_selection_is_written_once_each_newest_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("inspection.history.export.CHUNK", 3)  # several pages
    db = _db(tmp_path)
    out = tmp_path / "out" / "fails.csv"
    steps: list[tuple[int, int]] = []
    n = export_csv(
        db,
        PartFilter(verdicts=frozenset({Verdict.FAIL})),
        out,
        lambda done, total, msg: steps.append((done, total)),
        threading.Event(),
    )
    assert n == 10
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    frame = pd.read_csv(out, encoding="utf-8-sig", dtype={"codes": str})
    assert list(frame.columns) == list(CSV_COLUMNS)
    assert list(frame["part_number"]) == [37, 33, 29, 25, 21, 17, 13, 9, 5, 1]
    assert set(frame["verdict"]) == {"FAIL"}
    assert frame["reason"][0] == "Prüfung: no code found"
    assert frame["codes"][0] == "SN036"
    assert steps[-1] == (10, 10) and len(steps) >= 4


def test_cancel_stops_and_leaves_no_file(tmp_path: Path) -> None:
    db = _db(tmp_path)
    out = tmp_path / "all.csv"
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        export_csv(db, PartFilter(), out, lambda *a: None, cancel)
    assert not out.exists()
    assert not list(tmp_path.glob(".*partial*"))  # no unfinished file left
