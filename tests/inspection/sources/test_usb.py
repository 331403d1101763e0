"""USB cameras: the paths that can be tested without a camera or v4l2loopback.

This sandbox's kernel cannot load modules (no v4l2loopback), and no camera is plugged in, so
frame capture itself is not exercised here; what a missing or wrong device gives is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from inspection.errors import SourceError
from inspection.recipe import UsbSourceSettings
from inspection.sources.base import Source
from inspection.sources.usb import UsbCamera, device_path, fourcc_name


def usb(**kw: object) -> UsbCamera:
    return UsbCamera(UsbSourceSettings.model_validate({"type": "usb", **kw}), camera="cam5")


def test_is_a_live_source_and_names_its_device() -> None:
    cam = usb(device=3)
    assert isinstance(cam, Source) and cam.live
    assert cam.device == Path("/dev/video3")
    assert device_path("/dev/v4l/by-id/usb-cam") == Path("/dev/v4l/by-id/usb-cam")


def test_missing_device_is_a_clear_source_error() -> None:
    missing = next(i for i in range(64, 128) if not Path(f"/dev/video{i}").exists())
    cam = usb(device=missing)
    with pytest.raises(SourceError) as err:
        cam.open()
    assert str(err.value) == (
        f"camera cam5: /dev/video{missing}: no such video device (is the camera plugged in?)"
    )
    cam.close()  # nothing opened: still fine
    with pytest.raises(SourceError, match="read\\(\\) before open\\(\\)"):
        cam.read(0.1)


def test_a_file_that_is_not_a_capture_device_is_refused(tmp_path: Path) -> None:
    not_a_camera = tmp_path / "video0"
    not_a_camera.write_bytes(b"\0" * 64)
    with pytest.raises(SourceError, match="cannot be opened as a V4L2 camera"):
        usb(device=str(not_a_camera)).open()


def test_fourcc_names() -> None:
    assert fourcc_name(float(0x47504A4D)) == "MJPG"
    assert fourcc_name(float(0x56595559)) == "YUYV"
    assert fourcc_name(0.0) == "?"
