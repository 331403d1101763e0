"""The period's parts as CSV (one row per part, flat columns) and the summary as its own CSV.

Both are UTF-8 with a byte-order mark, comma-separated with a header row, so Excel opens
accents cleanly and pandas reads them as they are. The parts are streamed from SQLite in chunks
(never the whole day in memory); SQLite pivots each part's tool results into columns and
formats its local time, so Python only hands rows to the csv module.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import shutil
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from inspection.jobs import Cancelled, ProgressFn, run_apart
from inspection.recipe.station import machine_timezone
from inspection.reports.aggregate import newest_row_id, period_filter
from inspection.reports.figures import ReportPeriod, ShiftReport
from inspection.reports.tool_figures import period_tools, tool_rows
from inspection.storage.queries import open_reader

ENCODING = "utf-8-sig"  # the BOM tells Excel the file is UTF-8
PART_COLUMNS = (
    "part number",
    "inspection id",
    "local time",
    "production day",
    "shift",
    "line",
    "station",
    "recipe",
    "recipe version",
    "lot",
    "verdict",
    "reason",
    "codes read",
)
_CHUNK = 5000
_SPLIT_AT = 100_000  # parts: below this one thread writes the whole CSV


def part_columns(tools: Sequence[str]) -> list[str]:
    """The parts CSV's header for these tools (in this order)."""
    columns = list(PART_COLUMNS)
    for tool in tools:
        columns += [f"{tool} verdict", f"{tool} score"]
    return [*columns, "image path"]


def _offset_at(zone: ZoneInfo, t: float) -> int:
    offset = dt.datetime.fromtimestamp(t, tz=zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def utc_offsets(zone: ZoneInfo, start: float, end: float) -> list[tuple[float, int]]:
    """The zone's UTC offset over ``[start, end]`` as (from this instant, offset s) steps.

    Checked hour by hour, then the exact second of each switch is found by bisection; the
    first step starts at -inf so times before ``start`` get the offset in force there.
    """
    steps: list[tuple[float, int]] = [(float("-inf"), _offset_at(zone, start))]
    t = start
    while t < end:
        nxt = min(t + 3600.0, end)
        if _offset_at(zone, nxt) != steps[-1][1]:
            lo, hi = t, nxt  # offset(lo) is the old one, offset(hi) the new one
            while hi - lo > 0.5:
                mid = (lo + hi) / 2
                if _offset_at(zone, mid) == steps[-1][1]:
                    lo = mid
                else:
                    hi = mid
            steps.append((float(round(hi)), _offset_at(zone, nxt)))
        t = nxt
    return steps


def local_time_sql(zone: ZoneInfo, start: float, end: float) -> tuple[str, list[Any]]:
    """SQL for ``i.wall_time`` as local ``YYYY-MM-DD HH:MM:SS`` text in ``zone`` (DST-correct
    between ``start`` and ``end``), and its parameters."""
    steps = utc_offsets(zone, start, end)
    params: list[Any] = []
    if len(steps) == 1:
        offset_sql = "?"
        params.append(steps[0][1])
    else:
        whens = " ".join("WHEN i.wall_time < ? THEN ?" for _ in steps[1:])
        for (_, offset), (switch, _) in itertools.pairwise(steps):
            params += [switch, offset]
        offset_sql = f"CASE {whens} ELSE ? END"
        params.append(steps[-1][1])
    return f"strftime('%Y-%m-%d %H:%M:%S', i.wall_time + {offset_sql}, 'unixepoch')", params


def write_parts_csv(
    db_path: Path,
    period: ReportPeriod,
    path: Path,
    *,
    station: str | None = None,
    last_row_id: int | None = None,
    tools: Sequence[str] | None = None,
    timezone: str | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> int:
    """Write one row per part of ``period`` to ``path``; returns the number of parts.

    ``last_row_id`` bounds the rows (a report's own, so the CSV has exactly the parts it
    counted; None: the newest now). ``tools``: the tool columns, in order (None: every tool
    the period's parts have). ``timezone`` names the zone of the local time column (None: this
    machine's, which is also the shift calendar's default). Raises Cancelled when ``cancel`` is
    set (the caller removes the unfinished file).
    """
    zone = ZoneInfo(timezone or machine_timezone())
    conn = open_reader(db_path)
    conn.row_factory = None
    try:
        conn.execute("BEGIN")  # the counts, the tool list and the rows of one snapshot
        try:
            return _write_parts(
                db_path, conn, period, path, station, last_row_id, tools, zone, progress, cancel
            )
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
    finally:
        conn.close()


def _write_parts(
    db_path: Path,
    conn: sqlite3.Connection,
    period: ReportPeriod,
    path: Path,
    station: str | None,
    last_row_id: int | None,
    tools: Sequence[str] | None,
    zone: ZoneInfo,
    progress: ProgressFn | None,
    cancel: threading.Event | None,
) -> int:
    where, params = period_filter(
        period, newest_row_id(conn) if last_row_id is None else last_row_id, station
    )
    total, first, last, lo, hi = conn.execute(
        f"SELECT COUNT(*), MIN(i.wall_time), MAX(i.wall_time), MIN(i.id), MAX(i.id) "
        f"FROM inspections i WHERE {where}",
        params,
    ).fetchone()
    if tools is None:
        source = tool_rows(conn, where, params, (int(lo or 0), int(hi or 0)), int(total))
        tools = period_tools(conn, source) if total else []
    # The parts of a shift lie in its window unless the calendar changed while it ran.
    span_start = min(period.start, first) if total else period.start
    span_end = max(period.end, last) if total else period.end
    local_sql, local_params = local_time_sql(zone, span_start, span_end)
    tool_columns: list[str] = []
    joins: list[str] = []
    join_params: list[Any] = []
    for k, tool in enumerate(tools):
        # One LEFT JOIN per tool: the pivot happens in SQLite, a seek into the covering index
        # tool_results_scores per part, and a part without that tool gets empty cells.
        tool_columns += [f"t{k}.verdict", f"t{k}.score"]
        joins.append(f"LEFT JOIN tool_results t{k} ON t{k}.tool_id = ? AND t{k}.inspection = i.id")
        join_params.append(tool)
    select = ", ".join(
        [
            "i.part_seq + 1",
            "i.inspection_id",
            local_sql,
            "i.production_day",
            "i.shift",
            "i.line",
            "i.station",
            "i.recipe_name",
            "i.recipe_version",
            "i.lot",
            "i.verdict",
            "i.reason",
            "(SELECT group_concat(c.code, ' ') FROM part_codes c WHERE c.inspection = i.id)",
            *tool_columns,
            "i.image_path",
        ]
    )
    # The order the period's index gives (no sort, so rows stream): recording order for a
    # shift, time order for a range.
    key = "+i.id" if period.is_shift else "i.wall_time"
    order = "i.id" if period.is_shift else "i.wall_time"
    query = f"SELECT {select} FROM inspections i {' '.join(joins)} WHERE {where}"
    query_params = [*local_params, *join_params, *params]
    sql = f"{query} ORDER BY {order}"
    if total < _SPLIT_AT:
        with path.open("w", encoding=ENCODING, newline="") as out:
            csv.writer(out).writerow(part_columns(tools))
            return _write_rows(conn, sql, query_params, out, progress, cancel, int(total))
    # A large period is written as two halves at once, each by a child process with its own
    # read connection (the same rows: they are bounded by last_row_id), then joined. Threads
    # would not do: SQLite gives up the interpreter lock for every row it steps, and three
    # threads handing it over per row run slower than one. The children run at idle priority
    # (run_apart), so on a busy station they only use CPU the line leaves.
    middle: float = (lo + hi) // 2 if period.is_shift else (first + last) / 2
    halves = [
        (f"{query} AND {key} < ? ORDER BY {order}", [*query_params, middle]),
        (f"{query} AND {key} >= ? ORDER BY {order}", [*query_params, middle]),
    ]
    files = [path.with_name(f".{path.name}.half{k}") for k in range(len(halves))]
    counts = [0] * len(halves)
    errors: list[BaseException] = []
    halt = threading.Event()

    def write_half(k: int) -> None:
        def done_so_far(done: int, _total: int, _message: str) -> None:
            counts[k] = done
            if progress is not None:
                progress(sum(counts), int(total), "writing parts")

        try:
            # each half runs at the priority of the report that starts it (idle while the line
            # runs), which its process passes on
            counts[k] = run_apart(
                write_rows_file,
                db_path,
                *halves[k],
                files[k],
                progress=done_so_far,
                cancel=halt,
                behind_line=False,
            )
        except BaseException as exc:  # raised by the caller below
            errors.append(exc)
            halt.set()

    writers = [
        threading.Thread(target=write_half, args=(k,), name=f"parts-csv-half{k}", daemon=True)
        for k in range(len(halves))
    ]
    try:
        for w in writers:
            w.start()
        while any(w.is_alive() for w in writers):
            for w in writers:
                w.join(0.1)
            if cancel is not None and cancel.is_set():
                halt.set()
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"parts CSV of {period.label} cancelled")
        if errors:
            raise next((e for e in errors if not isinstance(e, Cancelled)), errors[0])
        with path.open("w", encoding=ENCODING, newline="") as out:
            csv.writer(out).writerow(part_columns(tools))
            for half in files:
                with half.open("r", encoding="utf-8", newline="") as rows:
                    shutil.copyfileobj(rows, out, 1 << 20)
    finally:
        halt.set()
        for w in writers:
            w.join()
        for half in files:
            half.unlink(missing_ok=True)
    return sum(counts)


def _write_rows(
    conn: sqlite3.Connection,
    sql: str,
    params: Sequence[Any],
    out: Any,
    progress: ProgressFn | None,
    cancel: Any,
    total: int,
) -> int:
    """The query's rows as CSV rows into ``out``; the number written."""
    cursor = conn.execute(sql, list(params))
    writer = csv.writer(out)
    done = 0
    while rows := cursor.fetchmany(_CHUNK):
        if cancel is not None and cancel.is_set():
            raise Cancelled("parts CSV cancelled")
        writer.writerows(rows)
        done += len(rows)
        if progress is not None:
            progress(done, total, "writing parts")
    return done


def write_rows_file(
    db_path: Path,
    sql: str,
    params: Sequence[Any],
    path: Path,
    *,
    progress: ProgressFn | None = None,
    cancel: Any = None,
) -> int:
    """One half of a large parts CSV (no header), for a child process (``run_apart``)."""
    conn = open_reader(db_path)
    conn.row_factory = None
    try:
        conn.execute("BEGIN")
        with path.open("w", encoding="utf-8", newline="") as out:
            return _write_rows(conn, sql, params, out, progress, cancel, 0)
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()


# ---- the summary --------------------------------------------------------------------------


def _local_text(report: ShiftReport, t: float) -> str:
    return report.local(t).strftime("%Y-%m-%d %H:%M:%S")


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def summary_rows(report: ShiftReport) -> list[list[str]]:
    """The summary as CSV rows: key/value pairs, then a blank row and the per-tool table."""
    yield_ = report.yield_
    rows: list[list[str]] = [
        ["figure", "value"],
        ["station", report.station],
        ["line", report.line],
        ["period", report.period.label],
        ["from", _local_text(report, report.period.start)],
        ["to", _local_text(report, report.period.end)],
        ["time zone", report.timezone],
        ["recipe versions", ", ".join(report.recipe_versions)],
        ["lots", ", ".join(report.lots)],
        ["parts", str(report.parts)],
        ["PASS", str(report.passed)],
        ["FAIL", str(report.failed)],
        ["ERROR", str(report.errors)],
        ["yield", "" if yield_ is None else f"{yield_:.6f}"],
        ["alarms", str(len(report.alarms))],
        ["alarm downtime s", f"{report.downtime_s:.0f}"],
        ["software version", report.software_version],
        ["generated", _local_text(report, report.generated_at)],
    ]
    if report.source:
        rows.insert(3, ["source", report.source])
    if report.parts == 0:
        rows.append(["note", "no parts inspected"])
    rows += [["note", note] for note in report.notes]
    for k, reason in enumerate(report.top_reasons, start=1):
        rows.append([f"top reason {k}", f"{reason.reason} ({reason.count})"])
    rows.append([])
    rows.append(
        [
            "tool",
            "tool type",
            "PASS",
            "FAIL",
            "ERROR",
            "first-pass yield",
            "score median",
            "score p95",
            "score max",
            "thresholds",
            "quality",
        ]
    )
    for tool in report.tools:
        fpy = tool.first_pass_yield
        rows.append(
            [
                tool.tool_id,
                tool.tool_type,
                str(tool.passed),
                str(tool.failed),
                str(tool.errors),
                "" if fpy is None else f"{fpy:.6f}",
                _number(tool.score_median),
                _number(tool.score_p95),
                _number(tool.score_max),
                " ".join(f"{t:g}" for t in tool.thresholds),
                "; ".join(f"{name} {value:.4g}" for name, value in tool.quality),
            ]
        )
    if report.shows_stations:
        rows += [[], ["station", "parts", "PASS", "FAIL", "ERROR", "yield"]]
        for s in report.per_station:
            y = "" if s.yield_ is None else f"{s.yield_:.6f}"
            rows.append([s.station, *map(str, (s.parts, s.passed, s.failed, s.errors)), y])
    return rows


def write_summary_csv(report: ShiftReport, path: Path) -> Path:
    """Write the report's summary (key/value rows, then one row per tool) to ``path``."""
    with path.open("w", encoding=ENCODING, newline="") as out:
        csv.writer(out).writerows(summary_rows(report))
    return path
