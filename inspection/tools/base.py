"""What every inspection tool is, and the guard that turns any failure into an ERROR result."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np

from inspection.types import Frame, Overlay, Region, ToolResult, Verdict

log = logging.getLogger(__name__)


@runtime_checkable
class Tool(Protocol):
    """One check on one camera's frame. Instances belong to one worker thread."""

    tool_id: str
    tool_type: str
    camera: str

    def inspect(self, frame: Frame) -> ToolResult:
        """Inspect one frame. May raise; callers use ``run_guarded``."""
        ...

    def model_hashes(self) -> Mapping[str, str]:
        """sha256 of each model file this tool uses (empty for tools without models)."""
        ...

    def close(self) -> None: ...


def error_result(tool: Tool, reason: str, duration_ns: int = 0) -> ToolResult:
    return ToolResult(
        tool_id=tool.tool_id,
        tool_type=tool.tool_type,
        verdict=Verdict.ERROR,
        reason=reason,
        camera=tool.camera,
        duration_ns=duration_ns,
    )


def tool_result(
    tool: Tool,
    verdict: Verdict,
    reason: str,
    started_ns: int,
    *,
    roi: Region | None = None,
    measurements: Mapping[str, float] | None = None,
    details: Mapping[str, Any] | None = None,
    overlays: tuple[Overlay, ...] = (),
) -> ToolResult:
    """A tool's result, timed from ``started_ns`` (``time.perf_counter_ns()`` at its start)."""
    return ToolResult(
        tool_id=tool.tool_id,
        tool_type=tool.tool_type,
        verdict=verdict,
        reason=reason,
        measurements=dict(measurements or {}),
        details=dict(details or {}),
        overlays=overlays,
        roi=roi,
        camera=tool.camera,
        duration_ns=time.perf_counter_ns() - started_ns,
    )


def run_guarded(tool: Tool, frame: Frame) -> ToolResult:
    """Run ``tool`` on ``frame``; any exception becomes an ERROR result naming it (never a PASS)."""
    t0 = time.perf_counter_ns()
    problem = image_problem(frame.image)
    if problem is not None:
        return error_result(tool, f"bad frame from {frame.camera}: {problem}")
    try:
        result = tool.inspect(frame)
    except Exception as exc:  # the line must keep running: the part is rejected, not the station
        log.exception("tool %s failed on %s#%d", tool.tool_id, frame.camera, frame.seq)
        return error_result(
            tool, f"tool failed: {type(exc).__name__}: {exc}", time.perf_counter_ns() - t0
        )
    if not isinstance(result, ToolResult):
        return error_result(tool, f"tool returned {type(result).__name__}, not a ToolResult")
    if result.duration_ns <= 0 or not result.camera:
        result = dataclasses.replace(
            result,
            duration_ns=result.duration_ns or time.perf_counter_ns() - t0,
            camera=result.camera or tool.camera,
        )
    return result


def image_problem(image: object) -> str | None:
    """Why ``image`` is not a frame tools can use (uint8 (H, W) or (H, W, 3)), or None if it is."""
    if not isinstance(image, np.ndarray):
        return f"image is {type(image).__name__}, not an array"
    if image.dtype != np.uint8:
        return f"pixel type {image.dtype} (expected uint8)"
    if image.ndim == 3 and image.shape[2] not in (1, 3):
        return f"{image.shape[2]} channels (expected 1 or 3)"
    if image.ndim not in (2, 3):
        return f"shape {image.shape} (expected height × width [× 3])"
    if image.shape[0] < 8 or image.shape[1] < 8:
        return f"image of {image.shape[1]}×{image.shape[0]} px is too small"
    return None


def crop(image: np.ndarray, roi: Region | None) -> tuple[np.ndarray, Region]:
    """The part of ``image`` inside ``roi`` (whole image if None) and the region actually used.

    Returns a view, not a copy; the region is clipped to the image and may come out empty.
    """
    h, w = image.shape[:2]
    region = Region(x=0, y=0, w=w, h=h) if roi is None else roi.clip(w, h)
    return image[region.y : region.y + region.h, region.x : region.x + region.w], region


def to_gray(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W) from grey or BGR input (a view when already grey)."""
    if image.ndim == 2:
        return image
    if image.shape[2] == 1:
        return image[:, :, 0]
    import cv2

    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
