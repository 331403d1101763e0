"""`lineside bench --tune`'s two measurements, run small (speed itself is not asserted)."""

from __future__ import annotations

import inspect
from pathlib import Path

from inspection.cli import build_parser
from inspection.evaluation.tune_bench import (
    bench_tune,
    bench_update,
    bench_week_load,
    same_scores,
    synthetic_scores,
)
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
    assert figures["week_parts_per_s"] == 0.005
    assert min(figures["week_load_s"], figures["week_load_s_first"]) > 0
    assert figures["week_load_s_live"] > 0 and figures["week_load_s_no_keeper"] > 0
    assert figures["week_cache_exact"] is True
    # 3,024 parts in blocks of 65,536: none closed, the keeper had nothing to build
    assert figures["keeper_files"] == 0 and figures["keeper_s"] >= 0


def test_the_bench_week_is_at_the_stations_full_rate_unless_asked() -> None:
    assert inspect.signature(bench_tune).parameters["parts_per_s"].default == 10.0
    args = build_parser().parse_args(["bench", "--tune"])
    assert args.tune_parts_per_s == 10.0
    assert (
        build_parser().parse_args(["bench", "--tune", "--tune-parts-per-s", "1"]).tune_parts_per_s
        == 1.0
    )


def test_same_scores_tells_a_different_array() -> None:
    a = synthetic_scores(1000)
    assert same_scores(a, synthetic_scores(1000))
    assert not same_scores(a, synthetic_scores(1000, seed=1))
