"""The send-time stamp survives the codecs the camera simulators use (JPEG, H.264)."""

from __future__ import annotations

import time

import av
import cv2
import numpy as np
import pytest

from inspection.recipe import SyntheticSourceSettings
from inspection.simulators.stamp import STAMP_WIDTH, read_stamp, write_stamp
from inspection.sources.synthetic import SyntheticLine


def line_frames(n: int) -> list[np.ndarray]:
    line = SyntheticLine(
        SyntheticSourceSettings(type="synthetic", mode="video", width=1280, height=320)
    )
    line.open()
    try:
        images = []
        for _ in range(n):
            frame = line.read(1.0)
            assert frame is not None
            images.append(np.array(frame.image, copy=True))
        return images
    finally:
        line.close()


@pytest.mark.parametrize("quality", [50, 85])
def test_stamp_survives_jpeg(quality: int) -> None:
    image = line_frames(1)[0]
    t_ns = time.monotonic_ns()
    write_stamp(image, t_ns)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    decoded = cv2.imdecode(data, cv2.IMREAD_COLOR)
    assert read_stamp(decoded) == t_ns


def test_stamp_survives_h264_in_every_frame() -> None:
    images = line_frames(12)
    sent = [time.monotonic_ns() + i * 40_000_000 for i in range(len(images))]
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = 1280, 320, "yuv420p"
    codec.options = {"tune": "zerolatency", "preset": "ultrafast", "bf": "0", "g": "25"}
    packets = []
    for i, (image, t_ns) in enumerate(zip(images, sent, strict=True)):
        write_stamp(image, t_ns)
        frame = av.VideoFrame.from_ndarray(image, format="gray").reformat(format="yuv420p")
        frame.pts = i
        packets += codec.encode(frame)
    packets += codec.encode(None)
    decoder = av.CodecContext.create("h264", "r")
    got = [read_stamp(f.to_ndarray(format="gray")) for p in packets for f in decoder.decode(p)]
    got += [read_stamp(f.to_ndarray(format="gray")) for f in decoder.decode(None)]
    assert got == sent


def test_no_stamp_reads_as_none_and_narrow_frames_are_refused() -> None:
    assert read_stamp(np.full((64, STAMP_WIDTH), 128, np.uint8)) is None
    with pytest.raises(ValueError, match="at least"):
        write_stamp(np.zeros((64, STAMP_WIDTH - 1), np.uint8), 1)


def test_missing_on_grid_counts_frames_never_received():
    from inspection.simulators.stamp import missing_on_grid

    period_ns = 40_000_000  # 25 fps
    sent = [i * period_ns for i in (0, 1, 2, 5, 6, 9)]
    assert missing_on_grid(sent, 0.04) == 4  # 3, 4, 7, 8
    assert missing_on_grid(sent + sent[:2], 0.04) == 4  # a frame read twice is no frame more
    assert missing_on_grid(sent[:1], 0.04) == 0
