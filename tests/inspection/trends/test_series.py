"""Series read from a results database written by the real batch writer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support.trend_parts import PARTS, T0, score

from inspection.trends.aggregate import aggregate, raw_series
from inspection.trends.series import (
    SeriesName,
    available_series,
    load_raw_series,
    load_series,
    parse_series,
)

END = T0 + 10 * PARTS


def _load(db: Path, text: str, **kw) -> object:
    return load_series(db, parse_series(text), T0, END, **kw)


def test_a_tools_headline_score_per_part(trend_db: Path):
    data = _load(trend_db, "surface.score")
    assert not data.aggregated and data.raw_count == PARTS
    assert data.t.tolist() == [T0 + 10 * i for i in range(PARTS)]
    assert data.value.tolist() == pytest.approx([score(i) for i in range(PARTS)])
    assert data.part_id.tolist() == list(range(1, PARTS + 1))  # inspections.id, oldest first
    assert data.threshold == 0.5
    assert data.count.tolist() == [1] * PARTS


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        ("surface.max_region_px", lambda i: 60.0 + i if i % 10 == 9 else 0.0),
        ("label.lot_contrast", lambda i: 0.7 - i / 100),
        ("label.lot_sharpness", lambda i: 30.0 + i),
        ("label.offset_px", lambda i: i / 10),  # from the details
        ("station.cycle_ms", lambda i: 4.0 + i),
    ],
)
def test_measures_from_json_and_the_inspections_row(trend_db: Path, series, expected):
    data = _load(trend_db, series)
    assert data.value.tolist() == pytest.approx([expected(i) for i in range(PARTS)])
    assert data.threshold is None


def test_parts_without_the_measure_have_no_point(trend_db: Path):
    data = _load(trend_db, "serial.attempts")
    assert data.raw_count == PARTS - 1 and 16 not in data.part_id.tolist()  # part 15 is id 16
    assert data.value[:3].tolist() == [1.0, 2.0, 3.0]


def test_station_series_per_interval(trend_db: Path):
    def values(measure: str) -> list[float]:
        data = _load(trend_db, f"station.{measure}", interval_s=100.0)
        assert data.t.tolist() == [T0, T0 + 100, T0 + 200, T0 + 300]
        assert data.count.tolist() == [10, 10, 10, 10]
        assert data.part_id.tolist() == [-1] * 4
        return data.value.tolist()

    assert values("yield") == pytest.approx([0.9, 0.8, 0.9, 0.9])
    assert values("error_rate") == pytest.approx([0.0, 0.1, 0.0, 0.0])
    assert values("fails") == [1.0, 1.0, 1.0, 1.0]
    assert values("reason:surface: defect found") == [1.0, 1.0, 1.0, 1.0]
    assert values("reason:serial: no code read") == [0.0, 1.0, 0.0, 0.0]


def test_a_stations_parts_only(trend_db: Path):
    assert len(_load(trend_db, "surface.score", station="st1")) == PARTS
    assert len(_load(trend_db, "surface.score", station="other")) == 0


def test_available_series_lists_station_tool_and_reason_series(trend_db: Path):
    found = {str(s.name): s for s in available_series(trend_db, T0, END)}
    for name in (
        "station.yield",
        "station.cycle_ms",
        "surface.score",
        "surface.max_region_px",
        "serial.attempts",
        "serial.quality_min",
        "label.lot_contrast",
        "label.lot_confidence",
        "label.rotation_deg",
        "station.reason:surface: defect found",
        "station.reason:serial: no code read",
    ):
        assert name in found, name
    assert found["surface.score"].threshold == 0.5 and found["surface.score"].per_part
    assert found["label.lot_contrast"].label == "print contrast (lot)"
    assert not found["station.yield"].per_part


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("surface", "TOOL_ID.MEASURE"),
        (".score", "TOOL_ID.MEASURE"),
        ("station.bogus", "station.yield"),
    ],
)
def test_bad_series_names_are_explained(text, message):
    with pytest.raises(ValueError, match=message):
        parse_series(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [("nosuch.score", "no tool 'nosuch'.*surface"), ("surface.contrast", "max_region_px")],
)
def test_series_the_range_does_not_have_are_explained(trend_db: Path, text, message):
    with pytest.raises(ValueError, match=message):
        _load(trend_db, text)


def test_aggregation_keeps_each_buckets_extremes_and_their_parts(trend_db: Path):
    data = _load(trend_db, "surface.score", max_points=4)  # 4 buckets of 100 s, 10 parts each
    assert data.aggregated and data.raw_count == PARTS and len(data) == 4
    assert data.t.tolist() == [T0, T0 + 100, T0 + 200, T0 + 300]
    for b in range(4):
        scores = [score(i) for i in range(10 * b, 10 * b + 10)]
        assert data.value[b] == pytest.approx(np.mean(scores))
        assert data.high[b] == pytest.approx(0.9) and data.low[b] == pytest.approx(min(scores))
        assert data.part_id[b] == 10 * b + 10  # the defect, part 10b + 9, is id 10b + 10
        assert score(int(data.low_part_id[b]) - 1) == pytest.approx(min(scores))
    assert data.count.tolist() == [10, 10, 10, 10]


def test_aggregation_of_a_day_keeps_a_single_spike():
    n = 864_000
    t = np.linspace(0.0, 86_400.0, n, endpoint=False)
    value = np.full(n, 0.1)
    value[500_123] = 0.97
    value[700_001] = -0.5
    ids = np.arange(n, dtype=np.int64) + 1
    raw = raw_series(SeriesName("surface", "score"), t, value, ids, np.ones(n, np.int64), 0.5)
    data = aggregate(raw, 0.0, 86_400.0, 2000)
    assert len(data) == 2000 and data.raw_count == n
    assert data.high.max() == 0.97 and data.part_id[data.high.argmax()] == 500_124
    assert data.low.min() == -0.5 and data.low_part_id[data.low.argmin()] == 700_002
    assert data.value.mean() == pytest.approx(value.mean())


def test_raw_series_as_a_baseline(trend_db: Path):
    name = SeriesName("surface", "score")
    good = load_raw_series(trend_db, name, T0, END, good_only=True, limit=12)
    assert len(good) == 12 and 10 not in good.part_id.tolist()  # part 9 (id 10) failed
    v2 = load_raw_series(trend_db, name, T0, END, recipe=("demo", "2"))
    assert v2.part_id.tolist() == list(range(31, 41))
