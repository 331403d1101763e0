"""`lineside bench --report`: how long shift and day reports take on a realistic day, how fast
the History page's first page comes on 10 million parts, and what a report costs the line.

1. A day of records is generated (``record_day``; not part of any timing).
2. Each format (xlsx, csv, pdf) is written on its own for one 8-hour shift and for the whole
   day, then the three together for the day (the issue's goal: ≤ 10 s).
3. A station inspects simulated frames from memory at saturation, recording to its own results
   database on the same disk; its parts/s is measured alone and while the day's report is
   written as the Reports page and the shift-end export write it: in a child process at idle
   priority (``run_apart``). A saturated station leaves that child little CPU, so the report is
   measured for at most ``limit_s`` and then cancelled (``station.report_finished`` says which).
   ``inspection_slowdown`` = 1 - (parts/s with the report) / (parts/s alone), same run.
4. The database is filled up to ``history_rows`` parts (the extra days without tool results)
   and the History page's first page is timed: the median of several runs.
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from inspection.evaluation.bench import pregenerate
from inspection.evaluation.headless import teach_on_first_use
from inspection.evaluation.record_day import DayFigures, generate_day
from inspection.history.filters import PartFilter
from inspection.history.pages import PAGE_SIZE, find_parts
from inspection.jobs import Cancelled, run_apart
from inspection.paths import demo_recipe, user_paths
from inspection.pipeline.station import Station
from inspection.recipe import Recipe, SyntheticSourceSettings, load_recipe
from inspection.recipe.station import REPORT_FORMATS, ShiftCalendar, StationSettings
from inspection.reports.aggregate import range_period, shift_period
from inspection.reports.export import WHILE_INSPECTING_SHARE, write_report
from inspection.reports.figures import ReportPeriod
from inspection.sources.memory import MemorySource
from inspection.sources.synthetic import SyntheticLine
from inspection.storage.queries import open_reader
from inspection.types import Inspection, StatusUpdate, Verdict

log = logging.getLogger(__name__)

BENCH_DAY = dt.date(2026, 12, 4)
BENCH_ZONE = "Europe/Berlin"  # fixed, so every machine benchmarks the same day
HISTORY_ROWS = 10_000_000
LINE = "Line 1"
PAGE_RUNS = 7
_WARM_UP_S = 3.0


def bench_report(
    work_dir: Path,
    *,
    parts_per_s: float = 10.0,
    hours: float = 24.0,
    history_rows: int = HISTORY_ROWS,
    station_seconds: float | None = None,
    recipe: Recipe | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Generate the day in ``work_dir`` and time it; the dict ``lineside bench --report`` prints.

    ``station_seconds``: how long the station runs alone for the slowdown's baseline (default:
    as long as the day's report took, at least 5 s). The station runs ``recipe`` (default: the
    demo recipe, whose first camera must be the simulated line). ``history_rows`` at or below
    the day's parts times History on the day alone.
    """
    if history_rows < 0:
        raise ValueError(f"history_rows must be >= 0, got {history_rows}")
    say = progress or (lambda _m: None)
    work_dir.mkdir(parents=True, exist_ok=True)
    db = work_dir / "records.db"
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)
    settings = StationSettings(line=LINE, calendar=ShiftCalendar(timezone=BENCH_ZONE))
    calendar = settings.calendar

    say(f"generating {parts_per_s * hours * 3600:.0f} parts ({hours} h at {parts_per_s}/s)")
    figures = generate_day(
        db,
        day=BENCH_DAY,
        calendar=calendar,
        parts_per_s=parts_per_s,
        hours=hours,
        line=LINE,
        progress=_now_and_then(say),
    )
    say(f"generated in {figures.seconds:.1f} s")
    shift = shift_period(calendar, figures.windows[0].label)
    day = range_period(calendar, *(_local_iso(calendar, t) for t in (figures.start, figures.end)))
    out = work_dir / "reports"
    report_s: dict[str, dict[str, float]] = {}
    for name, period in (("shift", shift), ("day", day)):
        report_s[name] = {}
        for fmt in REPORT_FORMATS:
            say(f"{name} report ({period.label}) as {fmt}")
            report_s[name][fmt] = _timed_report(db, period, (fmt,), out / name, settings)
    say("day report, all formats at once")
    day_all_s = _timed_report(db, day, REPORT_FORMATS, out / "day-all", settings)

    say("a station inspecting alone, then while the day's report is written")
    load = station_with_report(
        work_dir / "station",
        # as the Reports page and the shift-end export make it while the line runs: in a child
        # at idle priority, paced to WHILE_INSPECTING_SHARE of the time
        lambda cancel: run_apart(
            write_report,
            db,
            day,
            list(REPORT_FORMATS),
            out / "concurrent",
            settings=settings,
            cancel=cancel,
            share=WHILE_INSPECTING_SHARE,
        ),
        baseline_s=station_seconds or max(day_all_s, 5.0),
        # a saturated station leaves the paced, idle-priority report little CPU: it is waited
        # for up to this long (its time is reported), then cancelled
        limit_s=max(8.0 * day_all_s, 60.0),
        recipe=recipe,
    )

    total = _fill_history(db, figures, calendar, parts_per_s, history_rows, say)
    say(f"History's first page on {total} parts")
    history = time_first_page(db)
    return {
        "rows": figures.rows,
        "report_s": report_s,
        "history_first_page_ms": history["unfiltered_ms"],
        "inspection_slowdown": load["slowdown"],
        "generate_s": round(figures.seconds, 2),
        "day_all_formats_s": day_all_s,
        "verdicts": {"pass": figures.passed, "fail": figures.failed, "error": figures.errors},
        "history_rows": total,
        "history_first_page_by_filter_ms": history,
        "station": load,
    }


def _timed_report(
    db: Path, period: ReportPeriod, formats: Sequence[str], out: Path, settings: StationSettings
) -> float:
    t0 = time.perf_counter()
    write_report(db, period, list(formats), out, settings=settings)
    return round(time.perf_counter() - t0, 3)


# ---- the line while a report is written ---------------------------------------------------


class _PartClock:
    """When each part left the station (perf_counter s); appended by the dispatcher thread."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def on_inspection(self, inspection: Inspection) -> None:
        self.times.append(time.perf_counter())

    def on_status(self, update: StatusUpdate) -> None:
        pass

    def rate(self, spans: Sequence[tuple[float, float]]) -> float:
        """Parts/s over the given (start, end) spans together."""
        times = list(self.times)  # a snapshot: the dispatcher keeps appending
        parts = sum(bisect.bisect_left(times, b) - bisect.bisect_left(times, a) for a, b in spans)
        seconds = sum(b - a for a, b in spans)
        return parts / seconds if seconds > 0 else 0.0


def station_with_report(
    home: Path,
    report: Callable[[threading.Event], object],
    *,
    baseline_s: float,
    recipe: Recipe | None = None,
    frames: int = 64,
    limit_s: float | None = None,
) -> dict[str, Any]:
    """A saturated station's parts/s alone (before and after) and while ``report(cancel)`` runs
    (for at most ``limit_s``, then it is cancelled).

    The station records into ``home``'s results database as in production; its frames (``frames``
    simulated parts, served over and over) are in memory, so the cameras cost nothing.
    """
    recipe = recipe or load_recipe(demo_recipe())
    images, truths = pregenerate(recipe, frames)
    paths = user_paths({"LINESIDE_HOME": str(home)}).ensure()
    teach_on_first_use(recipe, paths)
    # Far more parts than any run inspects: the station must never run dry while measured.
    reps = 2_000_000 // frames
    source = MemorySource(list(images) * reps, list(truths) * reps, camera=recipe.cameras[0].id)
    station = Station(recipe, paths=paths, sources=[source])
    # The batch the simulated line prints, as the line's MES would announce it: without it the
    # label tool stops at "no batch set" and the station does less than on a real line.
    settings = recipe.cameras[0].source
    if isinstance(settings, SyntheticSourceSettings):
        line = SyntheticLine(settings, camera=recipe.cameras[0].id)
        station.batch.set(line.batch_info())
    clock = _PartClock()
    station.add_listener(clock)
    failure: list[BaseException] = []

    cancel = threading.Event()

    def run_report() -> None:
        try:
            report(cancel)
        except Cancelled:
            pass  # stopped by the measurement's time limit, below
        except BaseException as exc:  # handed to the caller below
            failure.append(exc)

    station.start()
    try:
        time.sleep(_WARM_UP_S)  # workers warm, the store's first batches written
        before = (time.perf_counter(), 0.0)
        time.sleep(baseline_s)
        before = (before[0], time.perf_counter())
        writer = threading.Thread(target=run_report, name="bench-report")
        during_start = time.perf_counter()
        writer.start()
        writer.join(limit_s)
        during = (during_start, time.perf_counter())
        report_finished = not writer.is_alive()
        if not report_finished:
            cancel.set()
            writer.join()
        after_start = time.perf_counter()
        time.sleep(baseline_s / 2.0)
        after = (after_start, time.perf_counter())
        finished = station.wait_finished(0.0)
    finally:
        station.stop(timeout_s=10.0)
    if failure:
        raise failure[0]
    if finished:
        raise RuntimeError("the station ran out of frames while being measured")
    alone = clock.rate([before, after])
    loaded = clock.rate([during])
    return {
        "parts_per_s_alone": round(alone, 2),
        "parts_per_s_with_report": round(loaded, 2),
        "slowdown": round(1.0 - loaded / alone, 4) if alone > 0 else None,
        "report_s": round(during[1] - during[0], 3),
        "report_finished": report_finished,
        "workers": recipe.pipeline.workers,
        "recipe": f"{recipe.name} v{recipe.version}",
    }


# ---- History's first page on many parts ----------------------------------------------------


def time_first_page(db: Path, runs: int = PAGE_RUNS) -> dict[str, float]:
    """Median ms of History's first page (open a reader, ``find_parts``), unfiltered and with a
    verdict, a shift and a code-read filter, each naming parts that exist."""
    conn = open_reader(db)
    try:
        day, shift = conn.execute(
            "SELECT production_day, shift FROM inspections ORDER BY id LIMIT 1"
        ).fetchone()
        # A serial from the middle of the records: neither end of the code index.
        code = conn.execute(
            "SELECT code FROM part_codes WHERE rowid >= (SELECT MAX(rowid) / 2 FROM part_codes) "
            "LIMIT 1"
        ).fetchone()[0]
    finally:
        conn.close()
    filters = {
        "unfiltered_ms": PartFilter(),
        "fail_ms": PartFilter(verdicts=frozenset({Verdict.FAIL})),
        "shift_ms": PartFilter(production_day=day, shift=shift),
        "code_ms": PartFilter(text=code),
    }
    out: dict[str, float] = {}
    for name, part_filter in filters.items():
        samples = []
        for _ in range(runs):
            t0 = time.perf_counter()
            conn = open_reader(db)
            try:
                page = find_parts(conn, part_filter, limit=PAGE_SIZE)
            finally:
                conn.close()
            samples.append(time.perf_counter() - t0)
            if not page.rows:
                raise RuntimeError(f"History's first page ({name}) found no parts in {db}")
        out[name] = round(statistics.median(samples) * 1000.0, 2)
    return out


def _fill_history(
    db: Path,
    first: DayFigures,
    calendar: ShiftCalendar,
    parts_per_s: float,
    history_rows: int,
    say: Callable[[str], None],
) -> int:
    """Append the following days until ``history_rows`` parts are stored; the total.

    The extra days carry parts and their codes but no tool results: History's list and its
    filters read ``inspections`` and ``part_codes``, and 30 million tool rows would add ~15 GB.
    """
    total = first.rows
    day = first.day
    per_day = parts_per_s * 86400.0
    while total < history_rows:
        day += dt.timedelta(days=1)
        hours = min(24.0, (history_rows - total) / per_day * 24.0)
        say(f"filling History's database: {day} ({total} of {history_rows} parts so far)")
        more = generate_day(
            db,
            day=day,
            calendar=calendar,
            parts_per_s=parts_per_s,
            hours=hours,
            line=LINE,
            with_tools=False,
        )
        total += more.rows
    return total


def _local_iso(calendar: ShiftCalendar, t: float) -> str:
    return dt.datetime.fromtimestamp(t, tz=calendar.zone).replace(tzinfo=None).isoformat()


def _now_and_then(say: Callable[[str], None]) -> Callable[[int, int, str], None]:
    def progress(done: int, total: int, message: str) -> None:
        if done == total or done % 200_000 < 50_000:
            say(message)

    return progress


def summary_text(figures: dict[str, Any]) -> str:
    """The bench's figures as a few readable lines (``--json`` prints them whole)."""
    lines = [f"{figures['rows']} parts generated in {figures.get('generate_s', '?')} s"]
    for scope, times in figures["report_s"].items():
        each = ", ".join(f"{fmt} {s:.2f} s" for fmt, s in times.items())
        lines.append(f"{scope} report: {each}")
    if "day_all_formats_s" in figures:
        lines.append(f"day report, all formats together: {figures['day_all_formats_s']:.2f} s")
    lines.append(
        f"History first page on {figures.get('history_rows', '?')} parts: "
        f"{figures['history_first_page_ms']:.1f} ms"
    )
    station = figures.get("station", {})
    slowdown = figures["inspection_slowdown"]
    lines.append(
        f"inspection while a day report is written: {station.get('parts_per_s_alone')} → "
        f"{station.get('parts_per_s_with_report')} parts/s "
        f"({'n/a' if slowdown is None else f'{100 * slowdown:.1f} % slower'})"
    )
    return "\n".join(lines) + "\n"
