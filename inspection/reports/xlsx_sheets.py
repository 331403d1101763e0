"""The detail sheets of the xlsx shift report: Hourly, Reasons, Tools, Changes, Rejects.

Each function plans its sheet (columns, widths, frozen header), streams the rows and adds its
native chart or thumbnails. The Summary sheet lives in ``xlsx.py``.
"""

from __future__ import annotations

import io

from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.drawing.image import Image
from openpyxl.workbook import Workbook

from inspection.reports.figures import ShiftReport, ToolFigures
from inspection.reports.thumbnails import reject_thumbnails
from inspection.reports.xlsx_cells import (
    DATE_TIME,
    DATE_TIME_S,
    DECIMAL,
    PERCENT,
    Column,
    SheetCursor,
    add_table,
    fit_widths,
    new_sheet,
    write_table,
)
from inspection.reports.xlsx_rejects import RejectRowsXml, RejectStyles, reject_rows_xml

THUMBNAILS_MAX = 50
THUMBNAIL_BOX = (120, 80)  # px; the row is made tall enough for it
THUMBNAIL_ROW_HEIGHT = 64.0  # points (80 px is 60 pt, plus a margin)
REASONS_CHARTED = 20  # the chart shows the Pareto's head; the table lists every reason
_WIDTH_SAMPLE = 200  # rows looked at to size columns (a day can have 40,000 rejects)


def _hour_format(report: ShiftReport) -> str:
    return "hh:mm" if report.period.end - report.period.start <= 24 * 3600 else "dd.mm hh:mm"


def hourly_sheet(wb: Workbook, report: ShiftReport) -> None:
    columns = (
        Column("Hour", 18, DATE_TIME),
        Column("Parts", 10, "0"),
        Column("FAIL", 10, "0"),
        Column("ERROR", 10, "0"),
        Column("Yield", 10, PERCENT),
    )
    rows = [(report.local(h.start), h.parts, h.failed, h.errors, h.yield_) for h in report.hourly]
    ws = new_sheet(wb, "Hourly", fit_widths(columns, rows), "A2")
    cursor = SheetCursor(ws)
    where = write_table(cursor, "Hourly", columns, rows)
    if not where.has_rows:
        return
    bar = BarChart()
    bar.type = "col"
    bar.title = "Parts and yield per hour"
    bar.add_data(
        Reference(ws, min_col=2, min_row=where.header_row, max_row=where.last_row),
        titles_from_data=True,
    )
    hours = Reference(ws, min_col=1, min_row=where.first_row, max_row=where.last_row)
    bar.set_categories(hours)
    bar.y_axis.title = "Parts"
    # Hours are datetimes: left to itself Excel would make a date axis with a one-day unit
    # and pile every hour into one bar, so the axis is a plain category axis.
    bar.x_axis.auto = False
    bar.x_axis.number_format = _hour_format(report)
    line = LineChart()
    line.add_data(
        Reference(ws, min_col=5, min_row=where.header_row, max_row=where.last_row),
        titles_from_data=True,
    )
    line.set_categories(hours)
    _add_share_line(bar, line, "Yield")
    bar.width, bar.height = 24.0, 11.0
    ws.add_chart(bar, "H2")


def reasons_sheet(wb: Workbook, report: ShiftReport) -> None:
    columns = (
        Column("Reason", 30),
        Column("Count", 10, "0"),
        Column("Share", 10, PERCENT),
        Column("Cumulative share", 18, PERCENT),
    )
    rows = [(r.reason, r.count, r.share, r.cumulative) for r in report.reasons]
    ws = new_sheet(wb, "Reasons", fit_widths(columns, rows), "A2")
    cursor = SheetCursor(ws)
    where = write_table(cursor, "Reasons", columns, rows)
    if not where.has_rows:
        return
    last = min(where.last_row, where.first_row + REASONS_CHARTED - 1)
    bar = BarChart()
    bar.type = "col"
    shown = last - where.first_row + 1
    bar.title = (
        "Reject reasons (Pareto)"
        if last == where.last_row
        else f"Top {shown} reject reasons (Pareto)"
    )
    bar.add_data(
        Reference(ws, min_col=2, min_row=where.header_row, max_row=last), titles_from_data=True
    )
    reasons = Reference(ws, min_col=1, min_row=where.first_row, max_row=last)
    bar.set_categories(reasons)
    bar.y_axis.title = "Rejected parts"
    line = LineChart()
    line.add_data(
        Reference(ws, min_col=4, min_row=where.header_row, max_row=last), titles_from_data=True
    )
    line.set_categories(reasons)
    _add_share_line(bar, line, "Cumulative share", floor=0.0)
    bar.width, bar.height = 24.0, 12.0
    ws.add_chart(bar, "F2")


def _add_share_line(
    bar: BarChart, line: LineChart, title: str, *, floor: float | None = None
) -> None:
    """Put ``line`` (a share, 0..100 %) on a secondary axis at the right of ``bar``'s chart."""
    line.y_axis.axId = 200
    line.y_axis.title = title
    line.y_axis.number_format = "0%"
    if floor is not None:
        line.y_axis.scaling.min = floor
    line.y_axis.scaling.max = 1.0
    line.y_axis.crosses = "max"
    line.y_axis.majorGridlines = None
    _show_axes(bar, line)
    bar += line


def _show_axes(bar: BarChart, line: LineChart) -> None:
    # openpyxl 3.1 leaves <c:delete> unset and current Excel then hides the axes.
    for axis in (bar.x_axis, bar.y_axis, line.y_axis):
        axis.delete = False


def _threshold_cell(tool: ToolFigures) -> object:
    if len(tool.thresholds) == 1:
        return tool.thresholds[0]
    # Changed during the period: every value in force, in order, as text.
    return " → ".join(f"{t:g}" for t in tool.thresholds)


def tools_sheet(wb: Workbook, report: ShiftReport) -> None:
    quality_names: list[str] = []
    for tool in report.tools:
        for name, _ in tool.quality:
            if name not in quality_names:
                quality_names.append(name)
    fixed = (
        Column("Tool", 18),
        Column("Type", 10),
        Column("Parts", 10, "0"),
        Column("PASS", 10, "0"),
        Column("FAIL", 10, "0"),
        Column("ERROR", 10, "0"),
        Column("First-pass yield", 16, PERCENT),
        Column("Score median", 13, DECIMAL),
        Column("Score p95", 11, DECIMAL),
        Column("Score max", 11, DECIMAL),
        Column("Threshold", 12, "0.###"),
    )
    taken = {c.header.casefold() for c in fixed}
    quality_columns = []
    for name in quality_names:
        header = name if name.casefold() not in taken else f"{name} (quality)"
        taken.add(header.casefold())
        quality_columns.append(Column(header, 14, DECIMAL))
    columns = fixed + tuple(quality_columns)
    rows = []
    for t in report.tools:
        quality = dict(t.quality)
        rows.append(
            (
                t.tool_id,
                t.tool_type,
                t.parts,
                t.passed,
                t.failed,
                t.errors,
                t.first_pass_yield,
                t.score_median,
                t.score_p95,
                t.score_max,
                _threshold_cell(t),
                *(quality.get(name) for name in quality_names),
            )
        )
    ws = new_sheet(wb, "Tools", fit_widths(columns, rows), "B2")
    write_table(SheetCursor(ws), "Tools", columns, rows)


def changes_sheet(wb: Workbook, report: ShiftReport) -> None:
    columns = (
        Column("Time", 20, DATE_TIME_S),
        Column("Kind", 12),
        Column("Text", 50, max_width=100),
    )
    rows = [(report.local(c.wall_time), c.kind, c.text) for c in report.changes]
    ws = new_sheet(wb, "Changes", fit_widths(columns, rows), "A2")
    write_table(SheetCursor(ws), "Changes", columns, rows)


REJECT_COLUMNS = (
    Column("Part", 10, "0"),
    Column("Time", 20, DATE_TIME_S),
    Column("Verdict", 9),
    Column("Reason", 28),
    Column("Codes", 24),
    Column("Lot", 14),
    Column("Recipe version", 16),
    Column("Inspection id", 20),
    Column("Image", 40, max_width=80),
    Column("Thumbnail", 18),
)


def rejects_sheet(wb: Workbook, report: ShiftReport) -> tuple[RejectRowsXml, int]:
    """The Rejects sheet's frame (header, table over every row, thumbnails for the first 50
    rejects with an image) and its data rows as XML for ``splice_rejects``; and how many
    thumbnails were placed."""
    rejects = report.rejects
    sample = [
        (
            0,
            0,
            r.verdict,
            r.reason,
            r.codes,
            r.lot,
            r.recipe_version,
            r.inspection_id,
            r.image_path or "",
        )
        for r in rejects[:_WIDTH_SAMPLE]
    ]
    ws = new_sheet(wb, "Rejects", fit_widths(REJECT_COLUMNS, sample), "B2")
    cursor = SheetCursor(ws)
    header_row = cursor.header(REJECT_COLUMNS)
    add_table(cursor, "Rejects", REJECT_COLUMNS, header_row, header_row + len(rejects))
    thumbs = list(reject_thumbnails(rejects, THUMBNAILS_MAX, THUMBNAIL_BOX))
    for thumb in thumbs:
        image = Image(io.BytesIO(thumb.jpeg))
        image.width, image.height = thumb.width, thumb.height
        ws.add_image(image, f"J{header_row + 1 + thumb.index}")
    rows = reject_rows_xml(
        report, RejectStyles.register(ws), {t.index for t in thumbs}, THUMBNAIL_ROW_HEIGHT
    )
    return rows, len(thumbs)
