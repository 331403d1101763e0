"""`lineside bench --gui`: the figures' shape and sense on a short run (speed goals not asserted)."""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from app import bench_window, gui_bench
from app.bench_window import Phase
from app.launch import main as lineside
from inspection.cli import main as headless_cli
from inspection.evaluation.record_day import generate_day
from inspection.evaluation.trends_bench import TRENDS_MAX_POINTS
from inspection.paths import resources_dir, results_cache
from inspection.recipe import SyntheticSourceSettings, load_recipe
from inspection.recipe.station import ShiftCalendar

REQUIRED = {"gui_stall_ms_p99", "live_view_fps", "inspection_slowdown"}


@pytest.mark.slow
def test_bench_gui_prints_the_figures_of_the_issue(qtbot, capsys, lineside_home: Path) -> None:
    code = lineside(
        [
            "bench",
            "--gui",
            "--seconds",
            "3",
            "--rounds",
            "1",
            "--live-seconds",
            "2",
            "--no-window-seconds",
            "2",
            "--no-trends-day",
            "--json",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    figures = json.loads(out)
    assert list(figures)[:2] == ["gui_under_load", "trends_day_load_s"]
    assert figures["trends_day_load_s"] is None
    g = figures["gui_under_load"]
    assert set(g) >= REQUIRED
    for key in REQUIRED:
        assert isinstance(g[key], float) and math.isfinite(g[key]), key
    assert g["gui_stall_ms_p99"] >= 0
    assert g["gui_stall_ms_max"] >= g["gui_stall_ms_p99"]
    assert g["probe_ticks"] > 0 and g["gui_stall_ms_p99_no_trends"] is not None
    # the free-running camera delivered frames and the live view showed some of them
    assert g["camera_fps"] > 5 and 0 < g["live_view_fps"] <= g["camera_fps"] + 1
    # room for 25 frames/s: the refresh timer's interval, not a single-shot "next turn" timer's
    assert 0 < g["live_view_timer_ms"] <= 40
    assert g["parts_trends"] > 0 and g["parts_no_trends"] > 0
    assert g["trends_page_loads"] > 0  # the Trends page did reload live behind the screen
    # signed, against the same window without trends (not against no window)
    expected = 1 - g["parts_per_s_trends"] / g["parts_per_s_no_trends"]
    assert g["inspection_slowdown"] == pytest.approx(expected, abs=0.002)
    # measured, but a 2 s phase may finish no part while the machine is busy
    assert math.isfinite(g["parts_per_s_no_window"]) and g["parts_per_s_no_window"] >= 0
    assert [p["phase"] for p in g["phases"]] == ["no_trends", "trends", "live_view", "no_window"]
    assert g["phases"][0]["trends_loads"] == 0  # no trends means no Trends page reloads
    assert "GUI stall p99" in err and "slowdown" in err and "live view" in err
    # the bench's station threads are gone, and the user's home was not written
    names = {t.name for t in threading.enumerate()}
    assert not {
        n
        for n in names
        if n.startswith(("acq-", "worker-", "dispatcher", "station-", "scores-cache"))
    }
    assert not (lineside_home / "data" / "models" / "demo").exists()


def _phase(kind: str, seconds: float, parts: int, **more: object) -> Phase:
    return Phase(kind=kind, seconds=seconds, parts=parts, frames_in=parts, **more)  # type: ignore[arg-type]


def test_slowdown_is_against_the_window_without_trends() -> None:
    phases = [
        _phase("no_trends", 10.0, 100, lags_ms=(1.0,) * 99 + (200.0,)),
        _phase("trends", 10.0, 90, lags_ms=(2.0,) * 100, trends_loads=4),
        _phase("live_view", 10.0, 10, frames_shown=200),
        _phase("no_window", 10.0, 120),
    ]
    g = gui_bench.gui_under_load(
        phases, live_view_timer_ms=33, probe_interval_ms=10, result_hold_s=0.4
    )
    assert g["inspection_slowdown"] == pytest.approx(0.10)
    assert g["slowdown_vs_no_window"] == pytest.approx(0.25)
    assert g["gui_stall_ms_p99"] == pytest.approx(2.0)  # the stall of the other phase not in it
    assert g["gui_stall_ms_max_no_trends"] == pytest.approx(200.0)
    assert g["live_view_fps"] == pytest.approx(20.0)
    assert g["live_view_fps_between_results"] == pytest.approx(200 / 6.0, abs=0.01)
    assert g["trends_page_loads"] == 4
    # faster with trends (noise) is a negative slowdown, not clipped to 0
    faster = [_phase("no_trends", 10.0, 90), _phase("trends", 10.0, 99)]
    g = gui_bench.gui_under_load(
        faster, live_view_timer_ms=33, probe_interval_ms=10, result_hold_s=0.4
    )
    assert g["inspection_slowdown"] == pytest.approx(-0.10)
    assert g["live_view_fps"] is None and g["parts_per_s_no_window"] is None


def test_free_running_conveyor_films_at_the_asked_rate() -> None:
    recipe = load_recipe(resources_dir() / "recipes" / "conveyor.yaml")
    fast = gui_bench.free_running(recipe, 30.0)
    source = fast.cameras[0].source
    assert isinstance(source, SyntheticSourceSettings)
    assert source.rate_hz == 30.0 and source.mode == "video"
    assert fast.trigger == recipe.trigger and fast.tools == recipe.tools


def test_phases_alternate_so_drift_favours_neither_side() -> None:
    assert gui_bench.phase_order(1) == [False, True]
    assert gui_bench.phase_order(2) == [False, True, True, False]
    order = gui_bench.phase_order(3)
    assert order.count(True) == order.count(False) == 3


def test_lag_probe_sees_the_gui_thread_blocked(qtbot) -> None:
    probe = bench_window.LagProbe(interval_ms=10)
    probe.start()
    qtbot.wait(60)
    QTimer.singleShot(0, lambda: time.sleep(0.12))  # a slot that blocks the GUI thread
    qtbot.wait(150)
    probe.stop()
    assert len(probe.lags_ms) >= 3
    assert max(probe.lags_ms) >= 100.0
    assert gui_bench.percentile(probe.lags_ms, 50) < 50.0


def test_trends_day_load_on_an_existing_day(tmp_path: Path) -> None:
    db = tmp_path / "day.db"
    day = generate_day(
        db,
        day=dt.date(2026, 12, 4),
        calendar=ShiftCalendar(timezone="Europe/Berlin"),
        hours=0.1,  # 3,600 parts: the same loading, a small day
    )
    figures = gui_bench.bench_trends_day(db, repeats=2)
    assert figures["trends_day_parts"] == day.rows == 3600
    assert figures["trends_day_load_s"] > 0 and figures["trends_day_series_load_s"] > 0
    assert len(figures["trends_day_load_runs_s"]) == 2
    surface, station_yield = figures["trends_day_points"]
    assert 0 < surface <= TRENDS_MAX_POINTS
    assert 0 < station_yield <= TRENDS_MAX_POINTS
    assert figures["trends_day_limits"] == [True, True]  # limits came with the charts
    assert len(figures["trends_day_violations"]) == 2
    assert db.is_file()  # a day given with --day-db is the user's: kept
    # the bench keeps its score blocks in a folder of its own, never beside the user's day
    assert figures["trends_day_load_no_keeper_s"] > 0 and figures["trends_day_keeper_s"] >= 0
    assert figures["trends_day_keeper_files"] == 0  # 3,600 parts close no 65,536-part block
    assert not results_cache(db).exists()


def test_headless_cli_points_to_the_gui_entry_point(capsys) -> None:
    assert headless_cli(["bench", "--gui"]) == 2
    assert "bench --gui needs the GUI entry point `lineside`" in capsys.readouterr().err


def test_bad_usage_is_refused(capsys) -> None:
    assert gui_bench.main(["--gui", "--seconds", "0"]) == 2
    assert "--seconds must be > 0" in capsys.readouterr().err
    assert gui_bench.main(["--gui", "--live-seconds", "-1"]) == 2
    assert "negative seconds" in capsys.readouterr().err
