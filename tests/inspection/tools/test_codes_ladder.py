"""The decode ladder: hard images the plain read misses, the time budget, the quality measure."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest
import zxingcpp

from inspection.recipe import CodeToolSettings
from inspection.tools.codes import CodeTool
from inspection.tools.codes_reader import RUNGS, CodeReader, parse_formats, symbol_grade
from inspection.types import Frame, Verdict

SERIAL = "SN-12345678"


def code_image(content: str, fmt: str, scale: int = 4, pad: int = 20) -> np.ndarray:
    barcode = zxingcpp.create_barcode(content, getattr(zxingcpp.BarcodeFormat, fmt))
    image = np.asarray(zxingcpp.write_barcode_to_image(barcode, scale=scale))
    return np.pad(image, pad, constant_values=255)


def low_contrast(img: np.ndarray, factor: float) -> np.ndarray:
    return (128 + (img.astype(np.float64) - 128) * factor).astype(np.uint8)


def noisy(img: np.ndarray, sigma: float) -> np.ndarray:
    rng = np.random.default_rng(7)
    return np.clip(img + rng.normal(0.0, sigma, img.shape), 0, 255).astype(np.uint8)


def rotated(img: np.ndarray, angle: float) -> np.ndarray:
    h, w = img.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * s + w * c), int(h * c + w * s)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(img, m, (nw, nh), borderValue=255)


def plain_texts(img: np.ndarray, fmt: str) -> list[str]:
    return [
        b.text
        for b in zxingcpp.read_barcodes(
            img, formats=parse_formats([fmt]), text_mode=zxingcpp.TextMode.Plain
        )
    ]


HARD_CASES: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    "low contrast QR": ("QRCode", lambda i: low_contrast(i, 0.04)),
    "low contrast Code128": ("Code128", lambda i: low_contrast(i, 0.03)),
    "inverted low contrast DataMatrix": ("DataMatrix", lambda i: low_contrast(255 - i, 0.04)),
    "blurred DataMatrix": ("DataMatrix", lambda i: cv2.GaussianBlur(i, (0, 0), 2.0)),
    "blurred Code128": ("Code128", lambda i: cv2.GaussianBlur(i, (0, 0), 2.0)),
    "noisy DataMatrix": ("DataMatrix", lambda i: noisy(i, 80.0)),
    "rotated 30° Code128": ("Code128", lambda i: rotated(i, 30.0)),
}


@pytest.mark.parametrize("case", sorted(HARD_CASES))
def test_ladder_reads_what_the_plain_read_misses(case: str) -> None:
    fmt, degrade = HARD_CASES[case]
    img = degrade(code_image(SERIAL, fmt, scale=3 if fmt == "Code128" else 4))
    assert plain_texts(img, fmt) == [], "the case must be hard for a plain read"
    settings = CodeToolSettings(
        type="codes", id="c", formats=[fmt], expected=r"SN-\d{8}", time_budget_ms=2000.0
    )
    result = CodeTool(settings, "cam").inspect(Frame(camera="cam", seq=1, t_ns=0, image=img))
    assert result.verdict is Verdict.PASS, result.reason
    assert result.details["attempts"] > 1
    assert result.details["attempt"] != "plain"
    assert result.details["codes"][0]["text"] == SERIAL


def test_retries_off_reads_plain_only() -> None:
    img = low_contrast(code_image(SERIAL, "QRCode"), 0.04)
    settings = CodeToolSettings(type="codes", id="c", formats=["QRCode"], retries=False)
    result = CodeTool(settings, "cam").inspect(Frame(camera="cam", seq=1, t_ns=0, image=img))
    assert result.verdict is Verdict.FAIL
    assert result.details["attempts"] == 1


class SteppingClock:
    """A clock that advances a fixed step per reading, so budget tests need no real waiting."""

    def __init__(self, step_ns: int) -> None:
        self.now = 0
        self.step = step_ns

    def __call__(self) -> int:
        self.now += self.step
        return self.now


def test_budget_stops_the_ladder() -> None:
    blank = np.full((120, 120), 255, np.uint8)
    # Each clock reading advances 10 ms: one at the start, then one before each later rung.
    reader = CodeReader(["DataMatrix"], clock=SteppingClock(10_000_000))
    outcome = reader.read(blank, min_count=1, budget_ms=35.0)
    # the plain read "took" 10 ms; rung 2 (same size, 10 ms predicted) starts at 10 ms with 25 ms
    # left; rung 3 (upscaled: 40 ms predicted) at 20 ms and rung 4 (10 ms) at 30 ms would overrun,
    # so neither starts; at 40 ms the budget is spent
    assert (outcome.attempts, outcome.skipped) == (2, 2)
    assert outcome.codes == ()
    assert outcome.attempt == ""


def test_first_rung_runs_even_with_the_budget_spent() -> None:
    img = code_image(SERIAL, "DataMatrix")
    reader = CodeReader(["DataMatrix"], clock=SteppingClock(10**12))
    outcome = reader.read(img, min_count=1, budget_ms=1.0)
    assert outcome.attempts == 1
    assert [c.text for c in outcome.codes] == [SERIAL]


def test_real_budget_bounds_the_time_spent() -> None:
    noise = np.random.default_rng(3).integers(0, 256, (600, 800), dtype=np.uint8)
    reader = CodeReader(["DataMatrix", "QRCode", "Code128"])
    unbounded = reader.read(noise, min_count=1, budget_ms=60_000.0)
    assert unbounded.attempts == len(RUNGS)
    bounded = reader.read(noise, min_count=1, budget_ms=0.001)
    assert bounded.attempts == 1


def test_stops_at_first_rung_with_enough_codes() -> None:
    img = code_image(SERIAL, "DataMatrix")
    outcome = CodeReader(["DataMatrix"]).read(img, min_count=1, budget_ms=1000.0)
    assert (outcome.attempts, outcome.attempt) == (1, "plain")


def test_quality_ranks_sharp_above_blurred_above_faded() -> None:
    sharp = code_image(SERIAL, "DataMatrix", scale=6)
    box = (
        (20.0, 20.0),
        (sharp.shape[1] - 20.0, 20.0),
        (sharp.shape[1] - 20.0, 100.0),
        (20.0, 100.0),
    )
    q_sharp = symbol_grade(sharp, box)
    q_blur = symbol_grade(cv2.GaussianBlur(sharp, (0, 0), 2.0), box)
    q_faded = symbol_grade(low_contrast(sharp, 0.2), box)
    assert q_sharp > 90.0
    assert q_sharp > q_blur + 10.0
    assert q_sharp > q_faded + 10.0
    assert symbol_grade(np.full((50, 50), 128, np.uint8), box) == 0.0


def test_unknown_format_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown code format 'Foo'"):
        CodeReader(["DataMatrix", "Foo"])


def test_a_code_already_read_is_not_graded_again_while_the_ladder_climbs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # one good DataMatrix and room for a second code that is not there (a damaged label):
    # every rung reads the good code again, and only its first read is graded
    import inspection.tools.codes_reader as reader_module

    graded: list[int] = []
    real = reader_module.symbol_grade

    def counting(gray: np.ndarray, corners: object) -> float:
        graded.append(1)
        return real(gray, corners)  # type: ignore[arg-type]

    monkeypatch.setattr(reader_module, "symbol_grade", counting)
    img = code_image(SERIAL, "DataMatrix")
    outcome = CodeReader(["DataMatrix"]).read(img, min_count=2, budget_ms=10_000.0)
    assert [c.text for c in outcome.codes] == [SERIAL]
    assert outcome.attempts == len(RUNGS)
    assert outcome.codes[0].quality > 0
    assert len(graded) == 1
