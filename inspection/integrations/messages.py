"""What the station tells other systems, as JSON: a part's result, the station's status, an alarm.

One layout for every output that speaks JSON (MQTT today), published as JSON Schemas in
``resources/schemas/`` so the plant's side can check what it receives. Numbers a tool measured go
out as they are; a measurement that is not a finite number is left out (JSON has no NaN).
Nothing about people is ever in a message: parts, tools, the recipe and the station only.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

from inspection.types import Inspection, StatusUpdate

RESULT_SCHEMA = "lineside/result/1"
STATUS_SCHEMA = "lineside/status/1"
ALARM_SCHEMA = "lineside/alarm/1"


def _iso(unix_s: float) -> str:
    return dt.datetime.fromtimestamp(unix_s, dt.UTC).isoformat(timespec="milliseconds")


def _finite(values: Any) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in dict(values).items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            out[str(key)] = number
    return out


def result_message(inspection: Inspection, *, site: str, line: str) -> dict[str, Any]:
    """A part's result: verdict, reason, part id and each tool's verdict and values."""
    return {
        "schema": RESULT_SCHEMA,
        "inspection_id": inspection.inspection_id,
        "site": site,
        "line": line,
        "station": inspection.station,
        "part_seq": inspection.part_seq,
        "time": _iso(inspection.wall_time),
        "verdict": inspection.verdict.value,
        "reason": inspection.reason,
        "recipe": inspection.recipe_name,
        "recipe_version": inspection.recipe_version,
        "lot": inspection.lot,
        "tools": [
            {
                "id": r.tool_id,
                "type": r.tool_type,
                "verdict": r.verdict.value,
                "reason": r.reason,
                "values": _finite(r.measurements),
            }
            for r in inspection.tool_results
        ],
    }


def _station_message(
    schema: str, site: str, line: str, station: str, at: float, **fields: Any
) -> dict[str, Any]:
    """A message about the station itself: who, then ``fields``, then when."""
    return {
        "schema": schema,
        "site": site,
        "line": line,
        "station": station,
        **fields,
        "time": _iso(at),
    }


def status_message(
    *, site: str, line: str, station: str, state: str, recipe: str = "", at: float
) -> dict[str, Any]:
    """The station's state (``online``, ``offline``), retained on the broker."""
    return _station_message(STATUS_SCHEMA, site, line, station, at, state=state, recipe=recipe)


def alarm_message(
    update: StatusUpdate, *, site: str, line: str, station: str, at: float
) -> dict[str, Any]:
    """A warning or alarm the operator sees (camera lost, storage failing, drift...)."""
    return _station_message(
        ALARM_SCHEMA,
        site,
        line,
        station,
        at,
        level=update.level.value,
        source=update.source,
        message=update.message,
    )


def encode(message: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON (``allow_nan=False``: a NaN that slipped through is an error here, not
    a message the other end cannot parse)."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
