"""The parts a filter finds, written to CSV: one row per part, for Excel and pandas.

Streamed page by page (keyset paging, a short query each), so a selection of millions of parts
neither fills memory nor holds a read transaction the writer would wait behind. UTF-8 with a BOM
so Excel reads accents and codes right. Written to a temporary file and renamed at the end: a
cancelled or failed export leaves no half file behind.
"""

from __future__ import annotations

import csv
import threading
from datetime import datetime
from pathlib import Path

from inspection.errors import StorageError
from inspection.history.filters import PartFilter
from inspection.history.pages import PartRow, count_matches, find_parts
from inspection.jobs import Cancelled, ProgressFn
from inspection.paths import written_in_place
from inspection.storage.queries import open_reader

CHUNK = 5_000

CSV_COLUMNS = (
    "inspection_id",
    "part_number",
    "time",
    "production_day",
    "shift",
    "station",
    "verdict",
    "reason",
    "recipe_version",
    "lot",
    "codes",
    "image_path",
)
"""One column per fact of a part; none names a person (DESIGN §10)."""


def csv_values(row: PartRow) -> list[str | int]:
    """``row`` in ``CSV_COLUMNS`` order; the time as local ISO 8601, codes joined by " | "."""
    return [
        row.inspection_id,
        row.part_number,
        datetime.fromtimestamp(row.wall_time).isoformat(timespec="milliseconds"),
        row.production_day,
        row.shift,
        row.station,
        row.verdict.value,
        row.reason,
        row.recipe_version,
        row.lot,
        " | ".join(row.codes),
        row.image_path or "",
    ]


def export_csv(
    db_path: Path,
    f: PartFilter,
    out_path: Path,
    progress: ProgressFn,
    cancel: threading.Event,
) -> int:
    """Write every part matching ``f`` to ``out_path``, newest first; returns how many.

    A job function (``inspection.jobs``): reports progress per chunk, raises ``Cancelled`` when
    ``cancel`` is set, and StorageError naming the file when it cannot be written.
    """
    conn = open_reader(db_path)
    written = 0
    try:
        total, _ = count_matches(conn, f, limit=None)
        progress(0, total, "counting done")
        try:
            out_path.parent.mkdir(parents=True, exist_ok=True)
            with (
                written_in_place(out_path) as tmp,
                tmp.open("w", encoding="utf-8-sig", newline="") as fh,
            ):
                writer = csv.writer(fh)
                writer.writerow(CSV_COLUMNS)
                before: int | None = None
                while True:
                    if cancel.is_set():
                        raise Cancelled(f"CSV export to {out_path} cancelled")
                    page = find_parts(conn, f, before=before, limit=CHUNK)
                    writer.writerows(csv_values(r) for r in page.rows)
                    written += len(page.rows)
                    progress(written, max(total, written), f"{written:,} parts written")
                    if page.next_before is None:
                        break
                    before = page.next_before
        except OSError as exc:
            raise StorageError(f"{out_path}: cannot write the CSV export: {exc}") from exc
    finally:
        conn.close()
    return written
