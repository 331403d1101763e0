"""A running station raises a drift warning from its parts, the operator acknowledges it, and both
reach the records the shift report's Changes sheet reads."""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from support.pipeline_tools import DRIFTING_SCORES, Collector, drifting_station, make_recipe

from inspection.paths import user_paths
from inspection.pipeline.station import Station
from inspection.pipeline.teaching import teach_label
from inspection.recipe import SyntheticSourceSettings, parse_recipe
from inspection.recipe.station import StationSettings
from inspection.reports.aggregate import build_report, range_period
from inspection.sources.synthetic import SyntheticLine
from inspection.trends.limits import load_limits
from inspection.types import Verdict


def test_a_drifting_score_warns_and_the_warning_is_recorded_and_acknowledged(
    lineside_home: Path,
) -> None:
    paths = user_paths().ensure()
    station = drifting_station(paths)
    recipe = station.recipe
    values = DRIFTING_SCORES
    start = time.time()
    station.start()
    try:
        assert station.wait_finished(30.0)
        (warning,) = station.drift_warnings()
        assert warning.series == "surface.score" and warning.direction == "up"
        assert warning.text.startswith("surface score drifting up (")
        assert all(v > warning.ucl for v in warning.values)
        station.acknowledge_drift("surface.score")
        assert station.drift_warnings() == ()
        assert station.rebaseline_drift() == ("surface.score",)  # an engineer starts anew
    finally:
        station.stop(10.0)
    limits = load_limits(paths.results_db, "surface.score@5parts", recipe.name, recipe.version)
    assert limits is not None and limits.baseline_n == 8  # the first 8 points of 5 parts
    assert abs(limits.centre - 0.30) < 1e-9
    with closing(sqlite3.connect(paths.results_db)) as conn:
        rows = conn.execute(
            "SELECT kind, text, details FROM events WHERE kind LIKE 'drift%' ORDER BY id"
        ).fetchall()
        # the camera's frames per minute, for its frame-rate trend, flushed at the stop
        frames = conn.execute("SELECT SUM(frames), SUM(dropped) FROM camera_intervals").fetchone()
    assert frames == (len(values), 0)
    assert [r[0] for r in rows] == ["drift", "drift_acknowledged", "drift_rebaseline"]
    assert rows[0][1].startswith("drift warning: surface score drifting up (")
    assert '"rule": "WE1"' in rows[0][2] and '"points": [[' in rows[0][2]
    # the shift report's Changes sheet lists both
    settings = StationSettings()
    zone = settings.calendar.zone
    fmt = "%Y-%m-%dT%H:%M:%S"
    period = range_period(
        settings.calendar,
        dt.datetime.fromtimestamp(start - 60, zone).strftime(fmt),
        dt.datetime.fromtimestamp(time.time() + 60, zone).strftime(fmt),
    )
    report = build_report(paths.results_db, period, settings=settings)
    kinds = [c.kind for c in report.changes]
    assert {"drift", "drift_acknowledged", "drift_rebaseline"} <= set(kinds)


def test_a_fading_label_printer_warns_before_its_labels_fail(lineside_home: Path) -> None:
    """The simulated line's printer loses ink from part 40 on; the real label tool measures the
    lot field's print contrast, and the station warns while every label still passes."""
    paths = user_paths().ensure()
    recipe = make_recipe(workers=1)
    data = recipe.model_dump(mode="json", exclude_none=True)
    data["cameras"][0]["source"] = {
        "type": "synthetic",
        "seed": 7,
        "defect_rate": 0.0,
        "parts": 75,
        "print_variation": 0.1,
        "print_fade": {"from_part": 40, "per_1000_parts": 5.0},
    }
    data["tools"] = [
        {
            "type": "label",
            "id": "label",
            "roi": {"x": 200, "y": 220, "w": 480, "h": 420},
            "max_offset_px": 100,
            "max_rotation_deg": 5.0,
            "fields": [
                {"name": "lot", "region": {"x": 8, "y": 82, "w": 240, "h": 36}, "rule": "batch"}
            ],
        }
    ]
    data["drift"] = [
        {
            "series": "label.lot_contrast",
            "watch": "down",
            "points_of": 5,
            "baseline_points": 7,
            "message": "print contrast on the lot field falling: printer check",
        }
    ]
    recipe = parse_recipe(data, "fading-printer")
    line = SyntheticLine(SyntheticSourceSettings.model_validate(data["cameras"][0]["source"]))
    teach_label(recipe, "label", paths, line.render_part(0)[0])
    listener = Collector()
    station = Station(recipe, paths=paths)
    station.add_listener(listener)
    station.start()
    try:
        assert station.wait_finished(120.0)
        warnings = station.drift_warnings()
    finally:
        station.stop(10.0)
    assert len(listener.inspections) == 75
    assert all(i.verdict is Verdict.PASS for i in listener.inspections), "labels still pass"
    (warning,) = warnings
    assert warning.direction == "down" and warning.series == "label.lot_contrast"
    assert warning.text.startswith("print contrast on the lot field falling: printer check (")
    # raised by a part printed after the fading began, not by the printer's ordinary variation
    first_faded = next(i for i in listener.inspections if i.part_seq >= 40)
    assert min(warning.times) >= first_faded.wall_time
