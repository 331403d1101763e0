"""What a threshold would do on recorded scores: counts, yield, flips, histogram, ROC and PR.

``ThresholdView`` sorts the scores once per group (labelled good, labelled bad, parts the
threshold decides); each threshold move is then a few ``np.searchsorted`` calls, O(log n), with
no query and no pass over the parts. By default a part is rejected when ``score >= threshold``
(the defect tools' comparison, see scores.py), except for parts passed by the tool's minimum
area (``deciding_scores``). A view of another parameter (``parameters.py``: the label's offset,
match...) compares its values by that parameter's ``Decision`` instead; its loader gives NaN to a
part rejected whatever the limit and ±inf to one passed whatever the limit.

Counts concern the parts the limit decides: a part whose tool gave no value (its ERROR, or
another check of the tool rejecting it) is a reject whatever the limit and is never a false
reject or an escape of it; a labelled bad part passed whatever the limit is an escape at every
limit. Labels: "good" is good, "defect" and "escape" are bad, "unsure" and unlabelled count in
neither (the histogram shows them as unlabelled).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from inspection.tuning.decision import SCORE_THRESHOLD, Decision
from inspection.tuning.labels import BAD_CODES, GOOD_CODES
from inspection.tuning.scores import TOOL_ERROR, TOOL_PASS, ToolScores


@dataclass(frozen=True, slots=True, kw_only=True)
class Counts:
    """What ``threshold`` (the limit: a threshold, or a parameter's value) does on the loaded parts.

    ``false_rejects``: labelled good that the limit rejects (score >= threshold by default);
    ``escapes``: labelled defect or escape that pass at it; ``passed`` / ``parts``: predicted passes / every part with a
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
    """Parts whose verdict would change (row ids, int64), the most certain first: for a limit
    that rejects high values the highest newly rejected and the lowest newly passed."""

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
    """ROC (fpr, tpr) and PR (recall = tpr, precision) over ``thresholds`` (from the one that
    rejects fewest to the one that rejects most: descending for a limit that rejects high
    values), float64 arrays of one shape; precision is NaN where nothing is rejected."""

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
    """Sorted copies of one ToolScores for fast what-if; build once per load, then ask often.

    ``decision``: None for the tool's score threshold (rejected at score >= threshold, with
    ``deciding_scores``); a parameter's ``Decision`` for values loaded by
    ``parameter_scores.load_parameter_scores`` (used as they are). ``limit_name`` and
    ``value_name`` say the limit and the value in the suggestions' words.
    """

    def __init__(
        self,
        scores: ToolScores,
        decision: Decision | None = None,
        *,
        limit_name: str = "threshold",
        value_name: str = "score",
    ) -> None:
        s = scores
        self.scores = s
        self.decision = decision or SCORE_THRESHOLD
        self.limit_name, self.value_name = limit_name, value_name
        if decision is None:
            has_score = np.isfinite(s.score) & (s.tool_verdict != TOOL_ERROR)
            score = deciding_scores(s)
        else:  # NaN: rejected whatever the limit; ±inf: passed whatever the limit
            has_score = ~np.isnan(s.score)
            score = s.score
        self.good, _ = _sorted_by_score(score, has_score & np.isin(s.label, GOOD_CODES), s.part_id)
        self.bad, _ = _sorted_by_score(score, has_score & np.isin(s.label, BAD_CODES), s.part_id)
        # parts that pass exactly when this tool (this check of it) passes them
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
        """Counts at ``threshold``: five binary searches on the sorted arrays."""
        t = float(threshold)
        passing = self.decision.passing
        passed = passing(self.passable, t)
        return Counts(
            threshold=t,
            false_rejects=len(self.good) - passing(self.good, t),
            escapes=passing(self.bad, t),
            passed=passed,
            parts=self.parts,
            yield_=passed / self.parts if self.parts else math.nan,
            newly_rejected=len(self.was_passed) - passing(self.was_passed, t),
            newly_passed=passing(self.was_rejected, t),
        )

    def flips_at(self, threshold: float, limit: int | None = None) -> Flips:
        """The parts whose verdict ``threshold`` would change, at most ``limit`` of each kind,
        the most certain first (furthest past the limit)."""
        t = float(threshold)
        d = self.decision
        kept = d.passing(self.was_passed, t)
        freed = d.passing(self.was_rejected, t)
        if d.fails_high:
            rejected = self._was_passed_ids[kept:][::-1]
            passed = self._was_rejected_ids[:freed]
        else:
            rejected = self._was_passed_ids[: len(self.was_passed) - kept]
            passed = self._was_rejected_ids[len(self.was_rejected) - freed :][::-1]
        if limit is not None:
            rejected, passed = rejected[:limit], passed[:limit]
        return Flips(newly_rejected=rejected.copy(), newly_passed=passed.copy())

    def histogram(
        self, bins: int = 50, value_range: tuple[float, float] | None = None
    ) -> Histogram:
        """The finite scores in ``bins`` equal bins over ``value_range`` (default: all of them,
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

    def _curve_limits(self, points: int) -> np.ndarray:
        """Limits at the labelled finite values (at most ``points``), fewest rejects first."""
        labelled = np.unique(np.r_[self.good, self.bad])
        labelled = labelled[np.isfinite(labelled)]
        if not len(labelled):
            return labelled
        if len(labelled) > points:
            labelled = np.unique(np.quantile(labelled, np.linspace(0.0, 1.0, points)))
        rejects = self.decision.rejects
        if rejects == "at_or_above":
            return np.r_[labelled, np.nextafter(labelled[-1], math.inf)][::-1]
        if rejects == "above":
            return np.r_[np.nextafter(labelled, -math.inf), labelled[-1]][::-1]
        return np.r_[labelled[0], np.nextafter(labelled, math.inf)]

    def curves(self, points: int = 200) -> Curves:
        """ROC and PR over at most ``points`` limits taken at the labelled values."""
        thresholds = self._curve_limits(points)
        if not len(thresholds):
            empty = np.empty(0)
            return Curves(thresholds=empty, fpr=empty, tpr=empty, precision=empty)
        passing = self.decision.passing_each
        fp = len(self.good) - passing(self.good, thresholds)
        tp = len(self.bad) - passing(self.bad, thresholds)
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
