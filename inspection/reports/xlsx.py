"""The shift report as an Excel workbook: Summary, Hourly, Reasons, Tools, Changes, Rejects.

Native Excel charts (openpyxl.chart), real Excel dates in the report's local time, numbers as
numbers, frozen headers and an Excel Table (with its filter) over every table. Written in
openpyxl's write-only mode so a day with tens of thousands of rejects takes a second or two.
"""

from __future__ import annotations

import io
import logging
import time
from pathlib import Path

from openpyxl import Workbook

from inspection.paths import written_in_place
from inspection.reports.figures import ShiftReport
from inspection.reports.xlsx_cells import (
    DATE_TIME,
    INTEGER,
    MINUTES,
    NOTICE_FONT,
    PERCENT,
    SECTION_FONT,
    TITLE_FONT,
    Column,
    Fmt,
    SheetCursor,
    fit_widths,
    new_sheet,
    write_table,
)
from inspection.reports.xlsx_rejects import splice_rejects
from inspection.reports.xlsx_sheets import (
    changes_sheet,
    hourly_sheet,
    reasons_sheet,
    rejects_sheet,
    tools_sheet,
)

log = logging.getLogger(__name__)

NO_PARTS = "No parts inspected"
SHEETS = ("Summary", "Hourly", "Reasons", "Tools", "Changes", "Rejects")


def write_xlsx(report: ShiftReport, path: Path) -> Path:
    """Write the report as ``path`` (.xlsx) and return it; written beside it, then renamed in,
    so a reader (or a network share) never sees half a workbook."""
    started = time.perf_counter()
    path = Path(path)
    wb = Workbook(write_only=True)
    summary_sheet(wb, report)
    hourly_sheet(wb, report)
    reasons_sheet(wb, report)
    tools_sheet(wb, report)
    changes_sheet(wb, report)
    reject_rows, thumbnails = rejects_sheet(wb, report)
    frame = io.BytesIO()
    wb.save(frame)
    with written_in_place(path) as partial:
        splice_rejects(frame.getvalue(), "Rejects", reject_rows, partial)
    log.info(
        "report: wrote %s (%d rejects, %d thumbnails) in %.2f s",
        path,
        len(report.rejects),
        thumbnails,
        time.perf_counter() - started,
    )
    return path


def _period_rows(report: ShiftReport) -> list[tuple[str, object]]:
    period = report.period
    rows: list[tuple[str, object]] = [("Station", report.station), ("Line", report.line)]
    if report.source:
        rows.append(("Source", report.source))
    if period.is_shift:
        rows.append(("Shift", period.label))
    else:
        rows.append(("Period", period.label))
    rows += [
        ("Period start", Fmt(report.local(period.start), DATE_TIME)),
        ("Period end", Fmt(report.local(period.end), DATE_TIME)),
        ("Time zone", report.timezone),
        ("Recipe versions", ", ".join(report.recipe_versions)),
        ("Lots", ", ".join(report.lots)),
        ("Parts", Fmt(report.parts, INTEGER)),
        ("PASS", Fmt(report.passed, INTEGER)),
        ("FAIL", Fmt(report.failed, INTEGER)),
        ("ERROR", Fmt(report.errors, INTEGER)),
        ("Yield", Fmt(report.yield_, PERCENT) if report.yield_ is not None else NO_PARTS),
        ("Camera alarms", Fmt(len(report.alarms), INTEGER)),
        ("Downtime (min)", Fmt(report.downtime_s / 60.0, MINUTES)),
        ("Generated at", Fmt(report.local(report.generated_at), DATE_TIME)),
        ("Software version", report.software_version),
        ("Counted up to record", Fmt(report.last_row_id, INTEGER)),
    ]
    rows += [("Note", note) for note in report.notes]
    return rows


def summary_sheet(wb: Workbook, report: ShiftReport) -> None:
    """The figures a quality engineer reads first, as small tables one under another."""
    figures = _period_rows(report)
    tool_columns = (
        Column("Tool", 18),
        Column("Type", 12),
        Column("Parts", 10, INTEGER),
        Column("PASS", 10, INTEGER),
        Column("First-pass yield", 16, PERCENT),
    )
    tool_rows = [
        (t.tool_id, t.tool_type, t.parts, t.passed, t.first_pass_yield) for t in report.tools
    ]
    reason_columns = (
        Column("Reason", 18),
        Column("Count", 10, INTEGER),
        Column("Share", 10, PERCENT),
    )
    reason_rows = [(r.reason, r.count, r.share) for r in report.top_reasons]
    station_columns = (
        Column("Station", 18),
        Column("Parts", 10, INTEGER),
        Column("PASS", 10, INTEGER),
        Column("FAIL", 10, INTEGER),
        Column("ERROR", 10, INTEGER),
        Column("Yield", 10, PERCENT),
    )
    station_rows = [
        (s.station, s.parts, s.passed, s.failed, s.errors, s.yield_) for s in report.per_station
    ]
    alarm_columns = (
        Column("Source", 18),
        Column("Message", 30),
        Column("Raised", 18, DATE_TIME),
        Column("Cleared", 18, DATE_TIME),
        Column("Downtime (min)", 15, MINUTES),
    )
    alarm_rows = [
        (
            a.source,
            a.message,
            report.local(a.raised_at),
            report.local(a.cleared_at) if a.cleared_at is not None else "active at period end",
            a.downtime_s / 60.0,
        )
        for a in report.alarms
    ]
    # One column grid for all the stacked tables: each column as wide as its widest use.
    grids = [
        fit_widths((Column("Item", 22), Column("Value", 24, max_width=80)), figures),
        fit_widths(tool_columns, tool_rows),
        fit_widths(reason_columns, reason_rows),
        fit_widths(alarm_columns, alarm_rows),
        fit_widths(station_columns, station_rows),
    ]
    widths = [max(g[i] for g in grids if i < len(g)) for i in range(max(len(g) for g in grids))]
    ws = new_sheet(wb, "Summary", widths, "A3")
    cursor = SheetCursor(ws)
    cursor.text_row(f"Shift report · {report.station} · {report.line}", TITLE_FONT)
    if report.parts == 0:
        cursor.text_row(f"{NO_PARTS} in {report.period.label}", NOTICE_FONT)
    else:
        cursor.text_row(report.period.label, SECTION_FONT)
    cursor.blank()
    write_table(cursor, "Figures", (Column("Item"), Column("Value")), figures)
    cursor.blank()
    if report.shows_stations:
        cursor.text_row("Per station", SECTION_FONT)
        write_table(cursor, "PerStation", station_columns, station_rows)
        cursor.blank()
    cursor.text_row("First-pass yield per tool", SECTION_FONT)
    write_table(cursor, "FirstPassYield", tool_columns, tool_rows)
    cursor.blank()
    cursor.text_row("Top 5 reject reasons", SECTION_FONT)
    write_table(cursor, "TopReasons", reason_columns, reason_rows)
    cursor.blank()
    minutes = report.downtime_s / 60.0
    cursor.text_row(
        f"Camera alarms: {len(report.alarms)}, downtime {minutes:.1f} min", SECTION_FONT
    )
    write_table(cursor, "CameraAlarms", alarm_columns, alarm_rows)
