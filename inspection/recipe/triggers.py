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
    """Free-running cameras: one part each time a part passes through ``roi`` of ``camera``,
    like a light barrier drawn on the image.

    A part is present while at least ``min_fill`` of the ROI is brighter (or darker) than the
    belt. It is inspected on the frame half-way between its arrival in the ROI and its leaving
    it: at a steady conveyor speed, the frame where it is centred on the ROI. Other cameras give
    their frame nearest in time to that one.
    """

    type: Literal["presence"]
    camera: Identifier | None = None
    """The camera that watches for parts; default: the recipe's first camera."""
    roi: RegionSettings
    """A strip across the conveyor, narrower than the gap between two parts, so it is empty
    between parts; place it where parts should be centred when inspected."""
    part: Literal["brighter", "darker"] = "brighter"
    """Whether parts look brighter or darker than the empty belt."""
    level: int | None = Field(default=None, ge=1, le=254)
    """Grey level between belt and part; default: learnt at start from what the ROI shows."""
    min_contrast: int = Field(default=30, ge=1, le=255)
    """Learning the level waits until belt and part differ by at least this many grey levels."""
    min_fill: float = Field(default=0.3, gt=0.0, lt=1.0)
    """Fraction of the ROI a part must cover to count as present."""
    min_frames: int = Field(default=2, ge=1, le=100)
    """Frames a part must be seen in a row (debounce against flicker and dust)."""
    gap_frames: int = Field(default=2, ge=1, le=100)
    """Frames the ROI must be empty in a row before the part counts as gone."""
    learn_frames: int = Field(default=30, ge=3, le=1000)
    """Frames the level is learnt from at start (belt and parts both need to pass meanwhile)."""
    max_frames: int = Field(default=100, ge=3, le=1000)
    """A part still present after this many frames is inspected anyway and the ROI re-armed
    once it clears (a stopped conveyor must not hold frames without end)."""


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
