"""``lineside trends``: one series over a range, its control limits and the rules it trips.

Limits are the ones stored for the recipe version in force (the newest part's); when none are
stored, they are computed from the range's first good parts and the output says so. This
command stores limits only when asked (``--save-limits``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from inspection.recipe.station import ShiftCalendar
from inspection.trends.aggregate import SeriesData, aggregate
from inspection.trends.baseline import (
    is_per_part,
    recipe_in_force,
    version_baseline,
    window_baseline,
)
from inspection.trends.chart_data import LimitsInForce, limits_in_force, violations_of
from inspection.trends.limits import ControlLimits, save_limits
from inspection.trends.measures import parse_series
from inspection.trends.rules import Violation
from inspection.trends.series import load_raw_series

EXIT_OK, EXIT_USAGE = 0, 2
MAX_VIOLATION_POINTS = 100  # a long pattern lists its first points; n_points says how many


def choose_range(
    calendar: ShiftCalendar, from_: str | None, to: str | None, now: float
) -> tuple[float, float]:
    """The range asked for: --from/--to (local times), else the current shift (the last one
    that ended when now is between shifts)."""
    if from_ is None:
        if to is not None:
            raise ValueError("--to goes with --from")
        window = calendar.shift_at(now) or calendar.last_completed(now)
        if window is None:
            raise ValueError("no current shift and none ended in the last 8 days; give --from")
        return window.start, window.end
    start = calendar.parse_local_time(from_, "--from")
    end = calendar.parse_local_time(to, "--to") if to is not None else now
    if end <= start:
        raise ValueError(f"--to ({to or 'now'}) is not after --from {from_!r}")
    return start, end


def _iso(t: float, zone: dt.tzinfo) -> str | None:
    if not math.isfinite(t):
        return None
    return dt.datetime.fromtimestamp(t, tz=zone).isoformat(timespec="milliseconds")


def _limits_json(limits: ControlLimits, stored: bool, zone: dt.tzinfo) -> dict[str, Any]:
    return {
        "centre": limits.centre,
        "ucl": limits.ucl,
        "lcl": limits.lcl,
        "sigma": limits.sigma,
        "chart": limits.chart,
        "baseline": {
            "stored": stored,
            "description": limits.baseline,
            "from": _iso(limits.baseline_from, zone),
            "to": _iso(limits.baseline_to, zone),
            "n": limits.baseline_n,
            "recipe_name": limits.recipe_name,
            "recipe_version": limits.recipe_version,
        },
    }


def _violation_json(v: Violation, raw: SeriesData, zone: dt.tzinfo) -> dict[str, Any]:
    shown = v.indices[:MAX_VIOLATION_POINTS]
    return {
        "rule": v.name,
        "code": v.rule,
        "at": _iso(v.at, zone),
        "points": [[_iso(float(raw.t[i]), zone), float(raw.value[i])] for i in shown],
        "n_points": len(v.indices),
        "part_ids": [int(raw.part_id[i]) for i in shown if raw.part_id[i] >= 0],
    }


def trends_result(args: argparse.Namespace, db: Path, calendar: ShiftCalendar) -> dict[str, Any]:
    """The command's JSON object; ValueError for bad input (the caller exits 2)."""
    name = parse_series(args.series)
    rules = [r.strip() for r in args.rules.split(",") if r.strip()]
    if args.max_points < 1 or args.baseline_parts < 2 or args.max_violations < 0:
        raise ValueError("--max-points must be >= 1, --baseline-parts >= 2, --max-violations >= 0")
    if (args.baseline_from or args.baseline_to) and not (
        args.save_limits and args.baseline_from and args.baseline_to
    ):
        raise ValueError("--baseline-from and --baseline-to go together, with --save-limits")
    start, end = choose_range(calendar, args.from_, args.to, time.time())
    zone = calendar.zone
    raw = load_raw_series(
        db,
        name,
        start,
        end,
        station=args.station,
        interval_s=args.interval,
        max_points=args.max_points,
    )
    if args.save_limits:
        recipe = recipe_in_force(db, start, end, station=args.station)
        if recipe is None:
            raise ValueError("the range has no parts, so no recipe version to keep limits with")
        if args.baseline_from:
            kept = window_baseline(
                db,
                name,
                calendar.parse_local_time(args.baseline_from, "--baseline-from"),
                calendar.parse_local_time(args.baseline_to, "--baseline-to"),
                recipe=recipe,
                station=args.station,
                zone=zone,
            )
        else:
            kept = version_baseline(
                db, name, recipe, end, n=args.baseline_parts, station=args.station
            )
        save_limits(db, kept)
        found = LimitsInForce(kept, True)
    else:
        found = limits_in_force(
            db, name, start, end, raw, station=args.station, baseline_parts=args.baseline_parts
        )
    limits, stored = found.limits, found.stored
    violations = violations_of(raw, limits, rules)
    shown = aggregate(raw, start, end, args.max_points)
    listed = violations[-args.max_violations :] if args.max_violations else []
    return {
        "series": str(name),
        "from": _iso(start, zone),
        "to": _iso(end, zone),
        "per_part": is_per_part(name),
        "raw_count": raw.raw_count,
        "aggregated": shown.aggregated,
        "threshold": raw.threshold,
        "points": [
            [_iso(t, zone), v] for t, v in zip(shown.t.tolist(), shown.value.tolist(), strict=True)
        ],
        "limits": None if limits is None else _limits_json(limits, stored, zone),
        "violations": [_violation_json(v, raw, zone) for v in listed],
        "violations_total": len(violations),
    }


def cmd_trends(args: argparse.Namespace, db: Path, calendar: ShiftCalendar) -> int:
    if not db.is_file():
        sys.stderr.write(f"lineside trends: results database {db} does not exist (see --db)\n")
        return EXIT_USAGE
    try:
        result = trends_result(args, db, calendar)
    except ValueError as exc:
        sys.stderr.write(f"lineside trends: {exc}\n")
        return EXIT_USAGE
    text = json.dumps(_finite(result), indent=None if args.json else 2)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
    return EXIT_OK


def _finite(value: Any) -> Any:
    """NaN and infinities as null: strict JSON readers reject them."""
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
