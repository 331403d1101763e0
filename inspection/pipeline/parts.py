"""From camera frames to parts: which frames make up one part (the ``every_frame`` trigger).

With one camera each frame is a part. With several triggered cameras, frame N of every camera is
part N (they share the trigger); a camera whose frame does not come in time leaves the part with
an error, so it is recorded as ERROR rather than silently skipped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from inspection.types import Frame


@dataclass(frozen=True, slots=True, kw_only=True)
class PartJob:
    """One part waiting for inspection: its frames by camera, or why it has none."""

    part_seq: int
    frames: Mapping[str, Frame] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    captured_ns: int = 0
    queued_ns: int = 0
    wall_time: float = 0.0
    trigger_id: int | None = None
    triggered_ns: int = 0


@dataclass(slots=True)
class GroupedPart:
    """The frames (and errors) gathered so far for one trigger."""

    frames: dict[str, Frame]
    errors: dict[str, str]
    """camera → why its frame for this part is missing"""
    first_ns: int
    trigger_id: int | None = None
    """The software trigger this part answers (None: a part the cameras found themselves)."""


class FrameGrouper:
    """Collects each camera's frame ``seq`` into one part; thread-safe (one caller per camera)."""

    def __init__(self, cameras: Sequence[str], wait_s: float = 2.0) -> None:
        self._cameras = tuple(cameras)
        self._wait_ns = int(wait_s * 1e9)
        self._pending: dict[int, GroupedPart] = {}
        self._lock = threading.Lock()

    def add(self, camera: str, seq: int, frame: Frame | None, error: str = "") -> list[GroupedPart]:
        """Record one camera's frame (or its error) for trigger ``seq``; returns parts now complete
        or given up on, oldest first."""
        now = time.monotonic_ns()
        with self._lock:
            p = self._pending.setdefault(seq, GroupedPart({}, {}, now))
            if frame is not None:
                p.frames[camera] = frame
            if error:
                p.errors[camera] = error
            return self._ready(now)

    def _ready(self, now: int) -> list[GroupedPart]:
        out = []
        for seq in sorted(self._pending):
            p = self._pending[seq]
            missing = [c for c in self._cameras if c not in p.frames and c not in p.errors]
            if missing and now - p.first_ns < self._wait_ns:
                break  # later parts wait too, so parts stay in trigger order
            for c in missing:
                p.errors[c] = f"no frame from camera {c}"
            out.append(self._pending.pop(seq))
        return out

    def poll(self) -> list[GroupedPart]:
        """Parts whose wait for a camera's frame ran out."""
        with self._lock:
            return self._ready(time.monotonic_ns())

    def flush(self) -> list[GroupedPart]:
        """Everything still waiting (at stop or end of stream), each missing frame an error."""
        with self._lock:
            return self._ready(time.monotonic_ns() + self._wait_ns + 1)
