"""What a threshold would do on recorded scores: counts, yield, flips, histogram, ROC and PR.

``ThresholdView`` sorts the scores once per group (labelled good, labelled bad, parts the
threshold decides); each threshold move is then a few ``np.searchsorted`` calls, O(log n), with
no query and no pass over the parts. A part is rejected when ``score >= threshold`` (the tools'
comparison, see scores.py), except for parts passed by the tool's minimum area
(``deciding_scores``). Counts concern the parts the threshold decides: a part whose tool
gave no score (its ERROR) is a reject whatever the threshold and is never a false reject or an
escape of it. Labels: "good" is good, "defect" and "escape" are bad, "unsure" and unlabelled
count in neither (the histogram shows them as unlabelled).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from inspection.tuning.labels import BAD_CODES, GOOD_CODES
from inspection.tuning.scores import TOOL_ERROR, TOOL_PASS, ToolScores


@dataclass(frozen=True, slots=True, kw_only=True)
class Counts:
    """What ``threshold`` does on the loaded parts.

    ``false_rejects``: labelled good with score >= threshold; ``escapes``: labelled defect or
    escape with score < threshold; ``passed`` / ``parts``: predicted passes / every part with a
    result of the tool (a part another tool rejected stays rejected); ``yield_`` = passed / parts;
    ``newly_rejected``: recorded PASS, rejected here; ``newly_passed``: recorded reject, passed here.
    """

    threshold: float
    false_rejects: int
    escapes: int
    passed: int
    parts: int
    yield_: float
    newly_rejected: int
    newly_passed: int

    @property
    def flips(self) -> int:
        return self.newly_rejected + self.newly_passed


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """``candidate`` minus ``current``: positive = more of it at the candidate threshold."""

    false_rejects: int
    escapes: int
    yield_: float


def change(current: Counts, candidate: Counts) -> Change:
    return Change(
        false_rejects=candidate.false_rejects - current.false_rejects,
        escapes=candidate.escapes - current.escapes,
        yield_=candidate.yield_ - current.yield_,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Flips:
    """Parts whose verdict would change (row ids, int64, highest score first / lowest first)."""

    newly_rejected: np.ndarray
    newly_passed: np.ndarray


@dataclass(frozen=True, slots=True, kw_only=True)
class Histogram:
    """Counts per bin: ``edges`` float64 (bins + 1,), the rest int64 (bins,). Scores outside
    the edges are left out. A log-count display is the viewer's choice."""

    edges: np.ndarray
    good: np.ndarray
    defect: np.ndarray
    unlabelled: np.ndarray


@dataclass(frozen=True, slots=True, kw_only=True)
class Curves:
    """ROC (fpr, tpr) and PR (recall = tpr, precision) over ``thresholds`` (descending),
    float64 arrays of one shape; precision is NaN where nothing is rejected."""

    thresholds: np.ndarray
    fpr: np.ndarray
    tpr: np.ndarray
    precision: np.ndarray


def _sorted_by_score(
    score: np.ndarray, mask: np.ndarray, part_id: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The scores under ``mask`` in ascending order, and their part ids in the same order."""
    picked = np.flatnonzero(mask)
    order = np.argsort(score[picked], kind="stable")
    return score[picked][order], part_id[picked][order]


def deciding_scores(s: ToolScores) -> np.ndarray:
    """The scores the what-if compares with a threshold. A part the tool passed although its
    score reached the threshold it was judged by had findings smaller than the tool's minimum
    area: at that threshold or any higher one its findings only shrink, so it passes; below it
    the area is not known, and it counts as rejected by its score (never a hidden escape). Its
    score is taken as just under that threshold, which says exactly that."""
    small = (s.tool_verdict == TOOL_PASS) & np.isfinite(s.threshold) & (s.score >= s.threshold)
    return np.where(small, np.nextafter(s.threshold, -math.inf), s.score)


class ThresholdView:
    """Sorted copies of one ToolScores for fast what-if; build once per load, then ask often."""

    def __init__(self, scores: ToolScores) -> None:
        s = scores
        self.scores = s
        has_score = np.isfinite(s.score) & (s.tool_verdict != TOOL_ERROR)
        score = deciding_scores(s)
        self.good, _ = _sorted_by_score(score, has_score & np.isin(s.label, GOOD_CODES), s.part_id)
        self.bad, _ = _sorted_by_score(score, has_score & np.isin(s.label, BAD_CODES), s.part_id)
        # parts that pass exactly when this tool passes them
        self.passable, _ = _sorted_by_score(score, has_score & s.others_pass, s.part_id)
        self.was_passed, self._was_passed_ids = _sorted_by_score(
            score, has_score & s.part_passed, s.part_id
        )
        self.was_rejected, self._was_rejected_ids = _sorted_by_score(
            score, has_score & s.others_pass & ~s.part_passed, s.part_id
        )
        self.parts = s.n
        self.in_force = s.threshold_in_force

    def counts_at(self, threshold: float) -> Counts:
        """Counts at ``threshold``: seven binary searches on the sorted arrays."""
        t = float(threshold)
        below = np.searchsorted  # number of entries < t with side="left"
        passed = int(below(self.passable, t, side="left"))
        return Counts(
            threshold=t,
            false_rejects=len(self.good) - int(below(self.good, t, side="left")),
            escapes=int(below(self.bad, t, side="left")),
            passed=passed,
            parts=self.parts,
            yield_=passed / self.parts if self.parts else math.nan,
            newly_rejected=len(self.was_passed) - int(below(self.was_passed, t, side="left")),
            newly_passed=int(below(self.was_rejected, t, side="left")),
        )

    def flips_at(self, threshold: float, limit: int | None = None) -> Flips:
        """The parts whose verdict ``threshold`` would change, at most ``limit`` of each kind,
        the most certain first (highest newly rejected, lowest newly passed)."""
        t = float(threshold)
        cut = int(np.searchsorted(self.was_passed, t, side="left"))
        rejected = self._was_passed_ids[cut:][::-1]
        passed = self._was_rejected_ids[: int(np.searchsorted(self.was_rejected, t, side="left"))]
        if limit is not None:
            rejected, passed = rejected[:limit], passed[:limit]
        return Flips(newly_rejected=rejected.copy(), newly_passed=passed.copy())

    def histogram(
        self, bins: int = 50, value_range: tuple[float, float] | None = None
    ) -> Histogram:
        """The scores in ``bins`` equal bins over ``value_range`` (default: all finite scores,
        widened to include the threshold in force), split by label."""
        s = self.scores
        finite = np.isfinite(s.score)
        if value_range is None:
            values = s.score[finite]
            if self.in_force is not None:
                values = np.r_[values, self.in_force]
            lo, hi = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
            value_range = (lo, hi if hi > lo else lo + 1.0)
        edges = np.linspace(value_range[0], value_range[1], int(bins) + 1)
        good = finite & np.isin(s.label, GOOD_CODES)
        bad = finite & np.isin(s.label, BAD_CODES)

        def count(mask: np.ndarray) -> np.ndarray:
            return np.histogram(s.score[mask], bins=edges)[0].astype(np.int64)

        return Histogram(
            edges=edges,
            good=count(good),
            defect=count(bad),
            unlabelled=count(finite & ~good & ~bad),
        )

    def curves(self, points: int = 200) -> Curves:
        """ROC and PR over at most ``points`` thresholds taken at the labelled scores."""
        labelled = np.unique(np.r_[self.good, self.bad])
        if not len(labelled):
            empty = np.empty(0)
            return Curves(thresholds=empty, fpr=empty, tpr=empty, precision=empty)
        if len(labelled) > points:
            labelled = np.unique(np.quantile(labelled, np.linspace(0.0, 1.0, points)))
        thresholds = np.r_[labelled, np.nextafter(labelled[-1], math.inf)][::-1]
        fp = len(self.good) - np.searchsorted(self.good, thresholds, side="left")
        tp = len(self.bad) - np.searchsorted(self.bad, thresholds, side="left")
        with np.errstate(invalid="ignore", divide="ignore"):
            fpr = fp / len(self.good) if len(self.good) else np.full(len(fp), math.nan)
            tpr = tp / len(self.bad) if len(self.bad) else np.full(len(tp), math.nan)
            precision = np.where(fp + tp > 0, tp / (fp + tp), math.nan)
        return Curves(
            thresholds=thresholds,
            fpr=np.asarray(fpr, dtype=np.float64),
            tpr=np.asarray(tpr, dtype=np.float64),
            precision=np.asarray(precision, dtype=np.float64),
        )

    def point_at(self, threshold: float) -> tuple[float, float, float]:
        """(fpr, tpr, precision) at ``threshold``: the current or candidate point on the curves."""
        c = self.counts_at(threshold)
        tp = len(self.bad) - c.escapes
        fpr = c.false_rejects / len(self.good) if len(self.good) else math.nan
        tpr = tp / len(self.bad) if len(self.bad) else math.nan
        precision = tp / (tp + c.false_rejects) if tp + c.false_rejects else math.nan
        return fpr, tpr, precision
