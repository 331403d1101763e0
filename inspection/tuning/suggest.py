"""Suggested thresholds from the labelled parts, each with what it would do and why.

* **No escapes**: the highest threshold at which every part labelled defect or escape is still
  rejected, i.e. the lowest score among them (a part is rejected at ``score >= threshold``).
* **Best yield at ≤ N escapes**: predicted yield only grows with the threshold, so the best is the
  highest threshold letting at most N labelled bad parts through: the (N+1)-th lowest of their
  scores. Offered for N ≥ 1 when more than N parts are labelled bad.

Both need labelled bad parts; with none there is nothing to suggest from (an empty list).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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


def suggest(view: ThresholdView, max_escapes: int = 1) -> list[Suggestion]:
    """The suggestions above for ``view``'s labelled parts (``max_escapes`` = N >= 0)."""
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
