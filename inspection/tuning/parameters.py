"""The limits of each tool type that can be tuned on recorded parts, and how each decides.

A tool's recipe limit can be tuned here when every part records the value it is compared with
(``tool_results.score`` or a ``tool_measures`` row) and when the rest of the tool's decision is
known from the record, so the what-if can say what the part's verdict would be at another limit:

* **anomaly / anomalib ``threshold``** ← the score: FAIL at ``score >= threshold`` (the defect
  tools; the anomaly tool also needs a region of at least its minimum area, see
  ``whatif.deciding_scores``).
* **anomaly ``min_area_px``** ← ``max_region_px``, the largest region at the recorded
  threshold: FAIL when ``score >= threshold`` and that region has ``>= max(min_area_px, 1)`` px.
  The regions smaller than the minimum in force are not recorded (``max_region_px`` is then 0),
  so a part that passed with ``score >= threshold`` counts as having a region just under that
  minimum: it passes at the minimum in force and above, and is rejected below (never a hidden
  escape; the yield below the minimum in force may be understated by these parts).
* **label ``max_offset_px``** ← ``offset_px``: FAIL at ``offset_px > max_offset_px`` (only
  while the recipe judges the offset in px: with ``max_offset_mm`` and ``mm_per_px`` it does not).
* **label ``max_rotation_deg``** ← ``|rotation_deg|``: FAIL at ``|rotation| > max_rotation_deg``.
* **label ``min_match``** ← ``match``: FAIL at ``match < min_match``.
* **label ``<field>.min_confidence``** ← ``<field>_confidence``, for a field read in its own
  region: FAIL at ``confidence < min_confidence`` (a field with no text fails whatever). Below
  the minimum the field's rule is not judged, so a part rejected for it counts as passing the
  rule at a lower minimum (never a hidden escape; the yield may be overstated by these parts).

* **detector ``confidence``** ← ``fail_confidence``, the highest confidence of a detection of a
  failing class (``fail_classes``, or any class without them) that the tool found down to its
  recording floor (``detector.RECORD_FLOOR``, 0.05, or the confidence in force when lower): FAIL
  at ``fail_confidence >= confidence``, exactly the tool's verdict (the best box of a class is
  the first NMS keeps of it at any confidence: ``best_class_scores``). Limits: nothing under the floor is
  recorded, so a part with no failing detection at or above it passes at any confidence the
  what-if shows, and a candidate under the floor is counted as the floor (clamped: it can only
  understate the rejects there); applying a confidence under the floor is refused
  (``with_parameter``), as the what-if could not show what it does. A failing class with its own
  ``class_confidence`` is not judged by ``confidence``, so a recipe version with one cannot be
  replayed and is refused (``recipe_value``); parts recorded before the tool measured
  ``fail_confidence`` have nothing to replay and are refused by range.

The label tool's checks are independent, and its reason lists every one that failed ("label
shifted (...)", "label skewed (...)"...), so a part is decided by one limit only when no other
check of the tool rejected it.

Not tunable here, and why (``not_tunable``): anomalib's ``min_area_px`` (it only sizes the
drawn regions, it decides nothing); a label field searched on the whole label (which line is
taken for the field depends on the minimum itself); the code tool's settings (counts, formats,
patterns: no number compared with a limit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from inspection.errors import RecipeError
from inspection.recipe import Recipe
from inspection.tools.detector import RECORD_FLOOR
from inspection.tuning.decision import SCORE_THRESHOLD, Decision
from inspection.tuning.scores import TuningError
from inspection.tuning.versions import with_tool

THRESHOLD = "threshold"
FIELD_MIN_CONFIDENCE = ".min_confidence"
CONFIDENCE_SUFFIX = "_confidence"


@dataclass(frozen=True, slots=True, kw_only=True)
class Parameter:
    """One tunable limit of a tool type.

    ``name``: as ``--parameter`` and the recipe field say it ("max_offset_px",
    "lot.min_confidence"); ``measure``: the recorded value it is compared with ("score" =
    ``tool_results.score``, else a ``tool_measures`` measure); ``value_name``: that value in
    words; ``finding``: how the tool's reason starts when this limit rejected the part ("" when
    the tool has no other check); ``field``: the label field, for a field's minimum confidence.
    """

    tool_type: str
    name: str
    measure: str
    value_name: str
    unit: str
    decision: Decision
    finding: str = ""
    field: str | None = None
    absolute: bool = False
    """Compare the value's magnitude (a rotation either way)."""
    floor: float | None = None
    """Values under ``min(floor, limit in force)`` are not recorded (the detector's confidence):
    such a part passes at any limit the record can replay."""
    every_result: bool = False
    """The tool records the value with every result it judges, so a judged part without it was
    recorded before the tool measured it (nothing to replay: the range is refused)."""

    @property
    def is_threshold(self) -> bool:
        return self.name == THRESHOLD

    @property
    def rule(self) -> str:
        return self.decision.comparison(self.name, self.value_name)


def _score(tool_type: str) -> Parameter:
    return Parameter(
        tool_type=tool_type,
        name=THRESHOLD,
        measure="score",
        value_name="score",
        unit="",
        decision=SCORE_THRESHOLD,
    )


_FIXED: dict[str, tuple[Parameter, ...]] = {
    "anomaly": (
        _score("anomaly"),
        Parameter(
            tool_type="anomaly",
            name="min_area_px",
            measure="max_region_px",
            value_name="largest region",
            unit="px",
            decision=Decision(rejects="at_or_above", whole=True, least=1.0),
        ),
    ),
    "anomalib": (_score("anomalib"),),
    "detector": (
        Parameter(
            tool_type="detector",
            name="confidence",
            measure="fail_confidence",
            value_name="best failing detection's confidence",
            unit="",
            decision=Decision(rejects="at_or_above"),
            floor=RECORD_FLOOR,
            every_result=True,
        ),
    ),
    "label": (
        Parameter(
            tool_type="label",
            name="max_offset_px",
            measure="offset_px",
            value_name="offset",
            unit="px",
            decision=Decision(rejects="above"),
            finding="label shifted (",
        ),
        Parameter(
            tool_type="label",
            name="max_rotation_deg",
            measure="rotation_deg",
            value_name="rotation",
            unit="°",
            decision=Decision(rejects="above"),
            finding="label skewed (",
            absolute=True,
        ),
        Parameter(
            tool_type="label",
            name="min_match",
            measure="match",
            value_name="match",
            unit="",
            decision=Decision(rejects="below"),
            finding="label does not match the reference (",
        ),
    ),
}

NOT_TUNABLE: dict[str, str] = {
    "codes": (
        "the code tool decides by counts, formats and patterns, not by a number compared "
        "with a limit"
    ),
}


def field_parameter(field: str) -> Parameter:
    """A label field's minimum OCR confidence (``<field>.min_confidence``)."""
    return Parameter(
        tool_type="label",
        name=f"{field}{FIELD_MIN_CONFIDENCE}",
        measure=f"{field}{CONFIDENCE_SUFFIX}",
        value_name=f"{field} confidence",
        unit="",
        decision=Decision(rejects="below"),
        finding=f"{field} unreadable (confidence ",
        field=field,
    )


def parameters_for(
    tool_type: str, measures: set[str] | frozenset[str] = frozenset()
) -> list[Parameter]:
    """The tunable limits of ``tool_type``; ``measures``: the tool's recorded measures, which add
    a label's per-field minimum confidences (``lot_confidence`` → ``lot.min_confidence``)."""
    out = list(_FIXED.get(tool_type, ()))
    if tool_type == "label":
        fields = sorted(
            m[: -len(CONFIDENCE_SUFFIX)]
            for m in measures
            if m.endswith(CONFIDENCE_SUFFIX) and len(m) > len(CONFIDENCE_SUFFIX)
        )
        out += [field_parameter(f) for f in fields]
    return out


def default_parameter(tool_type: str) -> str:
    """What ``--parameter`` means when not given: the tool's score threshold when it has one,
    else its first tunable limit."""
    known = parameters_for(tool_type)
    if not known or any(p.is_threshold for p in known):
        return THRESHOLD
    return known[0].name


def find_parameter(tool_id: str, tool_type: str, name: str) -> Parameter:
    """The parameter ``name`` of a ``tool_type`` tool; TuningError naming the ones there are or
    saying why a limit of it cannot be tuned on recorded parts. "threshold" is every tool's
    recorded score threshold, as ``scores.py`` loads it (a tool that records none says so there)."""
    if name == THRESHOLD:
        return _score(tool_type)
    if name.endswith(FIELD_MIN_CONFIDENCE) and tool_type == "label":
        field = name[: -len(FIELD_MIN_CONFIDENCE)]
        if field:
            return field_parameter(field)
    for p in parameters_for(tool_type):
        if p.name == name:
            return p
    if tool_type in NOT_TUNABLE:
        raise TuningError(f"{tool_id}.{name}: {NOT_TUNABLE[tool_type]}")
    if tool_type == "anomalib" and name == "min_area_px":
        raise TuningError(
            f"{tool_id}.min_area_px: an anomalib tool decides by its score alone; its minimum "
            "area only sizes the drawn regions, so there is nothing to tune"
        )
    known = [p.name for p in parameters_for(tool_type)]
    if tool_type == "label":
        known.append("<field>.min_confidence")
    listed = ", ".join(known) or "none"
    raise TuningError(
        f"{tool_id} ({tool_type}) has no tunable parameter {name!r}; tunable: {listed}"
    )


def recipe_value(tool: object, p: Parameter) -> float | None:
    """The limit ``p`` in force in a tool's recipe settings (None: the tool's own, e.g. the
    taught threshold). TuningError when the settings do not decide by it."""
    if p.field is not None:
        fields = getattr(tool, "fields", [])
        found = next((f for f in fields if f.name == p.field), None)
        if found is None:
            raise TuningError(f"label field {p.field!r} is not in the recipe's tool")
        if found.region is None:
            raise TuningError(
                f"{p.name}: field {p.field!r} has no region, so it is searched on the whole "
                "label and which line is taken for it depends on the minimum itself: give the "
                "field a region to tune its minimum confidence"
            )
        return float(found.min_confidence)
    if p.tool_type == "detector" and p.name == "confidence":
        _check_replayable(tool)
    in_mm = getattr(tool, "max_offset_mm", None) is not None
    if p.name == "max_offset_px" and in_mm and getattr(tool, "mm_per_px", None) is not None:
        raise TuningError(
            "max_offset_px: the recipe judges the label's offset in mm (max_offset_mm "
            "with mm_per_px), so max_offset_px decides nothing there"
        )
    value = getattr(tool, p.name, None)
    return None if value is None else float(value)


def _check_replayable(tool: object) -> None:
    """TuningError when a failing class of the detector has its own confidence: that class is
    judged by it, not by ``confidence``, and the recorded ``fail_confidence`` (the best failing
    detection of any class) cannot tell which class it came from."""
    own: dict[str, float] = dict(getattr(tool, "class_confidence", None) or {})
    fail_classes = getattr(tool, "fail_classes", None)
    failing = sorted(n for n in own if fail_classes is None or n in fail_classes)
    if failing:
        listed = ", ".join(f"{n} {own[n]:g}" for n in failing)
        raise TuningError(
            f"confidence cannot be replayed on recorded parts: the failing classes {listed} "
            "have their own confidence (class_confidence), which the recorded best failing "
            "detection cannot be compared with; remove their class_confidence (or leave "
            "them out of fail_classes) to tune confidence"
        )


def with_parameter(recipe: Recipe, tool_id: str, p: Parameter, value: float) -> Recipe:
    """``recipe`` with tool ``tool_id``'s limit ``p`` set to ``value`` (a whole number for a
    whole limit, rounded up as the what-if counts it), validated by the recipe schema.
    RecipeError names the tool, the field and the reason."""
    where = f"recipe {recipe.name}"
    ids = [t.id for t in recipe.tools]
    if tool_id not in ids:
        raise RecipeError(f"{where}: no tool {tool_id!r}; tools are {ids}")
    index = ids.index(tool_id)
    tool = recipe.tools[index]
    at = f"{where}: tools[{index}] ({tool_id}).{p.name}"
    if tool.type != p.tool_type:
        raise RecipeError(f"{at}: tool {tool_id!r} is a {tool.type} tool, not {p.tool_type}")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RecipeError(f"{at}: {value!r} is not a finite number")
    if p.floor is not None and value < p.floor:
        raise RecipeError(
            f"{at}: {value!r} is under the recording floor {p.floor:g}: nothing under it is "
            "recorded, so what it would do cannot be shown; set it in the recipe by hand"
        )
    number: float | int = math.ceil(value) if p.decision.whole else float(value)
    data = tool.model_dump()
    if p.field is not None:
        names = [f["name"] for f in data["fields"]]
        if p.field not in names:
            raise RecipeError(f"{at}: the tool has no field {p.field!r}; fields are {names}")
        data["fields"][names.index(p.field)]["min_confidence"] = number
    else:
        data[p.name] = number
    return with_tool(recipe, index, data, f"{at}: {number!r}")
