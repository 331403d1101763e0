"""One part's record as lines of text: measurements, tool details, timings, time and models.

Pure functions (no Qt), used by the part dialog; every value is shown, long text is never cut.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from inspection.types import Timing

HASH_CHARS = 12
TIMING_STEPS = (
    ("captured", "queued", "capture → queued"),
    ("queued", "started", "queued → started"),
    ("started", "decided", "started → decided"),
    ("decided", "dispatched", "decided → dispatched"),
    ("captured", "dispatched", "capture → dispatched (total)"),
)


def number(value: float) -> str:
    """A measurement as an operator reads it: whole numbers bare, others to 4 significant digits."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if math.isnan(value):
        return "—"
    if float(value).is_integer() and abs(value) < 1e12:
        return str(int(value))
    if abs(value) >= 1000:
        return f"{value:.1f}"
    return f"{value:.4g}"


def measurement_lines(measurements: Mapping[str, float]) -> list[str]:
    """``name = value`` per measurement, in the tool's order."""
    return [f"{name} = {number(value)}" for name, value in measurements.items()]


def _code_line(code: Mapping[str, Any]) -> str:
    fmt = code.get("format", "code")
    if code.get("content") == "binary":
        text = f"binary {code.get('hex', '')}"
    else:
        text = repr(code.get("text", ""))
    quality = code.get("quality")
    return f"read {fmt}: {text}" + (f" (quality {number(quality)})" if quality is not None else "")


def _field_line(field: Mapping[str, Any]) -> str:
    line = f"{field.get('name', 'field')}: {field.get('value', field.get('text', ''))!r}"
    verdict = field.get("verdict")
    if verdict:
        line += f" — {verdict}"
    if field.get("reason"):
        line += f": {field['reason']}"
    return line


def _detection_line(det: Mapping[str, Any]) -> str:
    line = f"found {det.get('class', '?')} ({number(det.get('confidence', float('nan')))})"
    return line + (" — reject" if det.get("fails") else "")


def detail_lines(details: Mapping[str, Any]) -> list[str]:
    """The key facts of a tool's details (decoded texts, label fields, detections, ...), one a line.

    Known lists are summarised per item; other values are shown as compact JSON, never dropped.
    """
    lines: list[str] = []
    for key, value in details.items():
        if key == "regions_total":
            continue  # shown with "regions"
        if key == "codes" and isinstance(value, list):
            lines += [_code_line(c) for c in value if isinstance(c, Mapping)]
            if not value:
                lines.append("no code read")
        elif key == "fields" and isinstance(value, list):
            lines += [_field_line(f) for f in value if isinstance(f, Mapping)]
        elif key == "detections" and isinstance(value, list):
            lines += [_detection_line(d) for d in value if isinstance(d, Mapping)]
        elif key == "regions" and isinstance(value, list):
            total = details.get("regions_total", len(value))
            lines.append(f"regions = {total}")
        elif isinstance(value, float | int) and not isinstance(value, bool):
            lines.append(f"{key} = {number(value)}")
        elif isinstance(value, str | bool) or value is None:
            lines.append(f"{key} = {value}")
        else:
            lines.append(f"{key} = {json.dumps(value, default=str, separators=(', ', ': '))}")
    return lines


def timing_lines(timing: Timing) -> list[str]:
    """Each step of the part's way in ms (``—`` where a stamp was not recorded)."""
    lines = []
    for start, end, name in TIMING_STEPS:
        ms = timing.ms(start, end)
        lines.append(f"{name}: {'—' if math.isnan(ms) else f'{ms:.1f} ms'}")
    return lines


def when(wall_time: float) -> str:
    """Local date and time of a UNIX time in seconds (``—`` when unknown)."""
    if wall_time <= 0:
        return "—"
    return datetime.fromtimestamp(wall_time).strftime("%Y-%m-%d %H:%M:%S")


def short_hashes(model_hashes: Mapping[str, str]) -> str:
    """``tool: first 12 hex digits`` per model, or ``none`` (tools without a model)."""
    if not model_hashes:
        return "none"
    return ", ".join(f"{name}: {digest[:HASH_CHARS]}" for name, digest in model_hashes.items())
