"""The conversion and numbering shared by GigE and GenTL cameras, against independent references.

Mosaics and packed buffers are built here with numpy from a known colour image, so a wrong tile
order, channel order or bit shift in ``to_image`` shows as a large error.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

from inspection.sources.genicam import (
    FrameNumbers,
    PendingTriggers,
    PixelFormatError,
    canonical_pixel_format,
    is_supported_pixel_format,
    to_image,
)

H, W = 48, 64


def scene() -> np.ndarray:
    """A smooth BGR image with different content in each channel (uint8, H×W×3)."""
    y, x = np.mgrid[0:H, 0:W].astype(np.float64)
    bgr = np.dstack([x * 255 / W, y * 255 / H, 255 - (x + y) * 255 / (W + H)])
    return bgr.round().astype(np.uint8)


def mosaic(bgr: np.ndarray, tile: str) -> np.ndarray:
    """The Bayer raw a sensor with this top-left 2×2 tile (e.g. "RGGB") would give."""
    channel = {"B": 0, "G": 1, "R": 2}
    raw = np.zeros(bgr.shape[:2], np.uint8)
    for i, (dy, dx) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        raw[dy::2, dx::2] = bgr[dy::2, dx::2, channel[tile[i]]]
    return raw


@pytest.mark.parametrize(
    ("fmt", "tile"),
    [("BayerRG8", "RGGB"), ("BayerGB8", "GBRG"), ("BayerGR8", "GRBG"), ("BayerBG8", "BGGR")],
)
def test_bayer_tile_orders(fmt: str, tile: str) -> None:
    bgr = scene()
    image = to_image(mosaic(bgr, tile).ravel(), W, H, fmt, color=True)
    assert image.shape == (H, W, 3) and image.dtype == np.uint8 and image.flags.c_contiguous
    error = np.abs(image.astype(int) - bgr.astype(int))[2:-2, 2:-2]
    assert error.max() <= 3
    grey = to_image(mosaic(bgr, tile).ravel(), W, H, fmt, color=False)
    expected_grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(int)
    assert np.abs(grey.astype(int) - expected_grey)[2:-2, 2:-2].max() <= 3


def test_bayer16_keeps_the_top_bits() -> None:
    bgr = scene()
    raw16 = mosaic(bgr, "RGGB").astype("<u2") << 8 | 0x00FF  # low bits must not matter
    image = to_image(raw16.view(np.uint8).ravel(), W, H, "BayerRG16", color=True)
    assert np.abs(image.astype(int) - bgr.astype(int))[2:-2, 2:-2].max() <= 3


@pytest.mark.parametrize(("fmt", "bits"), [("Mono10", 10), ("Mono12", 12), ("Mono16", 16)])
def test_deep_mono_keeps_the_top_eight_bits(fmt: str, bits: int) -> None:
    grey = scene()[:, :, 0]
    wide = (grey.astype("<u2") << (bits - 8)) | ((1 << (bits - 8)) - 1)
    image = to_image(wide.view(np.uint8).ravel(), W, H, fmt, color=False)
    np.testing.assert_array_equal(image, grey)


def test_packed_colour_formats() -> None:
    bgr = scene()
    rgb = bgr[:, :, ::-1]
    alpha = np.full((H, W, 1), 7, np.uint8)
    cases = {
        "RGB8": rgb,
        "RGB8Packed": rgb,
        "BGR8": bgr,
        "RGBa8": np.concatenate([rgb, alpha], axis=2),
        "BGRa8": np.concatenate([bgr, alpha], axis=2),
    }
    for fmt, pixels in cases.items():
        raw = np.ascontiguousarray(pixels).ravel()
        np.testing.assert_array_equal(to_image(raw, W, H, fmt, color=True), bgr, err_msg=fmt)
        grey = to_image(raw, W, H, fmt, color=False)
        assert grey.shape == (H, W)
        expected = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        assert np.abs(grey.astype(int) - expected.astype(int)).max() <= 1, fmt


def test_yuv422_both_byte_orders() -> None:
    # Flat colour patches of 2 px: Y0 U Y1 V (YUYV) and U Y0 V Y1 (UYVY) hold the same pixels.
    y = np.tile(np.array([60, 60, 200, 200], np.uint8), (H, W // 4))
    u = np.full((H, W // 2), 90, np.uint8)
    v = np.full((H, W // 2), 170, np.uint8)
    yuyv = np.empty((H, W * 2), np.uint8)
    yuyv[:, 0::4], yuyv[:, 1::4], yuyv[:, 2::4], yuyv[:, 3::4] = y[:, 0::2], u, y[:, 1::2], v
    uyvy = np.empty((H, W * 2), np.uint8)
    uyvy[:, 0::4], uyvy[:, 1::4], uyvy[:, 2::4], uyvy[:, 3::4] = u, y[:, 0::2], v, y[:, 1::2]
    a = to_image(yuyv.ravel(), W, H, "YUV422_8", color=True)
    b = to_image(uyvy.ravel(), W, H, "YUV422Packed", color=True)
    np.testing.assert_array_equal(a, b)
    # V above 128 and U below: reddish; brighter where Y is higher
    assert (a[:, :, 2] > a[:, :, 0]).all()
    assert a[0, 2].sum() > a[0, 0].sum()
    np.testing.assert_array_equal(to_image(yuyv.ravel(), W, H, "YUV422_8", color=False), y)


def test_short_buffer_and_unknown_format_are_refused() -> None:
    with pytest.raises(PixelFormatError, match=r"incomplete 8-bit buffer"):
        to_image(np.zeros(W * H - 1, np.uint8), W, H, "Mono8", color=False)
    with pytest.raises(PixelFormatError, match="Coord3D_ABC32f"):
        to_image(np.zeros(W * H * 12, np.uint8), W, H, "Coord3D_ABC32f", color=False)
    assert not is_supported_pixel_format("Coord3D_ABC32f")
    assert (
        is_supported_pixel_format("BGR8Packed") and canonical_pixel_format("BGR8Packed") == "BGR8"
    )


def test_frame_numbers_show_gaps_and_survive_wrap_and_restart() -> None:
    numbers = FrameNumbers()
    seqs = [numbers.take(i) for i in (65533, 65534, 65535, 1, 3)]
    assert seqs == [0, 1, 2, 3, 5]  # 65535 → 1 is the 16-bit wrap (0 skipped); 2 was lost
    assert numbers.lost == 1
    numbers.new_stream()  # the camera came back and counts from 1 again
    assert [numbers.take(1), numbers.take(2)] == [6, 7]
    assert numbers.take(None) == 8


def test_pending_triggers_are_first_in_first_out_across_threads() -> None:
    pending = PendingTriggers()
    threads = [threading.Thread(target=pending.push, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
        t.join()
    pending.push(9)
    pending.discard(9)
    assert [pending.pop(), pending.pop(), pending.pop(), pending.pop()] == [0, 1, 2, None]
