"""``lineside tune``: one tool's recorded scores over a range, what its threshold in force and a
candidate threshold do, and suggested thresholds. The same functions as the Tuning page."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from inspection.recipe.station import ShiftCalendar
from inspection.trends.command import choose_range
from inspection.tuning.scores import TuningError, load_tool_scores
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
    """The tool's scores over the asked range; ValueError / TuningError for bad input."""
    if args.bins < 1 or args.max_escapes < 0:
        raise ValueError("--bins must be >= 1 and --max-escapes >= 0")
    if args.threshold is not None and not math.isfinite(args.threshold):
        raise ValueError(f"--threshold {args.threshold} is not a number")
    start, end = choose_range(calendar, args.from_, args.to, time.time())
    scores = load_tool_scores(db, args.tool, start, end, labels=args.labels)
    if scores.threshold_in_force is None:
        raise TuningError(
            f"tool {args.tool!r} ({scores.tool_type}) records no threshold with its score; "
            "tuning covers tools that reject at score >= threshold (the defect tools)"
        )
    return ThresholdView(scores)


def tune_result(
    view: ThresholdView, candidate: float | None, *, bins: int, max_escapes: int
) -> dict[str, Any]:
    """The command's JSON object for a loaded view."""
    assert view.in_force is not None
    return {
        "tool": view.scores.tool_id,
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
        f"tool {s.tool_id} ({s.tool_type}), {when(s.start)} to {when(s.end)}: {s.n} parts, "
        f"labels from {'the ground truth' if s.labels_from == 'truth' else 'engineers'}: "
        f"{labelled}",
        "  (a part is rejected at score >= threshold)",
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
