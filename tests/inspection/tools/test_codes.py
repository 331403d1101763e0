"""CodeTool verdicts, details and geometry on codes the tests make with zxing-cpp."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import zxingcpp

from inspection.recipe import CodeToolSettings
from inspection.tools.base import Tool, run_guarded
from inspection.tools.codes import CodeTool, tool_from_settings
from inspection.types import Frame, Verdict

SERIAL = "SN-12345678"
SERIAL_RE = r"SN-\d{8}"


def code_image(content: str | bytes, fmt: str, scale: int = 4, pad: int = 20) -> np.ndarray:
    """uint8 (H, W) image of one code on a white margin."""
    barcode = zxingcpp.create_barcode(content, getattr(zxingcpp.BarcodeFormat, fmt))
    image = np.asarray(zxingcpp.write_barcode_to_image(barcode, scale=scale))
    return np.pad(image, pad, constant_values=255)


def canvas(h: int = 300, w: int = 500) -> np.ndarray:
    return np.full((h, w), 255, np.uint8)


def paste(dst: np.ndarray, src: np.ndarray, x: int, y: int) -> np.ndarray:
    dst[y : y + src.shape[0], x : x + src.shape[1]] = src
    return dst


def settings(**kw: object) -> CodeToolSettings:
    base: dict[str, object] = {"type": "codes", "id": "serial", "formats": ["DataMatrix"]}
    base.update(kw)
    return CodeToolSettings.model_validate(base)


def frame(image: np.ndarray) -> Frame:
    return Frame(camera="cam1", seq=0, t_ns=0, image=image)


@pytest.mark.parametrize("fmt", ["DataMatrix", "Code128", "QRCode"])
def test_reads_each_format_and_passes(fmt: str) -> None:
    tool = CodeTool(settings(formats=[fmt], expected=SERIAL_RE), "cam1")
    result = tool.inspect(frame(code_image(SERIAL, fmt)))
    assert result.verdict is Verdict.PASS, result.reason
    assert result.reason == ""
    (code,) = result.details["codes"]
    assert code["text"] == SERIAL
    assert code["format"] == fmt
    assert code["content"] == "text"
    assert "hex" not in code
    assert result.details["attempts"] == 1
    assert result.details["attempt"] == "plain"
    assert result.measurements["codes_read"] == 1.0
    assert 0.0 < result.measurements["quality_min"] <= 100.0
    assert result.unique_keys == (SERIAL,)
    assert result.overlays[0].label == SERIAL and result.overlays[0].ok
    assert result.overlays[0].points.shape == (4, 2)
    assert result.duration_ns > 0
    json.dumps(dict(result.details))  # the record must be JSON-serialisable


def test_satisfies_tool_protocol_and_factory() -> None:
    tool = tool_from_settings(settings(), "cam2")
    assert isinstance(tool, Tool)
    assert (tool.tool_id, tool.tool_type, tool.camera) == ("serial", "codes", "cam2")
    assert tool.model_hashes() == {}
    tool.close()


def test_bgr_and_non_contiguous_frames() -> None:
    gray = code_image(SERIAL, "DataMatrix")
    bgr = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    tool = CodeTool(settings(), "cam1")
    assert tool.inspect(frame(bgr)).verdict is Verdict.PASS
    wide = np.repeat(gray, 2, axis=1)[:, ::2]  # a strided view of the same image
    assert not wide.flags.c_contiguous
    assert tool.inspect(frame(wide)).verdict is Verdict.PASS


def test_wrong_serial_format_fails() -> None:
    tool = CodeTool(settings(expected=r"LOT-\d{4}"), "cam1")
    result = tool.inspect(frame(code_image(SERIAL, "DataMatrix")))
    assert result.verdict is Verdict.FAIL
    assert result.reason == f"code '{SERIAL}' does not match the expected format"
    assert not result.overlays[0].ok


def test_partial_match_is_not_enough() -> None:
    tool = CodeTool(settings(expected=r"SN-\d{4}"), "cam1")  # matches a prefix only
    assert tool.inspect(frame(code_image(SERIAL, "DataMatrix"))).verdict is Verdict.FAIL


def test_no_code_fails() -> None:
    result = CodeTool(settings(), "cam1").inspect(frame(canvas()))
    assert result.verdict is Verdict.FAIL
    assert result.reason == "no code read"
    assert result.measurements["codes_read"] == 0.0
    assert result.unique_keys == ()


def test_min_count_not_met_fails() -> None:
    tool = CodeTool(settings(min_count=2), "cam1")
    result = tool.inspect(frame(code_image(SERIAL, "DataMatrix")))
    assert result.verdict is Verdict.FAIL
    assert result.reason == "1 of 2 codes read"
    assert result.details["attempt"] == ""


def test_two_agreeing_codes_pass_and_key_once() -> None:
    img = canvas(300, 700)
    paste(img, code_image(SERIAL, "DataMatrix"), 20, 40)
    paste(img, code_image(SERIAL, "Code128", scale=2), 250, 60)
    tool = CodeTool(settings(formats=["DataMatrix", "Code128"], min_count=2), "cam1")
    result = tool.inspect(frame(img))
    assert result.verdict is Verdict.PASS, result.reason
    assert sorted(c["format"] for c in result.details["codes"]) == ["Code128", "DataMatrix"]
    assert result.unique_keys == (SERIAL,)


def test_disagreeing_codes_fail() -> None:
    img = canvas(300, 700)
    paste(img, code_image(SERIAL, "DataMatrix"), 20, 40)
    paste(img, code_image("SN-87654321", "Code128", scale=2), 250, 60)
    tool = CodeTool(settings(formats=["DataMatrix", "Code128"], min_count=2), "cam1")
    result = tool.inspect(frame(img))
    assert result.verdict is Verdict.FAIL
    assert result.reason.startswith("codes disagree: ")
    assert "'SN-12345678' (DataMatrix)" in result.reason
    assert "'SN-87654321' (Code128)" in result.reason
    assert set(result.unique_keys) == {SERIAL, "SN-87654321"}


def test_unique_off_hands_no_keys() -> None:
    tool = CodeTool(settings(unique=False), "cam1")
    result = tool.inspect(frame(code_image(SERIAL, "DataMatrix")))
    assert result.verdict is Verdict.PASS
    assert result.unique_keys == ()


def test_roi_offsets_positions_to_frame_pixels() -> None:
    code = code_image(SERIAL, "DataMatrix", pad=10)
    whole = CodeTool(settings(), "cam1").inspect(frame(code))
    img = paste(canvas(400, 600), code, 300, 200)
    roi = {"x": 280, "y": 180, "w": code.shape[1] + 40, "h": code.shape[0] + 40}
    result = CodeTool(settings(roi=roi), "cam1").inspect(frame(img))
    assert result.verdict is Verdict.PASS
    assert result.roi is not None and (result.roi.x, result.roi.y) == (280, 180)
    got = np.array(result.details["codes"][0]["position"])
    ref = np.array(whole.details["codes"][0]["position"]) + np.array([300.0, 200.0])
    np.testing.assert_allclose(got, ref, atol=1.0)
    np.testing.assert_allclose(result.overlays[0].points, ref, atol=1.0)


def test_roi_excludes_code_outside_it() -> None:
    img = paste(canvas(400, 600), code_image(SERIAL, "DataMatrix"), 400, 250)
    roi = {"x": 0, "y": 0, "w": 200, "h": 200}
    assert CodeTool(settings(roi=roi), "cam1").inspect(frame(img)).verdict is Verdict.FAIL


def test_roi_outside_frame_is_an_error() -> None:
    roi = {"x": 1000, "y": 10, "w": 50, "h": 50}
    result = CodeTool(settings(roi=roi), "cam1").inspect(frame(canvas()))
    assert result.verdict is Verdict.ERROR
    assert result.reason == "ROI (1000, 10, 50×50) lies outside the frame (500×300 px)"


def test_binary_payload_reports_hex_and_fails_a_regex() -> None:
    payload = bytes([0xFF, 0x00, 0x80, 0x41, 0xC3])
    img = code_image(payload, "DataMatrix")
    ok = CodeTool(settings(), "cam1").inspect(frame(img))
    assert ok.verdict is Verdict.PASS
    (code,) = ok.details["codes"]
    assert code["content"] == "binary"
    assert code["hex"] == payload.hex()
    assert code["text"] == payload.decode("latin-1")  # zxing-cpp's Plain text of the bytes
    json.dumps(dict(ok.details))
    bad = run_guarded(CodeTool(settings(expected=".*"), "cam1"), frame(img))
    assert bad.verdict is Verdict.FAIL
    assert "binary data (5 bytes)" in bad.reason


def test_run_guarded_refuses_bad_frames_without_crashing() -> None:
    tool = CodeTool(settings(), "cam1")
    float_img = np.zeros((50, 50), np.float32)
    assert run_guarded(tool, frame(float_img)).verdict is Verdict.ERROR
    tiny = np.zeros((8, 8), np.uint8)
    assert run_guarded(tool, frame(tiny)).verdict is Verdict.FAIL
