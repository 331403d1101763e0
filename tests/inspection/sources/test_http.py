"""HTTP cameras against the MJPEG simulator: streams, snapshots, auth, broken frames, lost servers."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from support.pipeline_tools import BrightnessTool, Collector
from support.stream_peers import (
    PeerFactory,
    frames,
    lost_and_back,
    peer_factory,
    restarted_with,
)

from inspection.errors import SourceError
from inspection.pipeline.station import Station
from inspection.recipe import HttpSourceSettings, parse_recipe
from inspection.simulators.peers import measure_stream
from inspection.simulators.stamp import read_stamp
from inspection.sources.base import BadFrameError, Source
from inspection.sources.http import HttpCamera
from inspection.types import Frame, StatusLevel, Verdict

# wide enough for the send-time stamp, low enough to keep two shared cores free
W, H = 1280, 320


@pytest.fixture
def mjpeg() -> Iterator[PeerFactory]:
    yield from peer_factory("mjpeg")


def camera(url: str, **kw: object) -> HttpCamera:
    settings = HttpSourceSettings.model_validate(
        {"type": "http", "url": url, "timeout_s": 2.0, **kw}
    )
    return HttpCamera(settings, camera="cam7")


def test_mjpeg_stream_gives_fresh_stamped_grey_frames(mjpeg: PeerFactory) -> None:
    peer = mjpeg(width=W, height=H)
    cam = camera(peer.url)
    assert isinstance(cam, Source) and cam.live
    cam.open()
    try:
        got = frames(cam, 10)
    finally:
        cam.close()
    for f in got:
        assert f.camera == "cam7"
        assert f.image.shape == (H, W) and f.image.dtype == np.uint8
        assert f.image.flags.c_contiguous
        stamp = read_stamp(f.image)
        assert stamp is not None and stamp <= f.t_ns
        assert "***" not in f.source_name and f.source_name.endswith("/stream")
    seqs = [f.seq for f in got]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_boundary_only_framing_is_read_too(mjpeg: PeerFactory) -> None:
    peer = mjpeg(width=W, height=H, extra=["--framing", "boundary"])
    cam = camera(peer.url, color=True)
    cam.open()
    try:
        got = frames(cam, 5)
    finally:
        cam.close()
    assert all(f.image.shape == (H, W, 3) for f in got)
    assert all(read_stamp(f.image) is not None for f in got)


def test_snapshots_are_polled_at_the_interval(mjpeg: PeerFactory) -> None:
    peer = mjpeg(width=W, height=H)
    cam = camera(peer.url.replace("/stream", "/snapshot.jpg"), mode="snapshot", interval_s=0.25)
    cam.open()
    try:
        got = frames(cam, 4)
    finally:
        cam.close()
    gaps = np.diff([f.t_ns for f in got]) / 1e9
    assert all(g > 0.2 for g in gaps), gaps
    assert len({read_stamp(f.image) for f in got}) == 4  # a new picture each time


@pytest.mark.parametrize("auth", ["basic", "digest"])
def test_auth_with_the_right_password_and_401_with_a_wrong_one(
    mjpeg: PeerFactory, auth: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    peer = mjpeg(width=W, height=H, extra=["--auth", auth, "--user", "op", "--password", "Ri9ht"])
    good = camera(peer.url, auth=auth, username="op", password="Ri9ht")
    good.open()
    try:
        assert frames(good, 2)[0].image.shape == (H, W)
    finally:
        good.close()
    wrong_url = peer.url.replace("http://", "http://op:Wr0ng@")
    with pytest.raises(SourceError) as err:
        camera(wrong_url, auth=auth).open()
    message = str(err.value)
    assert "wrong user name or password (HTTP 401)" in message
    assert f"http://op:***@127.0.0.1:{peer.port}/stream" in message
    assert "Wr0ng" not in message and "Ri9ht" not in caplog.text and "Wr0ng" not in caplog.text
    with pytest.raises(SourceError, match="wants a user name and password"):
        camera(peer.url, auth=auth).open()


def test_wrong_path_is_404(mjpeg: PeerFactory) -> None:
    peer = mjpeg(width=W, height=H)
    with pytest.raises(SourceError, match=r"/nothing-here: path not found \(HTTP 404\)"):
        camera(peer.url.replace("/stream", "/nothing-here")).open()


def test_a_single_image_url_is_not_an_mjpeg_stream(mjpeg: PeerFactory) -> None:
    peer = mjpeg(width=W, height=H)
    with pytest.raises(SourceError, match=r"not an MJPEG stream \(Content-Type image/jpeg\)"):
        camera(peer.url.replace("/stream", "/snapshot.jpg")).open()


def test_closed_port_and_unknown_host_say_so() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connections are refused
        with pytest.raises(SourceError, match="connection refused"):
            camera(f"http://127.0.0.1:{port}/stream").open()
    with pytest.raises(SourceError, match="host name not found"):
        camera("http://camera-7.invalid/stream").open()


def test_a_silent_server_times_out_within_timeout_s() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        port = silent.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(SourceError, match="no answer within 1 s"):
            camera(f"http://127.0.0.1:{port}/stream", timeout_s=1.0).open()
        assert time.monotonic() - start < 1.5


def test_corrupt_jpeg_is_one_bad_frame_and_the_stream_goes_on(mjpeg: PeerFactory) -> None:
    peer = mjpeg(width=W, height=H, extra=["--corrupt-every", "4"])
    cam = camera(peer.url)
    cam.open()
    bad: list[BadFrameError] = []
    good: list[Frame] = []
    order: list[int] = []
    try:
        deadline = time.monotonic() + 10.0
        while (len(bad) < 2 or len(good) < 4) and time.monotonic() < deadline:
            try:
                frame = cam.read(2.0)
            except BadFrameError as exc:
                bad.append(exc)
                order.append(exc.seq)
                continue
            assert frame is not None
            good.append(frame)
            order.append(frame.seq)
    finally:
        cam.close()
    assert len(bad) >= 2 and len(good) >= 4
    assert bad[0].camera == "cam7"
    assert "is not a readable JPEG" in str(bad[0])
    # the bad frame used up its number: the station records that part as ERROR
    assert bad[0].seq not in {f.seq for f in good}
    assert any(f.seq > bad[0].seq for f in good)
    # bad frames and good ones come out in the order they were numbered
    assert order == sorted(order) and len(set(order)) == len(order)


def test_server_killed_mid_stream_is_lost_then_back_within_2_s(mjpeg: PeerFactory) -> None:
    peer = mjpeg(width=W, height=H)
    before, after = lost_and_back(camera(peer.url), peer, limit_s=5.0)
    assert after.seq > before[-1].seq  # numbers go on across the reconnect


def test_resolution_change_is_reported_with_both_sizes(mjpeg: PeerFactory) -> None:
    peer = mjpeg(width=W, height=H)
    args = ["--width", "1280", "--height", "400"]
    message, after = restarted_with(camera(peer.url), peer, args, limit_s=5.0)
    assert "stream changed from 1280×320 MJPEG to 1280×400 MJPEG" in message
    assert after.image.shape == (400, 1280)


def test_station_reconnects_to_a_camera_that_comes_back(mjpeg: PeerFactory) -> None:
    """The whole way: the station alarms when the server dies, reopens it with back-off when it
    returns, and inspects its frames again, part numbers and frame numbers going on."""
    peer = mjpeg(width=W, height=H, fps=10)
    recipe = parse_recipe(
        {
            "name": "http-line",
            "cameras": [
                {
                    "id": "cam1",
                    "source": {"type": "http", "url": peer.url, "timeout_s": 2.0},
                    "health": {"frozen_frames": 0},
                }
            ],
        },
        "test-recipe",
    )
    collector = Collector()
    station = Station(recipe, store_results=False, make_tools=lambda: [BrightnessTool(minimum=0.0)])
    station.add_listener(collector)

    def wait_for(what: str, condition: Callable[[], bool], limit_s: float) -> None:
        deadline = time.monotonic() + limit_s
        while not condition():
            assert time.monotonic() < deadline, f"{what} within {limit_s:g} s"
            time.sleep(0.02)

    station.start()
    try:
        wait_for("3 parts", lambda: len(collector.inspections) >= 3, 10.0)
        peer.kill()
        killed = time.monotonic()
        wait_for(
            "a camera alarm",
            lambda: any(
                s.level is StatusLevel.ALARM and s.source == "cam1" for s in collector.status
            ),
            3.0,
        )
        assert time.monotonic() - killed < 2.5
        parts_before = len(collector.inspections)
        peer.start()
        wait_for("parts again", lambda: len(collector.inspections) >= parts_before + 3, 15.0)
    finally:
        station.stop(timeout_s=10.0)
    frames_seen = [f.seq for i in collector.inspections for f in i.frames]
    assert frames_seen == sorted(frames_seen)
    assert [i.part_seq for i in collector.inspections] == list(range(len(collector.inspections)))
    assert all(i.verdict is Verdict.PASS for i in collector.inspections[parts_before:])


def test_stream_figures_count_frames_latency_and_bad_frames(mjpeg: PeerFactory) -> None:
    peer = mjpeg(width=W, height=H, fps=20, extra=["--corrupt-every", "5"])
    cam = camera(peer.url)
    cam.open()
    try:
        figures = measure_stream(cam, 1.5, sent_fps=20)
    finally:
        cam.close()
    assert figures.frames >= 15 and figures.bad_frames >= 4
    assert figures.seq_gaps >= figures.bad_frames  # each bad frame used up its number
    assert 0.0 < figures.latency_median_ms < 1000.0 and figures.unstamped == 0
    # the corrupt parts were sent but not received: counted from the send times
    assert figures.lost >= figures.bad_frames - 1
