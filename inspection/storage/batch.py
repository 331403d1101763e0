"""One batch of parts written in one SQLite transaction, a savepoint per part.

Used only by the results store's writer thread, which owns the connection.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from inspection.storage.schema import (
    INSERT_CAMERA_INTERVAL,
    INSERT_EVENT,
    INSERT_INSPECTION,
    INSERT_PART_CODE,
    INSERT_TOOL_RESULT,
    codes_read,
    inspection_row,
    to_json,
    tool_result_row,
)
from inspection.storage.tool_measures import INSERT_TOOL_MEASURE, measure_rows
from inspection.types import Inspection

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Pending:
    """A submitted part waiting for the writer (mutable: the writer fills in what it did)."""

    inspection: Inspection
    image_path: str | None
    on_committed: Callable[[Inspection], None] | None
    archived: bool = False  # the archive step ran (never repeated when the batch is retried)
    rejected: bool = False  # set aside as malformed (reported once, skipped on retries)
    keep_image: bool = True  # the archive policy keeps this part's image (decided at submit)
    image_note: str | None = None  # why a kept part's image is not in the archive
    submitted_at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True, slots=True, kw_only=True)
class StationEvent:
    """Something that changed while the line ran, for a report's Changes sheet.

    ``kind``: recipe, threshold, teaching, batch, alarm, alarm_cleared, calendar, count_reset."""

    station: str
    wall_time: float
    kind: str
    text: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraInterval:
    """A camera's frames and drops over ``[start, end)`` (UNIX s), for its frame-rate trend."""

    station: str
    camera: str
    start: float
    end: float
    frames: int
    dropped: int


Attribution = Callable[[float], tuple[str, str]]
"""UNIX time → (production day, shift), from the shift calendar in force."""


def write_batch(
    conn: sqlite3.Connection,
    batch: list[Pending],
    run_id: str,
    *,
    attribute: Attribution | None = None,
    line: str = "",
    events: Sequence[StationEvent] = (),
    camera_intervals: Sequence[CameraInterval] = (),
) -> list[tuple[Pending, str]]:
    """Insert the batch (and ``events``, ``camera_intervals``) in one transaction; returns the
    parts newly rejected, with why.

    A part that cannot become a row, or breaks a constraint (duplicate id), is rejected alone:
    retrying it would block every part behind it. Any other sqlite3.Error rolls the whole batch
    back and propagates, so the caller can retry it unchanged. ``conn`` is in autocommit mode.
    """
    rejected: list[tuple[Pending, str]] = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        for event in events:
            conn.execute(
                INSERT_EVENT,
                (event.station, event.wall_time, event.kind, event.text, to_json(event.details)),
            )
        conn.executemany(
            INSERT_CAMERA_INTERVAL,
            [(c.station, c.camera, c.start, c.end, c.frames, c.dropped) for c in camera_intervals],
        )
        for item in batch:
            why = _insert(conn, item, run_id, attribute, line)
            if why:
                item.rejected = True
                rejected.append((item, why))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                log.exception("results store: rollback failed")
        raise
    return rejected


def _insert(
    conn: sqlite3.Connection,
    item: Pending,
    run_id: str,
    attribute: Attribution | None,
    line: str,
) -> str:
    if item.rejected:
        return ""
    insp = item.inspection
    try:
        stamp = attribute(float(insp.wall_time)) if attribute is not None else None
        row = inspection_row(
            insp, item.image_path, run_id, time.monotonic_ns(), stamp, line, item.image_note
        )
        tool_rows = [tool_result_row(0, r) for r in insp.tool_results]
        measures = [m for r in insp.tool_results for m in measure_rows(0, r)]
        codes = list(dict.fromkeys(c for r in insp.tool_results for c in codes_read(r)))
    except (TypeError, ValueError, AttributeError, OverflowError, OSError) as exc:
        return f"cannot be turned into a row: {exc}"
    conn.execute("SAVEPOINT part")
    try:
        rowid = conn.execute(INSERT_INSPECTION, row).lastrowid
        conn.executemany(INSERT_TOOL_RESULT, [(rowid, *r[1:]) for r in tool_rows])
        conn.executemany(INSERT_PART_CODE, [(rowid, c) for c in codes])
        conn.executemany(INSERT_TOOL_MEASURE, [(t, m, rowid, v) for t, m, _, v in measures])
    except sqlite3.IntegrityError as exc:
        conn.execute("ROLLBACK TO part")
        conn.execute("RELEASE part")
        return f"violates the schema: {exc}"
    conn.execute("RELEASE part")
    return ""
