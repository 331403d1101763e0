"""Testing a camera from the camera settings: what came, or why nothing did."""

from __future__ import annotations

import socket
from pathlib import Path

import cv2
import numpy as np

from inspection.recipe import CameraSettings
from inspection.sources.probe import probe_camera


def test_a_working_camera_reports_size_colour_and_rate():
    cam = CameraSettings.model_validate(
        {
            "id": "c",
            "source": {
                "type": "synthetic",
                "mode": "video",
                "rate_hz": 25,
                "width": 640,
                "height": 480,
            },
        }
    )
    result = probe_camera(cam, frames=8)
    assert result.ok and result.frames == 8
    assert result.message.startswith("640×480 grey, ")
    assert result.fps is not None and 15 < result.fps < 40
    assert result.frame is not None and result.frame.image.shape == (480, 640)


def test_a_folder_with_one_image_gives_that_image(tmp_path: Path):
    cv2.imwrite(str(tmp_path / "a.png"), np.full((30, 40, 3), 90, np.uint8))
    cam = CameraSettings.model_validate(
        {"id": "c", "source": {"type": "folder", "path": str(tmp_path)}}
    )
    result = probe_camera(cam)
    assert result.ok and result.frames == 1 and result.message == "40×30 colour"


def test_unreachable_camera_says_why_without_the_password():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cam = CameraSettings.model_validate(
        {
            "id": "c",
            "source": {
                "type": "http",
                "url": f"http://op:hunter2@127.0.0.1:{port}/mjpg",
                "timeout_s": 2,
            },
        }
    )
    result = probe_camera(cam, timeout_s=3)
    assert not result.ok and result.frame is None
    assert result.message.startswith("cannot connect")
    assert "hunter2" not in result.message and f"127.0.0.1:{port}" in result.message
