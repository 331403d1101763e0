"""``lineside bench --tune``: how fast threshold tuning answers.

* ``update_ms_p99``: one "threshold moved" over 1,000,000 scores: every number the Tuning page
  shows per move (false rejects, escapes, predicted yield, flips both ways, the change against
  the threshold in force), the 99th percentile over 1000 moves to random thresholds.
* ``week_load_s``: loading one tool's scores for a week from a results database written by
  ``generate_day`` (seven days at the station's full rate, 10 parts a second: 6,048,000 parts;
  ``week_parts`` says how many were loaded, ``week_load_s_per_million`` scales it to other
  rates), as the Tuning page does it when it opens a week again: the score columns of the closed
  part blocks come from their cache files (``inspection/tuning/scores_cache.py``).
  ``week_load_s_first`` is the first load of the week on a station: the station's block keeper
  (``inspection/tuning/block_keeper.py``) built the closed blocks' files as the days were
  recorded, as it does while the line runs, so this load reads files and the open end.
  ``block_build_s`` is what the keeper spent per file (one tool's block of 65,536 parts, at
  idle priority on a station), ``keeper_s`` its total for the week. ``week_load_s_no_keeper`` is
  the first load where no keeper ran (a database brought from elsewhere): it reads every row and
  writes the files itself. ``week_load_s_live`` reads every row without the cache;
  ``week_cache_exact`` says the cached load gave the live load's arrays exactly. The database is
  read right after it was written, so it is mostly in the OS cache. It and its caches go to the
  temp folder and are deleted afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from inspection.evaluation.record_day import generate_day
from inspection.recipe.station import ShiftCalendar
from inspection.tuning.block_keeper import ScoreBlockKeeper
from inspection.tuning.scores import TOOL_FAIL, TOOL_PASS, ToolScores, load_tool_scores
from inspection.tuning.scores_cache import ScoresCache
from inspection.tuning.whatif import ThresholdView, change

log = logging.getLogger(__name__)

SCORES = 1_000_000
MOVES = 1000
WEEK_FIRST_DAY = dt.date(2026, 12, 7)  # a Monday
WEEK_PARTS_PER_S = 10.0  # the station's full rate, as in the report and trends benches


def synthetic_scores(n: int = SCORES, seed: int = 0) -> ToolScores:
    """``n`` parts of a defect tool at threshold 0.5: ~3 % rejected, ~2 % labelled."""
    rng = np.random.default_rng(seed)
    score = rng.gamma(2.0, 0.08, n)
    bad = rng.random(n) < 0.02
    score[bad] += rng.uniform(0.2, 0.8, bad.sum())
    failed = score >= 0.5
    label = np.zeros(n, dtype=np.int8)
    picked = rng.random(n) < 0.02
    label[picked] = np.where(bad[picked], 2, 1)
    others_pass = rng.random(n) > 0.01
    return ToolScores(
        tool_id="surface",
        tool_type="anomaly",
        start=0.0,
        end=float(n),
        part_id=np.arange(1, n + 1, dtype=np.int64),
        score=score,
        threshold=np.full(n, 0.5),
        tool_verdict=np.where(failed, TOOL_FAIL, TOOL_PASS).astype(np.int8),
        others_pass=others_pass,
        part_passed=~failed & others_pass,
        label=label,
        threshold_in_force=0.5,
    )


def bench_update(n: int = SCORES, moves: int = MOVES) -> dict[str, float]:
    """Time building the view once and ``moves`` threshold moves on it (ms)."""
    scores = synthetic_scores(n)
    t0 = time.perf_counter()
    view = ThresholdView(scores)
    build_s = time.perf_counter() - t0
    current = view.counts_at(0.5)
    rng = np.random.default_rng(1)
    targets = rng.uniform(float(np.nanmin(scores.score)), float(np.nanmax(scores.score)), moves)
    took = np.empty(moves)
    for k, t in enumerate(targets):
        t0 = time.perf_counter()
        counts = view.counts_at(float(t))
        change(current, counts)
        _ = counts.flips
        took[k] = time.perf_counter() - t0
    return {
        "update_ms_p99": float(np.percentile(took, 99) * 1e3),
        "update_ms_median": float(np.median(took) * 1e3),
        "view_build_s": build_s,
    }


def bench_week_load(folder: Path, parts_per_s: float) -> dict[str, Any]:
    """Write seven days into ``folder``, the block keeper keeping up after each, and time
    loading the surface tool's scores of them: first, again, with no keeper, and live."""
    db = folder / "week.sqlite"
    calendar = ShiftCalendar(timezone="Europe/Berlin")
    keeper = ScoreBlockKeeper(db, cache=ScoresCache.beside(db))
    keeper_s = 0.0
    first = last = None
    for d in range(7):
        day = WEEK_FIRST_DAY + dt.timedelta(days=d)
        figures = generate_day(db, day=day, calendar=calendar, parts_per_s=parts_per_s)
        log.info("bench tune: %s written (%d parts, %.1f s)", day, figures.rows, figures.seconds)
        t0 = time.perf_counter()
        keeper.keep_up()  # the blocks this day closed, as the station's keeper builds them
        keeper_s += time.perf_counter() - t0
        first = first or figures
        last = figures
    assert first is not None and last is not None
    start, end = first.start, last.end
    t0 = time.perf_counter()
    load_tool_scores(db, "surface", start, end)  # the first load on the station
    first_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    scores = load_tool_scores(db, "surface", start, end)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    no_keeper = ScoresCache(folder / "cache-of-a-station-without-keeper")
    load_tool_scores(db, "surface", start, end, cache=no_keeper)
    no_keeper_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    live = load_tool_scores(db, "surface", start, end, cache=False)
    live_s = time.perf_counter() - t0
    return {
        "week_load_s": load_s,
        "week_load_s_first": first_s,
        "week_load_s_no_keeper": no_keeper_s,
        "week_load_s_live": live_s,
        "keeper_s": keeper_s,
        "block_build_s": keeper_s / keeper.files_built if keeper.files_built else None,
        "keeper_files": keeper.files_built,
        "week_parts": scores.n,
        "week_parts_per_s": parts_per_s,
        "week_load_s_per_million": load_s / scores.n * 1e6 if scores.n else float("nan"),
        "week_cache_exact": same_scores(scores, live),
    }


def same_scores(a: ToolScores, b: ToolScores) -> bool:
    """Every array of ``a`` equals ``b``'s (NaN equal to NaN), dtypes included."""
    return all(
        x.dtype == y.dtype and np.array_equal(x, y, equal_nan=x.dtype.kind == "f")
        for x, y in (
            (getattr(a, name), getattr(b, name))
            for name in (
                "part_id",
                "score",
                "threshold",
                "tool_verdict",
                "others_pass",
                "part_passed",
                "label",
            )
        )
    ) and (a.tool_type, a.threshold_in_force) == (b.tool_type, b.threshold_in_force)


def bench_tune(parts_per_s: float = WEEK_PARTS_PER_S) -> dict[str, Any]:
    """Both figures; the scratch database is removed afterwards."""
    update = bench_update()
    with tempfile.TemporaryDirectory(prefix="lineside-bench-tune-") as tmp:
        week = bench_week_load(Path(tmp), parts_per_s)
    return {
        "scores": SCORES,
        "update_ms_p99": update["update_ms_p99"],
        "week_load_s": week["week_load_s"],
        "week_load_s_first": week["week_load_s_first"],
        "week_load_s_no_keeper": week["week_load_s_no_keeper"],
        "week_load_s_live": week["week_load_s_live"],
        "keeper_s": week["keeper_s"],
        "block_build_s": week["block_build_s"],
        "keeper_files": week["keeper_files"],
        "week_parts": week["week_parts"],
        "week_parts_per_s": week["week_parts_per_s"],
        "week_load_s_per_million": week["week_load_s_per_million"],
        "week_cache_exact": week["week_cache_exact"],
        "update_ms_median": update["update_ms_median"],
        "view_build_s": update["view_build_s"],
    }


def cmd_bench_tune(as_json: bool, *, parts_per_s: float) -> int:
    """``lineside bench --tune``; exit 2 for a rate that is not > 0."""
    if not parts_per_s > 0:
        sys.stderr.write("lineside bench: --tune-parts-per-s must be > 0\n")
        return 2
    figures = bench_tune(parts_per_s)
    if as_json:
        sys.stdout.write(json.dumps(figures) + "\n")
    else:
        each = figures["block_build_s"]
        keeper_each = "no block closed" if each is None else f"{each:.3f} s"
        sys.stdout.write(
            f"threshold move over {figures['scores']:,} scores: p99 "
            f"{figures['update_ms_p99']:.3f} ms (median {figures['update_ms_median']:.3f} ms; "
            f"sorting once: {figures['view_build_s']:.2f} s)\n"
            f"a week of one tool's scores ({figures['week_parts']:,} parts at "
            f"{parts_per_s:g}/s): loaded in {figures['week_load_s']:.2f} s "
            f"({figures['week_load_s_per_million']:.2f} s per million parts; the first load, "
            f"from the files the block keeper built as the days closed: "
            f"{figures['week_load_s_first']:.2f} s (keeper: {keeper_each} a block file, "
            f"{figures['keeper_files']} files); the first load with no keeper, "
            f"building the cache: {figures['week_load_s_no_keeper']:.2f} s; every row from "
            f"the database: {figures['week_load_s_live']:.2f} s; cached load exact: "
            f"{'yes' if figures['week_cache_exact'] else 'NO'})\n"
        )
    sys.stdout.flush()
    return 0
