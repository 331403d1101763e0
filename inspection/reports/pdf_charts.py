"""The PDF report's charts (reportlab.graphics, drawn with no display): parts and rejects per
hour, and the Pareto of reject reasons."""

from __future__ import annotations

import re
from collections.abc import Sequence

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors

from inspection.reports.figures import ReasonCount, ShiftReport

PARTS_COLOUR = colors.HexColor("#305496")
FAIL_COLOUR = colors.HexColor("#C00000")
ERROR_COLOUR = colors.HexColor("#ED7D31")
PARETO_REASONS = 10
_LABEL_CHARS = 30
_CONTROL = re.compile("[\x00-\x1f\x7f]")


def _nice_max(value: float) -> float:
    """An axis top a little above ``value`` on a round number (1, 2, 2.5, 5 x 10^n)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = step * magnitude
        if top >= value * 1.05:
            return float(top)
    return float(10 * magnitude)


def _hour_labels(report: ShiftReport) -> list[str]:
    return [report.local(h.start).strftime("%H") for h in report.hourly]


def _title(drawing: Drawing, text: str, font: str, width: float, height: float) -> None:
    drawing.add(
        String(width / 2, height - 12, text, fontName=font, fontSize=9, textAnchor="middle")
    )


def hourly_charts(report: ShiftReport, width: float, height: float, font: str) -> Drawing:
    """Two bar charts side by side: parts per hour, and FAIL and ERROR per hour (their own
    scale, or a handful of fails would vanish next to thousands of parts)."""
    drawing = Drawing(width, height)
    half = width / 2
    labels = _hour_labels(report)
    parts = [h.parts for h in report.hourly]
    fails = [h.failed for h in report.hourly]
    errors = [h.errors for h in report.hourly]
    specs = (
        ("Parts per hour", [parts], [PARTS_COLOUR], 0.0),
        ("FAIL and ERROR per hour", [fails, errors], [FAIL_COLOUR, ERROR_COLOUR], half),
    )
    for title, data, fills, x0 in specs:
        chart = VerticalBarChart()
        chart.x, chart.y = x0 + 38, 28
        chart.width, chart.height = half - 50, height - 50
        chart.data = data
        chart.groupSpacing = 2
        chart.barSpacing = 0
        for i, fill in enumerate(fills):
            chart.bars[i].fillColor = fill
            chart.bars[i].strokeColor = None
        chart.valueAxis.valueMin = 0
        chart.valueAxis.valueMax = _nice_max(max((max(s) for s in data if s), default=0))
        chart.valueAxis.valueSteps = None
        chart.valueAxis.labels.fontName = font
        chart.valueAxis.labels.fontSize = 7
        chart.valueAxis.labelTextFormat = "{:,.0f}".format
        chart.valueAxis.gridStrokeColor = colors.HexColor("#DDDDDD")
        chart.valueAxis.visibleGrid = True
        chart.categoryAxis.categoryNames = labels
        chart.categoryAxis.labels.fontName = font
        chart.categoryAxis.labels.fontSize = 7 if len(labels) <= 12 else 5
        drawing.add(chart)
        drawing.add(
            String(
                x0 + half / 2, height - 12, title, fontName=font, fontSize=9, textAnchor="middle"
            )
        )
        drawing.add(
            String(
                x0 + half / 2,
                6,
                "hour (local time)",
                fontName=font,
                fontSize=7,
                textAnchor="middle",
            )
        )
    legend_x = width - 100
    for i, (name, fill) in enumerate((("FAIL", FAIL_COLOUR), ("ERROR", ERROR_COLOUR))):
        x = legend_x + i * 55
        drawing.add(String(x + 10, height - 24, name, fontName=font, fontSize=7, fillColor=fill))
    return drawing


def _short(text: str) -> str:
    # Chart labels are drawn as plain strings: drop control characters from the line's text.
    text = _CONTROL.sub("", text)
    return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"


def pareto_chart(reasons: Sequence[ReasonCount], width: float, height: float, font: str) -> Drawing:
    """Horizontal bars of the most frequent reject reasons, the most frequent on top."""
    drawing = Drawing(width, height)
    shown = list(reasons[:PARETO_REASONS])
    chart = HorizontalBarChart()
    label_room = min(width * 0.5, 120)
    chart.x, chart.y = label_room, 18
    chart.width, chart.height = width - label_room - 12, height - 40
    # reportlab draws the first category at the bottom; the Pareto reads top-down.
    chart.data = [[r.count for r in reversed(shown)]]
    chart.bars[0].fillColor = FAIL_COLOUR
    chart.bars[0].strokeColor = None
    chart.categoryAxis.categoryNames = [_short(r.reason) for r in reversed(shown)]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = _nice_max(max((r.count for r in shown), default=0))
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = "{:,.0f}".format
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#DDDDDD")
    drawing.add(chart)
    title = (
        "Rejected parts per reason"
        if len(reasons) <= PARETO_REASONS
        else f"Top {PARETO_REASONS} reasons (rejected parts)"
    )
    _title(drawing, title, font, width, height)
    return drawing
