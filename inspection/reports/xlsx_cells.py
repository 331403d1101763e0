"""Cells and tables for the xlsx writer, in openpyxl's write-only mode.

Write-only mode streams rows to disk, which is what keeps a day of 40,000 rejects fast; its
price is that a sheet's column widths and frozen panes are written before the first row, and a
row's height before that row. So every sheet here is planned first (columns, widths) and then
streamed with ``SheetCursor``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

DATE_TIME = "yyyy-mm-dd hh:mm"
DATE_TIME_S = "yyyy-mm-dd hh:mm:ss"
PERCENT = "0.0%"
DECIMAL = "0.000"
MINUTES = "0.0"
INTEGER = "0"

# What Excel refuses inside a cell (openpyxl raises IllegalCharacterError for the first set):
# the C0 control characters except tab, line feed and carriage return; and what XML or UTF-8
# cannot carry (lone surrogates, U+FFFE, U+FFFF).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# A cell whose text starts with one of these would be taken for a formula when typed or
# pasted: reasons and codes come from the line and barcodes, so they are never trusted.
_FORMULA_START = ("=", "+", "-", "@")
_MAX_CELL_TEXT = 32_767

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="305496")
TITLE_FONT = Font(bold=True, size=14)
NOTICE_FONT = Font(bold=True, size=12, color="C00000")
SECTION_FONT = Font(bold=True, size=12)
LINK_FONT = Font(color="0563C1", underline="single")


class Fmt(NamedTuple):
    """A value with its own number format (where a column mixes formats, as on Summary)."""

    value: object
    number_format: str


@dataclass(frozen=True, slots=True)
class Column:
    """One table column: header text, default width (characters), number format."""

    header: str
    width: float = 12.0
    number_format: str | None = None
    max_width: float = 60.0


def safe_text(text: str) -> str:
    """``text`` without the characters Excel rejects, cut to Excel's cell limit."""
    cleaned = _ILLEGAL.sub("", text)
    return cleaned[:_MAX_CELL_TEXT]


def is_formula_like(text: str) -> bool:
    return text.startswith(_FORMULA_START)


def fit_widths(columns: Sequence[Column], sample: Iterable[Sequence[object]]) -> list[float]:
    """Column widths from the headers and a sample of rows (text length, capped)."""
    widths = [max(c.width, len(c.header) + 2.0) for c in columns]
    for row in sample:
        for i, value in enumerate(row[: len(columns)]):
            if isinstance(value, Fmt):
                value = value.value
            if isinstance(value, str):
                widths[i] = max(widths[i], min(len(value) + 2.0, columns[i].max_width))
    return widths


def new_sheet(
    wb: Workbook, title: str, widths: Sequence[float], freeze: str | None
) -> WriteOnlyWorksheet:
    """A write-only sheet whose widths and frozen panes are set before any row is written."""
    ws = wb.create_sheet(title)
    assert isinstance(ws, WriteOnlyWorksheet)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    if freeze:
        ws.freeze_panes = freeze
    return ws


class SheetCursor:
    """Appends rows to a write-only sheet and knows which row comes next (1-based)."""

    def __init__(self, ws: WriteOnlyWorksheet) -> None:
        self.ws = ws
        self.next_row = 1

    def cell(self, value: object, number_format: str | None = None) -> object:
        """``value`` as something ``ws.append`` takes: plain where it can, a styled cell where
        it must be (a number format, or text that must stay text)."""
        if isinstance(value, Fmt):
            fmt = value
            value, number_format = fmt.value, fmt.number_format
        if isinstance(value, str):
            value = safe_text(value)
            if is_formula_like(value):
                cell = WriteOnlyCell(self.ws, value)
                # Stored as a string, never a formula; the quote prefix keeps it text when
                # someone edits the cell in Excel.
                cell.data_type = "s"
                cell.quotePrefix = True
                return cell
            return value
        if value is None or number_format is None:
            return value
        cell = WriteOnlyCell(self.ws, value)
        cell.number_format = number_format
        return cell

    def styled(
        self, value: object, font: Font | None = None, fill: PatternFill | None = None
    ) -> object:
        cell = self.cell(value)
        if not isinstance(cell, Cell):
            cell = WriteOnlyCell(self.ws, cell)
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill
        return cell

    def append(self, values: Sequence[object], height: float | None = None) -> int:
        """Write one row (values already cells or plain); returns its row number."""
        row = self.next_row
        if height is not None:
            self.ws.row_dimensions[row].height = height
        self.ws.append(list(values))
        self.next_row += 1
        return row

    def text_row(self, text: str, font: Font | None = None) -> int:
        return self.append([self.styled(text, font)])

    def blank(self) -> None:
        self.append([])

    def header(self, columns: Sequence[Column]) -> int:
        cells = []
        for c in columns:
            cell = WriteOnlyCell(self.ws, safe_text(c.header))
            cell.font = HEADER_FONT
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(wrap_text=False)
            cells.append(cell)
        return self.append(cells)


class TableRange(NamedTuple):
    """Where a table landed: header row, first and last data row (last < first: no data)."""

    header_row: int
    first_row: int
    last_row: int

    @property
    def has_rows(self) -> bool:
        return self.last_row >= self.first_row


def add_table(
    cursor: SheetCursor, name: str, columns: Sequence[Column], header_row: int, last_row: int
) -> None:
    """Register rows ``header_row..last_row`` as an Excel Table named ``name`` (with filter).

    Excel wants at least one data row under a table's header, so an empty table keeps one
    blank row (which the caller has written)."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,254}", name):
        raise ValueError(f"xlsx: invalid table name {name!r}")
    last = max(last_row, header_row + 1)
    ref = f"A{header_row}:{get_column_letter(len(columns))}{last}"
    table = Table(
        displayName=name,
        name=name,
        ref=ref,
        autoFilter=AutoFilter(ref=ref),
        tableColumns=[
            TableColumn(id=i, name=safe_text(c.header)) for i, c in enumerate(columns, 1)
        ],
        tableStyleInfo=TableStyleInfo(name="TableStyleLight9", showRowStripes=True),
    )
    with warnings.catch_warnings():
        # openpyxl warns that write-only tables need their columns set by hand: they are, above.
        warnings.filterwarnings("ignore", "In write-only mode you must add table columns manually")
        cursor.ws.add_table(table)


def write_table(
    cursor: SheetCursor, name: str, columns: Sequence[Column], rows: Iterable[Sequence[object]]
) -> TableRange:
    """Header, rows (formatted per column), Excel Table over them; where it landed."""
    header_row = cursor.header(columns)
    formats = [c.number_format for c in columns]
    last = header_row
    for values in rows:
        last = cursor.append([cursor.cell(v, f) for v, f in zip(values, formats, strict=False)])
    if last == header_row:
        cursor.blank()
    add_table(cursor, name, columns, header_row, last)
    return TableRange(header_row, header_row + 1, last)
