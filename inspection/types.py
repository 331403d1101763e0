"""The values a part carries on its way through Lineside.

Every type here is a frozen dataclass (or an enum): published results are never mutated, hold no
Qt, pandas or ORM objects, and pickle cleanly so a later move from threads to processes stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np


class Verdict(StrEnum):
    """Outcome of one part. ERROR (could not be inspected) is a reject, exactly like FAIL."""

    PASS = "PASS"
    FAIL = "FAIL"
    ERROR = "ERROR"

    @property
    def is_reject(self) -> bool:
        return self is not Verdict.PASS


@dataclass(frozen=True, slots=True, kw_only=True)
class Region:
    """Axis-aligned rectangle in frame pixels: x, y of the top-left corner, width, height."""

    x: int
    y: int
    w: int
    h: int

    def clip(self, width: int, height: int) -> Region:
        """This region cut to a frame of width × height (may come out empty: w or h == 0)."""
        x0 = min(max(self.x, 0), width)
        y0 = min(max(self.y, 0), height)
        x1 = min(max(self.x + self.w, 0), width)
        y1 = min(max(self.y + self.h, 0), height)
        return Region(x=x0, y=y0, w=max(x1 - x0, 0), h=max(y1 - y0, 0))

    @property
    def is_empty(self) -> bool:
        return self.w <= 0 or self.h <= 0


@dataclass(frozen=True, slots=True, kw_only=True)
class PartTruth:
    """What the simulated line knows about a part it made (ground truth for evaluation).

    ``defects`` are defect kinds such as ``"scratch"`` or ``"duplicate_serial"``; empty for a good part.
    ``serial`` is the text the part's codes hold; ``codes`` names the symbologies printed on it.
    """

    part_index: int
    defects: tuple[str, ...] = ()
    serial: str = ""
    codes: tuple[str, ...] = ()
    lot: str = ""
    expiry: str = ""
    product: str = ""

    @property
    def is_good(self) -> bool:
        return not self.defects


@dataclass(frozen=True, slots=True, kw_only=True)
class Frame:
    """One image from one camera.

    image: uint8, C-contiguous, shape (H, W) grey or (H, W, 3) BGR; privacy masks already applied.
    t_ns: capture time, ``time.monotonic_ns()`` of the acquisition thread (or the camera's stamp).
    seq: per-camera frame counter from 0; gaps mean frames the source lost.
    truth: ground truth when the source knows it (simulated line, labelled folders), else None.
    trigger_id: the trigger this frame answers (a camera's frame id under a hardware trigger, the
        station's trigger number under a software one); frames of several cameras with the same
        trigger id are one part. None for free-running frames.
    source_name: file name, or the camera's own name for the frame, for the record.
    """

    camera: str
    seq: int
    t_ns: int
    image: np.ndarray
    truth: PartTruth | None = None
    trigger_id: int | None = None
    source_name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Overlay:
    """Something a tool wants drawn over the live view: a box or a polygon in frame pixels.

    points: float32 array of shape (N, 2) with (x, y) vertices; ``label`` is short text to show.
    ``ok`` chooses the colour (green for good, red for a finding).
    """

    points: np.ndarray
    label: str = ""
    ok: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolResult:
    """What one tool found on one part.

    ``reason`` is empty on PASS and names the finding in the operator's words otherwise.
    ``measurements`` holds numbers for trends and tuning (name → value, SI-ish units in the name).
    ``details`` holds JSON-serialisable facts for the record (decoded texts, formats, ...).
    ``unique_keys`` are values that must not repeat within a shift (serials); the dispatcher checks
    them in part order, so a duplicate is decided the same way however many workers run.
    """

    tool_id: str
    tool_type: str
    verdict: Verdict
    reason: str = ""
    measurements: Mapping[str, float] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)
    overlays: tuple[Overlay, ...] = ()
    unique_keys: tuple[str, ...] = ()
    roi: Region | None = None
    camera: str = ""
    duration_ns: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Timing:
    """Monotonic ns stamps of one part's way through the pipeline (0 = not reached).
    ``triggered_ns``: the software trigger the part answered (0: none)."""

    triggered_ns: int = 0
    captured_ns: int = 0
    queued_ns: int = 0
    started_ns: int = 0
    decided_ns: int = 0
    dispatched_ns: int = 0

    def ms(self, start: str, end: str) -> float:
        a = getattr(self, f"{start}_ns")
        b = getattr(self, f"{end}_ns")
        return (b - a) / 1e6 if a and b else float("nan")


@dataclass(frozen=True, slots=True, kw_only=True)
class Inspection:
    """The one record every part gets: verdict, reason, each tool's result, and where it came from.

    ``part_seq`` is the station's part counter (0, 1, 2, ...): results leave the dispatcher in this
    order. ``inspection_id`` is unique across runs and names archived images. ``wall_time`` is the
    UNIX time (s) the part was captured, for records and reports.
    """

    inspection_id: str
    station: str
    part_seq: int
    verdict: Verdict
    reason: str
    tool_results: tuple[ToolResult, ...]
    frames: tuple[Frame, ...]
    recipe_name: str
    recipe_version: str
    model_hashes: Mapping[str, str] = field(default_factory=dict)
    timing: Timing = field(default_factory=Timing)
    wall_time: float = 0.0
    lot: str = ""
    """The batch/lot the line was running when the part was decided ("" when none was set)."""
    trigger_id: int | None = None
    """The software trigger the part answered (``Station.trigger``'s id): the PLC handshake
    finds its result by it. None for parts the cameras found themselves."""

    @property
    def truth(self) -> PartTruth | None:
        for f in self.frames:
            if f.truth is not None:
                return f.truth
        return None


class StatusLevel(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ALARM = "alarm"


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusUpdate:
    """A change the operator should see: camera lost/back, queue dropping, a sink failing..."""

    level: StatusLevel
    source: str
    message: str
    t_ns: int = 0
