"""Joining the dots of dot-printed text: the pitch is measured from the dots at several pitches,
either ink polarity; solid print and blank crops are left alone."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inspection.evaluation.dot_matrix import render_dot_print
from inspection.inference.ocr import OcrEngine
from inspection.tools.label_print import estimate_dot_pitch, join_dots, prepare_print


def gap_ink(image: np.ndarray, dots: np.ndarray, pitch: float) -> float:
    """Median ink halfway between neighbouring dots, as a share of the ink on the dots."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    ink = cv2.subtract(cv2.medianBlur(gray, 41), gray).astype(np.float64)
    d = np.linalg.norm(dots[:, None] - dots[None], axis=2)
    np.fill_diagonal(d, np.inf)
    pairs = np.argwhere(np.triu(d < 1.2 * pitch))
    mids = np.round((dots[pairs[:, 0]] + dots[pairs[:, 1]]) / 2).astype(int)
    on = np.round(dots).astype(int)
    return float(np.median(ink[mids[:, 1], mids[:, 0]]) / np.median(ink[on[:, 1], on[:, 0]]))


@pytest.mark.parametrize("row_pitch", [3.5, 5.0, 7.0, 9.0])
def test_pitch_is_measured_at_several_pitches(row_pitch: float) -> None:
    rng = np.random.default_rng(11)
    errors = []
    for _ in range(8):
        s = render_dot_print(rng, row_pitch=row_pitch)
        found = estimate_dot_pitch(s.image)
        if found is not None:
            assert found.dark_ink and found.dots >= 12
            errors.append(abs(found.pitch_px / s.pitch_px - 1.0))
    assert len(errors) >= 6
    assert max(errors) < 0.25 and float(np.median(errors)) < 0.15, errors


def test_light_dots_on_a_dark_surface() -> None:
    s = render_dot_print(np.random.default_rng(4), text="EXP 2027-03", row_pitch=6.0)
    found = estimate_dot_pitch(255 - s.image)
    assert found is not None and not found.dark_ink
    assert found.pitch_px == pytest.approx(s.pitch_px, rel=0.25)


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_joining_turns_dots_into_strokes(seed: int) -> None:
    s = render_dot_print(np.random.default_rng(seed), text="LOT A2391", row_pitch=7.0)
    joined = join_dots(s.image)
    assert joined.shape == s.image.shape and joined.dtype == np.uint8
    before, after = gap_ink(s.image, s.dots, s.pitch_px), gap_ink(joined, s.dots, s.pitch_px)
    # between neighbouring dots the print was (nearly) bare; joined, it is inked like a stroke
    assert after > 0.8 and after > before + 0.2, (before, after)
    gray = cv2.cvtColor(s.image, cv2.COLOR_BGR2GRAY)
    assert join_dots(gray).shape == gray.shape


def solid_label() -> np.ndarray:
    image = np.full((120, 480), 230, np.uint8)
    cv2.putText(image, "LOT A2391", (10, 50), cv2.FONT_HERSHEY_DUPLEX, 1.2, 30, 2, cv2.LINE_AA)
    cv2.putText(image, "EXP 2027-03", (10, 100), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 30, 2)
    return image


@pytest.mark.parametrize(
    "image",
    [
        solid_label(),
        np.full((80, 200), 200, np.uint8),
        np.random.default_rng(0).normal(128, 4, (80, 200)).clip(0, 255).astype(np.uint8),
        np.zeros((4, 4), np.uint8),
    ],
    ids=["solid", "blank", "grain", "tiny"],
)
def test_what_is_not_dots_is_left_alone(image: np.ndarray) -> None:
    assert estimate_dot_pitch(image) is None
    assert join_dots(image) is image
    assert prepare_print(image, "dot_matrix") is image


def test_print_kinds() -> None:
    image = render_dot_print(np.random.default_rng(1), row_pitch=5.0).image
    assert prepare_print(image, "solid") is image
    assert prepare_print(image, "dot_matrix") is not image
    with pytest.raises(ValueError, match="unknown print kind 'dots'"):
        prepare_print(image, "dots")
    with pytest.raises(ValueError, match="grey"):
        estimate_dot_pitch(np.zeros((20, 20, 4), np.uint8))


@pytest.fixture(scope="module")
def engine() -> OcrEngine:
    # as ``lineside eval ocr`` reads generated codes
    return OcrEngine(threads=1, det_side=384, fine_det_side=800)


def read_exactly(engine: OcrEngine, image: np.ndarray, text: str) -> bool:
    """True when a line read from ``image`` prepared as dot print holds ``text`` (spaces and
    case ignored)."""
    want = "".join(text.split())
    result = engine.read(
        prepare_print(image, "dot_matrix"),
        accept=lambda line: want in "".join(line.text.upper().split()),
    )
    return result.stopped_early


@pytest.mark.parametrize("seed", [35, 69, 81, 90])
def test_large_dots_that_noise_splits_are_measured_and_read(engine: OcrEngine, seed: int) -> None:
    # 8.5 px rows of large dots (can, paper, carton): at the fine scale each dot peaks several
    # times, so only the coarse look finds the lattice (before, these codes stayed dots and
    # were not read)
    s = render_dot_print(np.random.default_rng(seed), text="EXP 2026-08", row_pitch=8.5)
    found = estimate_dot_pitch(s.image)
    assert found is not None and found.dark_ink
    assert found.pitch_px == pytest.approx(s.pitch_px, rel=0.25)
    assert read_exactly(engine, s.image, s.text)


@pytest.mark.parametrize("seed", [1, 20])
def test_a_code_whose_words_are_detected_apart_is_read_whole(engine: OcrEngine, seed: int) -> None:
    # a dot-printed space is a whole empty character: the detector boxes LOT and the number
    # apart (before, neither box held the code)
    s = render_dot_print(np.random.default_rng(seed), text="LOT C7618", row_pitch=6.5)
    assert read_exactly(engine, s.image, s.text)
