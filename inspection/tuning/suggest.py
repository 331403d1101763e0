"""Suggested thresholds from the labelled parts, each with what it would do and why.

* **No escapes**: the highest threshold at which every part labelled defect or escape is still
  rejected, i.e. the lowest score among them (a part is rejected at ``score >= threshold``).
* **Best yield at ≤ N escapes**: predicted yield only grows with the threshold, so the best is the
  highest threshold letting at most N labelled bad parts through: the (N+1)-th lowest of their
  scores. Offered for N ≥ 1 when more than N parts are labelled bad.

Both need labelled bad parts; with none there is nothing to suggest from (an empty list).
For a parameter's limit (the label's offset, match...: ``ThresholdView.decision``) the same two,
in its direction: the least strict limit that still rejects the bad parts it can.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from inspection.tuning.decision import SCORE_THRESHOLD
from inspection.tuning.whatif import Counts, ThresholdView

NO_ESCAPES, BEST_YIELD = "no_escapes", "best_yield"


@dataclass(frozen=True, slots=True, kw_only=True)
class Suggestion:
    """A threshold, what it would do on the loaded parts, and the reason in a sentence."""

    kind: str
    threshold: float
    why: str
    counts: Counts

    @property
    def false_rejects(self) -> int:
        return self.counts.false_rejects

    @property
    def escapes(self) -> int:
        return self.counts.escapes

    @property
    def yield_(self) -> float:
        return self.counts.yield_


def percent(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{100 * value:.2f} %"


def _consequences(view: ThresholdView, c: Counts) -> str:
    good = len(view.good)
    text = (
        f"At it, {c.false_rejects} of the {good} parts labelled good would be rejected "
        f"and the predicted yield is {percent(c.yield_)}"
    )
    if view.in_force is not None:
        now = view.counts_at(view.in_force)
        text += f" (now {percent(now.yield_)} at {view.in_force:g})"
    return text + "."


def _past(view: ThresholdView, value: float) -> float:
    """The least strict limit that still rejects a part of ``value``: the value itself when the
    limit rejects at or above it; otherwise halfway to the next value recorded on the passing
    side (the same counts on the recorded parts, with room either side), else just past it."""
    d = view.decision
    if d.rejects == "at_or_above":
        return value
    values = np.unique(np.r_[view.passable, view.good, view.bad])
    values = values[np.isfinite(values)]
    if d.fails_high:
        lower = values[values < value]
        return (
            (float(lower[-1]) + value) / 2 if len(lower) else float(np.nextafter(value, -math.inf))
        )
    higher = values[values > value]
    return (float(higher[0]) + value) / 2 if len(higher) else float(np.nextafter(value, math.inf))


def suggest(view: ThresholdView, max_escapes: int = 1) -> list[Suggestion]:
    """The suggestions above for ``view``'s labelled parts (``max_escapes`` = N >= 0)."""
    if view.decision != SCORE_THRESHOLD:
        return _suggest_limit(view, max_escapes)
    bad = view.bad
    if not len(bad):
        return []
    out = []
    lowest = float(bad[0])
    c = view.counts_at(lowest)
    out.append(
        Suggestion(
            kind=NO_ESCAPES,
            threshold=lowest,
            counts=c,
            why=(
                f"The highest threshold that still rejects all {len(bad)} parts labelled defect "
                f"or escape: the lowest-scoring of them scored {lowest:g}, so any higher "
                f"threshold lets it pass. {_consequences(view, c)}"
            ),
        )
    )
    n = int(max_escapes)
    if 1 <= n < len(bad):
        t = float(bad[n])
        c = view.counts_at(t)
        out.append(
            Suggestion(
                kind=BEST_YIELD,
                threshold=t,
                counts=c,
                why=(
                    f"The best predicted yield while at most {n} of the {len(bad)} parts "
                    f"labelled defect or escape pass ({c.escapes} would): a higher threshold "
                    f"lets the part that scored {t:g} pass too. {_consequences(view, c)}"
                ),
            )
        )
    return out


def _suggest_limit(view: ThresholdView, max_escapes: int) -> list[Suggestion]:
    """The same two suggestions for a parameter's limit (``view.decision``), in its words.

    "Least strict" is the highest maximum (offset, rotation, area) or the lowest minimum (match,
    confidence). Bad parts that pass at any value of the limit (±inf) are escapes of every
    suggestion, and said so."""
    d, name, what = view.decision, view.limit_name, view.value_name
    bad = view.bad
    catchable = bad[np.isfinite(bad)]
    if not d.fails_high:
        catchable = catchable[::-1]  # the bad part easiest to let through first
    if not len(catchable):
        return []
    always = len(bad) - len(catchable)
    never = (
        f" {always} of them pass at any {name} (nothing this limit sees rejects them)."
        if always
        else ""
    )
    most, least = ("highest", "lowest") if d.fails_high else ("lowest", "highest")
    out = []
    edge = float(catchable[0])
    limit = _past(view, edge)
    c = view.counts_at(limit)
    out.append(
        Suggestion(
            kind=NO_ESCAPES,
            threshold=limit,
            counts=c,
            why=(
                f"The {most} {name} that still rejects every part labelled defect or escape "
                f"that it can ({len(catchable)} of {len(bad)}): the {least} {what} among them "
                f"is {edge:g} ({d.comparison(name, what)}).{never} {_consequences(view, c)}"
            ),
        )
    )
    allowed = int(max_escapes) - always
    if max_escapes >= 1 and 0 <= allowed < len(catchable) and allowed >= 1:
        edge = float(catchable[allowed])
        limit = _past(view, edge)
        c = view.counts_at(limit)
        out.append(
            Suggestion(
                kind=BEST_YIELD,
                threshold=limit,
                counts=c,
                why=(
                    f"The best predicted yield while at most {int(max_escapes)} of the "
                    f"{len(bad)} parts labelled defect or escape pass ({c.escapes} would): "
                    f"a less strict {name} lets the part with {what} {edge:g} pass too."
                    f"{never} {_consequences(view, c)}"
                ),
            )
        )
    return out
