"""The xlsx shift report read back with openpyxl: sheets, counts, types, charts, filters,
thumbnails and text safety."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from inspection.reports.figures import ShiftReport
from inspection.reports.xlsx import SHEETS, write_xlsx
from tests.inspection.reports.sample_report import empty_report, sample_report


@pytest.fixture
def report(tmp_path: Path) -> ShiftReport:
    return sample_report(tmp_path / "archive", rejects=120, images=60)


@pytest.fixture
def book(report: ShiftReport, tmp_path: Path) -> openpyxl.Workbook:
    path = write_xlsx(report, tmp_path / "report.xlsx")
    assert path == tmp_path / "report.xlsx"
    assert not list(tmp_path.glob(".*partial*"))
    return openpyxl.load_workbook(path)


def _figures(ws: Worksheet) -> dict[str, object]:
    table = ws.tables["Figures"]
    rows = ws[table.ref]
    return {str(r[0].value): r[1].value for r in rows[1:]}


def _data_rows(ws: Worksheet) -> list[tuple[object, ...]]:
    return [r for r in ws.iter_rows(min_row=2, values_only=True) if any(v is not None for v in r)]


def test_sheets_in_order(book: openpyxl.Workbook) -> None:
    assert (
        book.sheetnames
        == list(SHEETS)
        == ["Summary", "Hourly", "Reasons", "Tools", "Changes", "Rejects"]
    )


def test_summary_counts_and_types(book: openpyxl.Workbook, report: ShiftReport) -> None:
    figures = _figures(book["Summary"])
    assert figures["Station"] == report.station
    assert figures["Line"] == report.line
    assert figures["Shift"] == "2026-12-04/Early"
    assert figures["Period start"] == dt.datetime(2026, 12, 4, 6, 0)
    assert figures["Period end"] == dt.datetime(2026, 12, 4, 14, 0)
    assert figures["Time zone"] == "Europe/Berlin"
    assert figures["Recipe versions"] == "housing v3, housing v4"
    for key, value in (
        ("Parts", report.parts),
        ("PASS", report.passed),
        ("FAIL", report.failed),
        ("ERROR", report.errors),
    ):
        assert figures[key] == value and isinstance(figures[key], int)
    assert figures["Yield"] == pytest.approx(report.yield_)
    assert figures["Camera alarms"] == 2
    assert figures["Downtime (min)"] == pytest.approx(report.downtime_s / 60)
    assert isinstance(figures["Generated at"], dt.datetime)
    assert figures["Software version"] == "0.1.0"
    ws = book["Summary"]
    tools = ws[ws.tables["FirstPassYield"].ref]
    assert [c.value for c in tools[0]] == ["Tool", "Type", "Parts", "PASS", "First-pass yield"]
    for row, tool in zip(tools[1:], report.tools, strict=True):
        assert row[0].value == tool.tool_id and row[3].value == tool.passed
        assert (
            row[4].value == pytest.approx(tool.first_pass_yield) and row[4].number_format == "0.0%"
        )
    reasons = ws[ws.tables["TopReasons"].ref]
    assert [(r[0].value, r[1].value) for r in reasons[1:]] == [
        (r.reason, r.count) for r in report.top_reasons
    ]
    assert len(reasons) == 6


def test_hourly_sheet_and_chart(book: openpyxl.Workbook, report: ShiftReport) -> None:
    ws = book["Hourly"]
    rows = _data_rows(ws)
    assert len(rows) == len(report.hourly) == 8
    for row, hour in zip(rows, report.hourly, strict=True):
        assert row[0] == report.local(hour.start) and isinstance(row[0], dt.datetime)
        assert row[1:4] == (hour.parts, hour.failed, hour.errors)
        assert row[4] == pytest.approx(hour.yield_)
    assert sum(r[1] for r in rows) == report.parts  # type: ignore[misc]
    assert ws["A2"].number_format == "yyyy-mm-dd hh:mm"
    assert ws["E2"].number_format == "0.0%"
    (chart,) = ws._charts
    bar, line = chart._charts
    assert bar.series[0].val.numRef.f == "'Hourly'!$B$2:$B$9"
    assert bar.series[0].cat.numRef.f == "'Hourly'!$A$2:$A$9"
    assert bar.series[0].tx.strRef.f == "'Hourly'!B1"
    assert line.series[0].val.numRef.f == "'Hourly'!$E$2:$E$9"
    assert line.y_axis.axId == 200


def test_reasons_pareto_and_chart(book: openpyxl.Workbook, report: ShiftReport) -> None:
    ws = book["Reasons"]
    rows = _data_rows(ws)
    # Control characters from the line (the BEL in one reason) are dropped, nothing else.
    assert [(r[0], r[1]) for r in rows] == [
        (r.reason.replace("\x07", ""), r.count) for r in report.reasons
    ]
    assert sum(r[1] for r in rows) == report.failed + report.errors  # type: ignore[misc]
    assert rows[-1][3] == pytest.approx(1.0)
    n = len(report.reasons) + 1
    (chart,) = ws._charts
    bar, line = chart._charts
    assert bar.series[0].val.numRef.f == f"'Reasons'!$B$2:$B${n}"
    assert bar.series[0].cat.numRef.f == f"'Reasons'!$A$2:$A${n}"
    assert line.series[0].val.numRef.f == f"'Reasons'!$D$2:$D${n}"


def test_tools_sheet(book: openpyxl.Workbook, report: ShiftReport) -> None:
    ws = book["Tools"]
    header = [c.value for c in ws[1]]
    assert header[:11] == [
        "Tool", "Type", "Parts", "PASS", "FAIL", "ERROR", "First-pass yield",
        "Score median", "Score p95", "Score max", "Threshold",
    ]  # fmt: skip
    assert header[11:] == ["code quality median", "code quality min", "OCR confidence min"]
    rows = {r[0]: r for r in _data_rows(ws)}
    defects, codes, ocr = rows["housing-defects"], rows["dm-code"], rows["label-ocr"]
    assert defects[3:6] == (report.tools[0].passed, 30, 10)
    assert defects[10] == 0.5 and isinstance(defects[10], float)
    assert codes[10] == "0.6 → 0.55"  # changed during the shift: both values
    assert codes[7] is None and codes[11] == pytest.approx(0.92)
    assert ocr[13] == pytest.approx(0.71) and ocr[11] is None


def test_changes_sheet(book: openpyxl.Workbook, report: ShiftReport) -> None:
    rows = _data_rows(book["Changes"])
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (report.local(c.wall_time), c.kind, c.text) for c in report.changes
    ]
    teaching = book["Changes"]["C6"]
    assert teaching.value.startswith("=cmd") and teaching.data_type == "s"


def test_rejects_rows_links_and_thumbnails(book: openpyxl.Workbook, report: ShiftReport) -> None:
    ws = book["Rejects"]
    assert [c.value for c in ws[1]] == [
        "Part", "Time", "Verdict", "Reason", "Codes", "Lot", "Recipe version", "Inspection id", "Image", "Thumbnail",
    ]  # fmt: skip
    rows = list(ws.iter_rows(min_row=2))
    assert len(rows) == len(report.rejects) == report.failed + report.errors
    verdicts = [r[2].value for r in rows]
    assert verdicts.count("FAIL") == report.failed and verdicts.count("ERROR") == report.errors
    for row, reject in zip(rows, report.rejects, strict=True):
        assert row[0].value == reject.part_number and isinstance(row[0].value, int)
        assert (
            row[1].value == report.local(reject.wall_time).replace(microsecond=0)
            or abs((row[1].value - report.local(reject.wall_time)).total_seconds()) < 0.01
        )
        assert (
            isinstance(row[1].value, dt.datetime) and row[1].number_format == "yyyy-mm-dd hh:mm:ss"
        )
        assert row[5].value == reject.lot and row[6].value == reject.recipe_version
        assert row[8].value == reject.image_path
        exists = reject.image_path is not None and Path(reject.image_path).is_file()
        assert (row[8].hyperlink is not None) == exists
        if exists:
            assert row[8].hyperlink.target == Path(reject.image_path).as_uri()  # type: ignore[arg-type]
    # 30 of the 60 image paths exist on disk: each gets a thumbnail in a taller row.
    assert len(ws._images) == 30
    anchors = sorted(img.anchor._from.row + 1 for img in ws._images)
    expected = [
        i + 2 for i, r in enumerate(report.rejects) if r.image_path and Path(r.image_path).is_file()
    ]
    assert anchors == expected
    assert ws.row_dimensions[expected[0]].height == pytest.approx(64.0)


def test_thumbnails_capped_at_fifty(tmp_path: Path) -> None:
    report = sample_report(tmp_path / "archive", rejects=130, images=130)
    wb = openpyxl.load_workbook(write_xlsx(report, tmp_path / "r.xlsx"))
    assert len(wb["Rejects"]._images) == 50
    first_without = sorted(img.anchor._from.row for img in wb["Rejects"]._images)[-1]
    # The 50 placed are the first 50 existing images (every second reject has one): rows 2..100.
    assert first_without + 1 == 2 + 2 * 49


def test_formula_injection_and_control_characters_stay_text(book: openpyxl.Workbook) -> None:
    ws = book["Rejects"]
    reasons = {c.value: c for c in ws["D"][1:]}
    injected = reasons['=HYPERLINK("http://x","click")']
    assert injected.data_type == "s" and injected.quotePrefix
    assert "-offset 2 mm" in reasons  # the BEL character from the line was dropped
    assert reasons["-offset 2 mm"].quotePrefix
    codes = [c for c in ws["E"][1:] if c.value and c.value.startswith("LOT7")]
    assert all(c.data_type == "s" for c in codes)
    summary_reason = [
        c
        for row in book["Summary"].iter_rows()
        for c in row
        if c.value == '=HYPERLINK("http://x","click")'
    ]
    assert summary_reason and summary_reason[0].data_type == "s"


def test_frozen_headers_and_filters_everywhere(book: openpyxl.Workbook) -> None:
    frozen = {ws.title: ws.freeze_panes for ws in book.worksheets}
    assert frozen == {
        "Summary": "A3",
        "Hourly": "A2",
        "Reasons": "A2",
        "Tools": "B2",
        "Changes": "A2",
        "Rejects": "B2",
    }
    names = []
    for ws in book.worksheets:
        assert ws.tables, f"{ws.title} has no table"
        for table in ws.tables.values():
            assert table.autoFilter is not None and table.autoFilter.ref == table.ref
            header = ws[table.ref][0]
            assert [c.value for c in header] == [c.name for c in table.tableColumns]
            names.append(table.displayName)
        assert ws.column_dimensions["A"].width >= 8
    assert len(names) == len(set(names))


def test_empty_report_says_no_parts_and_keeps_sheets(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(write_xlsx(empty_report(), tmp_path / "empty.xlsx"))
    assert wb.sheetnames == list(SHEETS)
    summary = [
        c.value for row in wb["Summary"].iter_rows() for c in row if isinstance(c.value, str)
    ]
    assert any(v.startswith("No parts inspected") for v in summary)
    assert _figures(wb["Summary"])["Parts"] == 0
    assert _figures(wb["Summary"])["Yield"] == "No parts inspected"
    assert [c.value for c in wb["Rejects"][1]][:3] == ["Part", "Time", "Verdict"]
    assert wb["Rejects"].max_row <= 2 and not wb["Rejects"]._images
    assert [c.value for c in wb["Reasons"][1]] == ["Reason", "Count", "Share", "Cumulative share"]
    assert not wb["Reasons"]._charts
    assert [c.value for c in wb["Changes"][1]] == ["Time", "Kind", "Text"]


def test_unreadable_image_is_listed_without_thumbnail(tmp_path: Path) -> None:
    report = sample_report(tmp_path / "archive", rejects=10, images=10)
    broken = tmp_path / "archive" / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    first = dataclasses.replace(report.rejects[0], image_path=str(broken))
    report = dataclasses.replace(report, rejects=(first, *report.rejects[1:]))
    wb = openpyxl.load_workbook(write_xlsx(report, tmp_path / "r.xlsx"))
    ws = wb["Rejects"]
    assert ws["I2"].value == str(broken)
    assert all(img.anchor._from.row + 1 != 2 for img in ws._images)
    assert len(ws._images) == 4  # rejects 2, 4, 6, 8 have readable images
