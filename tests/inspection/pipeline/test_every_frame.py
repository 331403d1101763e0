"""Every-frame trigger with several cameras: frames with one trigger id make one part."""

from __future__ import annotations

import time

import numpy as np

from inspection.pipeline.triggers import EveryFrame
from inspection.types import Frame


def frame(camera: str, seq: int, trigger_id: int | None) -> Frame:
    return Frame(
        camera=camera, seq=seq, t_ns=seq, image=np.zeros((2, 2), np.uint8), trigger_id=trigger_id
    )


def test_hardware_triggered_cameras_are_grouped_by_trigger_id_not_frame_number():
    trig = EveryFrame(["top", "side"])
    # the side camera lost a frame earlier, so its frame numbers are one behind
    assert trig.on_frame("top", frame("top", 10, trigger_id=500)) == []
    assert trig.on_frame("top", frame("top", 11, trigger_id=501)) == []
    parts = trig.on_frame("side", frame("side", 9, trigger_id=500))
    assert len(parts) == 1
    assert {c: f.seq for c, f in parts[0].frames.items()} == {"top": 10, "side": 9}
    parts = trig.on_frame("side", frame("side", 10, trigger_id=501))
    assert {c: f.trigger_id for c, f in parts[0].frames.items()} == {"top": 501, "side": 501}


def test_a_camera_missing_a_trigger_leaves_that_part_an_error():
    trig = EveryFrame(["top", "side"], wait_s=0.05)
    assert trig.on_frame("top", frame("top", 1, trigger_id=7)) == []
    assert trig.poll() == []  # still waiting for the side camera
    time.sleep(0.1)
    parts = trig.poll()
    assert len(parts) == 1 and parts[0].errors == {"side": "no frame from camera side"}
