"""The shift report as a printable A4 PDF (reportlab, no display needed): headline figures,
the hourly charts, the Pareto of reasons, the tools and the first rejects' thumbnails."""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from inspection.paths import written_in_place
from inspection.reports.figures import ShiftReport
from inspection.reports.pdf_charts import hourly_charts, pareto_chart
from inspection.reports.thumbnails import reject_thumbnails

log = logging.getLogger(__name__)

NO_PARTS = "No parts inspected"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
THUMBNAILS = 8
TOP_REASONS = 10
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HEADER_FILL = colors.HexColor("#305496")
_GRID = colors.HexColor("#BBBBBB")


@dataclass(frozen=True, slots=True)
class Fonts:
    regular: str
    bold: str


def report_fonts(font_dir: Path = FONT_DIR) -> Fonts:
    """DejaVu Sans (shows ≥, →, · and accents), registered once per process; Helvetica, with a
    warning, where the fonts are missing (package fonts-dejavu-core)."""
    names = ("DejaVuSans", "DejaVuSans-Bold")
    registered = pdfmetrics.getRegisteredFontNames()
    try:
        for name in names:
            if name not in registered:
                pdfmetrics.registerFont(TTFont(name, str(font_dir / f"{name}.ttf")))
    except (TTFError, OSError) as exc:
        log.warning(
            "report: DejaVu Sans not found in %s (%s); the PDF uses Helvetica, which cannot show "
            "≥, → and some accents. Install fonts-dejavu-core.",
            font_dir,
            exc,
        )
        return Fonts("Helvetica", "Helvetica-Bold")
    return Fonts(*names)


def _clean(text: str) -> str:
    """User text for a Paragraph: no control characters, markup characters escaped."""
    return escape(_CONTROL.sub("", text))


def _count(n: int) -> str:
    return f"{n:,}"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


class _Styles:
    def __init__(self, fonts: Fonts) -> None:
        self.title = ParagraphStyle("title", fontName=fonts.bold, fontSize=16, leading=20)
        self.subtitle = ParagraphStyle(
            "subtitle", fontName=fonts.regular, fontSize=10.5, leading=14
        )
        self.small = ParagraphStyle(
            "small",
            fontName=fonts.regular,
            fontSize=8,
            leading=10,
            textColor=colors.HexColor("#444444"),
        )
        self.heading = ParagraphStyle(
            "heading", fontName=fonts.bold, fontSize=11, leading=14, spaceBefore=6, spaceAfter=3
        )
        self.notice = ParagraphStyle(
            "notice",
            fontName=fonts.bold,
            fontSize=18,
            leading=24,
            textColor=colors.HexColor("#C00000"),
        )
        self.cell = ParagraphStyle("cell", fontName=fonts.regular, fontSize=8, leading=10)
        self.caption = ParagraphStyle("caption", fontName=fonts.regular, fontSize=7, leading=8.5)


def _table(
    rows: list[list[object]], widths: list[float], fonts: Fonts, right_from: int = 1
) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), fonts.regular, 8),
                ("FONT", (0, 0), (-1, 0), fonts.bold, 8),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
                ("BACKGROUND", (0, 0), (-1, 0), _HEADER_FILL),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#EEF2F8")]),
                ("GRID", (0, 0), (-1, -1), 0.3, _GRID),
                ("ALIGN", (right_from, 1), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def _headline(report: ShiftReport, fonts: Fonts, width: float) -> Table:
    labels = ["Parts", "PASS", "FAIL", "ERROR", "Yield", "Downtime"]
    values = [
        _count(report.parts),
        _count(report.passed),
        _count(report.failed),
        _count(report.errors),
        _percent(report.yield_),
        f"{report.downtime_s / 60:.1f} min",
    ]
    table = Table([labels, values], colWidths=[width / 6] * 6)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), fonts.regular, 8),
                ("FONT", (0, 1), (-1, 1), fonts.bold, 15),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.HexColor("#555555")),
                ("TEXTCOLOR", (2, 1), (3, 1), colors.HexColor("#C00000")),
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("BOX", (0, 0), (-1, -1), 0.6, _GRID),
                ("LINEBEFORE", (1, 0), (-1, -1), 0.3, _GRID),
                ("BOTTOMPADDING", (0, 1), (-1, 1), 8),
                ("TOPPADDING", (0, 1), (-1, 1), 4),
            ]
        )
    )
    return table


def _period_text(report: ShiftReport) -> str:
    start, end = report.local(report.period.start), report.local(report.period.end)
    # An end on the next morning (night shift) still reads as a time, a longer range as a date.
    end_fmt = "%H:%M" if end - start <= dt.timedelta(days=1) else "%Y-%m-%d %H:%M"
    kind = "Shift" if report.period.is_shift else "Period"
    return (
        f"{kind} {_clean(report.period.label)} · {start:%Y-%m-%d %H:%M} → {end.strftime(end_fmt)} "
        f"({_clean(report.timezone)})"
    )


def _about(report: ShiftReport) -> str:
    recipes = ", ".join(report.recipe_versions) or "–"
    lots = ", ".join(report.lots) or "–"
    generated = report.local(report.generated_at)
    text = (
        f"Recipe versions: {_clean(recipes)} · Lots: {_clean(lots)}<br/>"
        f"Camera alarms: {len(report.alarms)}, downtime {report.downtime_s / 60:.1f} min · "
        f"Generated {generated:%Y-%m-%d %H:%M} by Lineside {_clean(report.software_version)}"
    )
    if report.source:
        text += f"<br/>Source: {_clean(report.source)}"
    if report.shows_stations:
        stations = ", ".join(
            f"{s.station} {s.parts:,} parts, yield {_percent(s.yield_)}" for s in report.per_station
        )
        text += f"<br/>Per station: {_clean(stations) or '–'}"
    for note in report.notes:
        text += f"<br/>Note: {_clean(note)}"
    return text


def _reasons_table(report: ShiftReport, fonts: Fonts, styles: _Styles, width: float) -> Table:
    rows: list[list[object]] = [["Reason", "Count", "Share", "Cum."]]
    for r in report.reasons[:TOP_REASONS]:
        rows.append(
            [
                Paragraph(_clean(r.reason), styles.cell),
                _count(r.count),
                _percent(r.share),
                _percent(r.cumulative),
            ]
        )
    return _table(rows, [width - 46 * mm, 16 * mm, 15 * mm, 15 * mm], fonts)


def _tools_table(report: ShiftReport, fonts: Fonts, styles: _Styles, width: float) -> Table:
    rows: list[list[object]] = [
        ["Tool", "Type", "PASS", "FAIL", "ERROR", "First pass", "Median", "p95", "Max", "Threshold"]
    ]
    for t in report.tools:
        thresholds = " → ".join(f"{v:g}" for v in t.thresholds) or "–"
        quality = "; ".join(f"{name} {value:.2f}" for name, value in t.quality)
        tool = _clean(t.tool_id) + (
            f"<br/><font size=6.5>{_clean(quality)}</font>" if quality else ""
        )
        rows.append(
            [
                Paragraph(tool, styles.cell),
                Paragraph(_clean(t.tool_type), styles.cell),
                _count(t.passed),
                _count(t.failed),
                _count(t.errors),
                _percent(t.first_pass_yield),
                _score(t.score_median),
                _score(t.score_p95),
                _score(t.score_max),
                Paragraph(_clean(thresholds), styles.cell),
            ]
        )
    fixed = [15 * mm, 15 * mm, 14 * mm, 14 * mm, 18 * mm, 14 * mm, 13 * mm, 13 * mm, 19 * mm]
    return _table(rows, [width - sum(fixed), *fixed], fonts, right_from=2)


def _thumbnails(report: ShiftReport, styles: _Styles, width: float) -> Table | None:
    cells: list[object] = []
    box_w = width / 4 - 4 * mm
    for thumb in reject_thumbnails(report.rejects, THUMBNAILS, (360, 240)):
        r = report.rejects[thumb.index]
        height = box_w * thumb.height / thumb.width
        image = Image(io.BytesIO(thumb.jpeg), width=box_w, height=height)
        caption = Paragraph(
            f"Part {r.part_number} · {_clean(r.verdict)} · {report.local(r.wall_time):%H:%M:%S}<br/>{_clean(r.reason)}",
            styles.caption,
        )
        cells.append([image, Spacer(1, 1 * mm), caption])
    if not cells:
        return None
    grid = [cells[i : i + 4] for i in range(0, len(cells), 4)]
    grid[-1] += [""] * (4 - len(grid[-1]))
    table = Table(grid, colWidths=[width / 4] * 4)
    table.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 6)])
    )
    return table


def _story(report: ShiftReport, fonts: Fonts, width: float) -> list[Flowable]:
    styles = _Styles(fonts)
    story: list[Flowable] = [
        Paragraph(
            " · ".join(
                _clean(x) for x in ("Shift report", report.station, report.line) if x.strip()
            ),
            styles.title,
        ),
        Paragraph(_period_text(report), styles.subtitle),
        Spacer(1, 1.5 * mm),
        Paragraph(_about(report), styles.small),
        Spacer(1, 4 * mm),
    ]
    if report.parts == 0:
        story += [Paragraph(NO_PARTS, styles.notice), Spacer(1, 3 * mm)]
    story += [_headline(report, fonts, width), Spacer(1, 4 * mm)]
    if report.parts == 0:
        return story
    if report.hourly:
        story.append(hourly_charts(report, width, 58 * mm, fonts.regular))
    if report.reasons:
        half = width / 2 - 2 * mm
        pareto = Table(
            [
                [
                    pareto_chart(report.reasons, half, 62 * mm, fonts.regular),
                    _reasons_table(report, fonts, styles, half),
                ]
            ],
            colWidths=[width / 2, width / 2],
        )
        pareto.setStyle(
            TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
        )
        story += [Paragraph("Reject reasons", styles.heading), pareto]
    if report.tools:
        story += [Paragraph("Tools", styles.heading), _tools_table(report, fonts, styles, width)]
    thumbs = _thumbnails(report, styles, width)
    if thumbs is not None:
        story += [KeepTogether([Paragraph("First rejects", styles.heading), thumbs])]
    return story


def write_pdf(report: ShiftReport, path: Path) -> Path:
    """Write the report as an A4 PDF at ``path`` and return it (written beside it, then
    renamed in, so nobody opens half a file)."""
    path = Path(path)
    fonts = report_fonts()
    footer = f"{report.station} · {report.line} · {report.period.label}"

    def on_page(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(fonts.regular, 7)
        canvas.setFillColor(colors.HexColor("#666666"))
        canvas.drawString(doc.leftMargin, 9 * mm, _CONTROL.sub("", footer))
        canvas.drawRightString(A4[0] - doc.rightMargin, 9 * mm, f"page {doc.page}")
        canvas.restoreState()

    with written_in_place(path) as partial:
        doc = SimpleDocTemplate(
            str(partial),
            pagesize=A4,
            leftMargin=14 * mm,
            rightMargin=14 * mm,
            topMargin=13 * mm,
            bottomMargin=15 * mm,
            title=f"Shift report {report.period.label}",
            author="Lineside",
            subject=f"{report.station} {report.line}",
        )
        doc.build(_story(report, fonts, doc.width), onFirstPage=on_page, onLaterPages=on_page)
    return path
