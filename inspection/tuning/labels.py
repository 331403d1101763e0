"""An engineer's labels on recorded parts: defect, good, escape, unsure.

Labels live in ``part_labels`` (schema v8) and never alter an inspection row. A label is never
updated in place: labelling a part again adds a row, the newest row wins and the older ones stay
as its history. A label may judge one tool's finding (``tool``) or the part as a whole
(``tool=""``); when a tool is tuned, the newest label that is either its own or the part's counts.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from inspection.errors import LinesideError
from inspection.storage.queries import open_reader
from inspection.storage.schema import open_writer


class LabelError(LinesideError):
    """A label that cannot be stored: unknown label word or unknown part."""


class Label(StrEnum):
    """What the engineer says about a recorded part."""

    DEFECT = "defect"
    """Rejected, and rightly so (a correct reject)."""
    GOOD = "good"
    """A good part (when it was rejected: a false reject)."""
    ESCAPE = "escape"
    """Passed, but bad: found downstream."""
    UNSURE = "unsure"


# Small integer codes for label arrays (``ToolScores.label``); 0 = no label.
UNLABELLED = 0
LABEL_CODES: dict[Label, int] = {Label.GOOD: 1, Label.DEFECT: 2, Label.ESCAPE: 3, Label.UNSURE: 4}
GOOD_CODES = (1,)
BAD_CODES = (2, 3)
"""Defect and escape both mean "a bad part": the threshold should reject it."""

_SYNONYMS = {"bad": Label.DEFECT, "ng": Label.DEFECT, "ok": Label.GOOD}
LABEL_WORDS = ", ".join(label.value for label in Label)


def parse_label(text: str) -> Label:
    """``text`` as a Label: the four words in any case, plus bad / NG (defect) and OK (good)."""
    word = text.strip().lower()
    if word in _SYNONYMS:
        return _SYNONYMS[word]
    try:
        return Label(word)
    except ValueError:
        raise LabelError(f"unknown label {text.strip()!r}; labels are {LABEL_WORDS}") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class PartLabel:
    """One stored label. ``inspection`` is the part's row id, ``inspection_id`` its text id;
    ``labelled_at`` UNIX seconds; ``who`` is '' until users exist."""

    id: int
    inspection: int
    inspection_id: str
    tool: str
    label: Label
    reason: str
    labelled_at: float
    who: str
    source: str


_COLUMNS = (
    "l.id, l.inspection, i.inspection_id, l.tool, l.label, l.reason, l.labelled_at, l.who, l.source"
)
INSERT_LABEL = (
    "INSERT INTO part_labels (inspection, tool, label, reason, labelled_at, who, source) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def _from_row(r: Any) -> PartLabel:
    return PartLabel(
        id=int(r[0]),
        inspection=int(r[1]),
        inspection_id=str(r[2]),
        tool=str(r[3]),
        label=Label(str(r[4])),
        reason=str(r[5]),
        labelled_at=float(r[6]),
        who=str(r[7]),
        source=str(r[8]),
    )


def resolve_part(conn: sqlite3.Connection, part: int | str) -> tuple[int, str]:
    """(row id, inspection id) of ``part``: an int is the row id, a str the inspection id."""
    if isinstance(part, int):
        row = conn.execute("SELECT id, inspection_id FROM inspections WHERE id = ?", (part,))
    else:
        row = conn.execute(
            "SELECT id, inspection_id FROM inspections WHERE inspection_id = ?", (part.strip(),)
        )
    found = row.fetchone()
    if found is None:
        what = f"row id {part}" if isinstance(part, int) else f"inspection id {part!r}"
        raise LabelError(f"no part with {what}")
    return int(found[0]), str(found[1])


def set_label(
    db: Path,
    part: int | str,
    label: Label | str,
    reason: str = "",
    *,
    tool: str = "",
    who: str = "",
    source: str = "review",
    at: float | None = None,
) -> PartLabel:
    """Label one part (its row id, or its inspection id as text); returns the stored label.

    ``at``: UNIX seconds (default now). Adds a row; earlier labels of the part stay as history.
    Raises LabelError for an unknown label word or part.
    """
    word = label if isinstance(label, Label) else parse_label(label)
    when = time.time() if at is None else float(at)
    conn = open_writer(db)
    try:
        rowid, inspection_id = resolve_part(conn, part)
        cursor = conn.execute(
            INSERT_LABEL, (rowid, tool.strip(), word.value, reason.strip(), when, who, source)
        )
        return PartLabel(
            id=int(cursor.lastrowid or 0),
            inspection=rowid,
            inspection_id=inspection_id,
            tool=tool.strip(),
            label=word,
            reason=reason.strip(),
            labelled_at=when,
            who=who,
            source=source,
        )
    finally:
        conn.close()


def withdraw_label(db: Path, label_id: int) -> None:
    """Take back a label just given by mistake (the review page's Undo): its row goes, so the
    part's label in force is again exactly what it was before (an earlier label, or none).

    Only the newest label of its part and tool may go: a label that a later one already
    replaced is history and stays. Raises LabelError when the row is gone or not the newest.
    """
    conn = open_writer(db)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute(
                "SELECT inspection, tool FROM part_labels WHERE id = ?", (int(label_id),)
            ).fetchone()
            if row is None:
                raise LabelError(f"no label with id {label_id} to take back")
            newer = conn.execute(
                "SELECT 1 FROM part_labels WHERE inspection = ? AND tool = ? AND id > ?",
                (row[0], row[1], int(label_id)),
            ).fetchone()
            if newer is not None:
                raise LabelError(f"label {label_id} was replaced by a newer one; it stays")
            conn.execute("DELETE FROM part_labels WHERE id = ?", (int(label_id),))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()


def labels_for(db: Path, parts: Iterable[int], *, tool: str | None = None) -> dict[int, PartLabel]:
    """The label in force on each of ``parts`` (row ids) that has one.

    ``tool=None``: the newest label of any kind; ``tool="surface"``: the newest that is the
    surface tool's own or the part's as a whole (what tuning that tool counts).
    """
    conn = open_reader(db)
    try:
        return newest_labels(conn, list(parts), tool=tool)
    finally:
        conn.close()


def newest_labels(
    conn: sqlite3.Connection, parts: Sequence[int], *, tool: str | None = None
) -> dict[int, PartLabel]:
    """``labels_for`` on an open connection."""
    out: dict[int, PartLabel] = {}
    for lo in range(0, len(parts), 500):  # under SQLite's host parameter limit
        chunk = [int(p) for p in parts[lo : lo + 500]]
        marks = ",".join("?" * len(chunk))
        only, params = ("", ()) if tool is None else (" AND l.tool IN ('', ?)", (tool,))
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM part_labels l JOIN inspections i ON i.id = l.inspection "
            f"WHERE l.inspection IN ({marks}){only} ORDER BY l.inspection, l.id",
            (*chunk, *params),
        )
        for r in rows:
            out[int(r[1])] = _from_row(r)  # id order: the newest comes last and wins
    return out


def label_history(db: Path, part: int | str) -> list[PartLabel]:
    """Every label a part was given, oldest first (row id or inspection id)."""
    conn = open_reader(db)
    try:
        rowid, _ = resolve_part(conn, part)
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM part_labels l JOIN inspections i ON i.id = l.inspection "
            "WHERE l.inspection = ? ORDER BY l.id",
            (rowid,),
        ).fetchall()
    finally:
        conn.close()
    return [_from_row(r) for r in rows]


def label_codes_in_range(
    conn: sqlite3.Connection, part_ids: np.ndarray, lo: int, hi: int, tool: str
) -> np.ndarray:
    """The label code in force (``LABEL_CODES``, 0 = none) for each of ``part_ids`` (int64,
    ascending, all within ``lo``..``hi``) as tuning ``tool`` counts them; int8, same shape."""
    codes = np.zeros(part_ids.shape, dtype=np.int8)
    word_code = {label.value: code for label, code in LABEL_CODES.items()}
    rows = conn.execute(
        "SELECT inspection, label FROM part_labels WHERE inspection BETWEEN ? AND ? "
        "AND tool IN ('', ?) ORDER BY inspection, id",
        (int(lo), int(hi), tool),
    ).fetchall()
    if not rows or not len(part_ids):
        return codes
    parts = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    values = np.fromiter((word_code[r[1]] for r in rows), dtype=np.int8, count=len(rows))
    # newest per part: the last row of each run of equal parts (rows are in (part, id) order)
    last = np.r_[parts[1:] != parts[:-1], True]
    parts, values = parts[last], values[last]
    at = np.searchsorted(part_ids, parts)
    inside = at < len(part_ids)
    inside[inside] = part_ids[at[inside]] == parts[inside]
    codes[at[inside]] = values[inside]
    return codes
