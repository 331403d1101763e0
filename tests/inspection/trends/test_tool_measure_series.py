"""Per-part tool measures read from tool_measures: the same points the tool results' JSON gives,
from the table's key (no JSON parsed), with the series names built from storage's list."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support.trend_parts import PARTS, T0

from inspection.part_measures import FIELD_SUFFIXES, STORED_MEASURES
from inspection.storage.queries import open_reader
from inspection.trends import measures
from inspection.trends.measures import describe, parse_series, tool_measure
from inspection.trends.series import load_raw_series, load_series, parts_query, range_part_ids

END = T0 + 10 * PARTS
TYPES = {"surface": "anomaly", "label": "label", "serial": "codes"}

JSON_SERIES = [
    ("surface.max_region_px", "anomaly", "measurements"),
    ("serial.attempts", "codes", "measurements"),
    ("serial.quality_min", "codes", "measurements"),
    ("label.lot_contrast", "label", "measurements"),
    ("label.lot_sharpness", "label", "measurements"),
    ("label.offset_px", "label", "details"),
    ("label.match", "label", "details"),
]


def _from_json(db: Path, tool_id: str, source: str, key: str) -> list[tuple[float, float, int]]:
    """The series as it was read before tool_measures: json_extract on every tool result."""
    conn = open_reader(db)
    try:
        rows = conn.execute(
            f"SELECT i.wall_time, json_extract(t.{source}, ?), i.id FROM inspections i "
            "JOIN tool_results t ON t.inspection = i.id AND t.tool_id = ? "
            "WHERE json_extract(t.{0}, ?) IS NOT NULL ORDER BY i.wall_time".format(source),
            (f'$."{key}"', tool_id, f'$."{key}"'),
        ).fetchall()
    finally:
        conn.close()
    return [(float(t), float(v), int(i)) for t, v, i in rows]


@pytest.mark.parametrize(("series", "tool_type", "source"), JSON_SERIES)
def test_a_json_measure_gives_the_points_its_json_holds(
    trend_db: Path, series: str, tool_type: str, source: str
) -> None:
    name = parse_series(series)
    assert tool_measure(tool_type, name.measure).source == source
    raw = load_raw_series(trend_db, name, T0, END)
    expected = _from_json(trend_db, name.tool_id, source, name.measure)
    assert len(expected) > 0
    assert list(zip(raw.t.tolist(), raw.value.tolist(), raw.part_id.tolist(), strict=True)) == (
        expected
    )
    # aggregated: every bucket's mean is the mean of its parts' JSON values
    agg = load_series(trend_db, name, T0, END, max_points=4)
    assert agg.count.sum() == len(expected)
    assert np.isclose(
        np.average(agg.value, weights=agg.count), np.mean([v for _, v, _ in expected])
    )


def test_a_baseline_of_good_parts_reads_the_tools_verdict_too(trend_db: Path) -> None:
    name = parse_series("serial.quality_min")
    raw = load_raw_series(trend_db, name, T0, END, good_only=True, limit=5)
    # part 15's code tool is an ERROR with no quality: the first five good parts are 0..4
    assert raw.part_id.tolist() == [1, 2, 3, 4, 5]
    assert raw.value.tolist() == pytest.approx([0.9 - i / 1000 for i in range(5)])


@pytest.mark.parametrize(
    ("series", "tool_type", "good_only", "expected"),
    [
        # the measure's own key, in the range's id bounds, drives; each part is a rowid seek
        ("label.lot_contrast", "label", False, "m USING PRIMARY KEY (tool_id=? AND measure=? AND inspection>? AND inspection<?)"),
        # a baseline of good parts: the tool's verdicts drive, the measure is one seek per part
        # (never a range per part)
        ("label.lot_contrast", "label", True, "m USING PRIMARY KEY (tool_id=? AND measure=? AND inspection=?)"),
        ("surface.score", "anomaly", False, "t USING COVERING INDEX tool_results_scores (tool_id=? AND inspection>? AND inspection<?)"),
    ],
)  # fmt: skip
def test_the_series_query_reads_the_tools_own_index(
    trend_db: Path, series: str, tool_type: str, good_only: bool, expected: str
) -> None:
    name = parse_series(series)
    conn = open_reader(trend_db)
    try:
        ids = range_part_ids(conn, T0, END)
        assert ids == (1, PARTS)
        sql, params = parts_query(
            name,
            tool_measure(tool_type, name.measure),
            T0,
            END,
            "st1",
            good_only=good_only,
            ids=ids,
        )
        plan = " | ".join(str(r[3]) for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    finally:
        conn.close()
    assert expected in plan, plan
    assert "json" not in sql
    assert "SCAN" not in plan, plan


def test_series_names_come_from_what_storage_keeps() -> None:
    for tool_type, keys in STORED_MEASURES.items():
        assert measures.TOOL_MEASURES[tool_type] == ("score", *(k for _, k in keys))
        for source, key in keys:
            assert tool_measure(tool_type, key).source == source
    assert set(measures._FIELD_SUFFIXES) == set(FIELD_SUFFIXES)
    assert tool_measure("label", "lot_contrast", {"lot_contrast"}).key == "lot_contrast"


@pytest.mark.parametrize("series", ["surface.score", "label.lot_contrast", "station.cycle_ms"])
def test_a_baselines_first_good_parts_come_in_index_order_without_a_sort(
    trend_db: Path, series: str
) -> None:
    """The first N good parts of a range: the walked index gives record order, so SQLite stops
    after N rows (a sort of the whole range took 0.3-0.9 s on a day)."""
    name = parse_series(series)
    measure = (
        describe(name.measure)
        if name.is_station
        else tool_measure(TYPES[name.tool_id], name.measure)
    )
    conn = open_reader(trend_db)
    try:
        sql, params = parts_query(name, measure, T0, END, "st1", good_only=True, limit=3)
        plan = " | ".join(str(r[3]) for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
        rows = conn.execute(sql, params).fetchall()
    finally:
        conn.close()
    assert "TEMP B-TREE" not in plan, plan
    assert [r[2] for r in rows] == sorted(r[2] for r in rows) and len(rows) == 3


def test_rates_per_interval_read_the_time_and_verdict_index_alone(trend_db: Path) -> None:
    from inspection.trends.series import _fetch_intervals

    conn = open_reader(trend_db)
    sent: list[str] = []
    try:
        conn.set_trace_callback(sent.append)  # the statement as run, values filled in
        _fetch_intervals(conn, parse_series("station.yield"), T0, END, None, 60.0)
        conn.set_trace_callback(None)
        (sql,) = [q for q in sent if q.lstrip().upper().startswith(("SELECT", "WITH"))]
        plan = " | ".join(str(r[3]) for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
    finally:
        conn.close()
    assert "COVERING INDEX inspections_time_verdict" in plan, plan
    # each interval counted in its slice of the index: no sort of every part of the range
    assert "TEMP B-TREE" not in plan, plan
