"""`lineside bench --soak`: a few seconds of the real station, checked for the figures' shape."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import yaml
from support.recipes import demo_with_tools

from inspection.cli import main
from inspection.evaluation.soak import SoakSample, summarise


def test_a_short_soak_reports_memory_files_threads_and_rate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, lineside_home: Path
) -> None:
    # the demo's camera and code tool alone: the surface and label tools would first be taught
    recipe = tmp_path / "codes.yaml"
    recipe.write_text(yaml.safe_dump(demo_with_tools("codes")))
    hours = 6.0 / 3600.0
    rc = main(["bench", "--soak", str(hours), "--recipe", str(recipe), "--json"])
    data = json.loads(capsys.readouterr().out)

    assert data["soak_hours"] == pytest.approx(hours)
    assert 5.0 <= data["elapsed_s"] < 30.0
    assert not data["ended_early"]
    # the demo camera's 4 parts/s, give or take a busy machine
    assert 5 <= data["parts"] <= 6 * 4 + 4
    assert data["recorded"] == data["parts"]
    assert data["camera_rate_hz"] == {"cam1": 4.0}
    assert data["dropped"] >= 0 and isinstance(data["dropped_by_reason"], dict)
    rss, fds, threads = data["rss_mb"], data["open_files"], data["threads"]
    assert 20.0 < rss["start"] < 8000.0 and 20.0 < rss["end"] < 8000.0
    assert rss["growth_pct"] == pytest.approx(
        (rss["end"] - rss["start"]) / rss["start"] * 100, abs=0.05
    )
    assert fds["start"] > 3 and fds["end"] > 3
    assert threads["start"] > 1 and threads["end"] > 1
    rate = data["parts_per_s"]
    assert 0.5 < rate["first_half"] < 10.0 and 0.5 < rate["second_half"] < 10.0
    assert isinstance(data["goal_met"], bool)
    samples = data["samples"]
    assert len(samples) >= 5  # one a second
    assert [s["t_s"] for s in samples] == sorted(s["t_s"] for s in samples)
    assert [s["parts"] for s in samples] == sorted(s["parts"] for s in samples)
    assert set(samples[0]) == {"t_s", "rss_mb", "fds", "threads", "parts"}
    assert rc == (0 if data["goal_met"] else 1)
    # stored as normal, in LINESIDE_HOME
    with sqlite3.connect(lineside_home / "data" / "results.sqlite") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert tables


def test_growth_after_warm_up_misses_the_goal_and_a_blip_does_not() -> None:
    def run(rss: list[float], fds: list[int]) -> dict:
        samples = [
            SoakSample(float(t), r, f, 12, t * 4)
            for t, (r, f) in enumerate(zip(rss, fds, strict=True))
        ]
        return summarise(samples, hours=10 / 3600, warm_up_s=2.0)

    steady = run(
        [50, 90, 100, 100, 101, 100, 100, 100, 101, 100], [5, 9, 10, 10, 10, 11, 10, 10, 10, 10]
    )
    assert steady["goal_met"]  # warm-up growth and one open file at one instant are not leaks
    assert steady["rss_mb"]["start"] == 100 and steady["open_files"] == {"start": 10, "end": 10}
    assert steady["parts_per_s"]["drift_pct"] == 0.0

    leaking = run([50, 90, 100, 102, 104, 106, 108, 110, 112, 114], [5] * 10)
    assert not leaking["goal_met"] and leaking["rss_mb"]["growth_pct"] == pytest.approx(
        9.8, abs=0.1
    )

    files = run([100] * 10, [5, 10, 10, 10, 11, 12, 13, 14, 15, 16])
    assert not files["goal_met"] and files["open_files"] == {"start": 10, "end": 15}
