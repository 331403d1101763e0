"""`lineside bench --soak HOURS`: run the station for hours and watch what it holds on to.

The real Station runs the recipe headless at its cameras' own rate (the demo's simulated line: 4
parts/s), recording results as a line would. Every few seconds the process's resident memory, open
files and threads are sampled, so a slow leak shows as a slope. The first 5 % of the time (at most
2 minutes) is warm-up: models load, caches and the results database fill, and none of that is
growth. The goal: memory grows less than 5 % after warm-up, and open files and threads do not grow.
Throughput is compared between the two halves of the time after warm-up (drift_pct: a slowdown
that creeps in over hours shows as a negative drift).

Figures come from /proc (Linux); where it is missing they are None and the goal is not judged.
"""

from __future__ import annotations

import logging
import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from inspection.evaluation.headless import limit_parts, teach_on_first_use
from inspection.integrations.local_control import LocalTriggerSocket
from inspection.paths import Paths
from inspection.pipeline.station import Station
from inspection.recipe import Recipe, SyntheticSourceSettings
from inspection.types import Inspection, StatusUpdate

log = logging.getLogger(__name__)

WARM_UP_SHARE = 0.05
WARM_UP_MAX_S = 120.0
RSS_GOAL_PCT = 5.0
# start and end are medians of this many samples, so one file the archive holds open for a
# moment at a sampling instant is not taken for a leak
SETTLE_SAMPLES = 3

_PROC = Path("/proc/self")


@dataclass(frozen=True, slots=True)
class SoakSample:
    t_s: float  # seconds since the station started
    rss_mb: float | None
    fds: int | None
    threads: int | None
    parts: int  # parts inspected so far


def _rss_and_threads() -> tuple[float | None, int | None]:
    try:
        status = (_PROC / "status").read_text()
    except OSError:
        return None, None
    rss: float | None = None
    threads: int | None = None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024.0  # kB
        elif line.startswith("Threads:"):
            threads = int(line.split()[1])  # native threads too (onnxruntime's pools)
    return rss, threads


def _open_files() -> int | None:
    try:
        return len(os.listdir(_PROC / "fd"))
    except OSError:
        return None


def take_sample(t_s: float, parts: int) -> SoakSample:
    rss, threads = _rss_and_threads()
    return SoakSample(
        round(t_s, 2), None if rss is None else round(rss, 1), _open_files(), threads, parts
    )


class _PartCounter:
    """Counts inspected parts (any verdict) from the station's dispatcher thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parts = 0
        self.alarms: list[str] = []

    @property
    def parts(self) -> int:
        with self._lock:
            return self._parts

    def on_inspection(self, inspection: Inspection) -> None:
        with self._lock:
            self._parts += 1

    def on_status(self, update: StatusUpdate) -> None:
        if update.level == "alarm":
            self.alarms.append(f"{update.source}: {update.message}")


def sample_interval(duration_s: float) -> float:
    """About 120 samples over the run, between one a second and one a minute."""
    return min(60.0, max(1.0, duration_s / 120.0))


def _median(values: list[Any]) -> Any:
    known = [v for v in values if v is not None]
    if not known:
        return None
    m = statistics.median(known)
    return round(m, 1) if isinstance(m, float) else m


def _rate(samples: list[SoakSample], t0: float, t1: float) -> float | None:
    """Parts per second between the samples nearest ``t0`` and ``t1``."""
    a = min(samples, key=lambda s: abs(s.t_s - t0))
    b = min(samples, key=lambda s: abs(s.t_s - t1))
    if b.t_s <= a.t_s:
        return None
    return round((b.parts - a.parts) / (b.t_s - a.t_s), 3)


def summarise(samples: list[SoakSample], *, hours: float, warm_up_s: float) -> dict[str, Any]:
    """The figures `lineside bench --soak --json` prints, from the samples of one run."""
    after = [s for s in samples if s.t_s >= warm_up_s] or samples[-1:]
    head, tail = after[:SETTLE_SAMPLES], after[-SETTLE_SAMPLES:]
    rss0, rss1 = _median([s.rss_mb for s in head]), _median([s.rss_mb for s in tail])
    fd0, fd1 = _median([s.fds for s in head]), _median([s.fds for s in tail])
    th0, th1 = _median([s.threads for s in head]), _median([s.threads for s in tail])
    growth = round((rss1 - rss0) / rss0 * 100.0, 2) if rss0 and rss1 is not None else None
    # throughput in the two halves of the time after warm-up (model loading is not a slowdown)
    end_t = samples[-1].t_s
    mid = (after[0].t_s + end_t) / 2
    first, second = _rate(samples, after[0].t_s, mid), _rate(samples, mid, end_t)
    drift = round((second - first) / first * 100.0, 2) if first and second is not None else None
    known = None not in (growth, fd0, fd1, th0, th1)
    goal_met = known and growth is not None and growth < RSS_GOAL_PCT and fd1 <= fd0 and th1 <= th0
    return {
        "soak_hours": hours,
        "elapsed_s": round(end_t, 1),
        "parts": samples[-1].parts,
        "warm_up_s": round(warm_up_s, 1),
        "rss_mb": {"start": rss0, "end": rss1, "growth_pct": growth},
        "open_files": {"start": fd0, "end": fd1},
        "threads": {"start": th0, "end": th1},
        "parts_per_s": {"first_half": first, "second_half": second, "drift_pct": drift},
        "goal": f"RSS growth < {RSS_GOAL_PCT:g} % after warm-up, no open-file or thread growth",
        "goal_met": bool(goal_met),
        "samples": [asdict(s) for s in samples],
    }


def soak(
    recipe: Recipe,
    hours: float,
    paths: Paths,
    *,
    sample_every_s: float | None = None,
    progress: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """Run ``recipe`` for ``hours`` at its cameras' own rate, recording results under ``paths``,
    and return the summary (see ``summarise``) with the alarms the station raised."""
    if not hours > 0:
        raise ValueError(f"soak hours must be > 0, not {hours!r}")
    duration_s = hours * 3600.0
    warm_up_s = min(WARM_UP_SHARE * duration_s, WARM_UP_MAX_S)
    every = sample_every_s if sample_every_s is not None else sample_interval(duration_s)
    # taught before timing starts, as `lineside run --headless` does on first use
    taught = teach_on_first_use(limit_parts(recipe, None), paths)
    paced = limit_parts(recipe, None, realtime=True)  # endless, at the cameras' own rate
    counter = _PartCounter()
    station = Station(
        paced,
        paths=paths,
        store_results=True,
        trigger_inputs=[LocalTriggerSocket(paths.trigger_socket)],
    )
    station.add_listener(counter)
    samples = [take_sample(0.0, 0)]
    t0 = time.monotonic()
    station.start()
    ended_early = False
    try:
        next_sample = every
        while (now := time.monotonic() - t0) < duration_s:
            if station.wait_finished(min(0.5, max(0.01, next_sample - now))):
                ended_early = True  # a camera's stream ended: the soak stops with it
                break
            now = time.monotonic() - t0
            if now >= next_sample:
                samples.append(take_sample(now, counter.parts))
                next_sample += every
                s = samples[-1]
                progress(
                    f"{now:.0f} s: {s.parts} parts, {s.rss_mb} MB, {s.fds} fds, {s.threads} threads"
                )
        if time.monotonic() - t0 > samples[-1].t_s + 0.5:  # the run's end, unless just sampled
            samples.append(take_sample(time.monotonic() - t0, counter.parts))
    finally:
        station.stop(timeout_s=10.0)
    result = summarise(samples, hours=hours, warm_up_s=warm_up_s)
    result["parts"] = counter.parts  # with those finished while the station stopped
    snap = station.counters()
    # frames the station let go because the tools fell behind the camera (a busy machine)
    result["dropped"] = snap.dropped_total
    result["dropped_by_reason"] = dict(snap.dropped)
    result["camera_rate_hz"] = {
        cam.id: cam.source.rate_hz
        for cam in paced.cameras
        if isinstance(cam.source, SyntheticSourceSettings)
    }
    result["recipe"] = f"{recipe.name} v{recipe.version}"
    result["sample_every_s"] = round(every, 2)
    result["recorded"] = station.recorded()
    result["ended_early"] = ended_early
    result["alarms"] = counter.alarms[:20]
    result["taught_on_first_use"] = {k: str(v) for k, v in taught.items()}
    return result
