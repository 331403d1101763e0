"""Comparing verdicts with the simulated line's ground truth, for the defects a recipe can see."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from inspection.recipe import SIMULATED_SURFACE_DEFECTS, Recipe
from inspection.types import Inspection

# Which simulated defects each tool type is meant to catch. A defect no tool of the recipe covers
# counts as a good part for that recipe: rejecting it would be a false alarm of some tool.
COVERED_BY_TOOL_TYPE: dict[str, frozenset[str]] = {
    "codes": frozenset({"damaged_code", "wrong_serial_format", "duplicate_serial"}),
    "anomaly": frozenset(SIMULATED_SURFACE_DEFECTS),
    "label": frozenset({"missing_label", "skewed_label", "misprinted_lot"}),
}


def covered_defects(recipe: Recipe) -> frozenset[str]:
    out: set[str] = set()
    for tool in recipe.tools:
        out |= COVERED_BY_TOOL_TYPE.get(tool.type, frozenset())
    return frozenset(out)


@dataclass(slots=True)
class TruthTally:
    """Confusion counts of reject-vs-defective, plus how each defect kind fared."""

    covered: frozenset[str]
    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0
    unknown: int = 0
    by_defect: dict[str, Counter[str]] = field(default_factory=dict)
    missed: list[dict[str, object]] = field(default_factory=list)
    false_alarms: list[dict[str, object]] = field(default_factory=list)

    def add(self, inspection: Inspection) -> None:
        truth = inspection.truth
        if truth is None:
            self.unknown += 1
            return
        relevant = [d for d in truth.defects if d in self.covered]
        rejected = inspection.verdict.is_reject
        for d in truth.defects:
            self.by_defect.setdefault(d, Counter())["parts"] += 1
            self.by_defect[d]["rejected"] += int(rejected)
        example = {
            "part": inspection.part_seq,
            "defects": list(truth.defects),
            "verdict": str(inspection.verdict),
            "reason": inspection.reason,
        }
        if relevant and rejected:
            self.tp += 1
        elif relevant:
            self.fn += 1
            self.missed.append(example)
        elif rejected:
            self.fp += 1
            self.false_alarms.append(example)
        else:
            self.tn += 1

    def extend(self, inspections: Iterable[Inspection]) -> TruthTally:
        for i in inspections:
            self.add(i)
        return self

    def as_dict(self) -> dict[str, object]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "tn": self.tn,
            "fn": self.fn,
            "no_truth": self.unknown,
            "covered_defects": sorted(self.covered),
            "by_defect": {k: dict(v) for k, v in sorted(self.by_defect.items())},
            "missed": self.missed[:20],
            "false_alarms": self.false_alarms[:20],
        }
