"""Cameras and the sources their frames come from: one settings model per recipe ``type:``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator

from inspection.recipe.common import Identifier, Strict

SIMULATED_DEFECTS = (
    "scratch",
    "stain",
    "dent",
    "missing_label",
    "skewed_label",
    "misprinted_lot",
    "damaged_code",
    "wrong_serial_format",
    "duplicate_serial",
)
SIMULATED_SURFACE_DEFECTS = ("scratch", "stain", "dent")
"""The simulated line's defects on the pack's surface (what a defect tool is meant to catch)."""


class PrintFadeSettings(Strict):
    """A label printer running out of ink: from ``from_part`` on, the label's print loses
    ``per_1000_parts`` of its contrast every 1000 parts (at most ``most``)."""

    from_part: int = Field(default=0, ge=0)
    per_1000_parts: float = Field(gt=0.0, le=1000.0)
    most: float = Field(default=0.9, gt=0.0, le=1.0)


class SyntheticSourceSettings(Strict):
    """The built-in simulated line: seeded, deterministic, with ground truth for every part."""

    type: Literal["synthetic"]
    seed: int = 1
    mode: Literal["triggered", "video"] = "triggered"
    width: int = Field(default=1280, ge=320, le=4096)
    height: int = Field(default=1024, ge=240, le=4096)
    defect_rate: float = Field(default=0.25, ge=0.0, le=1.0)
    defects: list[Literal[SIMULATED_DEFECTS]] | None = None  # type: ignore[valid-type]
    codes: Literal["datamatrix", "code128", "both"] = "both"
    parts: int | None = Field(default=None, ge=1)
    rate_hz: float = Field(default=0.0, ge=0.0, le=1000.0)
    """Frames per second to pace at like a real camera; 0 = as fast as the line consumes."""
    speed_px_per_frame: float = Field(default=40.0, gt=0.0, le=1000.0)
    """Conveyor speed in video mode."""
    color: bool = False
    print_variation: float = Field(default=0.0, ge=0.0, le=0.5)
    """Part-to-part variation of the label printer's ink: each label loses up to this fraction
    of its print contrast (0: every label printed alike)."""
    print_fade: PrintFadeSettings | None = None
    """Simulate a fading label printer (a slow drift the trend warnings should catch)."""


class FolderSourceSettings(Strict):
    """Images from a folder, in name order; each image is one part."""

    type: Literal["folder"]
    path: Path
    pattern: str = "*"
    loop: bool = False
    watch: bool = False
    """Wait for new files after the last one (a camera or another program writing images into
    the folder) instead of ending; each new file is read once it has stopped growing."""


class _ColourChoice(Strict):
    color: bool = False
    """Deliver colour (BGR) frames; grey otherwise, which every tool reads and is cheaper."""


class GenICamSettings(Strict):
    """Camera features shared by GigE Vision and GenTL cameras; None leaves the camera's own value."""

    pixel_format: str | None = None
    """GenICam name such as Mono8, BayerRG8, RGB8Packed; default: the camera's current format."""
    width: int | None = Field(default=None, gt=0)
    height: int | None = Field(default=None, gt=0)
    exposure_us: float | None = Field(default=None, gt=0.0)
    gain_db: float | None = Field(default=None, ge=0.0)
    frame_rate_hz: float | None = Field(default=None, gt=0.0)
    trigger: Literal["free_run", "software", "hardware"] = "free_run"
    """free_run: the camera streams; software: a frame per station trigger (button, API, PLC);
    hardware: a frame per pulse on ``trigger_line``."""
    trigger_line: str = "Line0"
    trigger_edge: Literal["rising", "falling"] = "rising"


class GigESourceSettings(_ColourChoice, GenICamSettings):
    """A GigE Vision camera through Aravis."""

    type: Literal["gige"]
    device: str | None = None
    """Aravis device id (``Vendor-Model-Serial``), serial number or IP address; default: the
    first camera found."""
    packet_size: int | None = Field(default=None, ge=576, le=9000)
    """GVSP packet size in bytes; default: negotiated with the camera."""
    buffers: int = Field(default=16, ge=2, le=256)


class GenTLSourceSettings(_ColourChoice, GenICamSettings):
    """A camera through a vendor's GenTL producer (.cti file), read with harvesters."""

    type: Literal["gentl"]
    producer: Path
    """The GenTL producer (.cti) the camera vendor installs."""
    serial_number: str | None = None
    """Which camera; default: the first one the producer lists."""
    buffers: int = Field(default=8, ge=2, le=256)


class _NetworkCamera(_ColourChoice):
    url: str = Field(min_length=1)
    """May carry ``user:password@``; it is never logged or shown with the password."""
    username: str | None = None
    password: str | None = None
    password_env: str | None = None
    """Name of an environment variable holding the password, so the recipe need not."""
    timeout_s: float = Field(default=5.0, gt=0.0, le=120.0)
    """How long connecting, or waiting for one frame, may take before the camera counts as lost."""


class RtspSourceSettings(_NetworkCamera):
    """An IP camera's RTSP stream (H.264/H.265), decoded with FFmpeg through PyAV."""

    type: Literal["rtsp"]
    transport: Literal["tcp", "udp"] = "tcp"
    low_delay: bool = True
    """Decode each frame as it arrives (no reordering buffer): ~40 ms less delay."""

    @field_validator("url")
    @classmethod
    def _rtsp(cls, v: str) -> str:
        if not v.lower().startswith(("rtsp://", "rtsps://")):
            raise ValueError("an RTSP camera's url starts with rtsp:// or rtsps://")
        return v


class HttpSourceSettings(_NetworkCamera):
    """An IP camera over HTTP: an MJPEG stream, or a snapshot URL polled at ``interval_s``."""

    type: Literal["http"]
    mode: Literal["mjpeg", "snapshot"] = "mjpeg"
    auth: Literal["none", "basic", "digest"] = "basic"
    """How the username/password are sent (ignored without a username)."""
    interval_s: float = Field(default=0.2, gt=0.0, le=3600.0)
    """Snapshot mode: time between two snapshots."""

    @field_validator("url")
    @classmethod
    def _http(cls, v: str) -> str:
        if not v.lower().startswith(("http://", "https://")):
            raise ValueError("an HTTP camera's url starts with http:// or https://")
        return v


class UsbSourceSettings(_ColourChoice):
    """A USB (UVC) camera through V4L2."""

    type: Literal["usb"]
    device: int | str = 0
    """Index (0 = /dev/video0) or device path."""
    width: int | None = Field(default=None, gt=0)
    height: int | None = Field(default=None, gt=0)
    fps: float | None = Field(default=None, gt=0.0)
    fourcc: str | None = Field(default=None, min_length=4, max_length=4)
    """Pixel format asked of the camera, e.g. MJPG (more frames per second over USB 2) or YUYV."""


class VideoSourceSettings(_ColourChoice):
    """A video file, played once or looped; each frame is a frame of a free-running camera."""

    type: Literal["video"]
    path: Path
    loop: bool = False
    real_time: bool = False
    """Play at the file's frame rate (like a live camera, frames dropped when the line is
    behind); otherwise as fast as the line inspects, no frame skipped."""


SourceSettings = Annotated[
    SyntheticSourceSettings
    | FolderSourceSettings
    | GigESourceSettings
    | GenTLSourceSettings
    | RtspSourceSettings
    | HttpSourceSettings
    | UsbSourceSettings
    | VideoSourceSettings,
    Field(discriminator="type"),
]

SOURCE_TYPES = ("synthetic", "folder", "gige", "gentl", "rtsp", "http", "usb", "video")


class CameraHealthSettings(Strict):
    """When a free-running camera counts as lost or frozen (triggered cameras wait for parts)."""

    no_frame_periods: float = Field(default=5.0, gt=0.0, le=10_000.0)
    """No frame for this many frame periods (measured from the stream), but at least
    ``min_no_frame_s``: alarm, then reconnect."""
    min_no_frame_s: float = Field(default=0.5, gt=0.0, le=600.0)
    frozen_frames: int = Field(default=50, ge=0, le=100_000)
    """This many identical frames in a row: alarm, then reconnect (0 = never check)."""


class CameraSettings(Strict):
    id: Identifier
    source: SourceSettings
    privacy_masks: list[list[tuple[float, float]]] = Field(default_factory=list)
    """Polygons (x, y in frame pixels) blacked out at acquisition, before anything sees the frame."""
    health: CameraHealthSettings = Field(default_factory=CameraHealthSettings)

    @field_validator("privacy_masks")
    @classmethod
    def _polygons(cls, v: list[list[tuple[float, float]]]) -> list[list[tuple[float, float]]]:
        for i, poly in enumerate(v):
            if len(poly) < 3:
                raise ValueError(f"mask {i} has {len(poly)} points; a polygon needs at least 3")
        return v
