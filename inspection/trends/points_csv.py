"""A chart's points as one CSV file: a row per point, a column naming the series.

Times twice: ISO 8601 with the offset (exact, for programs) and ``YYYY-MM-DD HH:MM:SS`` local
(Excel reads it as a date-time). UTF-8 with a byte-order mark, so Excel opens it as UTF-8.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from inspection.trends.aggregate import SeriesData

HEADER = ("series", "time", "local time", "value", "low", "high", "parts", "part")


def _number(x: float) -> str:
    return repr(float(x)) if math.isfinite(x) else ""


def write_points_csv(
    path: Path,
    series: Sequence[SeriesData],
    zone: dt.tzinfo,
    part_names: Mapping[int, str] | None = None,
) -> int:
    """Write every point of ``series`` to ``path``; returns the rows written (without the
    header). ``part_names`` maps a point's part row id to its inspection id (else the row id)."""
    names = part_names or {}
    rows = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        for data in series:
            counts = data.count.tolist() if len(data.count) == len(data) else [1] * len(data)
            for t, value, low, high, parts, part in zip(
                data.t.tolist(),
                data.value.tolist(),
                data.low.tolist(),
                data.high.tolist(),
                counts,
                data.part_id.tolist(),
                strict=True,
            ):
                when = dt.datetime.fromtimestamp(t, tz=zone)
                out.writerow(
                    (
                        str(data.name),
                        when.isoformat(timespec="milliseconds"),
                        when.strftime("%Y-%m-%d %H:%M:%S"),
                        _number(value),
                        _number(low),
                        _number(high),
                        int(parts),
                        "" if part < 0 else names.get(int(part), str(int(part))),
                    )
                )
                rows += 1
    return rows
