"""RTSP cameras against the GStreamer simulator: H.264/H.265, auth, wrong paths, lost servers."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator

import numpy as np
import pytest
from support.stream_peers import PeerFactory, frames, lost_and_back, peer_factory, restarted_with

from inspection.errors import SourceError
from inspection.recipe import RtspSourceSettings
from inspection.simulators.stamp import read_stamp
from inspection.sources.base import Source

# wide enough for the send-time stamp, low enough for an encoder on two shared cores
W, H = 1280, 320
READ_S = 3.0  # how long one frame may take (an encoder on two shared cores)


@pytest.fixture
def rtsp() -> Iterator[PeerFactory]:
    yield from peer_factory("rtsp")


def camera(url: str, **kw: object) -> Source:
    from inspection.sources.rtsp import RtspCamera

    settings = RtspSourceSettings.model_validate(
        {"type": "rtsp", "url": url, "timeout_s": 2.0, **kw}
    )
    return RtspCamera(settings, camera="cam3")


@pytest.mark.parametrize(
    ("codec", "name", "transport"),
    [("h264", "H.264", "tcp"), ("h265", "H.265", "tcp"), ("h264", "H.264", "udp")],
)
def test_stream_gives_stamped_frames(
    rtsp: PeerFactory, codec: str, name: str, transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    peer = rtsp(width=W, height=H, fps=10, extra=["--codec", codec])
    cam = camera(peer.url, color=True, transport=transport)
    assert cam.live
    cam.open()
    try:
        got = frames(cam, 5, READ_S)
    finally:
        cam.close()
    assert f"open ({name})" in caplog.text
    for f in got:
        assert f.image.shape == (H, W, 3) and f.image.dtype == np.uint8
        assert f.image.flags.c_contiguous
        stamp = read_stamp(f.image)
        assert stamp is not None and stamp <= f.t_ns
    assert [f.seq for f in got] == sorted({f.seq for f in got})


def test_wrong_credentials_are_401_and_never_shown(
    rtsp: PeerFactory, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    peer = rtsp(width=W, height=H, fps=10, extra=["--user", "op", "--password", "Ri9ht"])
    good = camera(peer.url, username="op", password="Ri9ht")
    good.open()
    try:
        assert frames(good, 1, READ_S)[0].image.shape == (H, W)
    finally:
        good.close()
    with pytest.raises(SourceError) as err:
        camera(peer.url.replace("rtsp://", "rtsp://op:Wr0ng@")).open()
    message = str(err.value)
    assert "wrong user name or password (RTSP 401)" in message
    assert f"rtsp://op:***@127.0.0.1:{peer.port}/stream" in message
    out, errs = capfd.readouterr()  # FFmpeg writes to the process's stderr, if anything
    for secret in ("Wr0ng", "Ri9ht"):
        assert secret not in message + caplog.text + out + errs


def test_wrong_path_is_rtsp_404(rtsp: PeerFactory) -> None:
    peer = rtsp(width=W, height=H, fps=10)
    with pytest.raises(SourceError, match=r"/no-such-camera: path not found \(RTSP 404\)"):
        camera(peer.url.replace("/stream", "/no-such-camera")).open()


def test_a_codec_other_than_h264_h265_is_refused(rtsp: PeerFactory) -> None:
    peer = rtsp(width=W, height=H, fps=10, extra=["--codec", "mjpeg"])
    with pytest.raises(
        SourceError, match=r"sends mjpeg, which is not supported \(H\.264 or H\.265"
    ):
        camera(peer.url).open()


def test_unknown_host_is_named_without_the_password() -> None:
    with pytest.raises(SourceError) as err:
        camera("rtsp://op:Pa55@camera-7.invalid/stream").open()
    assert str(err.value) == (
        "camera cam3: rtsp://op:***@camera-7.invalid/stream: host name not found"
    )


def test_closed_port_is_refused_and_a_silent_server_times_out() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connections are refused
        with pytest.raises(SourceError, match="connection refused"):
            camera(f"rtsp://127.0.0.1:{port}/stream").open()
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        port = silent.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(SourceError, match="no answer within 1 s"):
            camera(f"rtsp://127.0.0.1:{port}/stream", timeout_s=1.0).open()
        assert time.monotonic() - start < 2.0


def test_server_killed_mid_stream_is_lost_then_back_within_2_s(rtsp: PeerFactory) -> None:
    peer = rtsp(width=W, height=H, fps=10)
    before, after = lost_and_back(camera(peer.url), peer, limit_s=6.0, timeout_s=READ_S)
    assert after.seq > before[-1].seq  # numbers go on across the reconnect
    assert read_stamp(after.image) is not None


def test_size_and_codec_change_is_reported_with_both(rtsp: PeerFactory) -> None:
    peer = rtsp(width=W, height=H, fps=10)
    args = ["--width", "640", "--height", "480", "--fps", "10", "--codec", "h265"]
    message, after = restarted_with(camera(peer.url), peer, args, limit_s=6.0, timeout_s=READ_S)
    assert "stream changed from 1280×320 H.264 to 640×480 H.265" in message
    assert after.image.shape == (480, 640)
