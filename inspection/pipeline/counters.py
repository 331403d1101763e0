"""Live statistics of a running station: frames in, parts, verdicts, drops with reasons, timings.

Written by the pipeline's threads, read by anyone through ``snapshot()`` (a frozen copy).
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from statistics import median

from inspection.types import Inspection, Verdict

_WINDOW = 200  # recent parts kept for medians and rates


@dataclass(frozen=True, slots=True, kw_only=True)
class CountersSnapshot:
    """Counters at one moment. Times in ms are medians over the last ~200 parts."""

    frames_in: Mapping[str, int] = field(default_factory=dict)
    camera_fps: Mapping[str, float] = field(default_factory=dict)
    parts: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    dropped: Mapping[str, int] = field(default_factory=dict)
    """Frames or parts not inspected, by reason (e.g. ``"cam1: queue full, oldest dropped"``)."""
    inspection_ms: float = float("nan")
    latency_ms: float = float("nan")
    tool_ms: Mapping[str, float] = field(default_factory=dict)
    last_part: int = -1
    """``part_seq`` of the last part counted (-1: none yet). The operator screen takes a snapshot
    only when it matches the part on its lamp, so TOTAL and the lamp always agree."""
    first_part: int = 0
    """First ``part_seq`` of the current count: the count (shift) began with this part."""
    count_started: float = 0.0
    """UNIX time (s) the current count began (0.0: never reset on this station)."""

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())

    @property
    def yield_pct(self) -> float:
        """Share of inspected parts that passed, in %, NaN before the first part."""
        return 100.0 * self.passed / self.parts if self.parts else float("nan")


class Counters:
    """Thread-safe accumulator behind ``CountersSnapshot``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frames: Counter[str] = Counter()
        self._frame_times: dict[str, deque[int]] = {}
        self._verdicts: Counter[Verdict] = Counter()
        self._dropped: Counter[str] = Counter()
        self._inspection_ms: deque[float] = deque(maxlen=_WINDOW)
        self._latency_ms: deque[float] = deque(maxlen=_WINDOW)
        self._tool_ms: dict[str, deque[float]] = {}
        self._last_part = -1
        self._first_part = 0
        self._count_started = 0.0

    def frame_in(self, camera: str, t_ns: int | None = None) -> None:
        t = time.monotonic_ns() if t_ns is None else t_ns
        with self._lock:
            self._frames[camera] += 1
            self._frame_times.setdefault(camera, deque(maxlen=60)).append(t)

    def dropped(self, reason: str, n: int = 1) -> None:
        with self._lock:
            self._dropped[reason] += n

    def part_done(self, inspection: Inspection) -> None:
        t = inspection.timing
        with self._lock:
            self._verdicts[inspection.verdict] += 1
            self._last_part = max(self._last_part, inspection.part_seq)
            if t.started_ns and t.decided_ns:
                self._inspection_ms.append((t.decided_ns - t.started_ns) / 1e6)
            if t.captured_ns and t.dispatched_ns:
                self._latency_ms.append((t.dispatched_ns - t.captured_ns) / 1e6)
            for r in inspection.tool_results:
                self._tool_ms.setdefault(r.tool_id, deque(maxlen=_WINDOW)).append(
                    r.duration_ns / 1e6
                )

    def reset_parts(self, wall_time: float) -> int:
        """Start a new count (new shift or batch) at ``wall_time`` (UNIX s); frame and drop
        counters stay. Returns the first part number of the new count."""
        with self._lock:
            self._verdicts.clear()
            self._inspection_ms.clear()
            self._latency_ms.clear()
            self._tool_ms.clear()
            self._first_part = self._last_part + 1
            self._count_started = wall_time
            return self._first_part

    def restore(
        self,
        *,
        passed: int,
        failed: int,
        errors: int,
        last_part: int,
        first_part: int,
        count_started: float,
    ) -> None:
        """Take up a count read back from the records (a restart within the shift)."""
        with self._lock:
            self._verdicts = Counter(
                {Verdict.PASS: passed, Verdict.FAIL: failed, Verdict.ERROR: errors}
            )
            self._last_part = last_part
            self._first_part = first_part
            self._count_started = count_started

    @property
    def last_part(self) -> int:
        with self._lock:
            return self._last_part

    def snapshot(self) -> CountersSnapshot:
        with self._lock:
            fps = {}
            for cam, times in self._frame_times.items():
                if len(times) >= 2 and times[-1] > times[0]:
                    fps[cam] = (len(times) - 1) * 1e9 / (times[-1] - times[0])
            v = self._verdicts
            return CountersSnapshot(
                frames_in=dict(self._frames),
                camera_fps=fps,
                parts=sum(v.values()),
                passed=v[Verdict.PASS],
                failed=v[Verdict.FAIL],
                errors=v[Verdict.ERROR],
                dropped=dict(self._dropped),
                inspection_ms=median(self._inspection_ms) if self._inspection_ms else float("nan"),
                latency_ms=median(self._latency_ms) if self._latency_ms else float("nan"),
                tool_ms={k: median(d) for k, d in self._tool_ms.items() if d},
                last_part=self._last_part,
                first_part=self._first_part,
                count_started=self._count_started,
            )
