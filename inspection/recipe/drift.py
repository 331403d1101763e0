"""Drift alerts: which trend series the station watches while it runs, and what it tells the
operator when one of them drifts (``drift:`` in the recipe).

A drift alert is a warning, not a reject: the parts are still good, but a measure of the good
parts is moving (a fading printer's contrast, a camera getting dirty, a surface score creeping
towards its threshold). Each point the rules judge is the mean of the good parts of a few minutes
(or of ``points_of`` consecutive good parts), so a warning means the process moved, not that one
part was unusual.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from inspection.recipe.common import Strict

RuleCode = Literal["WE1", "WE2", "WE3", "WE4", "N5", "N6", "N7", "N8"]
"""The Western Electric and Nelson rules (``inspection.trends.rules``; a test keeps them equal)."""

DEFAULT_ALERT_RULES: tuple[RuleCode, ...] = ("WE1", "WE2")
UNDIRECTED_RULES = frozenset({"N6", "N7", "N8"})  # patterns with no side: up and down at once


class DriftAlertSettings(Strict):
    """One series the station watches for drift while it runs."""

    series: str = Field(min_length=3, max_length=130)
    """``TOOL_ID.MEASURE`` (``surface.score``, ``label.lot_contrast``) or ``station.cycle_ms``."""
    message: str = Field(default="", max_length=120)
    """What the operator reads, e.g. "print contrast on the lot field falling: printer check";
    empty: the series and the rule in words."""
    watch: Literal["up", "down", "both"] = "both"
    """Which way is trouble: ``up`` (a score rising), ``down`` (contrast falling) or both."""
    rules: list[RuleCode] = Field(default_factory=lambda: list(DEFAULT_ALERT_RULES), min_length=1)
    """The rules that raise the warning; those without a direction (N6-N8) need watch: both.
    By default WE1 and WE2, the two that judge by distance from the centre: on a steady line
    they warn by chance about once in 740 points on one side (measured by ``lineside eval
    drift``: about once in 8 shifts per series with 5-minute points). Adding WE3 and WE4 sees a
    small lasting shift sooner (a one-sigma shift in ~10 points instead of ~60) at about four
    times the chance warnings: on the Trends page the engineer has them all."""
    every_s: float = Field(default=300.0, ge=10.0, le=86_400.0)
    """Each point the rules judge is the mean of the good parts of this many seconds."""
    points_of: int | None = Field(default=None, ge=1, le=100_000)
    """Instead of ``every_s``: each point is the mean of this many good parts (1: each part)."""
    min_parts: int = Field(default=10, ge=1, le=100_000)
    """A time point with fewer good parts than this is not judged (the line barely ran)."""
    baseline_points: int = Field(default=20, ge=5, le=1000)
    """Points that set the limits when none are stored for this recipe version: the first ones
    after the version starts running (20 five-minute points: the first 100 minutes)."""

    @field_validator("series")
    @classmethod
    def _two_parts(cls, value: str) -> str:
        tool_id, sep, measure = value.partition(".")
        if not sep or not tool_id or not measure or value != value.strip():
            raise ValueError(
                f"expected TOOL_ID.MEASURE, e.g. surface.score or label.lot_contrast, got {value!r}"
            )
        return value

    @field_validator("rules")
    @classmethod
    def _unique(cls, rules: list[RuleCode]) -> list[RuleCode]:
        if len(set(rules)) != len(rules):
            raise ValueError(f"each rule once, got {rules}")
        return rules

    @model_validator(mode="after")
    def _rules_have_a_side(self) -> DriftAlertSettings:
        sideless = sorted(set(self.rules) & UNDIRECTED_RULES)
        if sideless and self.watch != "both":
            raise ValueError(
                f"rules {', '.join(sideless)} have no direction, so they need watch: both "
                f"(watch is {self.watch})"
            )
        return self
