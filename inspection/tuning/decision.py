"""How a tool compares a part's recorded value with a limit of its recipe, for the what-if.

Three comparisons cover every tool that decides by a number (``parameters.py`` says which is
which): a defect tool's score fails **at or above** its threshold; the label's offset and rotation
fail **above** their maximum; the label's match and a field's OCR confidence fail **below** their
minimum. Counting the parts a limit passes is one binary search on the sorted values either way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

Rejects = Literal["at_or_above", "above", "below"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """A part fails when its value ``rejects`` the limit: ``at_or_above`` (value >= limit),
    ``above`` (value > limit) or ``below`` (value < limit).

    ``whole``: the recipe holds the limit as a whole number; a candidate between two counts as
    the next whole number up. ``least``: the tool never uses a smaller limit than this (the
    defect tool's minimum area of 0 px works as 1 px)."""

    rejects: Rejects = "at_or_above"
    whole: bool = False
    least: float | None = None

    @property
    def fails_high(self) -> bool:
        """True when larger values fail (a higher limit passes more parts)."""
        return self.rejects != "below"

    def effective(self, limit: float) -> float:
        """The limit the tool actually uses for ``limit`` (whole number, floor)."""
        t = math.ceil(limit) if self.whole and math.isfinite(limit) else limit
        return max(t, self.least) if self.least is not None else t

    def passing(self, ascending: np.ndarray, limit: float) -> int:
        """How many of ``ascending`` (sorted values, ±inf allowed) pass at ``limit``."""
        t = self.effective(float(limit))
        if self.rejects == "at_or_above":
            return int(np.searchsorted(ascending, t, side="left"))
        if self.rejects == "above":
            return int(np.searchsorted(ascending, t, side="right"))
        return len(ascending) - int(np.searchsorted(ascending, t, side="left"))

    def passing_each(self, ascending: np.ndarray, limits: np.ndarray) -> np.ndarray:
        """``passing`` for each of ``limits`` (int64, one per limit)."""
        t = np.asarray(limits, dtype=np.float64)
        if self.whole:
            t = np.where(np.isfinite(t), np.ceil(t), t)
        if self.least is not None:
            t = np.maximum(t, self.least)
        if self.rejects == "at_or_above":
            return np.searchsorted(ascending, t, side="left").astype(np.int64)
        if self.rejects == "above":
            return np.searchsorted(ascending, t, side="right").astype(np.int64)
        return len(ascending) - np.searchsorted(ascending, t, side="left").astype(np.int64)

    def fails(self, value: np.ndarray, limit: np.ndarray) -> np.ndarray:
        """bool per part: ``value`` fails at ``limit`` (arrays of one shape; NaN never fails)."""
        with np.errstate(invalid="ignore"):
            if self.rejects == "at_or_above":
                return np.asarray(value >= limit)
            if self.rejects == "above":
                return np.asarray(value > limit)
            return np.asarray(value < limit)

    def just_failing(self, limit: np.ndarray) -> np.ndarray:
        """The value nearest ``limit`` that fails at it (per element)."""
        if self.rejects == "at_or_above":
            return np.asarray(limit, dtype=np.float64)
        direction = math.inf if self.rejects == "above" else -math.inf
        return np.nextafter(np.asarray(limit, dtype=np.float64), direction)

    def just_passing(self, limit: np.ndarray) -> np.ndarray:
        """The value nearest ``limit`` that passes at it (per element)."""
        if self.rejects == "at_or_above":
            return np.nextafter(np.asarray(limit, dtype=np.float64), -math.inf)
        return np.asarray(limit, dtype=np.float64)

    def comparison(self, limit_name: str, value_name: str) -> str:
        """The rule in words: "a part is rejected at score >= threshold"."""
        sign = {"at_or_above": ">=", "above": ">", "below": "<"}[self.rejects]
        return f"a part is rejected at {value_name} {sign} {limit_name}"


SCORE_THRESHOLD = Decision()
"""The defect tools' rule: rejected at score >= threshold."""
