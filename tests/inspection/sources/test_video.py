"""Video files as cameras: written here with PyAV, played once, looped and in real time."""

from __future__ import annotations

import time
from pathlib import Path

import av
import numpy as np
import pytest

from inspection.errors import SourceError
from inspection.recipe import VideoSourceSettings
from inspection.sources.base import Source
from inspection.sources.video import VideoFile
from inspection.types import Frame

FPS = 20
N = 12


def write_video(path: Path, n: int = N, size: tuple[int, int] = (160, 120)) -> Path:
    """An H.264 file whose frame i is uniformly grey at level 20·i (readable after compression)."""
    width, height = size
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(n):
            grey = np.full((height, width), 20 * i, np.uint8)
            frame = av.VideoFrame.from_ndarray(grey, format="gray")
            out.mux(stream.encode(frame.reformat(format="yuv420p")))
        out.mux(stream.encode(None))
    return path


def video(path: Path, **kw: object) -> VideoFile:
    settings = VideoSourceSettings.model_validate({"type": "video", "path": str(path), **kw})
    return VideoFile(settings, camera="cam2")


def play(source: Source, limit: int = 1000) -> list[Frame]:
    got: list[Frame] = []
    while len(got) < limit and (frame := source.read(1.0)) is not None:
        got.append(frame)
    return got


def level(frame: Frame) -> int:
    return round(float(frame.image.mean()) / 20)


def test_played_once_every_frame_in_order_then_none(tmp_path: Path) -> None:
    src = video(write_video(tmp_path / "line.mp4"))
    assert isinstance(src, Source) and not src.live
    src.open()
    try:
        got = play(src)
        assert src.read(1.0) is None
    finally:
        src.close()
        src.close()  # idempotent
    assert [level(f) for f in got] == list(range(N))
    assert [f.seq for f in got] == list(range(N))
    assert all(f.image.shape == (120, 160) and f.image.dtype == np.uint8 for f in got)
    assert got[0].source_name == "line.mp4#0"


def test_looped_starts_over_and_counts_on(tmp_path: Path) -> None:
    src = video(write_video(tmp_path / "line.mp4"), loop=True, color=True)
    src.open()
    try:
        got = play(src, limit=2 * N + 3)
    finally:
        src.close()
    assert [level(f) for f in got] == [*range(N), *range(N), 0, 1, 2]
    assert [f.seq for f in got] == list(range(2 * N + 3))
    assert got[0].image.shape == (120, 160, 3)


def test_real_time_is_paced_at_the_file_rate_and_drops_what_a_slow_reader_missed(
    tmp_path: Path,
) -> None:
    src = video(write_video(tmp_path / "line.mp4"), real_time=True)
    assert src.live
    src.open()
    try:
        start = time.monotonic()
        first = play(src, limit=4)
        paced = time.monotonic() - start
        time.sleep(4 / FPS)  # a slow line: four frames go by unread
        late = src.read(1.0)
    finally:
        src.close()
    assert paced >= 3 / FPS - 0.01  # frames 0..3 are due at 0, 50, 100, 150 ms
    assert late is not None and late.seq >= first[-1].seq + 4
    assert level(late) == late.seq  # the frame shown is the one due now, not a stale one


def test_real_time_read_times_out_before_the_next_frame_is_due(tmp_path: Path) -> None:
    src = video(write_video(tmp_path / "line.mp4"), real_time=True)
    src.open()
    try:
        assert src.read(1.0) is not None
        with pytest.raises(TimeoutError, match="next video frame is due"):
            src.read(0.001)
    finally:
        src.close()


def test_a_file_that_is_not_a_video_is_refused(tmp_path: Path) -> None:
    notes = tmp_path / "notes.mp4"
    notes.write_text("shift notes, not a video\n" * 50)
    with pytest.raises(SourceError, match=r"notes\.mp4: not a video file"):
        video(notes).open()
    with pytest.raises(SourceError, match="file does not exist"):
        video(tmp_path / "missing.mp4").open()


def test_a_sound_file_has_no_video_stream(tmp_path: Path) -> None:
    path = tmp_path / "beep.wav"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 800), np.int16), format="s16", layout="mono"
        )
        frame.sample_rate = 8000
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    with pytest.raises(SourceError, match="has no video stream"):
        video(path).open()
