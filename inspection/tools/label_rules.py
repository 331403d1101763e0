"""The rules a label's printed text must meet: exact, regex, the running batch, a date, or anything.

Comparisons ignore case and runs of spaces. For ``exact`` and ``batch`` the value is looked for
inside the text read (a field box usually holds a caption too, e.g. ``LOT L2507D``): the part of
the text most like the expected value is what the field "reads", and it must equal the value.
With ``allow_confusions`` the usual OCR look-alikes (O/0, I/1, S/5, B/8, Z/2, G/6) count as equal.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

from inspection.batch import BatchContext
from inspection.inference.ocr import TextLine
from inspection.recipe import TextFieldSettings
from inspection.tools.label_print import read_print_text
from inspection.types import Verdict

log = logging.getLogger(__name__)

# Letters OCR confuses with digits, mapped to the digit (comparison under allow_confusions).
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "S": "5", "B": "8", "Z": "2", "G": "6"})
_DIGIT_FORMAT = re.compile(r"%[dmyYHMS]")


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldReport:
    """How one text field fared: the whole text read, the part that was judged, the verdict."""

    name: str
    text: str
    value: str
    confidence: float
    verdict: Verdict
    reason: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "text": self.text,
            "value": self.value,
            "confidence": round(self.confidence, 4),
            "verdict": str(self.verdict),
            "reason": self.reason,
        }


def normalise(text: str) -> str:
    """Upper case, single spaces, no leading/trailing space."""
    return " ".join(text.upper().split())


def confusion_free(text: str) -> str:
    """``text`` with each OCR look-alike letter replaced by its digit (O→0, I→1, S→5, ...)."""
    return normalise(text).translate(_CONFUSABLE)


def best_span(expected: str, text: str) -> tuple[int, int, int]:
    """(start, end, edits): the substring ``text[start:end]`` closest to ``expected`` and its edit
    distance (insertions, deletions, substitutions), ties going to the longest span."""
    m = len(expected)
    if m == 0:
        return 0, 0, 0
    n = len(text)
    # prev[j] = distance of expected[:i] against the best substring ending at text[j], with start.
    prev = [0] * (n + 1)
    start = list(range(n + 1))
    for i in range(1, m + 1):
        cur = [i] + [0] * n
        cur_start = [0] + [0] * n
        for j in range(1, n + 1):
            sub = prev[j - 1] + (expected[i - 1] != text[j - 1])
            dele = prev[j] + 1
            ins = cur[j - 1] + 1
            best = min(sub, dele, ins)
            cur[j] = best
            if best == sub:
                cur_start[j] = start[j - 1]
            elif best == dele:
                cur_start[j] = start[j]
            else:
                cur_start[j] = cur_start[j - 1]
        prev, start = cur, cur_start
    best_j = min(range(n + 1), key=lambda j: (prev[j], -(j - start[j])))
    return start[best_j], best_j, prev[best_j]


class FieldRules:
    """Judges the text read for the fields of one label tool."""

    def __init__(
        self,
        batch: BatchContext | None = None,
        today: Callable[[], date] | None = None,
    ) -> None:
        """``today``: the clock for date rules (injectable for tests; default: the local date)."""
        self.batch = batch
        self.today = today or date.today

    def expected_value(self, field: TextFieldSettings) -> str | None:
        """The text an exact/batch field must show (None for the other rules, or no batch value)."""
        if field.rule == "exact":
            return field.value
        if field.rule == "batch" and self.batch is not None:
            return self.batch.get(field.batch_key or field.name)
        return None

    def judge(self, field: TextFieldSettings, text: str, confidence: float) -> FieldReport:
        """The verdict for ``field`` given the ``text`` read with ``confidence`` (0..1)."""
        name = field.name
        norm = normalise(text)

        def report(verdict: Verdict, reason: str = "", value: str = norm) -> FieldReport:
            return FieldReport(
                name=name,
                text=text,
                value=value,
                confidence=confidence,
                verdict=verdict,
                reason=reason,
            )

        if field.rule == "batch":
            key = field.batch_key or name
            if self.batch is None or not self.batch.get(key):
                return report(Verdict.ERROR, f"no batch {key} set")
        if not norm:
            return report(Verdict.FAIL, f"{name} not found on the label")
        if confidence < field.min_confidence:
            return report(
                Verdict.FAIL,
                f"{name} unreadable (confidence {confidence:.2f} < {field.min_confidence:.2f})",
            )
        if field.rule == "any":
            return report(Verdict.PASS)
        if field.rule in ("exact", "batch"):
            expected = normalise(self.expected_value(field) or "")
            return self._contains(field, norm, expected, report)
        if field.rule == "regex":
            return self._regex(field, norm, report)
        return self._date(field, norm, report)

    def _contains(
        self,
        field: TextFieldSettings,
        norm: str,
        expected: str,
        report: Callable[..., FieldReport],
    ) -> FieldReport:
        if not expected:
            return report(Verdict.ERROR, f"{field.name}: rule {field.rule} has no value to compare")
        s, e, edits = best_span(expected, norm)
        # Far from the value everywhere: the whole text is a fairer account of what was read.
        value = norm[s:e].strip() if edits <= len(expected) // 2 else norm
        same = value == expected
        if not same and field.allow_confusions:
            same = confusion_free(value) == confusion_free(expected)
        if same:
            return report(Verdict.PASS, value=value)
        what = "batch is" if field.rule == "batch" else "expected"
        return report(
            Verdict.FAIL, f"{field.name} reads {value!r}, {what} {expected!r}", value=value
        )

    def _regex(
        self, field: TextFieldSettings, norm: str, report: Callable[..., FieldReport]
    ) -> FieldReport:
        if not field.value:
            return report(Verdict.ERROR, f"{field.name}: rule regex has no pattern in 'value'")
        try:
            pattern = re.compile(field.value)
        except re.error as exc:
            return report(Verdict.ERROR, f"{field.name}: bad regex {field.value!r} ({exc})")
        candidates = [norm]
        if field.allow_confusions:
            candidates.append(confusion_free(norm))
        if any(pattern.fullmatch(c) for c in candidates):
            return report(Verdict.PASS)
        return report(Verdict.FAIL, f"{field.name} reads {norm!r}, not the form {field.value!r}")

    def _date(
        self, field: TextFieldSettings, norm: str, report: Callable[..., FieldReport]
    ) -> FieldReport:
        formats = field.date_formats or ["%Y-%m-%d"]
        today = self.today()
        found = find_date(norm, formats, today, allow_confusions=field.allow_confusions)
        if found is None:
            shown = ", ".join(repr(f) for f in formats)
            return report(Verdict.FAIL, f"{field.name} reads {norm!r}, not a date like {shown}")
        when, shown_date, span = found
        if field.min_days_ahead is not None:
            ahead = (when - today).days
            if ahead < field.min_days_ahead:
                return report(
                    Verdict.FAIL,
                    f"{field.name} {shown_date} is only {ahead} days ahead "
                    f"(needs {field.min_days_ahead})",
                    value=span,
                )
        return report(Verdict.PASS, value=span)


def find_date(
    text: str, formats: list[str], today: date, *, allow_confusions: bool = False
) -> tuple[date, str, str] | None:
    """The first date in ``text`` printed in one of ``formats`` (strptime layouts): the date (last
    day of the month when the layout has no day; the year nearest ``today`` when it has none),
    the date as shown (``2030-06`` or ``2030-06-16``), and the words of ``text`` it came from."""
    words = normalise(text).split(" ")
    for fmt in formats:
        n = len(fmt.split())
        if n == 0:
            continue
        for i in range(len(words) - n + 1):
            span = " ".join(words[i : i + n])
            for candidate in _variants(span, fmt, allow_confusions):
                parsed = _parse(candidate, fmt, today)
                if parsed is not None:
                    return parsed[0], parsed[1], span
    return None


def _variants(span: str, fmt: str, allow_confusions: bool) -> list[str]:
    out = [span]
    if allow_confusions:
        # Look-alike letters become digits only where the layout expects digits.
        words = span.split(" ")
        parts = fmt.split()
        fixed = [
            w.translate(_CONFUSABLE)
            if _DIGIT_FORMAT.search(p) and not re.search("%[bBaA]", p)
            else w
            for w, p in zip(words, parts, strict=False)
        ]
        out.append(" ".join(fixed))
    return out


def _parse(text: str, fmt: str, today: date) -> tuple[date, str] | None:
    try:
        # strptime matches case-insensitively, so "NOV" is read as %b and "exp" as "EXP".
        parsed = datetime.strptime(text, fmt)
    except ValueError:
        return None
    has_day = "%d" in fmt or "%j" in fmt
    has_year = "%y" in fmt or "%Y" in fmt
    year = parsed.year if has_year else _nearest_year(parsed.month, parsed.day, today)
    day = parsed.day if has_day else calendar.monthrange(year, parsed.month)[1]
    try:
        when = date(year, parsed.month, day)
    except ValueError:
        return None
    shown = f"{when:%Y-%m-%d}" if has_day else f"{when:%Y-%m}"
    return when, shown


def _nearest_year(month: int, day: int, today: date) -> int:
    """Year for a day-month date printed without one: the one nearest ``today``."""
    best = today.year
    best_gap: int | None = None
    for year in (today.year - 1, today.year, today.year + 1):
        d = min(day, calendar.monthrange(year, month)[1])
        gap = abs((date(year, month, d) - today).days)
        if best_gap is None or gap < best_gap:
            best, best_gap = year, gap
    return best


def judge_read(
    rules: FieldRules, field: TextFieldSettings, text: str, confidence: float
) -> FieldReport:
    """``field`` judged on ``text`` as read from its print. A field with an expected value (exact,
    batch) is judged on the text as read, so a letter O printed where the value has a 0 is never
    taken for the 0 (``allow_confusions`` alone decides that). Without one (regex, date, any), a
    dot-printed field is judged on the text settled for its print (``read_print_text``: O or 0
    by their neighbours), or as read when only that passes (``LOT O1234`` under a pattern that
    wants a letter there: in a plain 5×7 font O and 0 are the same dots)."""
    if rules.expected_value(field) or field.print == "solid":
        return rules.judge(field, text, confidence)
    settled = read_print_text(text, field.print)
    report = rules.judge(field, settled, confidence)
    if report.verdict is Verdict.FAIL and settled != text:
        as_read = rules.judge(field, text, confidence)
        if as_read.verdict is Verdict.PASS:
            return as_read
    return report


def expected_by_position(rules: FieldRules, fields: list[TextFieldSettings]) -> list[str]:
    """The expected texts of the fields read by position, for the recogniser to read against."""
    out = [rules.expected_value(f) for f in fields if f.read_by_position]
    return list(dict.fromkeys(v for v in out if v))


def judge_line(rules: FieldRules, field: TextFieldSettings, line: TextLine) -> FieldReport:
    """``field`` judged on a line read (``judge_read``); a field read by position that fails on
    the text as read passes when the line read by position shows its expected value. The report
    keeps the text as read and names the read by position as its reason."""
    report = judge_read(rules, field, line.text, line.confidence)
    if report.verdict is not Verdict.FAIL or not field.read_by_position:
        return report
    expected = normalise(rules.expected_value(field) or "")
    for fielded in line.by_position:
        if normalise(fielded.expected) != expected:
            continue
        again = rules.judge(field, fielded.text, fielded.confidence)
        if again.verdict is Verdict.PASS:
            return replace(
                again,
                text=line.text,
                reason=f"read by position: {normalise(line.text)!r} as {again.value!r}",
            )
    return report


def may_read_again(rules: FieldRules, field: TextFieldSettings, report: FieldReport) -> bool:
    """Whether a field that failed is read once more from its print's second preparation: a
    field with an expected value only when nothing near it was read (at most half its characters
    right), so a second reading never overturns a read that differs from the value by a
    character or two: that may be a misprint."""
    if report.verdict is not Verdict.FAIL:
        return False
    expected = rules.expected_value(field)
    if not expected:
        return True
    return distance_to_expected(rules, field, report.text) > len(normalise(expected)) // 2


def distance_to_expected(rules: FieldRules, field: TextFieldSettings, text: str) -> int:
    """Edits between a field's expected value and the closest part of ``text`` (0 if no value)."""
    expected = rules.expected_value(field)
    if not expected:
        return 0
    return best_span(normalise(expected), normalise(text))[2]
