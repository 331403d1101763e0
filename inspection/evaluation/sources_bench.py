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
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from inspection.errors import SourceError
from inspection.pipeline.station import Station
from inspection.recipe import CameraSettings, Recipe
from inspection.simulators.gige_camera import FakeGigECamera, bench_settings, missing_commands
from inspection.simulators.peers import running_peer
from inspection.simulators.stamp import missing_on_grid, read_stamp
from inspection.types import Frame, Inspection, StatusUpdate

StampReader = Callable[[Frame], int | None]
"""The send time (time.monotonic_ns) a frame carries, or None when it has none."""


class _Latencies:
    def __init__(self, stamp_of: StampReader) -> None:
        self._stamp_of = stamp_of
        self.to_verdict_ms: list[float] = []
        self.to_frame_ms: list[float] = []
        self.sent_ns: list[int] = []
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
            self.sent_ns.append(sent)
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
    send_period_s: float | None = None,
) -> dict[str, Any]:
    """Run ``camera`` on a tool-less station for ``warmup_s`` + ``seconds``; its figures.

    ``send_period_s``: the simulator sends on a fixed grid of this period, so frames missing
    between the first and last stamp received are counted as lost (the source's own frame
    counter cannot see frames lost before decoding).
    """
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
    if send_period_s is not None:
        gaps = max(missing_on_grid(latencies.sent_ns, send_period_s), gaps)
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


def bench_sources(
    seconds: float = 10.0, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Start each camera simulator and measure its camera kind; one figure set per kind.

    A kind whose simulator cannot run here (a missing system package, no root for a network
    namespace) reports ``{"error": why}`` instead of figures.
    """
    say = progress or (lambda _m: None)
    out: dict[str, Any] = {}
    for kind, run in (("gige", _bench_gige), ("rtsp", _bench_rtsp), ("http", _bench_http)):
        say(f"{kind}: {seconds:.0f} s")
        try:
            out[kind] = run(seconds)
        except (OSError, RuntimeError, SourceError, subprocess.SubprocessError) as exc:
            out[kind] = {"error": str(exc)}
    return out


def _bench_rtsp(seconds: float) -> dict[str, Any]:
    with running_peer("rtsp", width=1280, height=720, fps=25) as peer:
        cam = CameraSettings.model_validate(
            {"id": "rtsp", "source": {"type": "rtsp", "url": peer.url}}
        )
        return {"size": "1280x720@25", **measure_source(cam, seconds, send_period_s=1 / 25)}


def _bench_http(seconds: float) -> dict[str, Any]:
    with running_peer("mjpeg", width=1280, height=720, fps=25) as peer:
        cam = CameraSettings.model_validate(
            {"id": "http", "source": {"type": "http", "url": peer.url}}
        )
        return {"size": "1280x720@25", **measure_source(cam, seconds, send_period_s=1 / 25)}


def _bench_gige(seconds: float) -> dict[str, Any]:
    missing = missing_commands()
    if missing:
        raise RuntimeError("the fake GigE camera needs " + ", ".join(missing))
    with FakeGigECamera() as fake:
        cam = CameraSettings(id="gige", source=bench_settings(fake))
        # the reading side runs in the camera's network namespace, as a child process
        command = [
            "ip", "netns", "exec", fake.namespace,
            sys.executable, "-m", "inspection.evaluation.sources_bench",
            "--camera", cam.model_dump_json(), "--seconds", str(seconds), "--stamp", "camera",
        ]  # fmt: skip
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise RuntimeError(f"GigE bench child failed: {last}")
        figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["latency_from"] = "arrival at the PC (the fake camera stamps no send time)"
    return {"size": "1280x1024 Mono8", **figures}


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
