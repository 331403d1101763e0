"""What each series measures, in the engineer's words, and where its number is stored."""

from __future__ import annotations

import json
from dataclasses import dataclass

from inspection.part_measures import FIELD_TOOL_TYPE, STORED_MEASURES, is_field_measure

STATION = "station"
"""The tool id of the station's own series (yield, error rate, fails, cycle time, reasons)."""


@dataclass(frozen=True, slots=True)
class Measure:
    label: str
    unit: str
    per_part: bool
    # "column" (tool_results.score); "measurements" or "details" (where the tool puts it; stored
    # in tool_measures); "station" (the inspections row); "interval" (counted per interval)
    source: str
    key: str = ""


# The per-part measures each tool type has besides the label tool's per-field ones: the headline
# score, then the ones storage keeps in tool_measures (which it alone decides).
TOOL_MEASURES: dict[str, tuple[str, ...]] = {
    tool_type: ("score", *(key for _source, key in keys))
    for tool_type, keys in STORED_MEASURES.items()
}

_TOOL: dict[str, Measure] = {
    "score": Measure("headline score", "", True, "column"),
    "max_region_px": Measure("largest defect area", "px", True, "measurements", "max_region_px"),
    "attempts": Measure("decode attempts", "", True, "measurements", "attempts"),
    "quality_min": Measure("weakest code quality", "", True, "measurements", "quality_min"),
    "fail_confidence": Measure(
        "best failing detection's confidence", "", True, "measurements", "fail_confidence"
    ),
    "offset_px": Measure("label offset", "px", True, "details", "offset_px"),
    "rotation_deg": Measure("label rotation", "°", True, "details", "rotation_deg"),
    "match": Measure("label match quality", "", True, "details", "match"),
}
# Keyed by storage's FIELD_SUFFIXES (a test checks they are the same).
_FIELD_SUFFIXES = {
    "_contrast": ("print contrast", ""),
    "_sharpness": ("print sharpness", ""),
    "_confidence": ("OCR confidence", ""),
}
_STATION: dict[str, Measure] = {
    "yield": Measure("yield", "fraction", False, "interval"),
    "error_rate": Measure("ERROR rate", "fraction", False, "interval"),
    "fails": Measure("fails per interval", "parts", False, "interval"),
    "cycle_ms": Measure("time from queue to verdict", "ms", True, "station"),
}
REASON_PREFIX = "reason:"
FPS_PREFIX = "fps:"
DROPS_PREFIX = "drops:"
"""Per camera: ``station.fps:<camera>``, ``station.drops:<camera>`` (source "camera")."""


def describe(station_measure: str) -> Measure:
    """A station series' measure; ValueError listing the station series."""
    if station_measure in _STATION:
        return _STATION[station_measure]
    if station_measure.startswith(REASON_PREFIX) and station_measure[len(REASON_PREFIX) :]:
        category = station_measure[len(REASON_PREFIX) :]
        return Measure(f"rejects: {category}", "parts", False, "interval")
    for prefix, label, unit in (
        (FPS_PREFIX, "frame rate", "frames/s"),
        (DROPS_PREFIX, "dropped frames", "frames"),
    ):
        camera = station_measure[len(prefix) :]
        if station_measure.startswith(prefix) and camera:
            return Measure(f"{label} ({camera})", unit, False, "camera", camera)
    raise ValueError(
        f"unknown station series {station_measure!r}; station series are "
        f"{', '.join('station.' + k for k in _STATION)}, station.reason:<reason>, "
        "station.fps:<camera> and station.drops:<camera>"
    )


def label_measures(measurements_json: str) -> set[str]:
    """The per-field measures (``lot_contrast``...) in one label tool result's measurements."""
    try:
        found = json.loads(measurements_json)
    except (TypeError, ValueError):
        return set()
    if not isinstance(found, dict):
        return set()
    return {k for k in found if isinstance(k, str) and is_field_measure(k)}


def tool_measure(tool_type: str, measure: str, fields: set[str] | None = None) -> Measure:
    """A tool's measure; ValueError naming the tool type's measures."""
    known = TOOL_MEASURES.get(tool_type, ("score",))
    if measure in known:
        return _TOOL[measure]
    if tool_type == FIELD_TOOL_TYPE:
        for suffix, (label, unit) in _FIELD_SUFFIXES.items():
            field = measure[: -len(suffix)]
            if measure.endswith(suffix) and field and (fields is None or measure in fields):
                return Measure(f"{label} ({field})", unit, True, "measurements", measure)
    extra = sorted(fields or ())
    raise ValueError(
        f"a {tool_type} tool has no measure {measure!r}; it has {', '.join([*known, *extra])}"
    )


@dataclass(frozen=True, slots=True)
class SeriesName:
    """``surface.score``, ``label.lot_contrast``, ``station.yield``, ``station.reason:<category>``."""

    tool_id: str  # "station" for station series
    measure: str

    def __str__(self) -> str:
        return f"{self.tool_id}.{self.measure}"

    @property
    def is_station(self) -> bool:
        return self.tool_id == STATION


def parse_series(text: str) -> SeriesName:
    """``TOOL_ID.MEASURE`` → SeriesName; ValueError naming what is wrong."""
    tool_id, sep, measure = text.strip().partition(".")
    if not sep or not tool_id or not measure:
        raise ValueError(
            f"series {text!r}: expected TOOL_ID.MEASURE, e.g. surface.score or station.yield"
        )
    name = SeriesName(tool_id.strip(), measure.strip())
    if name.is_station:
        describe(name.measure)  # ValueError listing the station series
    return name
