"""Drift warnings while the line runs: the recipe's ``drift:`` series judged by the Western
Electric / Nelson rules, part by part, on the dispatcher thread.

For each watched series the good parts' values are averaged into points, one per ``every_s``
seconds (or per ``points_of`` parts); the points are judged against their own control limits
(below). A pattern that ends at the newest point, on the side the recipe says is trouble, raises a ``DriftWarning``: distinct from a
reject alarm, it stays until the operator acknowledges it, and a pattern that was already going
on when they did never raises it again: the series must first settle (8 points in a row with no
pattern), as an acknowledged alarm stays quiet until its cause clears.

Limits are those of the points themselves (individuals limits of the first ``baseline_points``
points after the recipe version starts running, between-point variation included), stored with
the recipe version under the series and what a point is (``surface.score@300s``), and never
recomputed behind the engineer's back: the newest stored limits win, so a restart judges by the
same limits.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspection.recipe import Recipe
from inspection.recipe.drift import DriftAlertSettings
from inspection.storage.schema import headline_score
from inspection.trends.limits import (
    ControlLimits,
    individuals_limits,
    load_limits,
    save_limits,
    widened_for_baseline,
)
from inspection.trends.measures import SeriesName, parse_series, tool_measure
from inspection.trends.rules import RULE_NAMES, check_rules
from inspection.types import Inspection, Verdict

log = logging.getLogger(__name__)

POINTS_KEPT = 40  # the longest rule looks at 15 points; a pattern may run on past it
REARM_POINTS = 8  # points in a row with no pattern before an acknowledged series warns again


@dataclass(frozen=True, slots=True, kw_only=True)
class DriftWarning:
    """A watched series drifting, as the operator sees it and the shift report records it.

    Times are UNIX seconds. ``values`` and ``times`` are the points (means of good parts) that
    make the pattern, oldest first; ``parts`` the id of each point's last part, ``counts`` how
    many good parts each point averages; centre and limits are those of the newest point.
    """

    series: str
    message: str
    rule: str  # "WE1".."N8"
    rule_name: str  # in the engineer's words
    direction: str  # "up", "down", or "" for a pattern with no side
    values: tuple[float, ...]
    times: tuple[float, ...]
    parts: tuple[str, ...]
    counts: tuple[int, ...]
    centre: float
    ucl: float
    lcl: float
    raised_at: float
    occurrences: int = 1  # patterns seen since it was raised (it stays one warning)
    acknowledged_at: float | None = None

    @property
    def text(self) -> str:
        """One line for the operator: the recipe's message, else the series and the rule."""
        what = self.message or f"{self.series} drifting {self.direction}".rstrip()
        return f"{what} ({self.rule_name})"


def part_value(name: SeriesName, inspection: Inspection) -> tuple[float, bool] | None:
    """The series' value on this part and whether it counts as good there (the tool passed it,
    or for a station series the part passed); None when the part has no such value."""
    if name.is_station:
        timing = inspection.timing
        if not (timing.decided_ns and timing.queued_ns):
            return None
        return (timing.decided_ns - timing.queued_ns) / 1e6, inspection.verdict is Verdict.PASS
    for result in inspection.tool_results:
        if result.tool_id != name.tool_id:
            continue
        value: object
        try:
            measure = tool_measure(result.tool_type, name.measure, set(result.measurements))
        except ValueError:
            return None
        if measure.source == "column":
            value = headline_score(result)
        elif measure.source == "details":
            value = result.details.get(measure.key)
        else:
            value = result.measurements.get(measure.key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if not math.isfinite(value):
            return None
        return float(value), result.verdict is Verdict.PASS
    return None


class SeriesWatch:
    """One alert's points, limits and warning; fed on the dispatcher thread only."""

    def __init__(self, settings: DriftAlertSettings, recipe: tuple[str, str], station: str) -> None:
        self.settings = settings
        self.name = parse_series(settings.series)
        self.recipe = recipe
        self.station = station
        self.limits: ControlLimits | None = None  # of the points, not of single parts
        self.baseline: list[tuple[float, float]] = []  # (time, mean) of the baseline's points
        self._sum = 0.0
        self._n = 0
        self._bucket: int | None = None  # the every_s interval the open point belongs to
        self._last: tuple[float, str] = (0.0, "")  # time and id of the open point's last part
        # (time, mean, id of the last part, good parts averaged) of the newest points
        self.points: deque[tuple[float, float, str, int]] = deque(maxlen=POINTS_KEPT)
        self.warning: DriftWarning | None = None
        # After an acknowledgement the series must settle (REARM_POINTS points in a row with no
        # pattern) before it can warn again: a drift the operator knows of is not news.
        self._armed = True
        self._calm = 0

    @property
    def key(self) -> str:
        """The name the points' limits are stored under: the series and what a point is
        (``surface.score@300s``, ``surface.score@25parts``), never a part's own limits."""
        every = self.settings.points_of
        return (
            f"{self.name}@{every}parts"
            if every is not None
            else (f"{self.name}@{self.settings.every_s:g}s")
        )

    def use_limits(self, limits: ControlLimits) -> None:
        self.limits = limits
        self.baseline.clear()

    def add(self, inspection: Inspection) -> tuple[ControlLimits | None, DriftWarning | None]:
        """A part: (limits just set from the baseline, to store; a warning raised or renewed)."""
        found = part_value(self.name, inspection)
        if found is None or not found[1]:
            return None, None
        value = found[0]
        done: tuple[ControlLimits | None, DriftWarning | None] = (None, None)
        per_parts = self.settings.points_of
        if per_parts is None:
            # a point per interval: the first part of a new interval closes the one before
            bucket = math.floor(inspection.wall_time / self.settings.every_s)
            if self._bucket is not None and bucket != self._bucket:
                if self._n >= self.settings.min_parts:
                    done = self._close_point()
                else:
                    self._sum, self._n = 0.0, 0  # the line barely ran: too few parts to judge
            self._bucket = bucket
        self._sum += value
        self._n += 1
        self._last = (inspection.wall_time, inspection.inspection_id)
        if per_parts is not None and self._n >= per_parts:
            done = self._close_point()
        return done

    def _close_point(self) -> tuple[ControlLimits | None, DriftWarning | None]:
        """The open point is complete: (limits just set from the baseline, a warning)."""
        mean = self._sum / self._n
        n = self._n
        self._sum, self._n = 0.0, 0
        return self.add_point(self._last[0], mean, self._last[1], n)

    def add_point(
        self, at: float, mean: float, last_part: str, parts: int
    ) -> tuple[ControlLimits | None, DriftWarning | None]:
        """A finished point (the mean of ``parts`` good parts, the last one ``last_part`` at
        UNIX time ``at``): into the baseline, else judged. Returns (limits just set from the
        baseline, to store; a warning raised or renewed). ``lineside eval drift`` feeds points
        here directly to measure the false-warning rate over months of a steady line."""
        point = (at, mean, last_part, parts)
        if self.limits is None:
            self.baseline.append((point[0], mean))
            if len(self.baseline) < self.settings.baseline_points:
                return None, None
            return self._limits_from_baseline(), None
        self.points.append(point)
        return None, self._judge()

    def _limits_from_baseline(self) -> ControlLimits | None:
        """Individuals limits of the baseline's points: their spread is the points' own,
        between-point variation included, so a point of many parts is not judged by the far
        narrower spread a part's sigma / sqrt(n) would promise."""
        times = np.asarray([b[0] for b in self.baseline], dtype=np.float64)
        means = np.asarray([b[1] for b in self.baseline], dtype=np.float64)
        name, version = self.recipe
        try:
            limits = individuals_limits(
                means,
                times,
                series=self.key,
                recipe_name=name,
                recipe_version=version,
                baseline=(
                    f"first {len(means)} points after recipe {name} version {version} "
                    f"started running on station {self.station}"
                ),
            )
        except ValueError as exc:
            log.warning("drift %s: no limits from the baseline: %s", self.name, exc)
            limits = None
        if limits is not None:
            limits = widened_for_baseline(limits)
        if limits is None or not limits.sigma > 0:
            # every point measured the same: no spread, so no drift can be judged yet; the
            # next points make a new baseline rather than limits that never trip
            if limits is not None:
                log.warning(
                    "drift %s: the baseline's %d points all measured %.6g; collecting another",
                    self.name,
                    len(means),
                    limits.centre,
                )
            self.baseline.clear()
            return None
        self.use_limits(limits)
        return limits

    def _judge(self) -> DriftWarning | None:
        limits = self.limits
        if limits is None or not self.points:
            return None
        t = np.fromiter((p[0] for p in self.points), dtype=np.float64, count=len(self.points))
        x = np.fromiter((p[1] for p in self.points), dtype=np.float64, count=len(self.points))
        newest = len(x) - 1
        for v in check_rules(t, x, limits, self.settings.rules):
            if v.indices[-1] != newest:
                continue
            direction = _direction(v.rule, x[list(v.indices)], limits.centre)
            if self.settings.watch != "both" and direction != self.settings.watch:
                continue
            self._calm = 0
            active = self.warning is not None and self.warning.acknowledged_at is None
            if not (active or self._armed):
                return None  # acknowledged, and the series has not settled since
            return self._raise(v.rule, direction, v.indices, limits)
        self._calm += 1
        if self._calm >= REARM_POINTS:
            self._armed = True
        return None

    def _raise(
        self, rule: str, direction: str, indices: tuple[int, ...], limits: ControlLimits
    ) -> DriftWarning:
        points = [self.points[i] for i in indices]
        now = time.time()
        old = self.warning
        if old is not None and old.acknowledged_at is None:
            # still the same warning on the screen: it grows, it does not pile up
            self.warning = dataclasses.replace(
                old,
                rule=rule,
                rule_name=RULE_NAMES[rule],
                direction=direction or old.direction,
                values=tuple(p[1] for p in points),
                times=tuple(p[0] for p in points),
                parts=tuple(p[2] for p in points),
                counts=tuple(p[3] for p in points),
                centre=limits.centre,
                ucl=limits.ucl,
                lcl=limits.lcl,
                occurrences=old.occurrences + 1,
            )
            return self.warning
        self.warning = DriftWarning(
            series=str(self.name),
            message=self.settings.message,
            rule=rule,
            rule_name=RULE_NAMES[rule],
            direction=direction,
            values=tuple(p[1] for p in points),
            times=tuple(p[0] for p in points),
            parts=tuple(p[2] for p in points),
            counts=tuple(p[3] for p in points),
            centre=limits.centre,
            ucl=limits.ucl,
            lcl=limits.lcl,
            raised_at=now,
        )
        return self.warning

    def acknowledge(self, now: float) -> DriftWarning | None:
        """The operator saw it: the warning goes, and so does every pattern already under way."""
        warning = self.warning
        if warning is None or warning.acknowledged_at is not None:
            return None
        self._armed = False
        self._calm = 0
        self.warning = dataclasses.replace(warning, acknowledged_at=now)
        return self.warning


def _direction(rule: str, values: np.ndarray, centre: float) -> str:
    if rule in ("N6", "N7", "N8"):
        return ""
    if rule == "N5":
        return "up" if values[-1] > values[0] else "down"
    return "up" if float(np.mean(values)) > centre else "down"


WarningFn = Callable[[DriftWarning, bool], None]
"""Told of a warning: (warning, True when it is new, False when an active one grew)."""


class DriftWatch:
    """The recipe's drift alerts. ``part_done`` on the dispatcher thread; ``warnings`` and
    ``acknowledge`` from any thread (the operator screen's timer, its Acknowledge button)."""

    def __init__(self, recipe: Recipe, *, on_warning: WarningFn) -> None:
        key = (recipe.name, recipe.version)
        self._watches = [SeriesWatch(a, key, recipe.station) for a in recipe.drift]
        self._on_warning = on_warning
        self._lock = threading.Lock()
        self._db: Path | None = None  # where limits set from a baseline are stored
        self._saves: list[threading.Thread] = []

    def _save(self, limits: ControlLimits) -> None:
        """Store limits set from a baseline, on a thread of its own: the dispatcher never
        waits for the database."""
        db = self._db
        if db is None:
            return  # a station that records nothing keeps them in memory

        # in the order they were set: the newest stored row is what the next start loads, so
        # an earlier save still waiting for the database must land first
        earlier = [t for t in self._saves if t.is_alive()]

        def save() -> None:
            for thread in earlier:
                thread.join()
            try:
                save_limits(db, limits)
                log.info("drift %s: limits stored (%s)", limits.series, limits.baseline)
            except Exception as exc:  # the warning still works from memory
                log.warning("drift %s: limits not stored: %s", limits.series, exc)

        thread = threading.Thread(target=save, name="drift-limits", daemon=True)
        self._saves = [*earlier, thread]
        thread.start()

    def join(self, timeout_s: float) -> None:
        """Wait for limits still being stored (at the station's stop)."""
        deadline = time.monotonic() + timeout_s
        for thread in self._saves:
            thread.join(max(deadline - time.monotonic(), 0.0))
            if thread.is_alive():
                log.warning("drift limits not stored within %.1f s", timeout_s)
        self._saves = [t for t in self._saves if t.is_alive()]

    @property
    def series(self) -> tuple[str, ...]:
        return tuple(str(w.name) for w in self._watches)

    def load_limits(self, db_path: Path | None) -> list[str]:
        """The limits each series' points are judged by: those stored for this recipe version,
        else the first ``baseline_points`` points to come (then stored). Returns what it did,
        one line per series, for the log. Reads the results database: call it at start, not
        on the dispatcher thread."""
        self._db = db_path
        said: list[str] = []
        for watch in self._watches:
            to_come = f"{watch.key}: limits from the first {watch.settings.baseline_points} points"
            if db_path is None or not db_path.is_file():
                said.append(f"{to_come} (no results database)")
                continue
            try:
                limits = load_limits(db_path, watch.key, *watch.recipe)
            except Exception as exc:  # a database that cannot be read must not stop the line
                log.warning("drift %s: stored limits not read: %s", watch.key, exc)
                limits = None
            if limits is not None and limits.sigma > 0:
                watch.use_limits(limits)
                said.append(f"{watch.key}: stored limits ({limits.baseline})")
            else:
                said.append(to_come)
        return said

    def part_done(self, inspection: Inspection) -> None:
        if not self._watches:
            return
        raised: list[tuple[DriftWarning, bool]] = []
        with self._lock:
            for watch in self._watches:
                before = watch.warning
                made, warning = watch.add(inspection)
                if made is not None:
                    self._save(made)
                if warning is not None:
                    new = before is None or before.acknowledged_at is not None
                    raised.append((warning, new))
        for warning, new in raised:
            self._on_warning(warning, new)

    def warnings(self) -> tuple[DriftWarning, ...]:
        """The warnings nobody acknowledged yet, oldest first."""
        with self._lock:
            active = [
                w.warning
                for w in self._watches
                if w.warning is not None and w.warning.acknowledged_at is None
            ]
        return tuple(sorted(active, key=lambda w: w.raised_at))

    def acknowledge(self, series: str | None = None) -> tuple[DriftWarning, ...]:
        """Acknowledge one series' warning (None: all); returns the ones acknowledged."""
        now = time.time()
        with self._lock:
            done = [
                w.acknowledge(now) for w in self._watches if series is None or str(w.name) == series
            ]
        return tuple(w for w in done if w is not None)

    def rebaseline(self, series: str | None = None) -> tuple[str, ...]:
        """Forget the limits of ``series`` (None: every watched series): the next
        ``baseline_points`` points set new ones, stored as a new row (the old ones stay on
        record). Its warning goes, as it was judged by the old limits. Returns the series."""
        done: list[str] = []
        with self._lock:
            for watch in self._watches:
                if series is None or str(watch.name) == series:
                    watch.limits = None
                    watch.baseline.clear()
                    watch.points.clear()
                    watch.warning = None
                    done.append(str(watch.name))
        return tuple(done)

    def limits_of(self, series: str) -> ControlLimits | None:
        """The limits a series' points are judged by (None while its baseline is filling)."""
        with self._lock:
            return next((w.limits for w in self._watches if str(w.name) == series), None)
