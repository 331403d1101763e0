"""Labels from a CSV list (a downstream rework station's list of parts and what was wrong).

The file has a header row. Columns, in any order and case: the part (``inspection_id``,
``inspection``, ``inspection id`` or ``part``: the inspection id as Lineside shows and exports
it), ``label`` (defect, good, escape, unsure in any case; bad / NG mean defect, OK means good),
and optionally ``reason`` and ``tool`` (the tool whose finding the label judges). Comma,
semicolon or tab separated; UTF-8 with or without the byte-order mark Excel writes, else
Windows-1252 (Excel's "CSV" on a Western-European Windows).

All or nothing by default: when any line is wrong, nothing is stored and every wrong line is
listed, so a file read with the wrong columns never half-imports. ``partial=True`` stores the
good lines and still lists the wrong ones.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from inspection.errors import LinesideError
from inspection.storage.schema import open_writer
from inspection.tuning.labels import INSERT_LABEL, LabelError, parse_label

PART_COLUMNS = ("inspection_id", "inspection", "part")
MAX_ERRORS = 200  # a file of the wrong kind would otherwise list every one of its lines


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelImport:
    """What an import did. ``stored``: labels written (0 when refused); ``by_label``: stored
    labels per label word; ``errors``: "line 7: ..." messages, in file order (at most 200)."""

    file: str
    lines: int
    stored: int
    by_label: dict[str, int]
    errors: tuple[str, ...]
    errors_total: int

    @property
    def ok(self) -> bool:
        return not self.errors_total


def _text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _dialect(first_line: str) -> str:
    counts = {sep: first_line.count(sep) for sep in (";", ",", "\t")}
    return max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ","


def _header(names: list[str], file: str) -> tuple[int, int, int | None, int | None]:
    keys = [n.strip().lower().replace(" ", "_").replace("-", "_") for n in names]

    def find(*wanted: str) -> int | None:
        return next((i for i, k in enumerate(keys) if k in wanted), None)

    part, label = find(*PART_COLUMNS), find("label")
    if part is None or label is None:
        raise LinesideError(
            f"{file}: the first line must name the columns: a part column "
            f"({', '.join(PART_COLUMNS)}) and label (found: {', '.join(names) or 'nothing'})"
        )
    return part, label, find("reason"), find("tool")


def _cell(row: list[str], column: int | None) -> str:
    return row[column].strip() if column is not None and column < len(row) else ""


def import_labels_csv(
    db: Path, path: Path, *, partial: bool = False, who: str = "", at: float | None = None
) -> LabelImport:
    """Store the labels listed in the CSV file ``path``; see the module docstring for the file.

    Each label is stored with source ``import:<file name>``. Raises LinesideError when the file
    cannot be read or has no usable header; line errors are returned, not raised.
    """
    try:
        text = _text(path)
    except OSError as exc:
        raise LinesideError(f"{path}: cannot read the labels file: {exc}") from exc
    sep = _dialect(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    header = next(reader, None)
    if header is None:
        raise LinesideError(f"{path}: the labels file is empty")
    part_col, label_col, reason_col, tool_col = _header(header, path.name)
    wanted: list[tuple[int, str, str, str, str]] = []  # (line, part, label, reason, tool)
    errors: list[str] = []
    lines = 0
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        lines += 1
        line = reader.line_num
        part = _cell(row, part_col)
        if not part:
            errors.append(f"line {line}: no inspection id")
            continue
        try:
            label = parse_label(_cell(row, label_col)).value
        except LabelError as exc:
            errors.append(f"line {line}: {exc}")
            continue
        wanted.append((line, part, label, _cell(row, reason_col), _cell(row, tool_col)))
    when = time.time() if at is None else float(at)
    source = f"import:{path.name}"
    conn = open_writer(db)
    try:
        found = _rowids(conn, sorted({w[1] for w in wanted}))
        rows = []
        for line, part, label, reason, tool in wanted:
            if part not in found:
                errors.append(f"line {line}: no part with inspection id {part}")
                continue
            rows.append((found[part], tool, label, reason, when, who, source))
        errors.sort(key=lambda e: int(e.split(":", 1)[0].removeprefix("line ")))
        store = rows if (partial or not errors) else []
        if store:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(INSERT_LABEL, store)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
    finally:
        conn.close()
    return LabelImport(
        file=str(path),
        lines=lines,
        stored=len(store),
        by_label=dict(Counter(r[2] for r in store)),
        errors=tuple(errors[:MAX_ERRORS]),
        errors_total=len(errors),
    )


def _rowids(conn: sqlite3.Connection, inspection_ids: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for lo in range(0, len(inspection_ids), 500):  # under SQLite's host parameter limit
        chunk = inspection_ids[lo : lo + 500]
        marks = ",".join("?" * len(chunk))
        for rowid, text in conn.execute(
            f"SELECT id, inspection_id FROM inspections WHERE inspection_id IN ({marks})", chunk
        ):
            out[str(text)] = int(rowid)
    return out
