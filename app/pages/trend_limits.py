"""Re-baselining from the Trends page: the checked series' control limits set from the range on
screen and kept with the recipe version in force (older limits stay on record)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from inspection.trends.baseline import is_per_part, save_window_limits
from inspection.trends.measures import parse_series

Job = Callable[[Any, threading.Event], list[str]]


def rebaseline_job(db: Path, keys: Sequence[str], start: float, end: float, zone: dt.tzinfo) -> Job:
    """A job setting each series' limits from ``[start, end)``: one line per series saying
    what it set, or why not."""

    def job(progress: Any, cancel: threading.Event) -> list[str]:
        lines = []
        for i, key in enumerate(keys):
            progress(i, len(keys), key)
            try:
                name = parse_series(key)
                limits = save_window_limits(db, name, start, end, zone=zone)
            except ValueError as exc:
                lines.append(f"{key}: not set ({exc})")
                continue
            what = "good parts" if is_per_part(name) else "intervals"
            lines.append(
                f"{key}: centre {limits.centre:.4g}, limits {limits.lcl:.4g} to "
                f"{limits.ucl:.4g} from {limits.baseline_n:,} {what} "
                f"(recipe {limits.recipe_name} v{limits.recipe_version})"
            )
        return lines

    return job


def rebaseline_question(keys: Sequence[str], start: float, end: float, zone: dt.tzinfo) -> str:
    show = "%Y-%m-%d %H:%M"
    since = dt.datetime.fromtimestamp(start, tz=zone).strftime(show)
    until = dt.datetime.fromtimestamp(end, tz=zone).strftime(show)
    return (
        f"The control limits of {', '.join(keys)} are set from the good parts from {since} to "
        f"{until} and kept with the recipe version in force then. Charts judge by them from now "
        "on; the limits used so far stay on record. (The operator's drift warnings keep the "
        "limits of their own points.)"
    )
