"""``lineside tune``: one tool's recorded scores (or one of its parameters' values) over a range,
what its limit in force and a candidate limit do, and suggested limits. The same functions as the
Tuning page. ``--parameter`` picks the limit (``parameters.py``); the default is the tool's score
threshold."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from inspection.paths import user_paths
from inspection.recipe.station import ShiftCalendar
from inspection.trends.command import choose_range
from inspection.tuning.parameter_scores import load_parameter_scores
from inspection.tuning.parameters import THRESHOLD, parameters_for
from inspection.tuning.recipe_limits import recipe_files
from inspection.tuning.scores import TuningError
from inspection.tuning.suggest import Suggestion, percent, suggest
from inspection.tuning.whatif import Counts, Histogram, ThresholdView

EXIT_OK, EXIT_USAGE = 0, 2


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def counts_json(c: Counts) -> dict[str, Any]:
    return {"false_rejects": c.false_rejects, "escapes": c.escapes, "yield": _finite(c.yield_)}


def histogram_json(h: Histogram) -> dict[str, Any]:
    return {
        "edges": h.edges.tolist(),
        "good": h.good.tolist(),
        "defect": h.defect.tolist(),
        "unlabelled": h.unlabelled.tolist(),
    }


def suggestion_json(s: Suggestion) -> dict[str, Any]:
    return {"threshold": s.threshold, "why": s.why, **counts_json(s.counts)}


def load_view(args: argparse.Namespace, db: Path, calendar: ShiftCalendar) -> ThresholdView:
    """The tool's scores (or parameter's values) over the asked range; ValueError /
    TuningError for bad input."""
    if args.bins < 1 or args.max_escapes < 0:
        raise ValueError("--bins must be >= 1 and --max-escapes >= 0")
    if args.threshold is not None and not math.isfinite(args.threshold):
        raise ValueError(f"--threshold {args.threshold} is not a number")
    parameter = getattr(args, "parameter", None) or THRESHOLD
    extra = [Path(args.recipe)] if getattr(args, "recipe", None) else []
    for file in extra:
        if not file.is_file():
            raise ValueError(f"--recipe {file}: no such file")
    start, end = choose_range(calendar, args.from_, args.to, time.time())
    files = recipe_files(user_paths(), extra) if parameter != THRESHOLD else []
    loaded = load_parameter_scores(
        db, args.tool, parameter, start, end, labels=args.labels, recipe_files=files
    )
    scores = loaded.scores
    if scores.threshold_in_force is None:
        if parameter == THRESHOLD:
            raise TuningError(
                f"tool {args.tool!r} ({scores.tool_type}) records no threshold with its score; "
                "tuning covers tools that reject at score >= threshold (the defect tools); "
                f"{_other_parameters(scores.tool_type)}"
            )
        raise TuningError(f"{args.tool}.{parameter}: no limit in force found in the recipe")
    return loaded.view()


def _other_parameters(tool_type: str) -> str:
    names = [p.name for p in parameters_for(tool_type) if p.name != THRESHOLD]
    if tool_type == "label":
        names.append("<field>.min_confidence")
    if not names:
        return f"a {tool_type} tool has no other limit to tune"
    return f"a {tool_type} tool's limits are tuned with --parameter ({', '.join(names)})"


def tune_result(
    view: ThresholdView, candidate: float | None, *, bins: int, max_escapes: int
) -> dict[str, Any]:
    """The command's JSON object for a loaded view."""
    assert view.in_force is not None
    return {
        "tool": view.scores.tool_id,
        "parameter": view.limit_name,
        "threshold": view.in_force,
        "histogram": histogram_json(view.histogram(bins)),
        "at_threshold": counts_json(view.counts_at(view.in_force)),
        "candidate": None if candidate is None else counts_json(view.counts_at(candidate)),
        "suggestions": [suggestion_json(s) for s in suggest(view, max_escapes)],
    }


def summary_text(
    view: ThresholdView, candidate: float | None, suggestions: list[Suggestion], zone: dt.tzinfo
) -> str:
    """The result for a person: range, parts, labels, the two thresholds and the suggestions."""
    s = view.scores

    def when(t: float) -> str:
        return dt.datetime.fromtimestamp(t, tz=zone).strftime("%Y-%m-%d %H:%M")

    def line(name: str, threshold: float) -> str:
        c = view.counts_at(threshold)
        return (
            f"  {name} {threshold:g}: {c.false_rejects} false rejects, {c.escapes} escapes, "
            f"yield {percent(c.yield_)}, {c.newly_rejected} passes would be rejected, "
            f"{c.newly_passed} rejects would pass"
        )

    labelled = f"{len(view.good)} good, {len(view.bad)} defect or escape"
    out = [
        f"tool {s.tool_id} ({s.tool_type}) {view.limit_name}, "
        f"{when(s.start)} to {when(s.end)}: {s.n} parts, "
        f"labels from {'the ground truth' if s.labels_from == 'truth' else 'engineers'}: "
        f"{labelled}",
        f"  ({view.decision.comparison(view.limit_name, view.value_name)})",
    ]
    assert view.in_force is not None
    out.append(line("in force", view.in_force))
    if candidate is not None:
        out.append(line("candidate", candidate))
    if not suggestions:
        out.append("no suggestions: no parts labelled defect or escape in the range")
    for sug in suggestions:
        out.append(f"suggested {sug.threshold:g}: {sug.why}")
    return "\n".join(out) + "\n"


def cmd_tune(args: argparse.Namespace, db: Path, calendar: ShiftCalendar) -> int:
    if not db.is_file():
        sys.stderr.write(f"lineside tune: results database {db} does not exist (see --db)\n")
        return EXIT_USAGE
    try:
        view = load_view(args, db, calendar)
    except (ValueError, TuningError) as exc:
        sys.stderr.write(f"lineside tune: {exc}\n")
        return EXIT_USAGE
    if args.json:
        result = tune_result(view, args.threshold, bins=args.bins, max_escapes=args.max_escapes)
        sys.stdout.write(json.dumps(result, allow_nan=False) + "\n")
    else:
        found = suggest(view, args.max_escapes)
        sys.stdout.write(summary_text(view, args.threshold, found, calendar.zone))
    sys.stdout.flush()
    return EXIT_OK
