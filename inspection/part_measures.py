"""Which per-part tool measures are numbers of their own: stored one ``tool_measures`` row each
(``storage/tool_measures.py``) and offered as per-part series (``trends/measures.py``).

The one place that says which keys those are. It sits beside ``types`` so storage, trends and
the recipe (which checks the series a drift alert names) read it without importing each other.
A tool's headline score is not here: it is ``tool_results.score`` already.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from inspection.types import ToolResult

STORED_MEASURES: dict[str, tuple[tuple[str, str], ...]] = {
    "anomaly": (("measurements", "max_region_px"),),
    "codes": (("measurements", "attempts"), ("measurements", "quality_min")),
    "detector": (("measurements", "fail_confidence"),),
    "label": (("details", "offset_px"), ("details", "rotation_deg"), ("details", "match")),
}
"""tool type → (where the tool puts it: ``measurements`` or ``details``, key) of each measure."""

FIELD_TOOL_TYPE = "label"
FIELD_SUFFIXES = ("_contrast", "_sharpness", "_confidence")
"""The label tool's per-field measurements (``lot_contrast``): a field name, then a suffix."""


def is_field_measure(key: str) -> bool:
    """``lot_contrast`` yes; ``_contrast`` (no field name) and ``contrast`` no."""
    return any(key.endswith(s) and len(key) > len(s) for s in FIELD_SUFFIXES)


def _number(value: Any) -> float | None:
    # Booleans and texts are not measures; NaN and infinities are stored as JSON null.
    if isinstance(value, bool | np.bool_) or not isinstance(
        value, int | float | np.integer | np.floating
    ):
        return None
    f = float(value)
    return f if math.isfinite(f) else None


def measure_values(result: ToolResult) -> list[tuple[str, float]]:
    """(measure, value) of every stored measure the result has, finite numbers only."""
    sources: dict[str, Mapping[str, Any]] = {
        "measurements": result.measurements,
        "details": result.details if isinstance(result.details, Mapping) else {},
    }
    out: list[tuple[str, float]] = []
    for source, key in STORED_MEASURES.get(result.tool_type, ()):
        value = _number(sources[source].get(key))
        if value is not None:
            out.append((key, value))
    if result.tool_type == FIELD_TOOL_TYPE:
        for key, raw in result.measurements.items():
            value = _number(raw) if is_field_measure(str(key)) else None
            if value is not None:
                out.append((str(key), value))
    return out
