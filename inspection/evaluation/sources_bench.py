"""`lineside bench --sources`: frames per second, lost frames and latency of each camera kind.

Each kind's simulator (inspection/simulators/) stamps its send time into every frame; the station
runs the camera with the recipe's every-frame trigger and no tools, so what is measured is the
camera, its decoding and the pipeline: latency is from the stamp to the part's verdict leaving
the dispatcher (and, separately, to the frame entering the pipeline).

A GigE camera's simulator lives in a network namespace of its own; its reading side must run
there too, so ``measure_source`` is also this module's ``__main__`` (a child process started
with ``ip netns exec``), printing its figures as one JSON line.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from inspection.pipeline.station import Station
from inspection.recipe import CameraSettings, Recipe
from inspection.simulators.stamp import read_stamp
from inspection.types import Frame, Inspection, StatusUpdate

StampReader = Callable[[Frame], int | None]
"""The send time (time.monotonic_ns) a frame carries, or None when it has none."""


class _Latencies:
    def __init__(self, stamp_of: StampReader) -> None:
        self._stamp_of = stamp_of
        self.to_verdict_ms: list[float] = []
        self.to_frame_ms: list[float] = []
        self.unstamped = 0
        self.seqs: list[int] = []
        self.alarms: list[str] = []
        self.lock = threading.Lock()
        self.measuring = False

    def on_inspection(self, inspection: Inspection) -> None:
        now = time.monotonic_ns()
        if not self.measuring or not inspection.frames:
            return
        frame = inspection.frames[0]
        sent = self._stamp_of(frame)
        with self.lock:
            self.seqs.append(frame.seq)
            if sent is None:
                self.unstamped += 1
                return
            self.to_verdict_ms.append((now - sent) / 1e6)
            self.to_frame_ms.append((frame.t_ns - sent) / 1e6)

    def on_status(self, update: StatusUpdate) -> None:
        if update.level.value == "alarm":
            with self.lock:
                self.alarms.append(update.message)


def _p(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


def measure_source(
    camera: CameraSettings,
    seconds: float,
    *,
    warmup_s: float = 2.0,
    stamp_of: StampReader | None = None,
) -> dict[str, Any]:
    """Run ``camera`` on a tool-less station for ``warmup_s`` + ``seconds``; its figures."""
    recipe = Recipe(name="bench-sources", cameras=[camera], pipeline={"workers": 1})
    latencies = _Latencies(stamp_of or (lambda f: read_stamp(f.image)))
    station = Station(recipe, store_results=False, make_tools=list)
    station.add_listener(latencies)
    station.start()
    try:
        time.sleep(warmup_s)
        before = station.counters()
        with latencies.lock:
            latencies.measuring = True
        t0 = time.monotonic()
        time.sleep(seconds)
        with latencies.lock:
            latencies.measuring = False
        elapsed = time.monotonic() - t0
        after = station.counters()
    finally:
        station.stop()
    seqs = sorted(latencies.seqs)
    gaps = sum(b - a - 1 for a, b in itertools.pairwise(seqs) if b > a + 1)
    dropped = after.dropped_total - before.dropped_total
    return {
        "fps": round(len(seqs) / elapsed, 1) if elapsed > 0 else None,
        "frames": len(seqs),
        "lost_frames": gaps + dropped,
        "latency_ms_p50": _p(latencies.to_verdict_ms, 50),
        "latency_ms_p95": _p(latencies.to_verdict_ms, 95),
        "frame_latency_ms_p50": _p(latencies.to_frame_ms, 50),
        "unstamped_frames": latencies.unstamped,
        "alarms": latencies.alarms[:5],
    }


def main(argv: list[str] | None = None) -> int:
    """Child mode: ``--camera JSON --seconds S``; prints one JSON line of figures."""
    parser = argparse.ArgumentParser(prog="python -m inspection.evaluation.sources_bench")
    parser.add_argument("--camera", required=True, help="camera settings as JSON")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--stamp", choices=["pixels", "camera"], default="pixels")
    args = parser.parse_args(argv)
    camera = CameraSettings.model_validate(json.loads(args.camera))
    stamp_of: StampReader | None = None
    if args.stamp == "camera":
        # the camera's own timestamp, already on the monotonic clock (t_ns) — only the pipeline
        # part of the latency is then measured; the simulator says so in its figures
        stamp_of = _camera_stamp
    result = measure_source(camera, args.seconds, stamp_of=stamp_of)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


def _camera_stamp(frame: Frame) -> int | None:
    return frame.t_ns


if __name__ == "__main__":
    raise SystemExit(main())
