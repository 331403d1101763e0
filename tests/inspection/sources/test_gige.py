"""GigE Vision source against Aravis's fake camera, a real GVCP/GVSP peer in a network namespace.

The fake camera draws a known picture: pixel (x, y) of frame ``id`` has index
(x + y + id) mod 255, shown as that grey level (Mono8) or that entry of the jet colour map
(RGB8, and Bayer mosaics of it). That makes every conversion checkable pixel by pixel.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
from support.gige_peer import running_fake_camera

from inspection.errors import SourceError
from inspection.recipe import GigESourceSettings
from inspection.simulators.gige_camera import FakeGigECamera
from inspection.sources.gige import GigECamera, discover_gige
from inspection.types import Frame

pytestmark = pytest.mark.timeout(120)

SERIAL = "LSTEST1"
W, H = 320, 240


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGigECamera]:
    yield from running_fake_camera(SERIAL)


def settings(fake: FakeGigECamera, **changes: object) -> GigESourceSettings:
    values: dict[str, object] = {
        "type": "gige",
        "device": fake.device_id,
        "width": W,
        "height": H,
        "pixel_format": "Mono8",
        "frame_rate_hz": 50.0,
    }
    values.update(changes)
    return GigESourceSettings.model_validate(values)


def opened(fake: FakeGigECamera, **changes: object) -> GigECamera:
    source = GigECamera(settings(fake, **changes), camera="cam1")
    with fake.inside():
        source.open()
    return source


def frame_id(frame: Frame) -> int:
    return int(frame.source_name.rsplit("#", 1)[1])


def pattern_index(fid: int) -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W]
    return (x + y + fid) % 255


def test_scan_lists_the_fake_camera(fake: FakeGigECamera) -> None:
    with fake.inside():
        found = discover_gige()
    assert [(c.device_id, c.vendor, c.model, c.serial, c.address) for c in found] == [
        (fake.device_id, "Aravis", "Fake", SERIAL, "127.0.0.1")
    ]


def test_mono8_frames_are_the_cameras_picture_numbered_without_gaps(fake: FakeGigECamera) -> None:
    source = opened(fake)
    try:
        assert source.live
        frames = [source.read(2.0) for _ in range(5)]
    finally:
        source.close()
    for f in frames:
        assert f.image.dtype == np.uint8 and f.image.shape == (H, W)
        assert f.image.flags.c_contiguous
        np.testing.assert_array_equal(f.image, pattern_index(frame_id(f)))
        assert f.trigger_id is None and f.camera == "cam1"
    assert [f.seq for f in frames] == list(range(frames[0].seq, frames[0].seq + 5))
    ids = [frame_id(f) for f in frames]
    assert all(b - a == 1 or (a == 65535 and b == 1) for a, b in itertools.pairwise(ids))
    now = time.monotonic_ns()
    assert all(0 <= now - f.t_ns < 5_000_000_000 for f in frames)
    assert [f.t_ns for f in frames] == sorted(f.t_ns for f in frames)


def test_mono8_in_colour_is_grey_bgr(fake: FakeGigECamera) -> None:
    source = opened(fake, color=True)
    try:
        f = source.read(2.0)
    finally:
        source.close()
    assert f.image.shape == (H, W, 3)
    for c in range(3):
        np.testing.assert_array_equal(f.image[:, :, c], pattern_index(frame_id(f)))


def colour_table(frame: Frame) -> np.ndarray:
    """The camera's 255 colours (BGR) as an RGB8 frame shows them, checked to be one per index."""
    index = pattern_index(frame_id(frame))
    table = np.zeros((255, 3), np.uint8)
    for i in range(255):
        pixels = frame.image[index == i]
        assert (pixels == pixels[0]).all(), f"index {i} has several colours"
        table[i] = pixels[0]
    return table


def test_rgb8_arrives_as_bgr(fake: FakeGigECamera) -> None:
    source = opened(fake, pixel_format="RGB8", color=True)
    try:
        table = colour_table(source.read(2.0))
    finally:
        source.close()
    # The jet colour map starts dark blue (r, g, b) = (0, 0, 132) and ends in red.
    assert table[0].tolist() == [132, 0, 0]
    assert table[254][2] > 100 and table[254][0] == 0


# Aravis 0.8's fake camera (arvfakecamera.c) draws BayerRG8 with a blue top-left pixel and BayerBG8
# with a red one: those two tiles are exchanged on its side, so red and blue come out exchanged.
# test_genicam pins each tile order against mosaics built independently with numpy.
FAKE_SWAPS_RED_AND_BLUE = {"BayerRG8", "BayerBG8"}


@pytest.mark.parametrize("bayer", ["BayerRG8", "BayerGB8", "BayerGR8", "BayerBG8"])
def test_bayer_mosaics_demosaic_to_the_cameras_colours(fake: FakeGigECamera, bayer: str) -> None:
    source = opened(fake, pixel_format="RGB8", color=True)
    try:
        table = colour_table(source.read(2.0))
    finally:
        source.close()
    source = opened(fake, pixel_format=bayer, color=True)
    try:
        f = source.read(2.0)
    finally:
        source.close()
    if bayer in FAKE_SWAPS_RED_AND_BLUE:
        table = table[:, ::-1]
    expected = table[pattern_index(frame_id(f))]
    error = np.abs(f.image.astype(int) - expected.astype(int))[4:-4, 4:-4]
    # Demosaicing blurs the colour ramp slightly; a wrong tile order swaps red and blue outright.
    assert np.median(error) <= 4, f"{bayer}: median error {np.median(error)}"


def test_software_trigger_gives_one_frame_per_trigger_with_its_id(fake: FakeGigECamera) -> None:
    source = opened(fake, trigger="software")
    try:
        assert not source.live
        with pytest.raises(TimeoutError):
            source.read(0.3)  # no trigger, no frame (and the camera is there: no SourceError)
        ids = []
        for trigger_id in (7, 8, 42):
            # from another thread, as the station's trigger logic does
            t = threading.Thread(target=source.fire_trigger, args=(trigger_id,))
            t.start()
            t.join(5.0)
            ids.append(source.read(2.0).trigger_id)
        assert ids == [7, 8, 42]
    finally:
        source.close()
    with pytest.raises(SourceError, match="not connected"):
        source.fire_trigger(9)


def test_lost_camera_is_reported_within_a_second_and_comes_back(fake: FakeGigECamera) -> None:
    source = opened(fake)
    try:
        first = source.read(2.0)
        assert fake.pid is not None
        fake.kill()
        killed = time.monotonic()
        with pytest.raises(SourceError, match=r"no longer answers|lost control"):
            while time.monotonic() - killed < 5.0:
                try:
                    source.read(0.2)
                except TimeoutError:
                    continue
        assert time.monotonic() - killed < 1.0
        source.close()
        with fake.inside(), pytest.raises(SourceError, match="no GigE Vision camera found"):
            source.open()
        fake.restart()
        back = time.monotonic()
        with fake.inside():
            source.open()
        again = source.read(2.0)
        assert time.monotonic() - back < 2.0
        assert again.seq > first.seq  # seq keeps counting across the reconnect
        np.testing.assert_array_equal(again.image, pattern_index(frame_id(again)))
    finally:
        source.close()
        source.close()  # idempotent


def test_unknown_device_is_named(fake: FakeGigECamera) -> None:
    source = GigECamera(settings(fake, device="Acme-Nope-123"), camera="cam2")
    with fake.inside(), pytest.raises(SourceError) as info:
        source.open()
    assert "'Acme-Nope-123' not found" in str(info.value)
    assert fake.device_id in str(info.value) and "cam2" in str(info.value)


def test_unsupported_pixel_format_names_it_and_the_cameras_formats(fake: FakeGigECamera) -> None:
    source = GigECamera(settings(fake, pixel_format="YUV422_8"), camera="cam1")
    with fake.inside(), pytest.raises(SourceError) as info:
        source.open()
    message = str(info.value)
    assert "PixelFormat 'YUV422_8'" in message
    assert "Mono8" in message and "BayerRG8" in message and "RGB8" in message
    # the device is released: the camera can be opened again at once
    ok = opened(fake)
    ok.close()


def test_feature_the_camera_lacks_is_named(fake: FakeGigECamera) -> None:
    source = GigECamera(settings(fake, gain_db=3.0), camera="cam1")
    with fake.inside(), pytest.raises(SourceError) as info:
        source.open()
    assert "gain_db 3" in str(info.value) and "Gain" in str(info.value)


def test_a_failed_open_leaves_no_aravis_object_in_its_error(fake: FakeGigECamera) -> None:
    # An Aravis camera kept alive by the error's frames is finalised at some later garbage
    # collection, on whatever thread runs it, and stalls that thread for seconds once the camera
    # is gone (it asks the device for control back). open() must release it before raising.
    source = GigECamera(settings(fake, gain_db=3.0), camera="cam1")
    with fake.inside(), pytest.raises(SourceError) as info:
        source.open()
    held: list[str] = []
    pending: list[BaseException | None] = [info.value]
    while pending:
        e = pending.pop()
        if e is None:
            continue
        tb = e.__traceback__
        while tb is not None:
            held += [
                f"{tb.tb_frame.f_code.co_name}: {name}"
                for name, value in tb.tb_frame.f_locals.items()
                if str(getattr(getattr(value, "__gtype__", None), "name", "")).startswith("Arv")
            ]
            tb = tb.tb_next
        pending += [e.__cause__, e.__context__]
    assert held == []
