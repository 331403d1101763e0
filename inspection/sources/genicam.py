"""What GigE Vision (Aravis) and GenTL (harvesters) cameras share: setting GenICam features from a
recipe, turning a camera buffer into a Lineside image, numbering frames and pending software
triggers. The two camera modules only adapt their library to ``Features``; the logic lives here once.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Protocol

import cv2
import numpy as np

from inspection.errors import SourceError
from inspection.recipe import GenICamSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraInfo:
    """One camera a scan found: what to put in a recipe's ``device`` / ``serial_number``."""

    device_id: str
    vendor: str
    model: str
    serial: str
    address: str
    """IP address for GigE Vision; the GenTL interface's name for a producer's camera."""


class FeatureError(Exception):
    """The camera refused or lacks a feature; the adapters raise it with the library's reason."""


class Features(Protocol):
    """The few GenICam node operations Lineside needs, over Aravis or a GenApi node map."""

    def has(self, name: str) -> bool:
        """Whether the camera has this feature and it can be used now."""
        ...

    def enum_values(self, name: str) -> list[str]:
        """The values an enumeration feature accepts now."""
        ...

    def get_enum(self, name: str) -> str: ...

    def set_enum(self, name: str, value: str) -> None: ...

    def set_number(self, name: str, value: float) -> None:
        """Set an integer or float feature (integers are rounded)."""
        ...

    def set_bool(self, name: str, value: bool) -> None: ...

    def execute(self, name: str) -> None:
        """Run a command feature such as ``TriggerSoftware``."""
        ...


# Feature names differ between SFNC versions; the first one the camera has is used.
_EXPOSURE = ("ExposureTime", "ExposureTimeAbs")
_GAIN_DB = ("Gain", "GainAbs")
_FRAME_RATE = ("AcquisitionFrameRate", "AcquisitionFrameRateAbs")
_EDGES = {"rising": "RisingEdge", "falling": "FallingEdge"}


def apply_settings(features: Features, settings: GenICamSettings, camera: str) -> None:
    """Set the recipe's GenICam features on an open camera that is not acquiring.

    SourceError names the feature and value the camera lacks or refused, so the recipe can be fixed.
    """
    _set_enum_if_present(features, "AcquisitionMode", "Continuous", camera)
    if settings.pixel_format is not None:
        _set_enum(features, "PixelFormat", settings.pixel_format, camera, "pixel_format")
    if settings.width is not None:
        _set_number(features, ("Width",), settings.width, camera, "width")
    if settings.height is not None:
        _set_number(features, ("Height",), settings.height, camera, "height")
    if settings.exposure_us is not None:
        _set_enum_if_present(features, "ExposureAuto", "Off", camera)
        _set_number(features, _EXPOSURE, settings.exposure_us, camera, "exposure_us")
    if settings.gain_db is not None:
        _set_enum_if_present(features, "GainAuto", "Off", camera)
        _set_number(features, _GAIN_DB, settings.gain_db, camera, "gain_db")
    if settings.frame_rate_hz is not None:
        if features.has("AcquisitionFrameRateEnable"):
            _call(
                lambda: features.set_bool("AcquisitionFrameRateEnable", True),
                camera,
                "AcquisitionFrameRateEnable",
                "True",
            )
        _set_number(features, _FRAME_RATE, settings.frame_rate_hz, camera, "frame_rate_hz")
    _apply_trigger(features, settings, camera)


def _apply_trigger(features: Features, settings: GenICamSettings, camera: str) -> None:
    if settings.trigger == "free_run":
        # A camera left triggered by another program would otherwise never send a frame.
        if features.has("TriggerMode"):
            if "FrameStart" in _values(features, "TriggerSelector"):
                _set_enum(features, "TriggerSelector", "FrameStart", camera, "trigger")
            _set_enum(features, "TriggerMode", "Off", camera, "trigger")
        return
    if not features.has("TriggerMode"):
        raise SourceError(
            f"camera {camera}: trigger {settings.trigger!r} is not supported by this camera "
            "(it has no TriggerMode feature)"
        )
    if features.has("TriggerSelector"):
        _set_enum(features, "TriggerSelector", "FrameStart", camera, "trigger")
    if settings.trigger == "software":
        _set_enum(features, "TriggerSource", "Software", camera, "trigger")
        if not features.has("TriggerSoftware"):
            raise SourceError(
                f"camera {camera}: trigger 'software' is not supported by this camera "
                "(it has no TriggerSoftware command)"
            )
    else:
        _set_enum(features, "TriggerSource", settings.trigger_line, camera, "trigger_line")
        edge = _EDGES[settings.trigger_edge]
        if features.has("TriggerActivation"):
            _set_enum(features, "TriggerActivation", edge, camera, "trigger_edge")
        elif settings.trigger_edge != "rising":
            raise SourceError(
                f"camera {camera}: trigger_edge {settings.trigger_edge!r} is not supported by "
                "this camera (it has no TriggerActivation feature)"
            )
    _set_enum(features, "TriggerMode", "On", camera, "trigger")


def _values(features: Features, name: str) -> list[str]:
    if not features.has(name):
        return []
    try:
        return features.enum_values(name)
    except FeatureError:
        return []


def _set_enum(features: Features, name: str, value: str, camera: str, setting: str) -> None:
    if not features.has(name):
        raise SourceError(
            f"camera {camera}: {setting} {value!r} is not supported by this camera "
            f"(it has no {name} feature)"
        )
    offered = _values(features, name)
    if offered and value not in offered:
        raise SourceError(
            f"camera {camera}: {name} {value!r} ({setting}) is not supported by this camera; "
            f"it offers: {', '.join(offered)}"
        )
    _call(lambda: features.set_enum(name, value), camera, name, value)


def _set_enum_if_present(features: Features, name: str, value: str, camera: str) -> None:
    """Set an optional enumeration when the camera offers the value and has another one now
    (some producers expose such features read-only once they hold the right value)."""
    if value not in _values(features, name):
        return
    try:
        current: str | None = features.get_enum(name)
    except FeatureError:
        current = None  # unreadable now: setting it names the problem, if there is one
    if current == value:
        return
    _call(partial(features.set_enum, name, value), camera, name, value)


def _set_number(
    features: Features, names: tuple[str, ...], value: float, camera: str, setting: str
) -> None:
    for name in names:
        if features.has(name):
            _call(partial(features.set_number, name, value), camera, name, f"{value:g}")
            return
    raise SourceError(
        f"camera {camera}: {setting} {value:g} is not supported by this camera "
        f"(it has no {' or '.join(names)} feature)"
    )


def _call(action: Callable[[], None], camera: str, name: str, value: str) -> None:
    try:
        action()
    except FeatureError as exc:
        raise SourceError(f"camera {camera}: cannot set {name} to {value}: {exc}") from None


# ---- pixel formats --------------------------------------------------------------------------

# PFNC codes (what a GigE Vision buffer carries) of the formats Lineside converts.
PIXEL_FORMAT_CODES: dict[int, str] = {
    0x01080001: "Mono8",
    0x01100003: "Mono10",
    0x01100005: "Mono12",
    0x01100025: "Mono14",
    0x01100007: "Mono16",
    0x01080008: "BayerGR8",
    0x01080009: "BayerRG8",
    0x0108000A: "BayerGB8",
    0x0108000B: "BayerBG8",
    0x0110000C: "BayerGR10",
    0x0110000D: "BayerRG10",
    0x0110000E: "BayerGB10",
    0x0110000F: "BayerBG10",
    0x01100010: "BayerGR12",
    0x01100011: "BayerRG12",
    0x01100012: "BayerGB12",
    0x01100013: "BayerBG12",
    0x0110002E: "BayerGR16",
    0x0110002F: "BayerRG16",
    0x01100030: "BayerGB16",
    0x01100031: "BayerBG16",
    0x02180014: "RGB8",
    0x02180015: "BGR8",
    0x02200016: "RGBa8",
    0x02200017: "BGRa8",
    0x0210001F: "YUV422_8_UYVY",
    0x02100032: "YUV422_8",
}

# Older names some cameras still report for the same layouts.
_ALIASES = {
    "RGB8Packed": "RGB8",
    "BGR8Packed": "BGR8",
    "RGBA8Packed": "RGBa8",
    "BGRA8Packed": "BGRa8",
    "RGBA8": "RGBa8",
    "BGRA8": "BGRa8",
    "YUV422Packed": "YUV422_8_UYVY",
    "YUV422_YUYV_Packed": "YUV422_8",
}

# GenICam names the 2×2 tile from its top-left pixel; OpenCV's codes say the same explicitly.
_SUPPORTED = frozenset(PIXEL_FORMAT_CODES.values())
_BAYER_TO_BGR = {
    "RG": cv2.COLOR_BayerRGGB2BGR,
    "GB": cv2.COLOR_BayerGBRG2BGR,
    "GR": cv2.COLOR_BayerGRBG2BGR,
    "BG": cv2.COLOR_BayerBGGR2BGR,
}
_BAYER_TO_GREY = {
    "RG": cv2.COLOR_BayerRGGB2GRAY,
    "GB": cv2.COLOR_BayerGBRG2GRAY,
    "GR": cv2.COLOR_BayerGRBG2GRAY,
    "BG": cv2.COLOR_BayerBGGR2GRAY,
}
_SINGLE_PLANE = re.compile(r"(?:Mono|Bayer(?P<tile>RG|GB|GR|BG))(?P<bits>8|10|12|14|16)")


class PixelFormatError(ValueError):
    """A buffer that cannot be turned into an image (unknown format, too short)."""


def canonical_pixel_format(name: str) -> str:
    """The PFNC name of a pixel format, whatever older alias the camera used."""
    return _ALIASES.get(name, name)


def is_supported_pixel_format(name: str) -> bool:
    """Whether ``to_image`` converts this format."""
    return canonical_pixel_format(name) in _SUPPORTED


def current_pixel_format(features: Features, camera: str) -> str:
    """The format the camera will send, once the recipe is applied; SourceError when Lineside
    cannot convert it (naming the formats of this camera it can)."""
    if not features.has("PixelFormat"):
        raise SourceError(f"camera {camera}: the camera has no PixelFormat feature")
    try:
        fmt = features.get_enum("PixelFormat")
    except FeatureError as exc:
        raise SourceError(f"camera {camera}: cannot read PixelFormat: {exc}") from None
    if not is_supported_pixel_format(fmt):
        usable = [f for f in _values(features, "PixelFormat") if is_supported_pixel_format(f)]
        raise SourceError(
            f"camera {camera}: pixel format {fmt} cannot be converted by Lineside; set "
            f"pixel_format to one of: {', '.join(usable) or '(none this camera offers)'}"
        )
    return fmt


def to_image(
    data: np.ndarray, width: int, height: int, pixel_format: str, color: bool
) -> np.ndarray:
    """A camera buffer as a Lineside image.

    data: the raw payload, 1-D (any dtype, read as bytes), at least one frame long.
    Returns uint8 C-contiguous (height, width) grey, or (height, width, 3) BGR when ``color``.
    Deeper formats (10–16 bit, little-endian unpacked) keep their top 8 bits.
    Raises PixelFormatError for an unknown format or a short buffer.
    """
    fmt = canonical_pixel_format(pixel_format)
    raw = np.ascontiguousarray(data).reshape(-1).view(np.uint8)
    single = _SINGLE_PLANE.fullmatch(fmt)
    if single is not None:
        plane = _plane(raw, width, height, int(single["bits"]))
        tile = single["tile"]
        if tile is None:
            return cv2.cvtColor(plane, cv2.COLOR_GRAY2BGR) if color else plane
        code = _BAYER_TO_BGR[tile] if color else _BAYER_TO_GREY[tile]
        return np.ascontiguousarray(cv2.cvtColor(plane, code))
    if fmt in ("RGB8", "BGR8", "RGBa8", "BGRa8"):
        channels = 3 if fmt.endswith("8") and "a" not in fmt else 4
        pixels = _take(raw, width * height * channels, pixel_format).reshape(
            height, width, channels
        )
        rgb_order = fmt.startswith("RGB")
        if color:
            if channels == 4:
                code = cv2.COLOR_RGBA2BGR if rgb_order else cv2.COLOR_BGRA2BGR
                return np.ascontiguousarray(cv2.cvtColor(pixels, code))
            if rgb_order:
                return np.ascontiguousarray(cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR))
            return pixels.copy()
        if channels == 4:
            code = cv2.COLOR_RGBA2GRAY if rgb_order else cv2.COLOR_BGRA2GRAY
        else:
            code = cv2.COLOR_RGB2GRAY if rgb_order else cv2.COLOR_BGR2GRAY
        return np.ascontiguousarray(cv2.cvtColor(pixels, code))
    if fmt in ("YUV422_8", "YUV422_8_UYVY"):
        pixels = _take(raw, width * height * 2, pixel_format).reshape(height, width, 2)
        if fmt == "YUV422_8":
            code = cv2.COLOR_YUV2BGR_YUYV if color else cv2.COLOR_YUV2GRAY_YUYV
        else:
            code = cv2.COLOR_YUV2BGR_UYVY if color else cv2.COLOR_YUV2GRAY_UYVY
        return np.ascontiguousarray(cv2.cvtColor(pixels, code))
    raise PixelFormatError(f"pixel format {pixel_format} is not supported")


def _take(raw: np.ndarray, size: int, pixel_format: str) -> np.ndarray:
    if raw.size < size:
        raise PixelFormatError(
            f"incomplete {pixel_format} buffer: {raw.size} bytes, a frame needs {size}"
        )
    return raw[:size]


def _plane(raw: np.ndarray, width: int, height: int, bits: int) -> np.ndarray:
    if bits == 8:
        return _take(raw, width * height, f"{bits}-bit").reshape(height, width).copy()
    wide = _take(raw, width * height * 2, f"{bits}-bit").view("<u2").reshape(height, width)
    return np.ascontiguousarray((wide >> (bits - 8)).astype(np.uint8))


# ---- frame numbering and software triggers --------------------------------------------------


class FrameNumbers:
    """Per-camera ``seq`` from the camera's own frame (block) ids, so gaps show lost frames.

    GigE Vision 1.x block ids are 16 bit and skip 0 when they wrap; a new stream (after a
    reconnect) starts its ids afresh, so its first frame simply follows the last ``seq``.
    """

    _WRAP = 0xFFFF

    def __init__(self) -> None:
        self._next = 0
        self._last_id: int | None = None
        self.lost = 0

    def new_stream(self) -> None:
        self._last_id = None

    def take(self, frame_id: int | None) -> int:
        """The ``seq`` of a frame with this camera id (None: the camera gives none)."""
        step = 1
        if frame_id is not None and self._last_id is not None:
            if frame_id > self._last_id:
                step = frame_id - self._last_id
            elif self._last_id > self._WRAP - 4096 and frame_id < 4096:
                step = frame_id + self._WRAP - self._last_id
            # anything else (id went back): the camera restarted its count; no gap is known
        if frame_id is not None:
            self._last_id = frame_id
        self.lost += step - 1
        seq = self._next + step - 1
        self._next = seq + 1
        return seq


class PendingTriggers:
    """Software trigger ids waiting for their frame, oldest first; shared by two threads."""

    def __init__(self) -> None:
        self._ids: deque[int] = deque()
        self._lock = threading.Lock()

    def push(self, trigger_id: int) -> None:
        with self._lock:
            self._ids.append(trigger_id)

    def pop(self) -> int | None:
        with self._lock:
            return self._ids.popleft() if self._ids else None

    def discard(self, trigger_id: int) -> None:
        """Forget a trigger the camera never accepted (the newest one with this id)."""
        with self._lock:
            for i in range(len(self._ids) - 1, -1, -1):
                if self._ids[i] == trigger_id:
                    del self._ids[i]
                    return

    def clear(self) -> None:
        with self._lock:
            self._ids.clear()


def fire_software_trigger(
    features: Features | None,
    pending: PendingTriggers,
    settings: GenICamSettings,
    camera: str,
    device_name: str,
    trigger_id: int,
) -> None:
    """Execute TriggerSoftware on a connected camera (``features`` None: not connected); the
    frame that answers is delivered with ``trigger_id``. SourceError says why not."""
    if settings.trigger != "software":
        raise SourceError(
            f"camera {camera}: a software trigger needs trigger: software in the "
            f"recipe (it is {settings.trigger})"
        )
    if features is None:
        raise SourceError(f"camera {camera}: not connected, trigger not sent")
    # pushed first: the answer may arrive on the reading thread before execute() returns
    pending.push(trigger_id)
    try:
        features.execute("TriggerSoftware")
    except FeatureError as exc:
        pending.discard(trigger_id)
        raise SourceError(
            f"camera {camera}: TriggerSoftware failed on {device_name}: {exc}"
        ) from None
