"""`lineside bench`: how fast the pipeline inspects, and what it costs over the tools alone.

Frames are generated first (not timed). Each tool is then timed alone in a loop on those frames
(tools_raw_ms: median per call; the mean is used for the ratio), and the whole station is run at saturation with 1 and 2 workers. The overhead
ratio is (sum of raw tool ms per part) / (wall ms per part): near 1.0 with one worker means the
pipeline adds little; with two workers it can reach ~2 on two free cores.
"""

from __future__ import annotations

import dataclasses
import logging
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from inspection.evaluation.headless import teach_on_first_use
from inspection.paths import Paths, user_paths
from inspection.pipeline.priority import one_thread_per_computation
from inspection.pipeline.station import Station
from inspection.pipeline.teaching import tool_context
from inspection.recipe import Recipe, SyntheticSourceSettings
from inspection.sources.memory import MemorySource
from inspection.sources.synthetic import SyntheticLine
from inspection.tools.base import run_guarded
from inspection.tools.registry import build_tool
from inspection.types import Frame, Inspection, PartTruth, StatusUpdate

log = logging.getLogger(__name__)

PACED_SHARE = 0.8  # the paced latency run: parts at this share of the measured capacity
WARM_UP_PARTS = 5
PACED_PARTS = 150  # parts per paced latency run (about 30 s at 5 parts/s)


def _percentiles(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p95": float("nan"), "p99": float("nan")}
    a = np.asarray(values, dtype=np.float64)
    return {
        k: round(float(np.percentile(a, q)), 3) for k, q in (("p50", 50), ("p95", 95), ("p99", 99))
    }


def pregenerate(recipe: Recipe, parts: int) -> tuple[list[np.ndarray], list[PartTruth]]:
    """The first camera's simulated frames for ``parts`` parts (the recipe must use the simulator)."""
    src = recipe.cameras[0].source
    if not isinstance(src, SyntheticSourceSettings):
        raise ValueError("lineside bench needs a recipe whose first camera is the simulated line")
    line = SyntheticLine(src.model_copy(update={"mode": "triggered"}), camera=recipe.cameras[0].id)
    images, truths = [], []
    for i in range(parts):
        image, truth = line.render_part(i)
        images.append(image)
        truths.append(truth)
    return images, truths


def time_tools_alone(
    recipe: Recipe, images: Sequence[np.ndarray], camera: str, paths: Paths
) -> tuple[dict[str, float], dict[str, float]]:
    """Median and mean ms of each tool called alone, in a loop, on the same frames."""
    medians, means = {}, {}
    context = dataclasses.replace(tool_context(recipe, paths), threads=recipe.pipeline.tool_threads)
    for settings in recipe.tools:
        tool = build_tool(settings, recipe.camera_for(settings), context)
        try:
            times = []
            for i, image in enumerate(images):
                frame = Frame(camera=camera, seq=i, t_ns=time.monotonic_ns(), image=image)
                t0 = time.perf_counter_ns()
                run_guarded(tool, frame)
                times.append((time.perf_counter_ns() - t0) / 1e6)
        finally:
            tool.close()
        medians[settings.id] = round(statistics.median(times), 3)
        means[settings.id] = round(statistics.fmean(times), 3)
    return medians, means


def _own_records(paths: Paths, run: str) -> Paths:
    """``paths`` with a results database of its own for one run, the taught models shared: the
    runs show the same parts, and in one database every part after the first run would FAIL as a
    duplicate serial (a different path through the tools than the line's)."""
    own = dataclasses.replace(paths, data=paths.data.parent / f"data-{run}")
    own.data.mkdir(parents=True, exist_ok=True)
    paths.models.mkdir(parents=True, exist_ok=True)
    if not own.models.exists():
        own.models.symlink_to(paths.models, target_is_directory=True)
    return own


class _LineInMemory(MemorySource):
    """The simulated line's parts from memory, with the batch the line announces: the label
    tool's batch fields are checked as on the line (without a batch every part is ERROR, and
    the figures would be of parts the line never sees)."""

    def __init__(self, recipe: Recipe, images: Sequence[np.ndarray], **kwargs: Any) -> None:
        camera = recipe.cameras[0]
        super().__init__(images, camera=camera.id, **kwargs)
        src = camera.source
        assert isinstance(src, SyntheticSourceSettings)  # pregenerate checked it
        self._batch = SyntheticLine(src, camera=camera.id).batch_info()

    def batch_info(self) -> dict[str, str]:
        return dict(self._batch)


class _Latencies:
    def __init__(self) -> None:
        self.ms: list[float] = []
        self.last_s = 0.0
        self.verdicts: Counter[str] = Counter()

    def on_inspection(self, inspection: Inspection) -> None:
        t = inspection.timing
        self.ms.append((t.dispatched_ns - t.captured_ns) / 1e6)
        self.verdicts[inspection.verdict.value] += 1
        self.last_s = time.perf_counter()

    def on_status(self, update: StatusUpdate) -> None:
        pass


def run_saturated(
    recipe: Recipe,
    images: Sequence[np.ndarray],
    truths: Sequence[PartTruth],
    workers: int,
    paths: Paths,
) -> dict[str, Any]:
    """Inspect every frame as fast as the station can, results stored as in production."""
    r = recipe.model_copy(
        update={"pipeline": recipe.pipeline.model_copy(update={"workers": workers})}
    )
    lat = _Latencies()
    station = Station(
        r,
        paths=_own_records(paths, f"saturated-{workers}"),
        sources=[_LineInMemory(r, images, truths=truths)],
    )
    station.add_listener(lat)
    t0 = time.perf_counter()
    station.start()
    finished = station.wait_finished(600.0)
    # up to the last part's dispatch: the finish check's polling interval is not the pipeline's
    wall = (lat.last_s or time.perf_counter()) - t0
    station.stop(timeout_s=10.0)
    n = len(lat.ms)
    return {
        "workers": workers,
        "parts": n,
        "finished": finished,
        "wall_s": round(wall, 3),
        "parts_per_s": round(n / wall, 2) if wall > 0 else None,
        "wall_ms_per_part": round(1000 * wall / n, 3) if n else None,
        "latency_ms": _percentiles(lat.ms),
        "dropped": station.counters().dropped_total,
        "verdicts": dict(lat.verdicts),
    }


def run_paced(
    recipe: Recipe,
    images: Sequence[np.ndarray],
    truths: Sequence[PartTruth],
    workers: int,
    rate_hz: float,
    paths: Paths,
    *,
    side_by_side: bool = True,
) -> dict[str, Any]:
    """Latency as the line sees it: parts come at ``rate_hz`` (below capacity, so the queue
    stays short) and each part's time from capture to the line is measured."""
    pipeline = recipe.pipeline.model_copy(
        update={"workers": workers, "tools_side_by_side": side_by_side}
    )
    r = recipe.model_copy(update={"pipeline": pipeline})
    lat = _Latencies()
    source = _LineInMemory(r, images, truths=truths, rate_hz=rate_hz)
    run = f"paced-{rate_hz:g}-{'together' if side_by_side else 'one-by-one'}"
    station = Station(r, paths=_own_records(paths, run), sources=[source])
    station.add_listener(lat)
    station.start()
    finished = station.wait_finished(60.0 + 3.0 * len(images) / rate_hz)
    station.stop(timeout_s=10.0)
    ms = lat.ms[WARM_UP_PARTS:]  # the first parts pay for the sessions' first runs
    return {
        "rate": round(rate_hz, 2),
        **_percentiles(ms),
        "parts": len(ms),
        "finished": finished,
        "tools_side_by_side": side_by_side,
        "verdicts": dict(lat.verdicts),
    }


def bench(
    recipe: Recipe,
    parts: int = 300,
    workers: Sequence[int] = (1, 2),
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    say = progress or (lambda _m: None)
    say(f"generating {parts} simulated parts (not timed)")
    images, truths = pregenerate(recipe, parts)
    camera = recipe.cameras[0].id
    runs = []
    with tempfile.TemporaryDirectory(prefix="lineside-bench-") as tmp:
        paths = user_paths({"LINESIDE_HOME": tmp}).ensure()
        taught = teach_on_first_use(recipe, paths)
        if taught:
            say(f"taught {', '.join(taught)} on good simulated parts (not timed)")
        say("timing each tool alone")
        one_thread_per_computation()  # as in a running station, so the two compare
        raw, raw_mean = time_tools_alone(recipe, images, camera, paths)
        raw_per_part = sum(raw_mean.values())
        for w in workers:
            say(f"running the station with {w} worker(s)")
            run = run_saturated(recipe, images, truths, w, paths)
            per_part = run["wall_ms_per_part"]
            run["overhead_ratio"] = round(raw_per_part / per_part, 3) if per_part else None
            runs.append(run)
        best = max(runs, key=lambda r: r["parts_per_s"] or 0.0)
        paced: dict[str, Any] = {}
        capacity = best["parts_per_s"] or 0.0
        line_rate = _line_rate(recipe)
        for name, rate in (("paced", PACED_SHARE * capacity), ("at_line_rate", line_rate)):
            if not rate or rate <= 0:
                continue
            for together in (True, False):
                say(
                    f"latency at {rate:.2f} parts/s, tools "
                    f"{'side by side' if together else 'one after another'}"
                )
                n = min(len(images), PACED_PARTS)
                run = run_paced(
                    recipe,
                    images[:n],
                    truths[:n],
                    best["workers"],
                    rate,
                    paths,
                    side_by_side=together,
                )
                paced[f"{name}{'' if together else '_one_by_one'}"] = run
    return {
        "recipe": f"{recipe.name} v{recipe.version}",
        "parts": parts,
        "frame": list(images[0].shape) if images else [],
        "tools_raw_ms": raw,
        "tools_raw_mean_ms": raw_mean,
        "tools_raw_ms_per_part": round(raw_per_part, 3),
        "parts_per_s": best["parts_per_s"],
        "overhead_ratio": best["overhead_ratio"],
        "latency_ms": best["latency_ms"],
        "workers": best["workers"],
        "latency_ms_paced": _latency_fields(paced.get("paced")),
        "latency_ms_at_line_rate": _latency_fields(paced.get("at_line_rate")),
        "latency_runs": paced,
        "runs": runs,
    }


def _latency_fields(run: dict[str, Any] | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {k: run[k] for k in ("rate", "p50", "p95", "p99")}


def _line_rate(recipe: Recipe) -> float | None:
    """The recipe's simulated line rate (parts/s), None when it runs unpaced or is no simulator."""
    src = recipe.cameras[0].source
    if isinstance(src, SyntheticSourceSettings) and src.rate_hz > 0:
        return float(src.rate_hz)
    return None
