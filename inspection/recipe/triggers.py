"""How frames become parts: every frame, a part passing a presence ROI, or a trigger."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from inspection.recipe.common import Identifier, RegionSettings, Strict


class EveryFrameTrigger(Strict):
    """Each frame is one part: triggered cameras, the simulated line, files and folders.

    With several cameras, frames carrying the same trigger id (hardware-triggered cameras on one
    trigger line) or else the same frame number make up one part.
    """

    type: Literal["every_frame"] = "every_frame"


class PresenceTrigger(Strict):
    """Free-running cameras: one part each time a part passes through ``roi`` of ``camera``.

    The part is inspected on the frame where it is best centred in the ROI (along the direction
    of travel); the other cameras give their frame nearest in time to that one.
    """

    type: Literal["presence"]
    camera: Identifier | None = None
    """The camera that watches for parts; default: the recipe's first camera."""
    roi: RegionSettings
    """Where parts pass; it should hold one whole part, and the gap between parts should be
    wider than what the ROI can see of a next part, so every passing part clears it."""
    direction: Literal["horizontal", "vertical"] = "horizontal"
    """How parts travel through the ROI."""
    min_fill: float = Field(default=0.15, gt=0.0, lt=1.0)
    """Fraction of the ROI a part must cover to count as present."""
    difference: int = Field(default=25, ge=1, le=255)
    """Grey-level difference from the empty background that counts as part, not belt."""
    min_frames: int = Field(default=2, ge=1, le=100)
    """Frames a part must be seen in a row (debounce against flicker and dust)."""
    gap_frames: int = Field(default=2, ge=1, le=100)
    """Frames the ROI must be empty in a row before the part counts as gone."""
    background_frames: int = Field(default=15, ge=3, le=500)
    """Frames the empty belt is learnt from at start (parts may pass meanwhile: the median of
    these frames is taken per pixel)."""


class SoftwareTrigger(Strict):
    """One part per trigger: the Trigger button, ``lineside trigger``, or a PLC through the
    station's trigger input. Cameras set to ``trigger: software`` take a frame on command;
    free-running ones give their first frame after the trigger."""

    type: Literal["software"]
    timeout_s: float = Field(default=1.0, gt=0.0, le=60.0)
    """A camera with no frame for a trigger within this time leaves the part as ERROR."""


TriggerSettings = Annotated[
    EveryFrameTrigger | PresenceTrigger | SoftwareTrigger, Field(discriminator="type")
]
