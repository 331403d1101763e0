"""Reading by position (fielding) on per-frame probabilities built by the tests, where what the
recogniser "saw" is known exactly, and once on the real recogniser."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inspection.inference.ocr import OcrEngine
from inspection.inference.ocr_fielding import FLOOR, position_classes, read_by_position

CHARSET = ["blank", *"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz:./-", " "]
SPACE = len(CHARSET) - 1


def frames(*shown: dict[str, float]) -> np.ndarray:
    """(T, C) probabilities: each frame's given characters, the rest of it blank."""
    index = {c: i for i, c in enumerate(CHARSET)}
    probs = np.zeros((len(shown), len(CHARSET)))
    for t, chars in enumerate(shown):
        for c, p in chars.items():
            probs[t, index[c]] = p
        probs[t, 0] = 1.0 - probs[t].sum()
    return probs


def read(probs: np.ndarray, expected: str) -> str | None:
    got = read_by_position(probs, CHARSET, expected, space=SPACE)
    return None if got is None else got.text


def test_a_letter_the_recogniser_took_for_a_digit_reads_as_the_letter() -> None:
    probs = frames({"2": 0.6, "Z": 0.3}, {}, {"3": 0.9}, {}, {"9": 0.95})
    assert read(probs, "Z39") == "Z39"
    got = read_by_position(probs, CHARSET, "Z39", space=SPACE)
    assert got is not None and got.weakest == pytest.approx(0.3)
    assert got.confidence == pytest.approx((0.3 + 0.9 + 0.95) / 3)


def test_a_clearly_printed_digit_never_reads_as_the_letter_expected() -> None:
    # the Z had under FLOOR at its place: a misprinted 2 must fail, not pass as Z
    probs = frames({"2": 0.97, "Z": FLOOR / 2}, {}, {"3": 0.9}, {}, {"9": 0.95})
    assert read(probs, "Z39") is None


def test_within_its_class_the_recogniser_s_first_choice_stands() -> None:
    # U and V are both letters: the U read stays a U, so an expected V fails
    probs = frames({"L": 0.9}, {}, {"U": 0.6, "V": 0.35})
    assert read(probs, "LV") == "LU"


def test_two_equal_characters_need_a_blank_between_them() -> None:
    assert read(frames({"1": 0.9}, {}, {"1": 0.9}), "11") == "11"
    # one stroke of 1 over two frames is one 1, not two
    assert read(frames({"1": 0.9}, {"1": 0.9}), "11") is None


def test_free_text_before_and_after_the_field_is_skipped() -> None:
    probs = frames(
        {"L": 0.9}, {"O": 0.9}, {"T": 0.9}, {" ": 0.9},
        {"2": 0.7, "Z": 0.2}, {"3": 0.9}, {}, {"9": 0.9}, {" ": 0.9}, {"X": 0.9},
    )  # fmt: skip
    assert read(probs, "Z39") == "Z39"
    # spaces in the expected text are free: the field's own spacing is kept in the text
    assert read(probs, "LOT Z39") == "LOT Z39"


def test_signs_must_be_that_very_sign() -> None:
    probs = frames({"0": 0.9}, {}, {"8": 0.9}, {".": 0.6, ":": 0.3}, {"4": 0.9})
    assert read(probs, "08:4") == "08:4"  # the colon had 0.3: it is the only sign allowed there
    assert read(frames({"0": 0.9}, {"8": 0.9}, {".": 0.99}, {"4": 0.9}), "08:4") is None


def test_what_cannot_be_read_by_position() -> None:
    assert position_classes("LOT é1", CHARSET) is None  # é is not in the charset
    assert read(frames({"A": 0.9}), "ABC") is None  # fewer frames than characters
    assert position_classes("   ", CHARSET) is None


def test_the_real_recogniser_reads_by_position_only_what_it_saw() -> None:
    engine = OcrEngine(threads=1)
    crop = np.full((60, 300), 250, np.uint8)
    cv2.putText(crop, "LOT Z3906", (8, 45), cv2.FONT_HERSHEY_DUPLEX, 1.2, 20, 2, cv2.LINE_AA)
    (line,) = engine.recognize([crop], expect=["LOT Z3906", "LOT 23906", "LOT Z3908"])
    assert line.text.replace(" ", "") == "LOTZ3906"
    assert [f.text for f in line.by_position if f.text == f.expected] == ["LOT Z3906"]
    assert all(f.expected != "LOT 23906" for f in line.by_position)
