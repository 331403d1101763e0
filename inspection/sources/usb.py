"""A USB (UVC) camera through V4L2 with OpenCV, read on a reader thread of its own."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import cv2

from inspection.errors import SourceError
from inspection.recipe import UsbSourceSettings
from inspection.sources.stream import StreamCamera

log = logging.getLogger(__name__)

_READ_TIMEOUT_S = 2.0
"""A UVC camera that sends nothing for this long has been unplugged or has hung."""


def device_path(device: int | str) -> Path:
    """``0`` → ``/dev/video0``; a path stays as it is."""
    return Path(f"/dev/video{device}") if isinstance(device, int) else Path(device)


def fourcc_name(code: float) -> str:
    """OpenCV's FOURCC number as its four letters (``MJPG``, ``YUYV``)."""
    value = int(code)
    return "".join(chr((value >> (8 * i)) & 0xFF) for i in range(4)).strip("\0") or "?"


class UsbCamera(StreamCamera):
    """A free-running USB camera; ``read()`` hands out the newest frame."""

    def __init__(self, settings: UsbSourceSettings, camera: str = "cam1") -> None:
        super().__init__(camera, join_s=_READ_TIMEOUT_S + 1.0)
        self._settings = settings
        self.device = device_path(settings.device)

    def open(self) -> None:
        self.close()
        s = self._settings
        where = f"camera {self.camera}: {self.device}"
        if not self.device.exists():
            raise SourceError(f"{where}: no such video device (is the camera plugged in?)")
        capture = cv2.VideoCapture(str(self.device), cv2.CAP_V4L2)
        if not capture.isOpened():
            capture.release()
            raise SourceError(
                f"{where}: cannot be opened as a V4L2 camera (in use by another program, "
                f"no permission, or not a capture device)"
            )
        capture.set(cv2.CAP_PROP_READ_TIMEOUT_MSEC, _READ_TIMEOUT_S * 1000)
        # Fewest buffers the driver allows: a queue of old frames is delay on a live camera.
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        if s.fourcc:
            capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*s.fourcc))
        if s.width:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, s.width)
        if s.height:
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, s.height)
        if s.fps:
            capture.set(cv2.CAP_PROP_FPS, s.fps)
        got_w = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        got_h = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        got_fourcc = fourcc_name(capture.get(cv2.CAP_PROP_FOURCC))
        refused = []
        if (s.width and got_w != s.width) or (s.height and got_h != s.height):
            refused.append(f"size {s.width or got_w}×{s.height or got_h} (gives {got_w}×{got_h})")
        if s.fourcc and got_fourcc != s.fourcc:
            refused.append(f"format {s.fourcc} (gives {got_fourcc})")
        got_fps = capture.get(cv2.CAP_PROP_FPS)
        if s.fps and not math.isclose(got_fps, s.fps, rel_tol=0.05):
            refused.append(f"{s.fps:g} fps (gives {got_fps:g})")
        if refused:
            capture.release()
            raise SourceError(f"{where}: the camera does not offer {', '.join(refused)}")
        codec = got_fourcc

        def step() -> None:
            ok, image = capture.read()
            if not ok or image is None:
                raise SourceError(
                    f"{where}: no frame within {_READ_TIMEOUT_S:g} s (unplugged or stopped)"
                )
            self._deliver(image, codec, s.color, str(self.device))

        self._start_reader("usb", step, capture.release)
        log.info("camera %s: USB %s open (%d×%d %s)", self.camera, self.device, got_w, got_h, codec)
