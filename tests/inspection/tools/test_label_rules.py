"""Label field rules: exact, regex, batch, dates, confusions, confidence."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from inspection.batch import BatchContext
from inspection.inference.ocr import TextLine
from inspection.inference.ocr_fielding import FieldedRead
from inspection.recipe import TextFieldSettings
from inspection.tools.label_rules import (
    FieldRules,
    best_span,
    expected_by_position,
    find_date,
    judge_line,
)
from inspection.types import Verdict

TODAY = date(2026, 3, 1)


def field(**kw: Any) -> TextFieldSettings:
    base: dict[str, Any] = {"name": "lot"}
    base.update(kw)
    return TextFieldSettings.model_validate(base)


def rules(batch: dict[str, str] | None = None) -> FieldRules:
    return FieldRules(BatchContext(batch) if batch is not None else None, lambda: TODAY)


def test_batch_rule_passes_the_lot_inside_its_caption() -> None:
    r = rules({"lot": "L2507D"}).judge(field(rule="batch"), "LOT L2507D", 0.97)
    assert r.verdict is Verdict.PASS and r.value == "L2507D" and r.reason == ""


def test_batch_rule_names_what_was_read_and_the_batch() -> None:
    r = rules({"lot": "L2507D"}).judge(field(rule="batch"), "LOT L2507E", 0.97)
    assert r.verdict is Verdict.FAIL
    assert r.reason == "lot reads 'L2507E', batch is 'L2507D'"


def test_batch_rule_catches_a_dropped_character() -> None:
    r = rules({"lot": "L2507D"}).judge(field(rule="batch"), "LOT L257D", 0.97)
    assert r.verdict is Verdict.FAIL and "'L257D'" in r.reason


def test_batch_rule_without_a_batch_value_is_an_error() -> None:
    r = rules({"product": "X"}).judge(field(rule="batch"), "LOT L2507D", 0.97)
    assert r.verdict is Verdict.ERROR and r.reason == "no batch lot set"
    r = rules(None).judge(field(rule="batch", batch_key="lot_code"), "LOT L2507D", 0.97)
    assert r.verdict is Verdict.ERROR and r.reason == "no batch lot_code set"


def test_confusions_tolerated_only_when_allowed() -> None:
    read = "LOT L25O7D"  # letter O for the zero
    strict = rules({"lot": "L2507D"}).judge(field(rule="batch"), read, 0.9)
    lenient = rules({"lot": "L2507D"}).judge(field(rule="batch", allow_confusions=True), read, 0.9)
    assert strict.verdict is Verdict.FAIL and lenient.verdict is Verdict.PASS
    for a, b in (("I", "1"), ("S", "5"), ("B", "8"), ("Z", "2"), ("G", "6")):
        f = field(rule="exact", value=f"A{b}9", allow_confusions=True)
        assert rules().judge(f, f"A{a}9", 0.9).verdict is Verdict.PASS
        assert (
            rules().judge(f.model_copy(update={"allow_confusions": False}), f"A{a}9", 0.9).verdict
            is Verdict.FAIL
        )


def test_exact_rule_ignores_case_and_spacing() -> None:
    f = field(name="product", rule="exact", value="COLD BREW 330 ML")
    assert rules().judge(f, "Cold  Brew 330 ML", 0.9).verdict is Verdict.PASS
    bad = rules().judge(f, "COLD BREW 350 ML", 0.9)
    assert bad.verdict is Verdict.FAIL
    assert bad.reason == "product reads 'COLD BREW 350 ML', expected 'COLD BREW 330 ML'"


def test_regex_rule_is_a_full_match() -> None:
    f = field(rule="regex", value=r"LOT L\d{4}[A-H]")
    assert rules().judge(f, "LOT L2507D", 0.9).verdict is Verdict.PASS
    assert rules().judge(f, "LOT L2507DX", 0.9).verdict is Verdict.FAIL
    assert rules().judge(f, "XLOT L2507D", 0.9).verdict is Verdict.FAIL
    assert rules().judge(f.model_copy(update={"value": "("}), "x", 0.9).verdict is Verdict.ERROR


def test_low_confidence_is_unreadable() -> None:
    r = rules({"lot": "L2507D"}).judge(field(rule="batch"), "LOT L2507D", 0.31)
    assert r.verdict is Verdict.FAIL
    assert r.reason == "lot unreadable (confidence 0.31 < 0.50)"


def test_nothing_read_fails() -> None:
    r = rules().judge(field(rule="any"), "  ", 0.0)
    assert r.verdict is Verdict.FAIL and r.reason == "lot not found on the label"


@pytest.mark.parametrize(
    ("text", "fmt", "shown"),
    [
        ("EXP 2027-03", "EXP %Y-%m", "2027-03"),
        ("USE BY 16 NOV", "%d %b", "2025-11-16"),
        ("BEST BEFORE 09/20", "%m/%y", "2020-09"),
    ],
)
def test_dates_in_three_layouts(text: str, fmt: str, shown: str) -> None:
    found = find_date(text, [fmt], TODAY)
    assert found is not None and found[1] == shown


def test_date_min_days_ahead_with_injected_today() -> None:
    f = field(name="expiry", rule="date", date_formats=["EXP %Y-%m"], min_days_ahead=30)
    ok = rules().judge(f, "EXP 2026-05", 0.9)  # ends 2026-05-31, 91 days after TODAY
    assert ok.verdict is Verdict.PASS and ok.value == "EXP 2026-05"
    late = rules().judge(f, "EXP 2025-05", 0.9)
    assert late.verdict is Verdict.FAIL
    assert late.reason == "expiry 2025-05 is only -274 days ahead (needs 30)"
    soon = rules().judge(f, "EXP 2026-03", 0.9)  # 30 days: just enough
    assert soon.verdict is Verdict.PASS
    assert rules().judge(f, "EXP 2026-02", 0.9).verdict is Verdict.FAIL


def test_day_month_dates_take_the_year_nearest_today() -> None:
    f = field(name="use_by", rule="date", date_formats=["%d %b"], min_days_ahead=0)
    assert rules().judge(f, "16 MAR", 0.9).verdict is Verdict.PASS
    past = rules().judge(f, "16 FEB", 0.9)
    assert past.verdict is Verdict.FAIL and "2026-02-16 is only -13 days" in past.reason


def test_date_confusions_only_where_digits_belong() -> None:
    f = field(name="expiry", rule="date", date_formats=["EXP %Y-%m"])
    assert rules().judge(f, "EXP 2O3O-O6", 0.9).verdict is Verdict.FAIL
    lenient = f.model_copy(update={"allow_confusions": True})
    assert rules().judge(lenient, "EXP 2O3O-O6", 0.9).verdict is Verdict.PASS
    not_a_date = rules().judge(f, "EXP JUNE", 0.9)
    assert not_a_date.verdict is Verdict.FAIL and "not a date like 'EXP %Y-%m'" in not_a_date.reason


def test_best_span_finds_the_closest_substring() -> None:
    assert best_span("L2507D", "LOT L2570D") == (4, 10, 2)
    assert best_span("16NOV", "USEBY16N0V") == (5, 10, 1)
    assert best_span("ABC", "") == (0, 0, 3)


def by_position_line(text: str, expected: str, fielded: str, confidence: float = 0.9) -> TextLine:
    read = FieldedRead(expected=expected, text=fielded, confidence=confidence, weakest=0.3)
    return TextLine(text=text, confidence=0.95, by_position=(read,))


def test_a_field_read_by_position_passes_on_its_read_by_position() -> None:
    f = field(
        name="code", rule="exact", value="Z39 06:43", read_by_position=True, print="dot_matrix"
    )
    line = by_position_line("239 06:43", "Z39 06:43", "Z39 06:43")
    r = judge_line(rules(), f, line)
    assert r.verdict is Verdict.PASS and r.value == "Z39 06:43"
    # the report keeps what was read, and says how it passed
    assert r.text == "239 06:43" and r.reason == "read by position: '239 06:43' as 'Z39 06:43'"
    assert expected_by_position(rules(), [f, field(name="x", rule="any")]) == ["Z39 06:43"]


def test_a_read_by_position_that_differs_or_a_field_without_it_still_fails() -> None:
    on = field(name="code", rule="exact", value="Z39 06:43", read_by_position=True)
    off = field(name="code", rule="exact", value="Z39 06:43")
    misread = by_position_line("239 06:43", "Z39 06:43", "Z39 08:43")
    assert judge_line(rules(), on, misread).verdict is Verdict.FAIL
    good = by_position_line("239 06:43", "Z39 06:43", "Z39 06:43")
    r = judge_line(rules(), off, good)
    assert r.verdict is Verdict.FAIL and r.reason == "code reads '239 06:43', expected 'Z39 06:43'"
    # a read by position against another field's value is not this field's
    other = by_position_line("239 06:43", "L2507D", "L2507D")
    assert judge_line(rules(), on, other).verdict is Verdict.FAIL
    # the field's confidence floor applies to the read by position too
    weak = by_position_line("239 06:43", "Z39 06:43", "Z39 06:43", confidence=0.3)
    assert judge_line(rules(), on, weak).verdict is Verdict.FAIL


def test_read_by_position_needs_an_expected_value() -> None:
    with pytest.raises(ValidationError, match=r"code.*read_by_position needs rule exact or batch"):
        field(name="code", rule="date", date_formats=["%d %b"], read_by_position=True)
    assert field(name="lot", rule="batch", read_by_position=True).read_by_position


def test_a_latin_label_refuses_an_expected_value_it_cannot_read() -> None:
    from inspection.recipe.tools import LabelToolSettings

    def label(alphabet: str, value: str) -> LabelToolSettings:
        return LabelToolSettings.model_validate(
            {
                "id": "label",
                "type": "label",
                "alphabet": alphabet,
                "fields": [{"name": "brand", "rule": "exact", "value": value}],
            }
        )

    with pytest.raises(ValidationError, match=r"brand.*'Ωλ'.*alphabet latin cannot read"):
        label("latin", "λΩ 250 g")
    assert label("all", "λΩ 250 g").alphabet == "all"
    # the signs of food and drink packs are Latin: degrees, the e-mark, accents, the euro
    assert label("latin", "Crème 4 °C 250 g ℮ 1,99 €").fields[0].value
    with pytest.raises(ValidationError, match="alphabet"):
        label("greek", "A")
