"""Control limits from a baseline, and keeping them with the recipe version they belong to.

Three charts:

- **individuals** (X / moving range) for one value per part: sigma = MR̄ / d2(2) = MR̄ / 1.128;
- **xbar** (X̄ / R) over consecutive subgroups of n parts: limits X̿ ± A2·R̄, range chart D3·R̄ to
  D4·R̄; sigma is that of a subgroup mean (A2·R̄ / 3);
- **p** for a proportion per interval (yield, ERROR rate). The interval sizes vary, so the stored
  limits are those at the mean interval size n̄ (the usual "average n" chart, sound while the sizes
  stay within about ±25 % of n̄); ``p_sigmas`` gives each interval its own sigma
  sqrt(p̄(1 − p̄)/nᵢ), and the rules judge each interval against its own.

Limits are stored in ``control_limits`` keyed by recipe name + version + series. They are never
recomputed behind the engineer's back: saving again adds a row, the newest row wins, and every
older row stays as the record of what earlier charts were judged by.
"""

from __future__ import annotations

import dataclasses
import math
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspection.storage.queries import open_reader
from inspection.storage.schema import open_writer

CHARTS = ("individuals", "xbar", "p")
D2_INDIVIDUALS = 1.128  # d2 for a moving range of 2
D4_INDIVIDUALS = 3.267  # D4 for a moving range of 2

# Shewhart constants by subgroup size n: (A2, D3, D4).
XBAR_R_CONSTANTS: dict[int, tuple[float, float, float]] = {
    2: (1.880, 0.0, 3.267),
    3: (1.023, 0.0, 2.574),
    4: (0.729, 0.0, 2.282),
    5: (0.577, 0.0, 2.114),
    6: (0.483, 0.0, 2.004),
    7: (0.419, 0.076, 1.924),
    8: (0.373, 0.136, 1.864),
    9: (0.337, 0.184, 1.816),
    10: (0.308, 0.223, 1.777),
}


@dataclass(frozen=True, slots=True)
class ControlLimits:
    series: str
    chart: str  # "individuals" | "xbar" | "p"
    centre: float
    ucl: float
    lcl: float
    sigma: float  # of one plotted point (a subgroup mean on an xbar chart; at n̄ on a p chart)
    baseline_from: float
    baseline_to: float
    baseline_n: int  # values (parts, or intervals on a p chart) in the baseline
    recipe_name: str
    recipe_version: str
    created_at: float
    subgroup: int = 1  # parts per subgroup (xbar); 1 otherwise; mean interval size n̄ (p)
    range_centre: float | None = None  # MR̄ or R̄; None on a p chart
    range_ucl: float | None = None
    range_lcl: float | None = None
    baseline: str = ""  # how the baseline was chosen, in words


def _span(t: np.ndarray | None, n: int) -> tuple[float, float]:
    if t is None or len(t) == 0:
        return math.nan, math.nan
    return float(t[0]), float(t[min(n, len(t)) - 1])


def individuals_limits(
    values: np.ndarray,
    t: np.ndarray | None = None,
    *,
    series: str = "",
    recipe_name: str = "",
    recipe_version: str = "",
    baseline: str = "",
) -> ControlLimits:
    """Individuals / moving-range limits from the baseline ``values`` (at times ``t``)."""
    x = np.asarray(values, dtype=np.float64)
    if len(x) < 2:
        raise ValueError(
            f"individuals limits need at least 2 baseline values, got {len(x)} ({series or 'series'})"
        )
    mr_bar = float(np.mean(np.abs(np.diff(x))))
    centre = float(np.mean(x))
    sigma = mr_bar / D2_INDIVIDUALS
    start, stop = _span(t, len(x))
    return ControlLimits(
        series=series,
        chart="individuals",
        centre=centre,
        ucl=centre + 3 * sigma,
        lcl=centre - 3 * sigma,
        sigma=sigma,
        baseline_from=start,
        baseline_to=stop,
        baseline_n=len(x),
        recipe_name=recipe_name,
        recipe_version=recipe_version,
        created_at=time.time(),
        range_centre=mr_bar,
        range_ucl=D4_INDIVIDUALS * mr_bar,
        range_lcl=0.0,
        baseline=baseline,
    )


MR_EFFICIENCY = 0.62  # sigma from MR̄ is worth about 0.62 (m − 1) degrees of freedom


def widened_for_baseline(limits: ControlLimits) -> ControlLimits:
    """The limits widened for their own baseline's error: individuals limits from a few points
    misplace the centre and misjudge sigma, and a chart judged by them trips far more often than
    the textbook rates (20 baseline points: a point beyond 3 sigma about four times as often). Prediction limits
    instead: 3 sigma becomes Student's t at the same tail with the sigma estimate's degrees of
    freedom, times sqrt(1 + 1/m) for the centre's error; every zone is scaled alike."""
    m = limits.baseline_n
    if limits.chart != "individuals" or m < 2 or not limits.sigma > 0:
        return limits
    factor = baseline_widening(m)
    sigma = limits.sigma * factor
    return dataclasses.replace(
        limits,
        sigma=sigma,
        ucl=limits.centre + 3 * sigma,
        lcl=limits.centre - 3 * sigma,
        baseline=f"{limits.baseline} (widened ×{factor:.2f} for the baseline's own error)".lstrip(),
    )


def baseline_widening(points: int) -> float:
    """How much wider than 3 sigma individuals limits from ``points`` baseline points are drawn
    (1.29 for 20 points, 1.09 for 100, towards 1 as the baseline grows)."""
    return _t_at_3_sigma(MR_EFFICIENCY * (points - 1)) * math.sqrt(1.0 + 1.0 / points) / 3.0


def _t_at_3_sigma(dof: float) -> float:
    """Student's t quantile at the one-sided tail of 3 sigma (0.99865) for ``dof`` degrees of
    freedom, by the Cornish-Fisher expansion (within 1 % of the exact value from 8 dof up)."""
    z = 3.0
    dof = max(dof, 1.0)
    return (
        z
        + (z**3 + z) / (4 * dof)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * dof**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * dof**3)
    )


def subgroup_means(
    values: np.ndarray, subgroup: int, t: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(time of each subgroup's last part, subgroup mean, subgroup range) of consecutive
    subgroups; an incomplete last subgroup is left out."""
    if subgroup not in XBAR_R_CONSTANTS:
        raise ValueError(
            f"subgroup size must be {min(XBAR_R_CONSTANTS)} to {max(XBAR_R_CONSTANTS)}, "
            f"got {subgroup}"
        )
    x = np.asarray(values, dtype=np.float64)
    k = len(x) // subgroup
    groups = x[: k * subgroup].reshape(k, subgroup)
    times = (
        np.asarray(t, dtype=np.float64)[subgroup - 1 : k * subgroup : subgroup]
        if t is not None
        else np.arange(k, dtype=np.float64)
    )
    return times, groups.mean(axis=1), groups.max(axis=1) - groups.min(axis=1)


def xbar_r_limits(
    values: np.ndarray,
    subgroup: int,
    t: np.ndarray | None = None,
    *,
    series: str = "",
    recipe_name: str = "",
    recipe_version: str = "",
    baseline: str = "",
) -> ControlLimits:
    """X̄/R limits from the baseline ``values`` in consecutive subgroups of ``subgroup``."""
    _, means, ranges = subgroup_means(values, subgroup, t)
    if len(means) < 2:
        raise ValueError(
            f"X-bar/R limits need at least 2 subgroups of {subgroup}, got {len(means)} "
            f"({len(values)} values)"
        )
    a2, d3, d4 = XBAR_R_CONSTANTS[subgroup]
    centre = float(np.mean(means))
    r_bar = float(np.mean(ranges))
    used = len(means) * subgroup
    start, stop = _span(t, used)
    return ControlLimits(
        series=series,
        chart="xbar",
        centre=centre,
        ucl=centre + a2 * r_bar,
        lcl=centre - a2 * r_bar,
        sigma=a2 * r_bar / 3,
        baseline_from=start,
        baseline_to=stop,
        baseline_n=used,
        recipe_name=recipe_name,
        recipe_version=recipe_version,
        created_at=time.time(),
        subgroup=subgroup,
        range_centre=r_bar,
        range_ucl=d4 * r_bar,
        range_lcl=d3 * r_bar,
        baseline=baseline,
    )


def p_limits(
    hits: np.ndarray,
    totals: np.ndarray,
    t: np.ndarray | None = None,
    *,
    series: str = "",
    recipe_name: str = "",
    recipe_version: str = "",
    baseline: str = "",
) -> ControlLimits:
    """p-chart limits from per-interval counts: ``hits`` of ``totals`` parts (passes for yield,
    ERRORs for the ERROR rate). Limits at the mean interval size; see ``p_sigmas``."""
    k = np.asarray(hits, dtype=np.float64)
    n = np.asarray(totals, dtype=np.float64)
    if len(n) < 2 or len(k) != len(n):
        raise ValueError(
            f"p-chart limits need at least 2 intervals with as many counts as totals, got "
            f"{len(k)} counts and {len(n)} totals"
        )
    if np.any(n <= 0) or np.any(k < 0) or np.any(k > n):
        raise ValueError("p-chart limits: each interval needs 0 <= count <= parts and parts > 0")
    p_bar = float(k.sum() / n.sum())
    n_bar = float(n.mean())
    sigma = math.sqrt(p_bar * (1 - p_bar) / n_bar)
    start, stop = _span(t, len(n))
    return ControlLimits(
        series=series,
        chart="p",
        centre=p_bar,
        ucl=min(1.0, p_bar + 3 * sigma),
        lcl=max(0.0, p_bar - 3 * sigma),
        sigma=sigma,
        baseline_from=start,
        baseline_to=stop,
        baseline_n=len(n),
        recipe_name=recipe_name,
        recipe_version=recipe_version,
        created_at=time.time(),
        subgroup=max(1, round(n_bar)),
        baseline=baseline,
    )


def p_sigmas(limits: ControlLimits, totals: np.ndarray) -> np.ndarray:
    """Each interval's own sigma on a p chart: sqrt(p̄(1 − p̄) / nᵢ)."""
    n = np.maximum(np.asarray(totals, dtype=np.float64), 1.0)
    return np.sqrt(limits.centre * (1 - limits.centre) / n)


# ---- storing -------------------------------------------------------------------------------

_COLUMNS = (
    "recipe_name",
    "recipe_version",
    "series",
    "chart",
    "centre",
    "ucl",
    "lcl",
    "sigma",
    "subgroup",
    "range_centre",
    "range_ucl",
    "range_lcl",
    "baseline_from",
    "baseline_to",
    "baseline_n",
    "baseline",
    "created_at",
)


def save_limits(db_path: Path, limits: ControlLimits) -> int:
    """Store ``limits`` as a new row (never replacing one); returns its id."""
    if limits.chart not in CHARTS:
        raise ValueError(f"chart {limits.chart!r} is not one of {', '.join(CHARTS)}")
    if not (limits.series and limits.recipe_name and limits.recipe_version):
        raise ValueError("limits are stored with their series, recipe name and recipe version")
    if not (math.isfinite(limits.baseline_from) and math.isfinite(limits.baseline_to)):
        raise ValueError("limits are stored with the times their baseline began and ended")
    values = tuple(getattr(limits, c) for c in _COLUMNS)
    conn = open_writer(db_path)
    try:
        cursor = conn.execute(
            f"INSERT INTO control_limits ({', '.join(_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(_COLUMNS))})",
            values,
        )
        return int(cursor.lastrowid or 0)
    finally:
        conn.close()


def _from_row(row: sqlite3.Row) -> ControlLimits:
    return ControlLimits(**{c: row[c] for c in _COLUMNS})


def load_limits(
    db_path: Path, series: str, recipe_name: str, recipe_version: str
) -> ControlLimits | None:
    """The newest limits stored for the series with this recipe version; None when none."""
    history = limits_history(db_path, series, recipe_name, recipe_version)
    return history[0] if history else None


def limits_history(
    db_path: Path, series: str, recipe_name: str, recipe_version: str
) -> list[ControlLimits]:
    """Every set of limits stored for the series with this recipe version, newest first."""
    conn = open_reader(db_path)
    try:
        rows = conn.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM control_limits WHERE recipe_name = ? AND "
            "recipe_version = ? AND series = ? ORDER BY id DESC",
            (recipe_name, recipe_version, series),
        ).fetchall()
    finally:
        conn.close()
    return [_from_row(r) for r in rows]
