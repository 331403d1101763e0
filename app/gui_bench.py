"""`lineside bench --gui`: the operator screen under a full-rate line, and a whole day of trends.

The speed goals of the trends work (issue 11), measured, not asserted, while the station inspects
at its full rate with the operator screen and a live trend open:
- the GUI thread is never blocked > 50 ms: a single-shot QTimer re-armed every ``PROBE_MS``
  records how late each tick came (p99 and max over the phases with trends; the phases without
  are reported beside them, to see what trends add);
- the live view keeps ≥ 25 frames/s: distinct frames ``LiveView`` put on screen per second, on a
  free-running camera (the conveyor recipe's video camera at ``LIVE_CAMERA_HZ``, trends on),
  with the frames the camera delivered beside it. The demo's camera is triggered, a frame per
  part, so it could never show 25; its rate is reported as ``live_view_fps_triggered``;
- inspection slows by ≤ 5 % against running with no trends: parts/s of the unpaced demo in one
  main window, operator screen in front, with trends (the operator's trend strip fed and the
  Trends page Live on its last 15 minutes of ``surface.score`` and ``station.yield``) and
  without (no strip, page not Live), in ABBA order so a machine that gets busier or quieter
  during the run favours neither side. Signed: ``1 - trends / no_trends``. The same demo with
  no window at all is timed too (``parts_per_s_no_window``), once.
And ``trends_day_load_s``: a generated 864,000-part day loaded as the Trends page loads it
(``load_charts``: points, limits, rules and part ids of both series), median of 3; the plain
series load is reported beside it.

The demo recipe paces its simulated camera at 4 parts/s to leave a core for the screen; here it is
unpaced (``rate_hz: 0``: a frame whenever the pipeline takes one), so the pipeline is the
bottleneck in every phase and the slowdown means something. Everything runs under a temporary
LINESIDE_HOME; the tools are taught there once, before any timing, and every phase uses that model.
The phases themselves are driven by app/bench_window.py.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from inspection.evaluation.trends_bench import bench_trends_day
from inspection.paths import Paths, demo_recipe, resources_dir, user_paths
from inspection.recipe import Recipe, SyntheticSourceSettings

if TYPE_CHECKING:
    from app.bench_window import Phase

log = logging.getLogger(__name__)

DEFAULT_SECONDS = 120.0
DEFAULT_LIVE_SECONDS = 20.0
LIVE_CAMERA_HZ = 30.0
LIVE_SETTLE_FRAMES = 10

Say = Callable[[str], None]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) of ``values``; NaN when there are none."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else math.nan


def _round(x: float, digits: int = 3) -> float | None:
    return round(x, digits) if math.isfinite(x) else None


def unpaced(recipe: Recipe) -> Recipe:
    """The recipe with its simulated cameras unpaced: a frame whenever the pipeline takes one."""
    from inspection.evaluation.headless import limit_parts

    return limit_parts(recipe, None, realtime=False)


@contextmanager
def lineside_home(folder: Path) -> Iterator[Paths]:
    """LINESIDE_HOME pointed at ``folder`` while inside (whatever reads ``user_paths()`` too)."""
    old = os.environ.get("LINESIDE_HOME")
    os.environ["LINESIDE_HOME"] = str(folder)
    try:
        yield user_paths({"LINESIDE_HOME": str(folder)}).ensure()
    finally:
        if old is None:
            os.environ.pop("LINESIDE_HOME", None)
        else:
            os.environ["LINESIDE_HOME"] = old


def free_running(recipe: Recipe, rate_hz: float) -> Recipe:
    """The recipe with its simulated cameras filming at ``rate_hz`` whatever the pipeline takes."""
    cams = []
    for cam in recipe.cameras:
        if isinstance(cam.source, SyntheticSourceSettings):
            source = cam.source.model_copy(update={"rate_hz": rate_hz})
            cam = cam.model_copy(update={"source": source})
        cams.append(cam)
    return recipe.model_copy(update={"cameras": cams})


# ---- the Qt side (imported only once the platform is chosen) ------------------------------------


def _qt_app() -> Any:
    from app.launch import missing_display

    if missing_display(os.environ) is not None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # measuring needs no screen
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from app.palette import apply_theme

    pg.setConfigOptions(imageAxisOrder="row-major")
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        apply_theme(app, resources_dir() / "style" / "operator.qss")
    return app


def phase_order(rounds: int) -> list[bool]:
    """ABBA…: True = with trends. Each round runs both, alternating which goes first."""
    order: list[bool] = []
    for i in range(rounds):
        order += [False, True] if i % 2 == 0 else [True, False]
    return order


def _rate(phases: Sequence[Phase], what: Callable[[Phase], int]) -> float:
    seconds = sum(p.seconds for p in phases)
    return sum(what(p) for p in phases) / seconds if seconds > 0 else math.nan


def _parts(p: Phase) -> int:
    return p.parts


def gui_under_load(
    phases: Sequence[Phase],
    *,
    live_view_timer_ms: int | None,
    probe_interval_ms: int,
    result_hold_s: float,
) -> dict[str, Any]:
    """The figures of issue 11's "GUI under load" from the timed phases (``result_hold_s``:
    how long the live view holds a part's frame after its result)."""
    trends = [p for p in phases if p.kind == "trends"]
    bare = [p for p in phases if p.kind == "no_trends"]
    live = [p for p in phases if p.kind == "live_view"]
    alone = [p for p in phases if p.kind == "no_window"]
    rate_trends, rate_bare, rate_alone = (
        _rate(trends, _parts),
        _rate(bare, _parts),
        _rate(alone, _parts),
    )
    lags = [lag for p in trends for lag in p.lags_ms]
    lags_bare = [lag for p in bare for lag in p.lags_ms]
    lags_live = [lag for p in live for lag in p.lags_ms]

    live_s = sum(p.seconds for p in live)
    # after each part's result the live view holds that part's frame for RESULT_HOLD_S (its
    # overlays must sit on it): the rate between those holds, estimated as if they never overlap
    held_s = sum(p.parts for p in live) * result_hold_s
    shown_between = (
        sum(p.frames_shown for p in live) / (live_s - held_s) if live_s > held_s else math.nan
    )

    def slowdown(reference: float) -> float | None:
        return _round(1.0 - rate_trends / reference, 4) if reference > 0 else None

    return {
        "gui_stall_ms_p99": _round(percentile(lags, 99)),
        "live_view_fps": _round(_rate(live, lambda p: p.frames_shown), 2),
        "inspection_slowdown": slowdown(rate_bare),
        "camera_fps": _round(_rate(live, lambda p: p.frames_in), 2),
        "live_view_timer_ms": live_view_timer_ms,
        "live_view_seconds": round(live_s, 2),
        "live_view_result_hold_s": result_hold_s,
        "live_view_fps_between_results": _round(shown_between, 2),
        "live_view_parts": sum(p.parts for p in live),
        "gui_stall_ms_p99_live_view": _round(percentile(lags_live, 99)),
        "parts_per_s_trends": _round(rate_trends),
        "parts_per_s_no_trends": _round(rate_bare),
        "parts_trends": sum(p.parts for p in trends),
        "parts_no_trends": sum(p.parts for p in bare),
        "seconds_trends": round(sum(p.seconds for p in trends), 2),
        "seconds_no_trends": round(sum(p.seconds for p in bare), 2),
        "trends_page_loads": sum(p.trends_loads for p in trends),
        # the live view on the demo's triggered camera: a frame per part, not a video rate
        "live_view_fps_triggered": _round(_rate(trends, lambda p: p.frames_shown), 2),
        "parts_per_s_no_window": _round(rate_alone),
        "slowdown_vs_no_window": slowdown(rate_alone) if alone else None,
        "gui_stall_ms_p50": _round(percentile(lags, 50)),
        "gui_stall_ms_max": _round(max(lags) if lags else math.nan),
        "gui_stalls_over_50ms": sum(1 for lag in lags if lag > 50.0),
        "probe_ticks": len(lags),
        "gui_stall_ms_p99_no_trends": _round(percentile(lags_bare, 99)),
        "gui_stall_ms_max_no_trends": _round(max(lags_bare) if lags_bare else math.nan),
        "gui_stalls_over_50ms_no_trends": sum(1 for lag in lags_bare if lag > 50.0),
        "probe_interval_ms": probe_interval_ms,
        "phases": [
            {
                "phase": p.kind,
                "seconds": round(p.seconds, 2),
                "parts": p.parts,
                "frames_in": p.frames_in,
                "frames_shown": p.frames_shown,
                "trends_loads": p.trends_loads,
            }
            for p in phases
        ],
    }


def bench_gui(
    seconds: float,
    rounds: int = 2,
    *,
    live_seconds: float = DEFAULT_LIVE_SECONDS,
    no_window_seconds: float | None = None,
    say: Say = lambda _m: None,
) -> dict[str, Any]:
    """Teach once; the ABBA phases (``seconds`` with trends in all, as many without) on the
    unpaced demo in one window; ``live_seconds`` of the free-running conveyor in that window;
    then ``no_window_seconds`` (default: one phase's length; 0: none) of the demo with no window."""
    from app.bench_window import (
        PROBE_MS,
        SETTLE_PARTS,
        BenchWindow,
        frames_in,
        run_headless,
        timer_interval_ms,
    )
    from app.live_view import RESULT_HOLD_S
    from inspection.evaluation.headless import teach_on_first_use
    from inspection.recipe import load_recipe
    from inspection.recipe.document import dump_recipe

    _qt_app()
    phase_s = seconds / rounds
    alone_s = phase_s if no_window_seconds is None else no_window_seconds
    demo = unpaced(load_recipe(demo_recipe()))
    conveyor = free_running(
        load_recipe(resources_dir() / "recipes" / "conveyor.yaml"), LIVE_CAMERA_HZ
    )
    phases: list[Phase] = []
    with (
        tempfile.TemporaryDirectory(prefix="lineside-bench-gui-") as tmp,
        lineside_home(Path(tmp) / "home") as paths,
    ):
        demo_file = Path(tmp) / "demo-unpaced.yaml"
        demo_file.write_text(dump_recipe(demo), encoding="utf-8")
        conveyor_file = Path(tmp) / "conveyor-free-running.yaml"
        conveyor_file.write_text(dump_recipe(conveyor), encoding="utf-8")
        say("teaching the demo's tools on good simulated parts (not timed)")
        taught = teach_on_first_use(demo, paths)
        say(f"taught: {', '.join(taught) or 'nothing to teach'}")
        with BenchWindow(paths) as bench:
            bench.open(demo_file, lambda s: s.counters().parts >= SETTLE_PARTS)
            for trends in phase_order(rounds):
                say(f"the demo {'with' if trends else 'without'} trends: {phase_s:.0f} s")
                bench.set_trends(trends)
                phases.append(bench.timed("trends" if trends else "no_trends", phase_s))
            timer_ms = timer_interval_ms(bench.window.screen_widget.live_view)
            if live_seconds > 0:
                say(
                    f"the conveyor's camera free-running at {LIVE_CAMERA_HZ:g} Hz: {live_seconds:.0f} s"
                )
                bench.open(conveyor_file, lambda s: frames_in(s) >= LIVE_SETTLE_FRAMES)
                bench.set_trends(True)
                phases.append(bench.timed("live_view", live_seconds))
        if alone_s > 0:
            say(f"the demo with no window at all: {alone_s:.0f} s")
            phases.append(run_headless(demo, paths, alone_s))
    return gui_under_load(
        phases,
        live_view_timer_ms=timer_ms,
        probe_interval_ms=PROBE_MS,
        result_hold_s=RESULT_HOLD_S,
    )


# ---- the command ----------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> argparse.Namespace | int:
    parser = argparse.ArgumentParser(
        prog="lineside bench --gui",
        description="The operator screen under a full-rate line, and a whole day of trends.",
    )
    parser.add_argument("--gui", action="store_true", help="(the switch that leads here)")
    parser.add_argument(
        "--seconds",
        type=float,
        default=DEFAULT_SECONDS,
        help=f"seconds with trends, and as many without (default {DEFAULT_SECONDS:g})",
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="ABBA rounds the seconds are split into (default 2)"
    )
    parser.add_argument(
        "--live-seconds",
        type=float,
        default=DEFAULT_LIVE_SECONDS,
        help="seconds of the free-running camera for the live view's frame rate "
        f"(default {DEFAULT_LIVE_SECONDS:g}; 0: none)",
    )
    parser.add_argument(
        "--no-window-seconds",
        type=float,
        help="seconds of the demo with no window at all (default: one phase; 0: none)",
    )
    parser.add_argument("--day-db", type=Path, help="an existing day's results DB to load")
    parser.add_argument(
        "--no-trends-day", action="store_true", help="skip the whole-day trends load"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("-v", "--verbose", action="store_true", help="log the station's work")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if not args.seconds > 0 or args.rounds < 1:
        sys.stderr.write("lineside bench --gui: --seconds must be > 0 and --rounds >= 1\n")
        return 2
    if not args.live_seconds >= 0 or not (args.no_window_seconds or 0.0) >= 0:
        sys.stderr.write("lineside bench --gui: a phase cannot last negative seconds\n")
        return 2
    if args.day_db is not None and not args.day_db.is_file():
        sys.stderr.write(f"lineside bench --gui: no database {args.day_db}\n")
        return 2
    return args


def summary(figures: dict[str, Any]) -> str:
    """A few lines for a person, with the goals beside the figures."""
    g = figures["gui_under_load"]
    lines = [
        f"GUI stall p99 {g['gui_stall_ms_p99']} ms with trends (max {g['gui_stall_ms_max']} ms; "
        f"goal ≤ 50), {g['gui_stall_ms_p99_no_trends']} ms without",
        f"live view {g['live_view_fps']} frames/s (camera {g['camera_fps']}, "
        f"timer {g['live_view_timer_ms']} ms; goal ≥ 25)",
        f"inspection {g['parts_per_s_trends']} parts/s with trends, "
        f"{g['parts_per_s_no_trends']} without: slowdown {g['inspection_slowdown']} "
        f"(goal ≤ 0.05); {g['parts_per_s_no_window']} with no window",
    ]
    day = figures.get("trends_day_load_s")
    if day is not None:
        lines.append(
            f"a day of {figures['trends_day_parts']} parts loads in {day} s (goal ≤ 2; "
            f"{' + '.join(figures['trends_day_series'])}; plain series "
            f"{figures['trends_day_series_load_s']} s)"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str]) -> int:
    """``lineside bench --gui [--seconds S] [--rounds N] [--live-seconds S]
    [--no-window-seconds S] [--no-trends-day] [--day-db PATH] [--json]``."""
    args = parse_args(argv)
    if isinstance(args, int):
        return args
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s",
        stream=sys.stderr,
    )

    def say(message: str) -> None:
        sys.stderr.write(f"bench --gui: {message}\n")

    gui = bench_gui(
        args.seconds,
        args.rounds,
        live_seconds=args.live_seconds,
        no_window_seconds=args.no_window_seconds,
        say=say,
    )
    figures: dict[str, Any] = {"gui_under_load": gui}
    if args.no_trends_day:
        figures["trends_day_load_s"] = None
    else:
        figures.update(bench_trends_day(args.day_db, say=say))
    sys.stderr.write(summary(figures))
    if args.json:
        sys.stdout.write(json.dumps(figures) + "\n")
    else:
        sys.stdout.write(json.dumps(figures, indent=2) + "\n")
    return 0
