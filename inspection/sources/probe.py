"""Testing a camera before it goes into a recipe: connect, take a few frames, say what came."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from inspection.errors import SourceError
from inspection.recipe import CameraSettings
from inspection.sources.base import BadFrameError
from inspection.sources.registry import build_source
from inspection.types import Frame


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeResult:
    """What a connection test found. ``frame`` is the last frame read (None when none came);
    ``message`` says it in the engineer's words: size, colour, frame rate, or what went wrong."""

    ok: bool
    message: str
    frame: Frame | None = None
    frames: int = 0
    fps: float | None = None


def probe_camera(
    camera: CameraSettings,
    *,
    frames: int = 10,
    timeout_s: float = 5.0,
    cancel: threading.Event | None = None,
) -> ProbeResult:
    """Open the camera, read up to ``frames`` frames within ``timeout_s``, close it.

    Never raises for camera problems: they come back as ``ok=False`` with the reason.
    """
    try:
        source = build_source(camera)
    except SourceError as exc:
        return ProbeResult(ok=False, message=str(exc))
    t0 = time.monotonic()
    try:
        source.open()
    except SourceError as exc:
        return ProbeResult(ok=False, message=f"cannot connect: {exc}")
    got: list[Frame] = []
    problem = ""
    try:
        deadline = t0 + timeout_s
        while len(got) < frames and (cancel is None or not cancel.is_set()):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                frame = source.read(min(left, 0.5))
            except TimeoutError:
                continue
            except BadFrameError as exc:
                problem = f"a frame could not be read: {exc}"
                continue
            except SourceError as exc:
                problem = f"connection lost: {exc}"
                break
            if frame is None:
                break  # a finite source (file, folder) ended
            got.append(frame)
    finally:
        source.close()
    if not got:
        why = problem or f"connected, but no frame came within {timeout_s:.0f} s"
        return ProbeResult(ok=False, message=why)
    last = got[-1]
    h, w = last.image.shape[:2]
    kind = "colour" if last.image.ndim == 3 else "grey"
    fps = None
    if len(got) >= 3:
        span = (got[-1].t_ns - got[0].t_ns) / 1e9
        fps = (len(got) - 1) / span if span > 0 else None
    rate = f", {fps:.1f} frames/s" if fps is not None else ""
    note = f" ({problem})" if problem else ""
    return ProbeResult(
        ok=True,
        message=f"{w}×{h} {kind}{rate}{note}",
        frame=last,
        frames=len(got),
        fps=fps,
    )
