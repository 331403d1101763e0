"""Small real tools and a listener for driving a Station in tests (not fixtures: plain helpers)."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from inspection.recipe import dump_recipe, parse_recipe
from inspection.types import Frame, Inspection, StatusLevel, StatusUpdate, ToolResult, Verdict


class BrightnessTool:
    """Passes parts whose mean grey level is at least ``minimum``; optionally works ``work_s``
    seconds scaled by the frame's first pixel, so parts finish out of order on several workers."""

    tool_type = "brightness"

    def __init__(
        self,
        tool_id: str = "bright",
        camera: str = "cam1",
        minimum: float = 100.0,
        work_s: float = 0.0,
        serial_from_pixel: bool = False,
    ) -> None:
        self.tool_id = tool_id
        self.camera = camera
        self.minimum = minimum
        self.work_s = work_s
        self.serial_from_pixel = serial_from_pixel
        self.seen: list[np.ndarray] = []
        self.closed = False

    def inspect(self, frame: Frame) -> ToolResult:
        self.seen.append(frame.image)
        if self.work_s:
            time.sleep(self.work_s * (int(frame.image.flat[1]) % 5) / 4)
        mean = float(frame.image.mean())
        ok = mean >= self.minimum
        return ToolResult(
            tool_id=self.tool_id,
            tool_type=self.tool_type,
            verdict=Verdict.PASS if ok else Verdict.FAIL,
            reason="" if ok else f"too dark ({mean:.0f})",
            measurements={"mean": mean},
            unique_keys=(f"S{int(frame.image.flat[2])}",) if self.serial_from_pixel else (),
        )

    def model_hashes(self) -> Mapping[str, str]:
        return {}

    def close(self) -> None:
        self.closed = True


class ExplodingTool(BrightnessTool):
    tool_type = "exploding"

    def inspect(self, frame: Frame) -> ToolResult:
        raise RuntimeError("sensor model diverged")


class Collector:
    """A StationListener that keeps what it receives, and signals when ``want`` parts arrived."""

    def __init__(self, want: int = 0) -> None:
        self.inspections: list[Inspection] = []
        self.status: list[StatusUpdate] = []
        self.threads: set[str] = set()
        self.want = want
        self.done = threading.Event()

    def on_inspection(self, inspection: Inspection) -> None:
        self.threads.add(threading.current_thread().name)
        self.inspections.append(inspection)
        if self.want and len(self.inspections) >= self.want:
            self.done.set()

    def on_status(self, update: StatusUpdate) -> None:
        self.status.append(update)


def frames(n: int, value: int = 200, shape: tuple[int, int] = (48, 64)) -> list[np.ndarray]:
    """n grey frames; pixel 1 varies (work time), pixel 2 holds the index (serial)."""
    out = []
    for i in range(n):
        img = np.full(shape, value, np.uint8)
        img.flat[1] = (i * 7) % 256
        img.flat[2] = i % 256
        out.append(img)
    return out


def make_recipe(workers: int = 2, queue_size: int = 4, cameras: int = 1, **extra: object):
    data = {
        "name": "test",
        "cameras": [
            {
                "id": f"cam{i + 1}",
                "source": {"type": "synthetic", "parts": 5},
                # test frames are identical copies, which a live camera's health check would
                # rightly call frozen
                "health": {"frozen_frames": 0},
            }
            for i in range(cameras)
        ],
        "pipeline": {"workers": workers, "queue_size": queue_size},
        **extra,
    }
    return parse_recipe(data, "test-recipe")


class UnpluggableCamera:
    """A free-running camera (a real frame counter in each frame) whose cable a test can pull.

    While ``unplugged`` is set, ``read`` raises SourceError like a dropped connection and ``open``
    fails like a refused one. Frames come every ``period_s``, each different (a live sensor).
    """

    live = True

    def __init__(self, camera: str = "cam1", period_s: float = 0.02) -> None:
        self.camera = camera
        self.period_s = period_s
        self.unplugged = threading.Event()
        self.frozen = threading.Event()
        self.opens = 0
        self._seq = 0
        self._next = 0.0

    def open(self) -> None:
        from inspection.errors import SourceError

        if self.unplugged.is_set():
            raise SourceError("connection refused")
        self.opens += 1
        self._next = time.monotonic()

    def read(self, timeout_s: float) -> Frame:
        from inspection.errors import SourceError

        if self.unplugged.is_set():
            raise SourceError("connection reset by peer")
        wait = self._next - time.monotonic()
        if wait > timeout_s:
            time.sleep(timeout_s)
            raise TimeoutError
        time.sleep(max(wait, 0.0))
        self._next = max(self._next, time.monotonic()) + self.period_s
        img = np.full((48, 64), 200, np.uint8)
        if not self.frozen.is_set():
            img.flat[:8] = np.frombuffer(self._seq.to_bytes(8, "little"), np.uint8)
        frame = Frame(camera=self.camera, seq=self._seq, t_ns=time.monotonic_ns(), image=img)
        self._seq += 1
        return frame

    def close(self) -> None:
        pass


class AlarmClock(Collector):
    """A collector that notes when each status message arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.stamped: list[tuple[float, StatusUpdate]] = []
        self.changed = threading.Condition()

    def on_status(self, update: StatusUpdate) -> None:
        super().on_status(update)
        with self.changed:
            self.stamped.append((time.monotonic(), update))
            self.changed.notify_all()

    def wait_for(self, level: StatusLevel, text: str, after: float, timeout_s: float) -> float:
        """Seconds from ``after`` to the first such status; fails when none came in time."""
        deadline = time.monotonic() + timeout_s
        with self.changed:
            while True:
                for t, u in self.stamped:
                    if t >= after and u.level is level and text in u.message:
                        return t - after
                left = deadline - time.monotonic()
                assert left > 0, f"no {level} '{text}' within {timeout_s} s: {self.stamped}"
                self.changed.wait(left)


def one_camera_station(source: dict[str, object]) -> tuple[Any, AlarmClock]:
    """A software-triggered Station on one real camera ``cam`` (recorded under the test's
    LINESIDE_HOME) that passes every frame, and the AlarmClock listening to it (not started)."""
    from inspection.paths import user_paths
    from inspection.pipeline.station import Station

    recipe = parse_recipe(
        {
            "name": "one-camera",
            "cameras": [{"id": "cam", "source": source}],
            "trigger": {"type": "software", "timeout_s": 0.5},
            "pipeline": {"workers": 1},
        }
    )
    station = Station(
        recipe, paths=user_paths(), make_tools=lambda: [BrightnessTool(camera="cam", minimum=0)]
    )
    clock = AlarmClock()
    station.add_listener(clock)
    return station, clock


def good_part_image(recipe: Any) -> np.ndarray:
    """The first good part the recipe's simulated camera makes (triggered-mode frame)."""
    from inspection.recipe import SyntheticSourceSettings
    from inspection.sources.synthetic import SyntheticLine

    source = recipe.cameras[0].source
    assert isinstance(source, SyntheticSourceSettings)
    line = SyntheticLine(source, recipe.cameras[0].id)
    for index in range(50):
        image, truth = line.render_part(index)
        if truth.is_good:
            return image
    raise AssertionError("no good part among the first 50 of the simulated line")


class PixelScoreTool:
    """An anomaly-like tool whose score is the frame's first pixel / 1000: a test writes the
    score it wants into each frame."""

    tool_id = "surface"
    tool_type = "anomaly"
    camera = "cam1"

    def inspect(self, frame: Frame) -> ToolResult:
        score = int(frame.image.flat[0]) / 1000 + int(frame.image.flat[1]) / 100
        return ToolResult(
            tool_id=self.tool_id,
            tool_type=self.tool_type,
            verdict=Verdict.PASS if score < 0.9 else Verdict.FAIL,
            measurements={"score": score},
        )

    def model_hashes(self) -> Mapping[str, str]:
        return {}

    def close(self) -> None:
        pass


def frame_with(score: float) -> np.ndarray:
    img = np.zeros((16, 16), np.uint8)
    tenths, thousandths = divmod(round(score * 1000), 10)
    img.flat[1] = tenths  # hundredths of the score
    img.flat[0] = thousandths
    return img


# 80 parts alternating 0.30 ± 0.01: points of 5 alternate 0.302 / 0.298 (their sigma 0.0035; the
# first 8 are the baseline), then 30 parts drifted up by 0.045 (13 sigmas), all still passing.
DRIFTING_SCORES = [0.29 if i % 2 else 0.31 for i in range(80)] + [
    0.34 if i % 2 else 0.35 for i in range(30)
]


def drifting_station(paths: Any) -> Any:
    """A station whose surface score drifts up after 80 parts (``DRIFTING_SCORES``), watched by
    a drift alert with points of 5 parts and a baseline of 8 points."""
    from inspection.pipeline.station import Station
    from inspection.sources.memory import MemorySource

    recipe = make_recipe(
        workers=1,
        tools=[{"id": "surface", "type": "anomaly", "roi": {"x": 0, "y": 0, "w": 8, "h": 8}}],
        drift=[
            {
                "series": "surface.score",
                "watch": "up",
                "points_of": 5,
                "baseline_points": 8,
                "message": "surface score drifting up",
            }
        ],
    )
    return Station(
        recipe,
        paths=paths,
        sources=[MemorySource([frame_with(v) for v in DRIFTING_SCORES])],
        make_tools=lambda: [PixelScoreTool()],
    )


def software_recipe_file(
    folder: Path, name: str, *, tool_id: str = "code", rate_hz: float = 50.0
) -> Path:
    """A recipe file named ``name``: one simulated camera free-running at ``rate_hz``, parts by
    software trigger (a PLC, an OPC UA client), one code-reading tool ``tool_id``."""
    recipe = make_recipe(
        cameras=1,
        trigger={"type": "software", "timeout_s": 2.0},
        tools=[{"id": tool_id, "type": "codes", "camera": "cam1", "formats": ["QRCode"]}],
    )
    cam = recipe.cameras[0]
    source = cam.source.model_copy(update={"parts": None, "rate_hz": rate_hz})
    recipe = recipe.model_copy(
        update={"name": name, "cameras": [cam.model_copy(update={"source": source})]}
    )
    path = folder / f"{name}.yaml"
    path.write_text(dump_recipe(recipe), encoding="utf-8")
    return path
