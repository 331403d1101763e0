"""A camera's frame rate and drops over time, from the station's per-minute frame counts
(``camera_intervals``, written through the results store by ``pipeline/camera_rate.py``)."""

from __future__ import annotations

import sqlite3

import numpy as np

from inspection.trends.measures import FPS_PREFIX, Measure, SeriesName

_EMPTY = (np.empty(0), np.empty(0), np.empty(0, dtype=np.int64))


def cameras_in_range(
    conn: sqlite3.Connection, start: float, end: float, station: str | None
) -> list[str]:
    """The cameras whose frame counts the range has (a few rows a minute: no index needed)."""
    where, params = _interval_filter(start, end, station)
    return [str(r[0]) for r in conn.execute(
        f"SELECT DISTINCT c.camera FROM camera_intervals c WHERE {where} ORDER BY c.camera",
        params,
    )]  # fmt: skip


def _interval_filter(
    start: float, end: float, station: str | None
) -> tuple[str, tuple[object, ...]]:
    where = "c.start >= ? AND c.start < ?"
    params: tuple[object, ...] = (float(start), float(end))
    if station is not None:
        where += " AND c.station = ?"
        params += (station,)
    return where, params


def fetch_camera(
    conn: sqlite3.Connection,
    name: SeriesName,
    measure: Measure,
    start: float,
    end: float,
    station: str | None,
    interval_s: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(interval start, frames/s or drops, frames in the interval) of one camera, from the
    station's per-minute counts summed into the chart's intervals."""
    where, params = _interval_filter(start, end, station)
    rows = conn.execute(
        "SELECT CAST((c.start - ?) / ? AS INTEGER) AS b, SUM(c.frames), SUM(c.dropped), "
        f"SUM(c.end - c.start) FROM camera_intervals c WHERE c.camera = ? AND {where} "
        "GROUP BY b ORDER BY b",
        (float(start), float(interval_s), measure.key, *params),
    ).fetchall()
    if not rows:
        return _EMPTY
    cols = np.array([tuple(r) for r in rows], dtype=np.float64).reshape(-1, 4)
    t = float(start) + cols[:, 0] * float(interval_s)
    if name.measure.startswith(FPS_PREFIX):
        seconds = cols[:, 3]
        value = np.divide(cols[:, 1], seconds, out=np.zeros(len(rows)), where=seconds > 0)
    else:
        value = cols[:, 2]
    return t, value, cols[:, 1].astype(np.int64)
