"""Choosing the threshold: from held-out good images only, or best F1 when bad images are known.

Good only: threshold = max(q + 1.0·(q − median), 1.1·highest, 1.3), q the 99th percentile of
the held-out good image scores (normalised so their median is 1). With a handful of held-out
images q is about their maximum, which underestimates the tail of all good parts: doubling the
spread above the median, and never accepting less than 1.3× the typical good score, keeps false
rejects rare on small teaching sets while clear defects (several times the good score) still fail. With labelled bad images: the midpoint between neighbouring scores that
gives the best image-level F1 (defect = positive) among thresholds above every held-out good
score, ties broken towards the widest gap: when good and bad separate, the threshold sits in the
middle of the gap; when they overlap, faint defects below a good part's score are missed rather
than good parts rejected at the rate the few held-out images would suggest.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

QUANTILE = 0.99
SPREAD_MARGIN = 1.0
MIN_ABOVE_MAX = 1.1
FLOOR = 1.3


@dataclass(frozen=True, slots=True, kw_only=True)
class Calibration:
    """A threshold (normalised score units) and how it was chosen, JSON-ready in ``details``."""

    threshold: float
    method: str
    details: dict[str, Any] = field(default_factory=dict)


def score_scale(raw_good: Sequence[float]) -> float:
    """Raw → normalised divisor: the median held-out good image score (so good parts score ≈ 1)."""
    arr = np.asarray(raw_good, np.float64)
    if arr.size == 0:
        raise ValueError("no held-out good scores to normalise with")
    med = float(np.median(arr))
    return med if med > 1e-12 else 1.0


def from_good(good: Sequence[float]) -> Calibration:
    """Threshold above the held-out good scores (normalised); see the module doc for the rule."""
    arr = np.asarray(good, np.float64)
    if arr.size == 0:
        raise ValueError("no held-out good scores to calibrate with")
    q = float(np.quantile(arr, QUANTILE))
    med = float(np.median(arr))
    thr = max(q + SPREAD_MARGIN * (q - med), MIN_ABOVE_MAX * float(arr.max()), FLOOR)
    return Calibration(
        threshold=thr,
        method="good_quantile",
        details={
            "rule": f"max(q{int(QUANTILE * 100)} + {SPREAD_MARGIN}·(q − median), "
            f"{MIN_ABOVE_MAX}·max, {FLOOR}) of held-out good scores",
            "good_scores": [round(float(s), 4) for s in arr],
        },
    )


def from_labelled(good: Sequence[float], bad: Sequence[float]) -> Calibration:
    """Threshold separating good from bad scores best (image F1, bad = positive)."""
    g = np.asarray(good, np.float64)
    b = np.asarray(bad, np.float64)
    if g.size == 0 or b.size == 0:
        raise ValueError("need both good and bad scores to calibrate on labels")
    values = np.unique(np.concatenate([g, b]))
    cands = (values[:-1] + values[1:]) / 2 if values.size > 1 else values
    gaps = np.diff(values) if values.size > 1 else np.zeros(1)
    cands = np.concatenate([cands, [values[-1] * MIN_ABOVE_MAX]])
    gaps = np.concatenate([gaps, [0.0]])
    # never below a held-out good part: the held-out goods stand for hundreds of parts on the line,
    # while F1 over a few dozen images would happily trade a false reject for a faint defect
    above = cands > g.max()
    cands, gaps = cands[above], gaps[above]
    best: tuple[float, float, float] | None = None
    for t, gap in zip(cands, gaps, strict=True):
        tp = float(np.count_nonzero(b >= t))
        fp = float(np.count_nonzero(g >= t))
        fn = b.size - tp
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        if best is None or (f1, gap) > (best[0], best[1]):
            best = (f1, float(gap), float(t))
    assert best is not None
    f1, _, thr = best
    return Calibration(
        threshold=thr,
        method="f1",
        details={
            "rule": "midpoint between scores with the best image F1 (bad = positive), "
            "above every held-out good score",
            "f1": round(f1, 4),
            "good_scores": [round(float(s), 4) for s in g],
            "bad_scores": [round(float(s), 4) for s in b],
        },
    )
