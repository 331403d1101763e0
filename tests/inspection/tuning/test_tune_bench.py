"""`lineside bench --tune`'s two measurements, run small (speed itself is not asserted)."""

from __future__ import annotations

from pathlib import Path

from inspection.evaluation.tune_bench import bench_update, bench_week_load, synthetic_scores
from inspection.tuning.whatif import ThresholdView


def test_the_synthetic_scores_look_like_a_line() -> None:
    view = ThresholdView(synthetic_scores(20_000))
    c = view.counts_at(0.5)
    assert 0.9 < c.yield_ < 0.99 and c.flips == 0
    assert len(view.good) > 100 and len(view.bad) > 0


def test_bench_update_times_moves() -> None:
    figures = bench_update(n=20_000, moves=20)
    assert figures["update_ms_p99"] > 0 and figures["view_build_s"] > 0


def test_bench_week_load_reads_seven_days(tmp_path: Path) -> None:
    figures = bench_week_load(tmp_path, parts_per_s=0.005)  # 432 parts a day
    assert figures["week_parts"] == 7 * 432
    assert figures["week_load_s"] > 0
