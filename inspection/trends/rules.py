"""Western Electric rules 1-4 and the Nelson rules that extend them (here 5-8), vectorised.

Each rule is a window sliding over the points in sigma units (z = (x − centre) / sigma). Windows
that trip and overlap are one violation: 20 points in a row above the centre line is one
"8 in a row on one side" pattern of 20 points, not 13 patterns. Points that are not numbers
(NaN) break every pattern. With no spread (sigma 0) the zones are undefined and no rule trips.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from inspection.trends.limits import ControlLimits


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str  # "WE1".."WE4", "N5".."N8"
    name: str  # in the engineer's words
    indices: tuple[int, ...]  # the points (indices into the values) that make the pattern
    at: float  # time of the last point of the pattern


RULE_NAMES: dict[str, str] = {
    "WE1": "1 point beyond 3 sigma",
    "WE2": "2 of 3 beyond 2 sigma on one side",
    "WE3": "4 of 5 beyond 1 sigma on one side",
    "WE4": "8 in a row on one side of the centre line",
    "N5": "6 in a row steadily rising or falling",
    "N6": "14 in a row alternating up and down",
    "N7": "15 in a row within 1 sigma",
    "N8": "8 in a row outside 1 sigma on both sides",
}
ALL_RULES: tuple[str, ...] = tuple(RULE_NAMES)


def _window_counts(flags: np.ndarray, width: int) -> np.ndarray:
    """How many flags are set in each window of ``width`` (one entry per window start)."""
    if len(flags) < width:
        return np.zeros(0, dtype=np.int64)
    cs = np.concatenate(([0], np.cumsum(flags, dtype=np.int64)))
    return cs[width:] - cs[:-width]


def _episodes(starts: np.ndarray, width: int) -> list[tuple[int, int]]:
    """Tripped windows (by start) merged where they overlap: [(first index, last index)]."""
    if len(starts) == 0:
        return []
    breaks = np.flatnonzero(starts[1:] > starts[:-1] + width - 1) + 1
    firsts = starts[np.r_[0, breaks]]
    lasts = starts[np.r_[breaks - 1, len(starts) - 1]] + width - 1
    return list(zip(firsts.tolist(), lasts.tolist(), strict=True))


Pattern = tuple[np.ndarray, int, np.ndarray | None]
"""(window starts that trip, window width, which points in a window make the pattern: None = all)"""


def _count_rule(z: np.ndarray, beyond: float, need: int, width: int) -> list[Pattern]:
    """``need`` of ``width`` in a row beyond ``beyond`` sigma on the same side."""
    out: list[Pattern] = []
    for side in (z > beyond, z < -beyond):
        out.append((np.flatnonzero(_window_counts(side, width) >= need), width, side))
    return out


def _we1(z: np.ndarray) -> list[Pattern]:
    beyond = np.abs(z) > 3
    return [(np.flatnonzero(beyond), 1, beyond)]


def _we2(z: np.ndarray) -> list[Pattern]:
    return _count_rule(z, 2.0, 2, 3)


def _we3(z: np.ndarray) -> list[Pattern]:
    return _count_rule(z, 1.0, 4, 5)


def _we4(z: np.ndarray) -> list[Pattern]:
    return _count_rule(z, 0.0, 8, 8)


def _n5(z: np.ndarray) -> list[Pattern]:
    # 6 points steadily rising (or falling) are 5 rises (or falls) in a row
    d = np.diff(z)
    out: list[Pattern] = []
    for moving in (d > 0, d < 0):
        out.append((np.flatnonzero(_window_counts(moving, 5) == 5), 6, None))
    return out


def _n6(z: np.ndarray) -> list[Pattern]:
    # 14 points alternating: 13 steps, each changing direction from the one before (12 turns)
    d = np.diff(z)
    turns = (d[1:] * d[:-1]) < 0
    return [(np.flatnonzero(_window_counts(turns, 12) == 12), 14, None)]


def _n7(z: np.ndarray) -> list[Pattern]:
    within = np.abs(z) < 1
    return [(np.flatnonzero(_window_counts(within, 15) == 15), 15, None)]


def _n8(z: np.ndarray) -> list[Pattern]:
    above, below = z > 1, z < -1
    outside = _window_counts(above | below, 8) == 8
    both = (_window_counts(above, 8) > 0) & (_window_counts(below, 8) > 0)
    return [(np.flatnonzero(outside & both), 8, None)]


_RULES: dict[str, Callable[[np.ndarray], list[Pattern]]] = {
    "WE1": _we1,
    "WE2": _we2,
    "WE3": _we3,
    "WE4": _we4,
    "N5": _n5,
    "N6": _n6,
    "N7": _n7,
    "N8": _n8,
}


def check_rules(
    t: np.ndarray,
    values: np.ndarray,
    limits: ControlLimits,
    rules: Sequence[str] = ALL_RULES,
    *,
    sigmas: np.ndarray | None = None,
) -> list[Violation]:
    """The patterns the points make against ``limits``, in time order of their last point.

    ``sigmas`` gives each point its own sigma (a p chart's intervals of different sizes);
    otherwise every point has ``limits.sigma``."""
    unknown = [r for r in rules if r not in _RULES]
    if unknown:
        raise ValueError(f"unknown rule(s) {', '.join(unknown)}; rules are {', '.join(_RULES)}")
    x = np.asarray(values, dtype=np.float64)
    times = np.asarray(t, dtype=np.float64)
    if len(times) != len(x):
        raise ValueError(f"{len(times)} times for {len(x)} values")
    sigma = np.full(len(x), limits.sigma) if sigmas is None else np.asarray(sigmas, np.float64)
    usable = np.isfinite(sigma) & (sigma > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(usable, (x - limits.centre) / np.where(usable, sigma, 1.0), np.nan)
    found: list[Violation] = []
    for rule in rules:
        for starts, width, members in _RULES[rule](z):
            for first, last in _episodes(starts, width):
                span = np.arange(first, last + 1)
                if members is not None:
                    span = span[members[first : last + 1]]
                found.append(
                    Violation(
                        rule=rule,
                        name=RULE_NAMES[rule],
                        indices=tuple(span.tolist()),
                        at=float(times[span[-1]]),
                    )
                )
    found.sort(key=lambda v: (v.at, v.rule))
    return found
