"""What a reject reason says, without the part's own figures: one category per kind of reject.

Shared by everything that counts rejects by reason: the shift report's Pareto, the operator's
trend strip and the trend series of reasons, so all three name and count them alike.
"""

from __future__ import annotations

import re

NO_REASON = "(no reason given)"
_PARENTHESES = re.compile(r"\s*\([^()]*\)")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\b")


def reason_category(reason: str) -> str:
    """A reject reason without what differs from part to part, for the Pareto.

    The tools put the part's own figures in their reasons ("defect found (score 0.71 > 0.50,
    1 region)", "code 'SN12' does not match..."); counted as written, a day's Pareto breaks into
    thousands of one-part rows. The figures in parentheses go, quoted texts become '…' and other
    numbers N; the rejects list keeps every reason as written.
    """
    text = _PARENTHESES.sub("", reason)
    text = _QUOTED.sub("'…'", text)
    text = _NUMBER.sub("N", text)
    text = " ".join(text.split())
    return text or NO_REASON
