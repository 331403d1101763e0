"""A realistic production day written straight into a results database, for `lineside bench`.

The rows are the ones the results store writes (same schema, same INSERT statements and column
order, the same JSON shapes the defect, code and label tools produce), so a report or a History
query timed on them does the work it does on a real line's records. Going around the store (one
``executemany`` per table in big transactions, ``synchronous=OFF``) is what makes 864,000 parts
take seconds rather than the day they took on the line.

The day: parts at a steady rate from the first shift's start, three tools each, ~3 % FAIL with a
Pareto of reasons (more in some hours than others), ~0.3 % ERROR (a camera that delivers no frame,
mostly during its alarms, and parts with no part in view), a recipe version change at mid-period
that also raises the defect threshold, a lot change, and camera alarms with their downtime.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from inspection.evaluation.record_rows import (
    CAMERA,
    CODE_FORMAT,
    DATE_MISSING,
    DEFECT,
    DUPLICATE,
    LOT_UNREADABLE,
    NO_CODE,
    NO_FRAME,
    NO_PART,
    PASS,
    RECIPE,
    VERSIONS,
    ChunkRows,
    DayRows,
)
from inspection.recipe.station import ShiftCalendar, ShiftWindow
from inspection.storage.schema import (
    INSERT_EVENT,
    INSERT_INSPECTION,
    INSERT_PART_CODE,
    INSERT_TOOL_RESULT,
    open_writer,
    to_json,
)
from inspection.storage.tool_measures import INSERT_TOOL_MEASURE

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]

_CHUNK = 50_000  # parts per transaction: big enough to amortise, small enough to show progress

# FAIL reasons in Pareto proportions (shares of the FAIL parts).
_FAIL_KINDS = np.array([DEFECT, NO_CODE, LOT_UNREADABLE, CODE_FORMAT, DATE_MISSING, DUPLICATE])
_FAIL_SHARES = np.array([0.46, 0.20, 0.14, 0.09, 0.06, 0.05])
FAIL_RATE = 0.03
NO_FRAME_RATE = 0.0015  # besides the parts inside camera alarms
NO_PART_RATE = 0.001
_ALARMS = ((0.15, 40.0), (0.42, 15.0), (0.78, 120.0))
"""(position in the period, downtime s) of each camera alarm."""


@dataclass(frozen=True, slots=True)
class DayFigures:
    """What was written: the counts a report must find again, and the shifts the day spans."""

    day: dt.date
    start: float
    end: float
    """UNIX seconds: every part has ``start <= wall_time < end``."""
    rows: int
    passed: int
    failed: int
    errors: int
    tool_rows: int
    code_rows: int
    events: int
    windows: tuple[ShiftWindow, ...]
    """The calendar's shifts overlapping the period, in start order."""
    shift_parts: tuple[tuple[str, int], ...]
    """(shift label such as ``2026-12-04/Early``, parts stamped with it); "" shift = none."""
    seconds: float
    """How long writing took."""


def generate_day(
    db_path: Path,
    *,
    day: dt.date,
    calendar: ShiftCalendar,
    parts_per_s: float = 10.0,
    hours: float = 24.0,
    station: str = "bench-station",
    line: str = "Line 1",
    seed: int = 0,
    with_tools: bool = True,
    progress: Progress | None = None,
) -> DayFigures:
    """Write ``parts_per_s`` × ``hours`` parts of production day ``day`` into ``db_path``.

    Creates or migrates the database; appends after the station's last part when it already
    holds one (several days into one file). ``with_tools=False`` writes parts and their codes
    but no tool results (a cheaper filler for History's 10-million-row benchmark).
    """
    if not parts_per_s > 0 or not hours > 0:
        raise ValueError(f"parts_per_s and hours must be > 0, got {parts_per_s} and {hours}")
    t_begin = time.perf_counter()
    say = progress or (lambda _d, _t, _m: None)
    rng = np.random.default_rng([seed, day.toordinal()])
    days_windows = calendar.windows_on(day)
    start = (
        days_windows[0].start
        if days_windows
        else calendar.local_time(dt.datetime.combine(day, dt.time(0)))
    )
    n = round(parts_per_s * hours * 3600.0)
    end = start + hours * 3600.0
    # Steady rate with jitter under one period: times stay strictly increasing.
    t = start + (np.arange(n) + 0.5 * rng.random(n)) / parts_per_s
    windows = _windows(calendar, start, end)
    prod_day, shift = _stamps(calendar, windows, t)
    kind = _kinds(rng, t, start, end)
    span = end - start
    alarms = [(start + at * span, min(downtime, 0.002 * span)) for at, downtime in _ALARMS]
    for raised, downtime in alarms:
        kind[(t >= raised) & (t < raised + downtime)] = NO_FRAME
    switch_t, lot_t = start + 0.5 * span, start + 0.65 * span
    second = t >= switch_t
    lot_a, lot_b = f"L{day:%y%m%d}-1", f"L{day:%y%m%d}-2"

    conn = open_writer(db_path)
    try:
        conn.execute("PRAGMA synchronous=OFF")  # a benchmark's scratch file: speed over safety
        conn.execute("PRAGMA cache_size=-400000")  # ~400 MB: the random inspection_id index
        first_id, first_seq = conn.execute(
            "SELECT COALESCE(MAX(id), 0) + 1, (SELECT COALESCE(MAX(part_seq), -1) + 1 "
            "FROM inspections WHERE station = ?) FROM inspections",
            (station,),
        ).fetchone()
        writer = DayRows(rng, station=station, line=line, with_tools=with_tools)
        runs = (rng.bytes(16).hex(), rng.bytes(16).hex())  # the station restarts at the switch

        def chunks() -> Iterator[tuple[int, ChunkRows]]:
            for lo in range(0, n, _CHUNK):
                hi = min(lo + _CHUNK, n)
                yield (
                    hi,
                    writer.chunk(
                        ids=range(first_id + lo, first_id + hi),
                        seqs=range(first_seq + lo, first_seq + hi),
                        t=t[lo:hi],
                        kind=kind[lo:hi],
                        second=second[lo:hi],
                        lot_b=t[lo:hi] >= lot_t,
                        prod_day=prod_day[lo:hi],
                        shift=shift[lo:hi],
                        lots=(lot_a, lot_b),
                        runs=runs,
                    ),
                )

        tool_rows = code_rows = 0
        for hi, rows in _made_ahead(chunks()):
            conn.execute("BEGIN")
            conn.executemany(INSERT_INSPECTION, rows.inspections)
            conn.executemany(INSERT_TOOL_RESULT, rows.tools)
            conn.executemany(INSERT_PART_CODE, rows.codes)
            conn.executemany(INSERT_TOOL_MEASURE, rows.measures)
            conn.execute("COMMIT")
            tool_rows += len(rows.tools)
            code_rows += len(rows.codes)
            say(hi, n, f"{day}: {hi} of {n} parts written")
        events = _events(station, start, switch_t, lot_t, lot_a, lot_b, alarms)
        conn.execute("BEGIN")
        conn.executemany(INSERT_EVENT, events)
        conn.execute("COMMIT")
    finally:
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.close()
    verdicts = np.where(kind == PASS, 0, np.where(kind >= NO_FRAME, 2, 1))
    labels = np.char.add(np.char.add(prod_day.astype(str), "/"), shift.astype(str))
    names, counts = np.unique(labels, return_counts=True)
    seconds = time.perf_counter() - t_begin
    log.info("wrote %d parts of %s into %s in %.1f s", n, day, db_path, seconds)
    return DayFigures(
        day=day,
        start=start,
        end=end,
        rows=n,
        passed=int((verdicts == 0).sum()),
        failed=int((verdicts == 1).sum()),
        errors=int((verdicts == 2).sum()),
        tool_rows=tool_rows,
        code_rows=code_rows,
        events=len(events),
        windows=windows,
        shift_parts=tuple((str(a), int(b)) for a, b in zip(names, counts, strict=True)),
        seconds=seconds,
    )


_T = TypeVar("_T")


def _made_ahead(items: Iterator[_T], depth: int = 2) -> Iterator[_T]:
    """``items``, made on a thread of their own up to ``depth`` ahead: SQLite writes (GIL
    released) while the next chunk's rows are formatted."""
    ready: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def make() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        ready.put((True, item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put((False, None))
        except BaseException as exc:  # handed to the consumer, which raises it
            ready.put((False, exc))

    maker = threading.Thread(target=make, name="record-day-rows", daemon=True)
    maker.start()
    try:
        while True:
            more, value = ready.get()
            if not more:
                if isinstance(value, BaseException):
                    raise value
                return
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        maker.join(timeout=10.0)


def _windows(calendar: ShiftCalendar, start: float, end: float) -> tuple[ShiftWindow, ...]:
    first = calendar.local_date(start) - dt.timedelta(days=1)
    last = calendar.local_date(end)
    found: list[ShiftWindow] = []
    d = first
    while d <= last:
        found.extend(w for w in calendar.windows_on(d) if w.start < end and w.end > start)
        d += dt.timedelta(days=1)
    return tuple(sorted(found, key=lambda w: w.start))


def _stamps(
    calendar: ShiftCalendar, windows: tuple[ShiftWindow, ...], t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(production day, shift) of every time, as the store's calendar would stamp them.

    The windows are computed once and looked up by bisection; only times outside every window
    (or a calendar whose shifts overlap, where the first listed wins) ask the calendar itself.
    """
    starts = np.array([w.start for w in windows])
    ends = np.array([w.end for w in windows])
    days = np.array([w.day.isoformat() for w in windows] + [""], dtype=object)
    names = np.array([w.shift for w in windows] + [""], dtype=object)
    overlapping = bool(len(windows) > 1 and (starts[1:] < ends[:-1]).any())
    idx = np.searchsorted(starts, t, side="right") - 1
    inside = (idx >= 0) & (t < ends[np.clip(idx, 0, None)]) if len(windows) else idx >= 0
    idx = np.where(inside, idx, len(windows))
    prod_day, shift = days[idx], names[idx]
    for i in np.flatnonzero(~inside) if not overlapping else range(len(t)):
        prod_day[i], shift[i] = calendar.attribute(float(t[i]))
    return prod_day, shift


def _kinds(rng: np.random.Generator, t: np.ndarray, start: float, end: float) -> np.ndarray:
    """Each part's category; the FAIL rate swings ±40 % over the period, as real hours do."""
    n = len(t)
    phase = 2.0 * np.pi * 3.0 * (t - start) / (end - start)
    fail_p = FAIL_RATE * (1.0 + 0.4 * np.sin(phase))
    u = rng.random(n)
    kind = np.full(n, PASS, dtype=np.int8)
    fails = u < fail_p
    kind[fails] = rng.choice(_FAIL_KINDS, size=int(fails.sum()), p=_FAIL_SHARES)
    kind[(u >= fail_p) & (u < fail_p + NO_FRAME_RATE)] = NO_FRAME
    no_part = (u >= fail_p + NO_FRAME_RATE) & (u < fail_p + NO_FRAME_RATE + NO_PART_RATE)
    kind[no_part] = NO_PART
    return kind


def _events(
    station: str,
    start: float,
    switch_t: float,
    lot_t: float,
    lot_a: str,
    lot_b: str,
    alarms: list[tuple[float, float]],
) -> list[tuple[object, ...]]:
    """The changes the station records (recipe, batch, alarms), as the store's event rows."""
    out: list[tuple[float, str, str, dict[str, object]]] = []
    for at, (version, threshold) in zip((start, switch_t), VERSIONS, strict=True):
        text = f"recipe {RECIPE} version {version} started"
        details: dict[str, object] = {
            "recipe": RECIPE,
            "version": version,
            "thresholds": {"surface": threshold},
        }
        out.append((at - 1.0, "recipe", text, details))
    out.append(
        (
            lot_t,
            "batch",
            f"batch changed: lot {lot_a} → {lot_b}",
            {"before": {"lot": lot_a}, "after": {"lot": lot_b}},
        )
    )
    for episode, (raised, downtime) in enumerate(alarms, start=1):
        message = f"camera {CAMERA} sent no frame for 1.0 s (limit 1.0 s)"
        source = {"source": CAMERA, "level": "alarm", "episode": episode}
        out.append((raised, "alarm", f"{CAMERA}: {message}", source))
        out.append(
            (
                raised + downtime,
                "alarm_cleared",
                f"{CAMERA}: cleared after {downtime:.0f} s ({message})",
                {**source, "raised_at": raised, "downtime_s": downtime},
            )
        )
    return [(station, at, kind, text, to_json(details)) for at, kind, text, details in out]
