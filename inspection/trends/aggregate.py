"""A series' points, and their aggregation to time buckets a chart can draw, in numpy."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from inspection.trends.measures import SeriesName


def _no_ids() -> np.ndarray:
    return np.empty(0, dtype=np.int64)


@dataclass(frozen=True)
class SeriesData:
    name: SeriesName
    t: np.ndarray  # float64 epoch seconds (point time; bucket start when aggregated)
    value: np.ndarray  # float64 (bucket mean when aggregated)
    low: np.ndarray  # float64 bucket min (== value when not aggregated)
    high: np.ndarray  # float64 bucket max
    part_id: np.ndarray  # int64 inspections.id at the bucket's max; -1 for interval series
    raw_count: int  # points before aggregation
    aggregated: bool
    threshold: float | None  # the tool threshold in force at the end of the range, if any
    low_part_id: np.ndarray = field(default_factory=_no_ids)  # the part at the bucket's min
    count: np.ndarray = field(default_factory=_no_ids)  # parts behind each point

    def __len__(self) -> int:
        return len(self.t)


def raw_series(
    name: SeriesName,
    t: np.ndarray,
    value: np.ndarray,
    part_id: np.ndarray,
    count: np.ndarray,
    threshold: float | None,
) -> SeriesData:
    """Points as read, one per part (or per interval), not aggregated."""
    return SeriesData(
        name=name,
        t=t,
        value=value,
        low=value,
        high=value,
        part_id=part_id,
        raw_count=len(t),
        aggregated=False,
        threshold=threshold,
        low_part_id=part_id,
        count=count,
    )


def aggregate(raw: SeriesData, start: float, end: float, max_points: int) -> SeriesData:
    """``raw`` with at most ``max_points`` points: equal time buckets over ``[start, end)``,
    each with its count-weighted mean, its min and max and the parts at them (the first part
    when several share the extreme). Empty buckets have no point. ``raw`` when it fits."""
    n = len(raw.t)
    if n <= max_points:
        return raw
    width = (end - start) / max_points
    bucket = np.clip(((raw.t - start) // width).astype(np.int64), 0, max_points - 1)
    # raw.t is sorted, so each bucket is one run: its first index starts a reduceat segment
    firsts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    weights = raw.count.astype(np.float64)
    weight = np.add.reduceat(weights, firsts)
    mean = np.add.reduceat(raw.value * weights, firsts) / weight
    low = np.minimum.reduceat(raw.value, firsts)
    high = np.maximum.reduceat(raw.value, firsts)
    sizes = np.diff(np.r_[firsts, n])
    run = np.repeat(np.arange(len(firsts)), sizes)
    return SeriesData(
        name=raw.name,
        t=start + bucket[firsts].astype(np.float64) * width,
        value=mean,
        low=low,
        high=high,
        part_id=raw.part_id[_first_where(raw.value == np.repeat(high, sizes), run, firsts)],
        raw_count=n,
        aggregated=True,
        threshold=raw.threshold,
        low_part_id=raw.part_id[_first_where(raw.value == np.repeat(low, sizes), run, firsts)],
        count=np.add.reduceat(raw.count, firsts).astype(np.int64),
    )


def _first_where(mask: np.ndarray, run: np.ndarray, firsts: np.ndarray) -> np.ndarray:
    """Per run, the index of its first True (every run has one: its own extreme)."""
    hits = np.flatnonzero(mask)
    _, first_hit = np.unique(run[hits], return_index=True)
    out = hits[first_hit]
    assert len(out) == len(firsts)
    return out
