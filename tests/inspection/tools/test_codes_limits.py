"""The code tool's size limit and the ladder's time budget: a huge image never holds a worker."""

from __future__ import annotations

import numpy as np
import zxingcpp

from inspection.image_size import MAX_IMAGE_PIXELS
from inspection.recipe import CodeToolSettings
from inspection.tools.codes import MAX_CODE_PIXELS, CodeTool
from inspection.tools.codes_reader import MIN_DOWNSCALED_PIXELS, CodeReader
from inspection.types import Frame, Verdict

SERIAL = "SN-12345678"


def huge_blank(h: int, w: int) -> np.ndarray:
    """An (h, w) uint8 white frame that takes no memory (every pixel is the same byte)."""
    return np.broadcast_to(np.uint8(255), (h, w))


def tool(**settings: object) -> CodeTool:
    raw = {"type": "codes", "id": "serial", "formats": ["DataMatrix"], **settings}
    return CodeTool(CodeToolSettings.model_validate(raw), "cam1")


def test_the_limit_is_the_stated_one():
    assert MAX_CODE_PIXELS == MAX_IMAGE_PIXELS == 50_000_000


def test_a_frame_beyond_the_limit_is_an_error_naming_size_and_limit():
    frame = Frame(camera="cam1", seq=0, t_ns=0, image=huge_blank(20000, 20000))
    result = tool(time_budget_ms=500.0).inspect(frame)
    assert result.verdict is Verdict.ERROR
    assert "20000×20000 px (400.0 MP)" in result.reason
    assert "above the limit of 50 MP" in result.reason
    assert result.reason.startswith("frame:")
    assert result.details == {}  # refused before any read


def test_a_small_roi_in_a_huge_frame_is_read():
    frame = Frame(camera="cam1", seq=0, t_ns=0, image=huge_blank(20000, 20000))
    result = tool(roi={"x": 100, "y": 100, "w": 300, "h": 300}).inspect(frame)
    assert result.verdict is Verdict.FAIL and result.reason == "no code read"


def big_image_with_code(side: int, at: tuple[int, int], module_px: int) -> np.ndarray:
    barcode = zxingcpp.create_barcode(SERIAL, zxingcpp.BarcodeFormat.DataMatrix)
    code = np.asarray(zxingcpp.write_barcode_to_image(barcode, scale=module_px))
    image = np.full((side, side), 255, np.uint8)
    y, x = at
    image[y : y + code.shape[0], x : x + code.shape[1]] = code
    return image


def test_an_image_too_big_for_the_budget_is_read_downscaled_with_corners_in_its_pixels():
    image = big_image_with_code(4000, at=(2500, 1200), module_px=24)  # 16 MP
    outcome = CodeReader(["DataMatrix"]).read(image, min_count=1, budget_ms=100.0)
    assert outcome.scale < 1.0
    assert image.size * outcome.scale**2 >= 0.99 * MIN_DOWNSCALED_PIXELS
    assert [c.text for c in outcome.codes] == [SERIAL]
    xs = [x for x, _ in outcome.codes[0].corners]
    ys = [y for _, y in outcome.codes[0].corners]
    assert min(xs) > 1150 and max(xs) < 1200 + 24 * 20 + 50  # 16 + quiet zone modules at most
    assert min(ys) > 2450 and max(ys) < 2500 + 24 * 20 + 50


def test_the_budget_bounds_a_large_image():
    noise = np.random.default_rng(5).integers(0, 256, (4000, 4000), dtype=np.uint8)  # 16 MP
    # a full-size plain read of this took 600–700 ms of CPU time here; 150 ms is asked
    outcome = CodeReader(["DataMatrix", "QRCode", "Code128"]).read(
        noise, min_count=1, budget_ms=150.0
    )
    assert outcome.scale < 1.0
    assert outcome.elapsed_ns < 400e6


def test_a_tool_reports_that_it_read_downscaled():
    frame = Frame(
        camera="cam1", seq=0, t_ns=0, image=big_image_with_code(4000, (500, 500), module_px=24)
    )
    result = tool(time_budget_ms=100.0, expected=r"SN-\d{8}").inspect(frame)
    assert result.verdict is Verdict.PASS, result.reason
    assert 0.0 < result.details["read_scale"] < 1.0
