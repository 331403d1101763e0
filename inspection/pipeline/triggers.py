"""When frames become a part: every frame, a part passing a presence strip, or a trigger.

Each kind turns what the cameras deliver into ``GroupedPart``s (one camera's frame each, or the
reason it is missing). The station calls ``on_frame`` from each camera's acquisition thread and
``poll`` a few times a second, and queues whatever parts they return, in the order returned.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Protocol

from inspection.pipeline.parts import FrameGrouper, GroupedPart
from inspection.pipeline.presence import PresenceDetector
from inspection.recipe import EveryFrameTrigger, PresenceTrigger, Recipe, SoftwareTrigger
from inspection.types import Frame


class PartTrigger(Protocol):
    def on_frame(self, camera: str, frame: Frame) -> list[GroupedPart]: ...

    def on_bad_frame(self, camera: str, seq: int, reason: str) -> list[GroupedPart]:
        """A frame that could not be read (its part, if any, becomes ERROR)."""
        ...

    def poll(self) -> list[GroupedPart]:
        """Parts whose wait for a camera has run out."""
        ...

    def flush(self) -> list[GroupedPart]:
        """Everything still waiting (stop, end of stream)."""
        ...


class EveryFrame:
    """Each frame is a part; several cameras' frames with one trigger id (else frame number)
    make up one part."""

    def __init__(self, cameras: Sequence[str], wait_s: float = 2.0) -> None:
        self._grouper = FrameGrouper(cameras, wait_s)

    def on_frame(self, camera: str, frame: Frame) -> list[GroupedPart]:
        key = frame.trigger_id if frame.trigger_id is not None else frame.seq
        return self._grouper.add(camera, key, frame)

    def on_bad_frame(self, camera: str, seq: int, reason: str) -> list[GroupedPart]:
        return self._grouper.add(camera, seq, None, reason)

    def poll(self) -> list[GroupedPart]:
        return self._grouper.poll()

    def flush(self) -> list[GroupedPart]:
        return self._grouper.flush()


class _RecentFrames:
    """The last few seconds of one camera's frames, to pick the one nearest a moment."""

    def __init__(self, keep_s: float = 2.0) -> None:
        self._keep_ns = int(keep_s * 1e9)
        self._frames: deque[Frame] = deque()

    def add(self, frame: Frame) -> None:
        self._frames.append(frame)
        while self._frames and frame.t_ns - self._frames[0].t_ns > self._keep_ns:
            self._frames.popleft()

    def nearest(self, t_ns: int, within_ns: int) -> Frame | None:
        best = min(self._frames, key=lambda f: abs(f.t_ns - t_ns), default=None)
        if best is None or abs(best.t_ns - t_ns) > within_ns:
            return None
        return best


class Presence:
    """One part per part passing the watching camera's strip (see ``PresenceTrigger``)."""

    def __init__(self, settings: PresenceTrigger, cameras: Sequence[str], watcher: str) -> None:
        self._settings = settings
        self._cameras = tuple(cameras)
        self._watcher = watcher
        self._detector = PresenceDetector(settings)
        # frames of the watching camera since the current part arrived (plus debounce frames)
        self._held: deque[tuple[int, Frame]] = deque(
            maxlen=max(settings.max_frames, settings.learn_frames) + 8
        )
        self._index = 0
        self._others = {c: _RecentFrames() for c in cameras if c != watcher}
        self._lock = threading.Lock()
        self._period_ns = 0

    @property
    def detector(self) -> PresenceDetector:
        return self._detector

    def on_frame(self, camera: str, frame: Frame) -> list[GroupedPart]:
        with self._lock:
            if camera != self._watcher:
                self._others[camera].add(frame)
                return []
            if self._held:
                self._period_ns = frame.t_ns - self._held[-1][1].t_ns
            index = self._index
            self._index += 1
            self._held.append((index, frame))
            passed = self._detector.update(index, frame.image)
            parts = []
            for p in passed:
                chosen = next((f for i, f in self._held if i == p.best), frame)
                parts.append(self._part(chosen))
                while self._held and self._held[0][0] <= p.last:
                    self._held.popleft()
            if self._detector.armed and not self._detector.present:
                # nothing in the strip: keep only what debouncing an arrival may need
                while len(self._held) > self._settings.min_frames:
                    self._held.popleft()
            return parts

    def _part(self, chosen: Frame) -> GroupedPart:
        frames = {self._watcher: chosen}
        errors: dict[str, str] = {}
        within = max(2 * self._period_ns, int(0.2e9))
        for cam, recent in self._others.items():
            other = recent.nearest(chosen.t_ns, within)
            if other is None:
                errors[cam] = f"no frame from camera {cam} near the part's moment"
            else:
                frames[cam] = other
        return GroupedPart(frames, errors, chosen.t_ns)

    def on_bad_frame(self, camera: str, seq: int, reason: str) -> list[GroupedPart]:
        # A free-running stream's unreadable frame stands for no part; the acquisition thread
        # already counted and logged it.
        return []

    def poll(self) -> list[GroupedPart]:
        return []

    def flush(self) -> list[GroupedPart]:
        return []


class _Pending:
    __slots__ = ("part", "t_ns", "trigger_id", "waiting")

    def __init__(self, trigger_id: int, t_ns: int, cameras: Sequence[str]) -> None:
        self.trigger_id = trigger_id
        self.t_ns = t_ns
        self.part = GroupedPart({}, {}, t_ns, trigger_id)
        self.waiting = set(cameras)


class Software:
    """One part per ``fire``: each camera's frame answering that trigger id, or else its first
    frame captured after the trigger; a camera with nothing in ``timeout_s`` leaves an error."""

    def __init__(self, settings: SoftwareTrigger, cameras: Sequence[str]) -> None:
        self._timeout_ns = int(settings.timeout_s * 1e9)
        self._cameras = tuple(cameras)
        self._pending: deque[_Pending] = deque()
        self._lock = threading.Lock()

    def fire(self, trigger_id: int, t_ns: int, unavailable: dict[str, str]) -> None:
        """A trigger at ``t_ns``; ``unavailable`` names cameras that cannot answer, with why."""
        with self._lock:
            p = _Pending(trigger_id, t_ns, self._cameras)
            for cam, reason in unavailable.items():
                p.part.errors[cam] = reason
                p.waiting.discard(cam)
            self._pending.append(p)

    def on_frame(self, camera: str, frame: Frame) -> list[GroupedPart]:
        with self._lock:
            for p in self._pending:
                if camera not in p.waiting:
                    continue
                if frame.trigger_id is not None:
                    if frame.trigger_id != p.trigger_id:
                        continue
                elif frame.t_ns < p.t_ns:
                    break  # captured before the oldest trigger it could answer: not the part
                p.part.frames[camera] = frame
                p.waiting.discard(camera)
                break
            return self._ready(time.monotonic_ns())

    def on_bad_frame(self, camera: str, seq: int, reason: str) -> list[GroupedPart]:
        with self._lock:
            for p in self._pending:
                if camera in p.waiting:
                    p.part.errors[camera] = reason
                    p.waiting.discard(camera)
                    break
            return self._ready(time.monotonic_ns())

    def poll(self) -> list[GroupedPart]:
        with self._lock:
            return self._ready(time.monotonic_ns())

    def flush(self) -> list[GroupedPart]:
        with self._lock:
            return self._ready(None)

    def _ready(self, now_ns: int | None) -> list[GroupedPart]:
        out = []
        while self._pending:
            p = self._pending[0]
            late = now_ns is None or now_ns - p.t_ns > self._timeout_ns
            if p.waiting and not late:
                break  # later triggers wait too: parts leave in trigger order
            for cam in p.waiting:
                p.part.errors[cam] = (
                    f"camera {cam} gave no frame for trigger {p.trigger_id} within "
                    f"{self._timeout_ns / 1e9:.1f} s"
                )
            out.append(self._pending.popleft().part)
        return out


def make_part_trigger(recipe: Recipe) -> EveryFrame | Presence | Software:
    """The part trigger a recipe asks for."""
    cameras = [c.id for c in recipe.cameras]
    t = recipe.trigger
    if isinstance(t, PresenceTrigger):
        return Presence(t, cameras, t.camera or cameras[0])
    if isinstance(t, SoftwareTrigger):
        return Software(t, cameras)
    assert isinstance(t, EveryFrameTrigger)
    return EveryFrame(cameras)
