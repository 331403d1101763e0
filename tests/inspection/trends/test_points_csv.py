"""A chart's points as CSV, and the inspection ids of the parts behind them."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from support.trend_parts import PARTS, T0, score

from inspection.trends.part_ids import inspection_ids
from inspection.trends.points_csv import HEADER, write_points_csv
from inspection.trends.series import load_series, parse_series

BERLIN = ZoneInfo("Europe/Berlin")


def test_inspection_ids_by_row_id(trend_db: Path) -> None:
    data = load_series(trend_db, parse_series("surface.score"), T0, T0 + 10 * PARTS)
    names = inspection_ids(trend_db, [*data.part_id.tolist(), -1, 10**9])
    assert [names[int(i)] for i in data.part_id] == [f"run1-{i:05d}" for i in range(PARTS)]
    assert -1 not in names and 10**9 not in names
    assert inspection_ids(trend_db, []) == {}


def test_two_series_in_one_file(trend_db: Path, tmp_path: Path) -> None:
    end = T0 + 10 * PARTS
    surface = load_series(trend_db, parse_series("surface.score"), T0, end)
    yields = load_series(trend_db, parse_series("station.yield"), T0, end, interval_s=100.0)
    names = inspection_ids(trend_db, surface.part_id)
    path = tmp_path / "out" / "points.csv"
    rows = write_points_csv(path, [surface, yields], BERLIN, names)
    assert rows == PARTS + len(yields)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads the file as UTF-8
    with path.open(encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    assert tuple(table[0]) == HEADER
    first = dict(zip(HEADER, table[1], strict=True))
    assert first["series"] == "surface.score"
    assert dt.datetime.fromisoformat(first["time"]).timestamp() == T0
    local = dt.datetime.fromtimestamp(T0, tz=BERLIN).strftime("%Y-%m-%d %H:%M:%S")
    assert first["local time"] == local
    assert float(first["value"]) == score(0) and first["part"] == "run1-00000"
    assert first["parts"] == "1"
    station = [dict(zip(HEADER, r, strict=True)) for r in table[1:] if r[0] == "station.yield"]
    assert len(station) == len(yields)
    assert all(r["part"] == "" for r in station)  # an interval has no single part
    assert sum(int(r["parts"]) for r in station) == PARTS
