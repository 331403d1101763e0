"""One tool parameter's recorded values over a range, as the what-if's arrays (``ToolScores``).

The part list, verdicts, labels and "passes when this tool passes" come from ``scores.py``'s
load of the tool; the values from ``tool_measures`` (one index range), the limit in force per
part from the recipe version it ran under (``recipe_limits.py``) and, for the label tool, which
of its checks rejected a part from its recorded reason. ``parameters.py`` states each rule.

The values are the real ones (px, degrees, match, confidence), compared by the parameter's own
``Decision``: NaN marks a part the limit cannot change (the tool's ERROR, no value recorded,
another check of the tool rejecting it: rejected whatever the limit), -inf / +inf one passed
whatever the limit (a defect score under the threshold when tuning the minimum area; a
detector's part with no failing detection down to its recording floor). A value whose verdict at
the limit in force disagrees with the recorded one only by the rounding of what is recorded (the
label's offset is kept to 0.01 px) is moved just past the limit, so the limit in force gives
exactly the recorded verdicts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspection.storage.queries import open_reader
from inspection.tuning.parameters import (
    THRESHOLD,
    Parameter,
    find_parameter,
    parameters_for,
    recipe_value,
)
from inspection.tuning.recipe_limits import PartSettings, tool_settings_per_part
from inspection.tuning.scores import (
    NEWEST_THRESHOLD_SQL,
    TOOL_FAIL,
    TOOL_PASS,
    LabelSource,
    ToolScores,
    TuningError,
    load_tool_scores,
    range_ids,
    range_reader,
    tools_recorded,
)
from inspection.tuning.whatif import ThresholdView

MEASURES_SQL = (
    "SELECT inspection, value FROM tool_measures WHERE tool_id = ? AND measure = ? "
    "AND inspection BETWEEN ? AND ?"
)
FAILED_REASONS_SQL = (
    "SELECT inspection, reason FROM tool_results WHERE tool_id = ? AND verdict = 'FAIL' "
    "AND inspection BETWEEN ? AND ?"
)
_PAIR = np.dtype([("id", np.int64), ("value", np.float64)])


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ParameterScores:
    """A parameter's values as ``ToolScores`` (``score``: the value; ``threshold``: the limit
    in force per part) and the parameter; ``versions``: the recipe versions read."""

    scores: ToolScores
    parameter: Parameter
    versions: tuple[str, ...] = ()

    def view(self) -> ThresholdView:
        """The what-if over these values, by the parameter's rule."""
        p = self.parameter
        if p.is_threshold:
            return ThresholdView(self.scores)
        return ThresholdView(self.scores, p.decision, limit_name=p.name, value_name=p.value_name)


def _place(part_id: np.ndarray, ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """float64 (n,) with ``values`` at ``ids``' places in ``part_id``, NaN elsewhere."""
    out = np.full(part_id.shape, math.nan)
    at = np.searchsorted(part_id, ids)
    inside = at < len(part_id)
    inside[inside] = part_id[at[inside]] == ids[inside]
    out[at[inside]] = values[inside]
    return out


def _measure(
    conn: sqlite3.Connection, tool_id: str, measure: str, part_id: np.ndarray
) -> np.ndarray:
    lo, hi = int(part_id[0]), int(part_id[-1])
    rows = np.fromiter(conn.execute(MEASURES_SQL, (tool_id, measure, lo, hi)), dtype=_PAIR)
    return _place(part_id, rows["id"], rows["value"])


def _findings(
    conn: sqlite3.Connection, tool_id: str, part_id: np.ndarray, finding: str
) -> tuple[np.ndarray, np.ndarray]:
    """(own, other): bool per part, this limit's finding / another finding in the tool's reason
    (the label tool lists each failed check, joined by "; ")."""
    own = np.zeros(part_id.shape, dtype=bool)
    other = np.zeros(part_id.shape, dtype=bool)
    lo, hi = int(part_id[0]), int(part_id[-1])
    for rowid, reason in conn.execute(FAILED_REASONS_SQL, (tool_id, lo, hi)):
        at = int(np.searchsorted(part_id, rowid))
        if at >= len(part_id) or part_id[at] != rowid:
            continue
        pieces = [p for p in str(reason).split("; ") if p]
        mine = [p.startswith(finding) for p in pieces]
        own[at] = any(mine)
        other[at] = not all(mine)
    return own, other


def _limits(p: Parameter, tool_id: str, part: PartSettings) -> np.ndarray:
    """The limit in force per part (float64), from each part's recipe version."""
    per_version = []
    for settings, version in zip(part.settings, part.versions, strict=True):
        try:
            value = recipe_value(settings, p)
        except TuningError as exc:
            raise TuningError(f"{tool_id}.{p.name} in recipe {version}: {exc}") from None
        per_version.append(math.nan if value is None else value)
    return np.asarray(per_version, dtype=np.float64)[part.which]


def load_parameter_scores(
    db: Path,
    tool_id: str,
    parameter: str,
    start: float,
    end: float,
    *,
    labels: LabelSource = "db",
    recipe_files: Sequence[Path] = (),
) -> ParameterScores:
    """``tool_id``'s ``parameter`` over the parts recorded in [start, end) (UNIX s).

    ``parameter``: "threshold" (the recorded score and threshold, as ``load_tool_scores``) or
    one of ``parameters.parameters_for``; ``recipe_files``: where the recipe versions the parts
    ran under are looked for. TuningError, in words, for an unknown parameter, a tool of another
    kind, a version not kept, or values not recorded.
    """
    base = load_tool_scores(db, tool_id, start, end, labels=labels)
    p = find_parameter(tool_id, base.tool_type, parameter)
    if p.is_threshold:
        return ParameterScores(scores=base, parameter=p)
    conn = open_reader(db)
    conn.row_factory = None
    try:
        ids = range_ids(conn, start, end)
        assert ids is not None  # load_tool_scores found parts
        part = tool_settings_per_part(conn, base.part_id, tool_id, recipe_files)
        limit = _limits(p, tool_id, part)
        value = _measure(conn, tool_id, p.measure, base.part_id)
        if p.every_result:
            _check_all_measured(conn, tool_id, p, base, value)
        if p.finding:
            own, other = _findings(conn, tool_id, base.part_id, p.finding)
        else:
            own = base.tool_verdict == TOOL_FAIL
            other = np.zeros(base.part_id.shape, dtype=bool)
    finally:
        conn.close()
    if not np.isfinite(value).any():
        raise TuningError(
            f"{tool_id}.{p.name}: no part in the range records {p.measure} (the tool records "
            f"it from the version that measures it on; before, there is nothing to tune from)"
        )
    if p.absolute:
        value = np.abs(value)
    if p.floor is not None:
        # nothing under the floor (or the limit in force, when lower) was looked for: a part
        # with no value at or above it passes at any limit the record can replay
        with np.errstate(invalid="ignore"):
            unseen = value < np.fmin(limit, p.floor)
        value = np.where(unseen, -math.inf, value)
    if p.name == "min_area_px":
        value = _region_values(base, value, limit)
    else:
        # decided by this limit: passed, or rejected by no other check of the tool
        decided = (base.tool_verdict == TOOL_PASS) | ((base.tool_verdict == TOOL_FAIL) & ~other)
        value = np.where(decided, value, math.nan)
    value = _agree_with_record(p, value, limit, own)
    finite = limit[np.isfinite(limit)]
    scores = dataclasses.replace(
        base,
        score=value,
        threshold=limit,
        threshold_in_force=float(finite[-1]) if len(finite) else None,
    )
    return ParameterScores(scores=scores, parameter=p, versions=tuple(part.versions))


WALL_TIME_SQL = "SELECT wall_time FROM inspections WHERE id = ?"


def _check_all_measured(
    conn: sqlite3.Connection, tool_id: str, p: Parameter, base: ToolScores, value: np.ndarray
) -> None:
    """TuningError when a part the tool judged has no ``p.measure`` although the tool records it
    with every result: it ran before the tool measured it, and nothing of it can be replayed."""
    missing = np.isnan(value) & (base.tool_verdict <= TOOL_FAIL)
    if not missing.any() or not np.isfinite(value).any():
        return  # none at all: said below, for every parameter
    newest = int(base.part_id[np.flatnonzero(missing)[-1]])
    row = conn.execute(WALL_TIME_SQL, (newest,)).fetchone()
    when = (
        dt.datetime.fromtimestamp(float(row[0]), tz=dt.UTC).isoformat(timespec="seconds")
        if row is not None and row[0] is not None
        else "unknown"
    )
    raise TuningError(
        f"{tool_id}.{p.name}: {int(missing.sum()):,} of the {base.n:,} parts in the range were "
        f"judged before the tool recorded {p.measure} (the newest at {when}), so they cannot "
        "be replayed at another limit; choose a range that starts after it"
    )


def _region_values(base: ToolScores, largest: np.ndarray, min_area: np.ndarray) -> np.ndarray:
    """The defect tool's largest region per part as the minimum area compares it (see
    ``parameters.py``): -inf where the score is under the recorded threshold or no region can
    be (passed whatever the minimum), NaN for the tool's ERROR."""
    with np.errstate(invalid="ignore"):
        over = base.score >= base.threshold
    floor = np.maximum(np.nan_to_num(min_area, nan=0.0), 1.0)
    hidden = floor - 1.0  # a passed part's regions were all under the minimum in force
    passed_small = np.where(hidden >= 1.0, hidden, -math.inf)
    out = np.where(base.tool_verdict == TOOL_FAIL, largest, passed_small)
    out = np.where(over, out, -math.inf)
    return np.where(np.isnan(base.score) | (base.tool_verdict > TOOL_FAIL), math.nan, out)


def _agree_with_record(
    p: Parameter, value: np.ndarray, limit: np.ndarray, own: np.ndarray
) -> np.ndarray:
    """``value`` with rounding disagreements at the limit in force moved just past it."""
    d = p.decision
    known = np.isfinite(value) & np.isfinite(limit)
    effective = np.where(known, limit, 0.0)
    if d.whole:
        effective = np.ceil(effective)
    if d.least is not None:
        effective = np.maximum(effective, d.least)
    fails = d.fails(value, effective)
    out = value.copy()
    wrong_pass = known & own & ~fails
    wrong_fail = known & ~own & fails
    out[wrong_pass] = d.just_failing(effective[wrong_pass])
    out[wrong_fail] = d.just_passing(effective[wrong_fail])
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class TunableParameters:
    """A tool of the range and the names of its limits that can be tuned there (the score
    threshold first when it records one)."""

    tool_id: str
    tool_type: str
    parameters: tuple[str, ...]


LAST_RESULT_SQL = (
    "SELECT tool_type, measurements FROM tool_results WHERE tool_id = ? "
    "AND inspection BETWEEN ? AND ? ORDER BY inspection DESC LIMIT 1"
)
HAS_MEASURE_SQL = (
    "SELECT 1 FROM tool_measures WHERE tool_id = ? AND measure = ? "
    "AND inspection BETWEEN ? AND ? LIMIT 1"
)


def tunable_parameters(db: Path, start: float, end: float) -> list[TunableParameters]:
    """The tools of the parts recorded in [start, end) with a limit to tune: the score
    threshold when the tool records one, and each parameter whose value is recorded in the range
    (a few index seeks per tool). Tools with a score threshold come first (the defect tools, the
    one most tuned), then by id. TuningError when the range has no parts."""
    with range_reader(db, start, end) as (conn, lo, hi):
        out = []
        for tool in tools_recorded(conn, lo, hi):
            row = conn.execute(LAST_RESULT_SQL, (tool, lo, hi)).fetchone()
            if row is None:
                continue
            tool_type = str(row[0])
            try:
                measured = json.loads(row[1])
            except (TypeError, ValueError):
                measured = {}
            keys = {str(k) for k in measured} if isinstance(measured, dict) else set()
            names = []
            for p in parameters_for(tool_type, keys):
                if p.is_threshold:
                    found = conn.execute(NEWEST_THRESHOLD_SQL, (tool, lo, hi)).fetchone()
                else:
                    found = conn.execute(HAS_MEASURE_SQL, (tool, p.measure, lo, hi)).fetchone()
                if found is not None:
                    names.append(p.name)
            if names:
                out.append(
                    TunableParameters(tool_id=tool, tool_type=tool_type, parameters=tuple(names))
                )
    return sorted(out, key=lambda t: (THRESHOLD not in t.parameters, t.tool_id))
