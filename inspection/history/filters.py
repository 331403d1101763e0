"""What the quality engineer is looking for: a frozen ``PartFilter`` and the SQL it becomes.

Every condition is written so SQLite can answer it from an index where one exists (shift, lot,
time, codes, a tool's rejects) and keep the rows in ``id`` order, so a page of the newest
matches is found without sorting millions of rows. Conditions that have no index (reason text,
recipe version, station) only narrow rows the index or the newest-first walk already found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from inspection.errors import LinesideError
from inspection.types import Verdict

_DIGITS = re.compile(r"#?\s*(\d{1,12})")


class FilterError(LinesideError):
    """A filter that cannot be searched with, with the field and the reason."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PartFilter:
    """Which parts to list. Every field left at its default matches every part.

    ``start`` / ``end``: UNIX seconds, start inclusive, end exclusive (either may stay open).
    ``production_day`` (ISO date) and ``shift`` (its name) as the parts were stamped when recorded.
    ``verdicts``: empty = all. ``reason``: substring of the part's reason, case-insensitive
    (ASCII letters, as SQLite's LIKE folds them). ``tool``: parts on which that tool did not
    PASS (FAIL or ERROR) — "show me what the label tool rejected"; a tool that passed is no
    finding to look at. ``text``: the part's inspection id (exact or prefix), a code read on it
    (exact or prefix, case as printed), or, when it is digits (optionally ``#12``), its part number.
    """

    start: float | None = None
    end: float | None = None
    production_day: str | None = None
    shift: str | None = None
    verdicts: frozenset[Verdict] = field(default_factory=frozenset)
    reason: str = ""
    tool: str = ""
    lot: str | None = None
    recipe_version: str = ""
    text: str = ""
    station: str = ""

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise FilterError(
                f"time range: the end ({self.end}) must come after the start ({self.start})"
            )
        if self.shift and not self.production_day:
            raise FilterError(
                f"shift {self.shift!r}: choose its production day too (a shift name alone "
                "repeats every day)"
            )
        bad = [v for v in self.verdicts if not isinstance(v, Verdict)]
        if bad:
            raise FilterError(f"verdicts: {bad!r} are not PASS, FAIL or ERROR")

    @property
    def part_number(self) -> int | None:
        """The part number the free text names (as operators count, from 1), else None."""
        m = _DIGITS.fullmatch(self.text.strip())
        return int(m.group(1)) if m else None

    def describe(self) -> str:
        """The filter in a few words, for file names and headings ("all parts" when open)."""
        bits = []
        if self.production_day:
            bits.append(f"{self.production_day} {self.shift or ''}".strip())
        if self.verdicts:
            bits.append("/".join(sorted(v.value for v in self.verdicts)))
        for name, value in (
            ("lot", self.lot),
            ("tool", self.tool),
            ("recipe v", self.recipe_version),
            ("reason", self.reason),
            ("text", self.text),
            ("station", self.station),
        ):
            if value:
                bits.append(f"{name} {value}")
        return ", ".join(bits) or "all parts"


def prefix_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix`` (for a range)."""
    return prefix + "\U0010ffff"


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def conditions(f: PartFilter) -> tuple[list[str], dict[str, Any]]:
    """The WHERE terms (joined with AND) and named parameters of ``f``, verdicts excluded.

    Verdicts are left to the caller: several verdicts are best asked one at a time (each keeps
    the index order), see ``inspection.history.pages``.
    """
    terms: list[str] = []
    params: dict[str, Any] = {}
    if f.start is not None:
        terms.append("wall_time >= :start")
        params["start"] = float(f.start)
    if f.end is not None:
        terms.append("wall_time < :end")
        params["end"] = float(f.end)
    if f.production_day:
        terms.append("production_day = :day")
        params["day"] = f.production_day
    if f.shift:
        terms.append("shift = :shift")
        params["shift"] = f.shift
    if f.lot is not None:
        terms.append("lot = :lot")
        params["lot"] = f.lot
    if f.reason.strip():
        terms.append("reason LIKE :reason ESCAPE '\\'")
        params["reason"] = f"%{_like_escape(f.reason.strip())}%"
    if f.recipe_version.strip():
        terms.append("recipe_version = :recipe_version")
        params["recipe_version"] = f.recipe_version.strip()
    if f.station.strip():
        # unary +: never walk the (station, part_seq) index, whose order is not the id order
        terms.append("+station = :station")
        params["station"] = f.station.strip()
    if f.tool.strip():
        # the literal <> 'PASS' matches the partial index tool_results_not_passed
        terms.append(
            "id IN (SELECT inspection FROM tool_results "
            "WHERE tool_id = :tool AND verdict <> 'PASS')"
        )
        params["tool"] = f.tool.strip()
    text = f.text.strip()
    if text:
        params["text"] = text
        params["text_end"] = prefix_bound(text)
        found = [
            "SELECT id FROM inspections WHERE inspection_id >= :text AND inspection_id < :text_end",
            "SELECT inspection FROM part_codes WHERE code >= :text AND code < :text_end",
        ]
        number_ = f.part_number
        if number_ is not None and number_ >= 1:
            found.append("SELECT id FROM inspections WHERE part_seq = :part_seq")
            params["part_seq"] = number_ - 1
        terms.append(f"id IN ({' UNION '.join(found)})")
    return terms, params
