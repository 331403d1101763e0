"""Camera health: the no-frame limit follows the stream's own frame period; frozen frames."""

from __future__ import annotations

import numpy as np

from inspection.pipeline.camera_health import CameraHealth
from inspection.recipe import CameraHealthSettings
from inspection.types import Frame

MS = 1_000_000


def frame(value: int) -> Frame:
    img = np.zeros((64, 64), np.uint8)
    img[0, 0] = value
    img[8, 8] = value  # on the sampling grid
    return Frame(camera="c", seq=value, t_ns=0, image=img)


def test_no_frame_limit_is_n_periods_but_never_below_the_floor():
    h = CameraHealth("c", CameraHealthSettings(no_frame_periods=5, min_no_frame_s=0.5))
    for i in range(10):
        h.frame(frame(i), i * 200 * MS)  # 5 fps
    assert h.no_frame_limit_s() == 1.0
    assert h.idle(9 * 200 * MS + 900 * MS) is None
    problem = h.idle(9 * 200 * MS + 1100 * MS)
    assert problem is not None and "no frame for 1.1 s" in problem
    fast = CameraHealth("c", CameraHealthSettings(no_frame_periods=5, min_no_frame_s=0.5))
    for i in range(10):
        fast.frame(frame(i), i * 10 * MS)  # 100 fps: 50 ms would be too jumpy
    assert fast.no_frame_limit_s() == 0.5


def test_identical_frames_in_a_row_are_frozen_and_changing_ones_are_not():
    h = CameraHealth("c", CameraHealthSettings(frozen_frames=3))
    assert [h.frame(frame(i), i * MS) for i in range(10)] == [None] * 10
    out = [h.frame(frame(7), (20 + i) * MS) for i in range(3)]
    assert out[:2] == [None, None] and out[2] is not None and "frozen" in out[2]
    never = CameraHealth("c", CameraHealthSettings(frozen_frames=0))
    assert all(never.frame(frame(1), i * MS) is None for i in range(100))


def test_a_reopened_camera_delivers_again_only_once_a_frozen_picture_moves():
    h = CameraHealth("c", CameraHealthSettings(frozen_frames=3))
    h.opened(0)
    assert not h.delivering()  # open, but nothing came yet
    h.frame(frame(1), 1 * MS)
    assert h.delivering()
    assert [h.frame(frame(1), (2 + i) * MS) for i in range(2)][-1] is not None  # frozen
    h.opened(10 * MS)
    h.frame(frame(1), 11 * MS)
    assert not h.delivering()  # the same picture after reconnecting proves nothing
    h.frame(frame(2), 12 * MS)
    assert h.delivering()
