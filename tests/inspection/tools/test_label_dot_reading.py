"""Reading dot print beyond joining the dots: O against 0 settled by their neighbours, a second
preparation read only where the first did not give what was needed, and the label tool's policy
that neither ever passes a code that differs from the expected value."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import islice
from typing import Any

import cv2
import numpy as np
import pytest

from inspection.batch import BatchContext
from inspection.evaluation.dot_matrix import generate_dot_print, render_dot_print
from inspection.inference.ocr import OcrEngine, TextLine
from inspection.recipe import TextFieldSettings
from inspection.tools.label import LabelTool
from inspection.tools.label_print import prepare_print_again, read_print_text
from inspection.tools.label_rules import (
    FieldReport,
    FieldRules,
    judge_read,
    may_read_again,
)
from inspection.types import Verdict


@pytest.mark.parametrize(
    ("read", "settled"),
    [
        ("BEST BEF0RE 04/2030", "BEST BEFORE 04/2030"),  # between letters: the letter
        ("10 N0V 3O", "10 NOV 30"),  # a word of digits: the digit
        ("LOT LO400", "LOT L0400"),  # a lot code holding digits
        ("10N0V 30", "10NOV 30"),  # words run together: still between letters
        ("A00 17:33", "A00 17:33"),  # a letter, then nothing: either could be meant
        ("AOO 17:33", "AOO 17:33"),
        ("OCT", "OCT"),
        ("0CT", "0CT"),
        ("", ""),
    ],
)
def test_o_and_zero_are_settled_by_their_neighbours(read: str, settled: str) -> None:
    assert read_print_text(read, "dot_matrix") == settled
    assert read_print_text(read, "solid") == read


def test_further_preparations_are_the_ink_alone_then_the_print_smoothed() -> None:
    s = render_dot_print(np.random.default_rng(4), text="EXP 2026-08", row_pitch=6.0)
    ink_alone, smoothed, smoother = list(prepare_print_again(s.image, "dot_matrix"))
    assert ink_alone.dtype == np.uint8 and ink_alone.shape == s.image.shape[:2]
    on = np.round(s.dots).astype(int)
    assert float(np.median(ink_alone[on[:, 1], on[:, 0]])) < 100
    # far from the print the surface is white and flat, whatever the pack
    surface = ink_alone[:, : int(s.dots[:, 0].min() - 2 * s.row_pitch_px)]
    assert float(np.median(surface)) > 240 and float(surface.std()) < 20
    # the smoothed print keeps its size and places: boxes found in it are boxes in the crop
    for image in (smoothed, smoother):
        assert image.shape == s.image.shape and image.dtype == np.uint8
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        assert float(np.median(gray[on[:, 1], on[:, 0]])) < float(np.median(surface)) - 60
    assert cv2.Laplacian(smoother, cv2.CV_64F).var() < cv2.Laplacian(smoothed, cv2.CV_64F).var()
    assert list(prepare_print_again(s.image, "solid")) == []
    assert list(prepare_print_again(np.full((80, 200, 3), 200, np.uint8), "dot_matrix")) == []
    with pytest.raises(ValueError, match="unknown print kind 'dots'"):
        prepare_print_again(s.image, "dots")


def field(**kw: Any) -> TextFieldSettings:
    base: dict[str, Any] = {"name": "lot", "print": "dot_matrix"}
    base.update(kw)
    return TextFieldSettings.model_validate(base)


RULES = FieldRules(BatchContext({"lot": "L2507D"}))


def judged(f: TextFieldSettings, read: str) -> FieldReport:
    return judge_read(RULES, f, read, 0.9)


def test_a_wrong_code_never_passes_by_the_settling_or_a_second_reading() -> None:
    batch = field(rule="batch")
    # a letter O printed where the lot has a zero is compared as read: no settling into a 0
    assert judged(batch, "LOT L25O7D").verdict is Verdict.FAIL
    assert judged(batch, "LOT L2507D").verdict is Verdict.PASS
    # a wrong digit fails, and is not read again (a second reading could misread it right)
    for wrong in ("LOT L2587D", "LOT L2507B", "LOT L25O8D"):
        report = judged(batch, wrong)
        assert report.verdict is Verdict.FAIL
        assert not may_read_again(RULES, batch, report), wrong
    # with the recipe's own tolerance the letter O passes, a wrong digit still does not
    lenient = field(rule="batch", allow_confusions=True)
    assert judged(lenient, "LOT L25O7D").verdict is Verdict.PASS
    assert judged(lenient, "LOT L2587D").verdict is Verdict.FAIL
    # nothing like the lot read at all: read again
    missed = judged(batch, "LOT")
    assert missed.verdict is Verdict.FAIL and may_read_again(RULES, batch, missed)
    assert not may_read_again(RULES, batch, judged(batch, "LOT L2507D"))


def test_a_field_without_a_value_is_judged_on_the_settled_text() -> None:
    form = field(rule="regex", value=r"L\d{4}[A-Z]")
    assert judged(form, "L25O7D").verdict is Verdict.PASS
    assert judged(form, "L25O7D").value == "L2507D"
    assert judged(field(rule="regex", value=r"L\d{4}[A-Z]", print="solid"), "L25O7D").verdict is (
        Verdict.FAIL
    )
    wrong = judged(form, "L25X7D")
    assert wrong.verdict is Verdict.FAIL and may_read_again(RULES, form, wrong)
    # where the pattern wants the letter, the text as read passes
    assert judged(field(rule="regex", value=r"LOT [A-Z]\d{4}"), "LOT O1234").verdict is Verdict.PASS
    assert judged(field(rule="regex", value=r"LOT [A-Z]\d{4}"), "LOT 01234").verdict is Verdict.FAIL
    expiry = field(rule="date", date_formats=["EXP %Y-%m"])
    assert judged(expiry, "EXP 2O3O-O6").value == "EXP 2030-06"


def test_dots_far_apart_make_no_second_preparation_of_solid_print() -> None:
    image = np.full((120, 480), 230, np.uint8)
    cv2.putText(image, "LOT A2391", (10, 50), cv2.FONT_HERSHEY_DUPLEX, 1.2, 30, 2, cv2.LINE_AA)
    assert list(prepare_print_again(image, "dot_matrix")) == []


class ScriptedOcr:
    """Stands in for the OCR engine: each ``recognize`` call answers the next texts given."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.calls: list[int] = []

    def recognize(self, crops: list[np.ndarray], *, expect: Sequence[str] = ()) -> list[TextLine]:
        self.calls.append(len(crops))
        return [TextLine(text=t, confidence=0.9) for t in self.answers.pop(0)]


def read_fields(
    ocr: ScriptedOcr | OcrEngine, fields: list[TextFieldSettings], crop: np.ndarray | None = None
) -> dict[str, FieldReport]:
    tool = LabelTool.__new__(LabelTool)  # the reading alone: no taught label needed
    tool._ocr = ocr  # type: ignore[assignment]
    tool._rules = RULES
    if crop is None:
        crop = render_dot_print(np.random.default_rng(2), text="LOT L2507D", row_pitch=5.0).image
    return tool._recognize(fields, [crop] * len(fields))


def test_the_tool_reads_a_field_again_only_when_nothing_near_its_value_was_read() -> None:
    lot, form = field(rule="batch"), field(name="code", rule="regex", value=r"L\d{4}[A-Z]")
    # a near miss stays a failure: no second reading that could misread it right
    ocr = ScriptedOcr(["LOT L2587D", "L2507D"])
    reports = read_fields(ocr, [lot, form])
    assert ocr.calls == [2] and reports["lot"].verdict is Verdict.FAIL
    # nothing like the lot read: read from the ink alone, then the print smoothed, until it passes
    ocr = ScriptedOcr(["", "L25X7D"], ["LO", "L2507D"], ["LOT L2507D"])
    reports = read_fields(ocr, [lot, form])
    assert ocr.calls == [2, 2, 1]
    assert reports["lot"].verdict is Verdict.PASS and reports["code"].verdict is Verdict.PASS
    # a field read right at first is not read again; one never read right keeps its failure
    ocr = ScriptedOcr(["LOT L2507D", "L25X7D"], ["L25X7D"], ["L2?07D"], ["L2507"])
    reports = read_fields(ocr, [lot, form])
    assert ocr.calls == [2, 1, 1, 1] and reports["code"].verdict is Verdict.FAIL


def test_a_dot_printed_s_taken_for_a_5_passes_when_read_by_position() -> None:
    # a generated code (seed 5, no. 32) that the recogniser reads as LOT 59857
    sample = next(islice(generate_dot_print(33, 5), 32, None))
    assert sample.text == "LOT S9857"
    engine = OcrEngine(threads=1)
    plain = field(name="code", rule="exact", value="LOT S9857")
    (as_read,) = read_fields(engine, [plain], sample.image).values()
    assert as_read.verdict is Verdict.FAIL and as_read.text == "LOT 59857"
    by_position = field(name="code", rule="exact", value="LOT S9857", read_by_position=True)
    (report,) = read_fields(engine, [by_position], sample.image).values()
    assert report.verdict is Verdict.PASS and report.value == "LOT S9857"
    assert report.reason == "read by position: 'LOT 59857' as 'LOT S9857'"
    # the same print against a code that differs by a digit still fails
    other = field(name="code", rule="exact", value="LOT S9858", read_by_position=True)
    (wrong,) = read_fields(engine, [other], sample.image).values()
    assert wrong.verdict is Verdict.FAIL
