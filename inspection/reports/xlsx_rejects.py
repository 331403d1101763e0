"""The Rejects sheet's rows, written straight as SpreadsheetML.

A day can have 40,000 rejects, 360,000 cells; openpyxl spends ~15 µs per cell serialising
them (5 s and more), which is too slow for an export at every shift end. So openpyxl writes
the Rejects sheet with its header, table, frozen pane, widths and thumbnails, and the data rows
and their hyperlinks are then spliced into the saved package here (~0.3 s). Only the parts of
the Office Open XML format that the sheet needs are written: inline strings, numbers, dates as
serials with openpyxl-registered styles, and external hyperlink relationships.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree
from xml.sax.saxutils import escape, quoteattr

from openpyxl.cell import WriteOnlyCell
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from inspection.reports.figures import ShiftReport
from inspection.reports.xlsx_cells import DATE_TIME_S, LINK_FONT, is_formula_like, safe_text

# Excel keeps at most 65,530 hyperlinks on a sheet; past that the path is plain text.
MAX_HYPERLINKS = 65_530
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_HYPERLINK_TYPE = _REL_NS + "/hyperlink"
# Elements that follow <hyperlinks> in a worksheet (schema order); hyperlinks go before the
# first of them that openpyxl wrote.
_AFTER_HYPERLINKS = (
    "<printOptions",
    "<pageMargins",
    "<pageSetup",
    "<headerFooter",
    "<drawing",
    "<tableParts",
)


@dataclass(frozen=True, slots=True)
class RejectStyles:
    """Style ids (cellXfs indexes) registered in the workbook for the spliced cells."""

    time: int
    text_as_text: int
    link: int

    @classmethod
    def register(cls, ws: WriteOnlyWorksheet) -> RejectStyles:
        time = WriteOnlyCell(ws)
        time.number_format = DATE_TIME_S
        quoted = WriteOnlyCell(ws)
        quoted.quotePrefix = True
        link = WriteOnlyCell(ws)
        link.font = LINK_FONT
        return cls(time.style_id, quoted.style_id, link.style_id)


@dataclass(frozen=True, slots=True)
class RejectRowsXml:
    """The <row> elements for rows 2.. and the hyperlinks to add (cell ref, target URI)."""

    rows: str
    hyperlinks: tuple[tuple[str, str], ...]


def _text(ref: str, value: str, styles: RejectStyles, style: int | None = None) -> str:
    value = safe_text(value)
    if not value:
        return ""
    if style is None and is_formula_like(value):
        style = styles.text_as_text
    s = f' s="{style}"' if style is not None else ""
    space = ' xml:space="preserve"' if value != value.strip() or "\n" in value else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{escape(value)}</t></is></c>'


def reject_rows_xml(
    report: ShiftReport, styles: RejectStyles, tall_rows: set[int], row_height: float
) -> RejectRowsXml:
    """Rows 2.. of the Rejects sheet, one per reject, in the columns of ``REJECT_COLUMNS``.

    ``tall_rows`` are the reject indexes that carry a thumbnail and get ``row_height`` pt."""
    parts: list[str] = []
    links: list[tuple[str, str]] = []
    for index, r in enumerate(report.rejects):
        n = index + 2
        height = f' ht="{row_height}" customHeight="1"' if index in tall_rows else ""
        serial = to_excel(report.local(r.wall_time))
        cells = [
            f'<row r="{n}"{height}>',
            f'<c r="A{n}"><v>{int(r.part_number)}</v></c>',
            f'<c r="B{n}" s="{styles.time}"><v>{serial!r}</v></c>',
            _text(f"C{n}", r.verdict, styles),
            _text(f"D{n}", r.reason, styles),
            _text(f"E{n}", r.codes, styles),
            _text(f"F{n}", r.lot, styles),
            _text(f"G{n}", r.recipe_version, styles),
            _text(f"H{n}", r.inspection_id, styles),
        ]
        if r.image_path:
            path = Path(r.image_path)
            linked = len(links) < MAX_HYPERLINKS and (index in tall_rows or path.is_file())
            if linked:
                links.append((f"I{n}", path.absolute().as_uri()))
            cells.append(_text(f"I{n}", r.image_path, styles, styles.link if linked else None))
        cells.append("</row>")
        parts.append("".join(cells))
    return RejectRowsXml("".join(parts), tuple(links))


def _sheet_part(package: zipfile.ZipFile, title: str) -> str:
    """The package path of the worksheet called ``title``."""
    workbook = ElementTree.fromstring(package.read("xl/workbook.xml"))
    rel_id = None
    for sheet in workbook.iter(f"{{{_MAIN_NS}}}sheet"):
        if sheet.get("name") == title:
            rel_id = sheet.get(f"{{{_REL_NS}}}id")
    rels = ElementTree.fromstring(package.read("xl/_rels/workbook.xml.rels"))
    for rel in rels.iter(f"{{{_PKG_REL_NS}}}Relationship"):
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    raise ValueError(f"xlsx: no worksheet named {title!r} in the written workbook")


def _with_rows(sheet_xml: str, rows: RejectRowsXml) -> str:
    end = sheet_xml.find("</sheetData>")
    if end < 0:
        raise ValueError("xlsx: the Rejects sheet has no <sheetData> to add rows to")
    sheet_xml = sheet_xml[:end] + rows.rows + sheet_xml[end:]
    if not rows.hyperlinks:
        return sheet_xml
    links = "".join(
        f'<hyperlink ref="{ref}" r:id="rIdLink{i}"/>'
        for i, (ref, _) in enumerate(rows.hyperlinks, 1)
    )
    block = f'<hyperlinks xmlns:r="{_REL_NS}">{links}</hyperlinks>'
    at = min((i for i in (sheet_xml.find(tag) for tag in _AFTER_HYPERLINKS) if i >= 0), default=-1)
    if at < 0:
        at = sheet_xml.rfind("</worksheet>")
    return sheet_xml[:at] + block + sheet_xml[at:]


def _with_links(rels_xml: str | None, links: Sequence[tuple[str, str]]) -> str:
    entries = "".join(
        f'<Relationship Id="rIdLink{i}" Type="{_HYPERLINK_TYPE}" Target={quoteattr(target)} TargetMode="External"/>'
        for i, (_, target) in enumerate(links, 1)
    )
    if rels_xml is None:
        return f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG_REL_NS}">{entries}</Relationships>'
    end = rels_xml.rfind("</Relationships>")
    if end < 0:
        raise ValueError("xlsx: the Rejects sheet's relationships are not readable")
    return rels_xml[:end] + entries + rels_xml[end:]


def splice_rejects(workbook: bytes, title: str, rows: RejectRowsXml, out: Path) -> None:
    """Copy the saved ``workbook`` package to ``out`` with ``rows`` added to sheet ``title``."""
    with zipfile.ZipFile(io.BytesIO(workbook)) as src:
        sheet = _sheet_part(src, title)
        posix = PurePosixPath(sheet)
        rels = str(posix.parent / "_rels" / f"{posix.name}.rels")
        names = src.namelist()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as dst:
            for name in names:
                data = src.read(name)
                if name == sheet:
                    data = _with_rows(data.decode("utf-8"), rows).encode("utf-8")
                elif name == rels and rows.hyperlinks:
                    data = _with_links(data.decode("utf-8"), rows.hyperlinks).encode("utf-8")
                dst.writestr(name, data)
            if rows.hyperlinks and rels not in names:
                dst.writestr(rels, _with_links(None, rows.hyperlinks).encode("utf-8"))
