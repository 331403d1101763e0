"""The inspection ids (``run1-00042``) of the parts behind a chart's points, by their row ids."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from inspection.storage.queries import open_reader

_CHUNK = 900  # ids per query: under SQLite's oldest limit of 999 parameters


def inspection_ids(db: Path, row_ids: Iterable[int]) -> dict[int, str]:
    """``inspections.id`` → ``inspection_id`` for the given row ids (negative ids, which mark
    points with no single part, and ids not in the database are left out)."""
    wanted = sorted({int(i) for i in row_ids if int(i) >= 0})
    found: dict[int, str] = {}
    if not wanted:
        return found
    conn = open_reader(db)
    try:
        for first in range(0, len(wanted), _CHUNK):
            chunk = wanted[first : first + _CHUNK]
            rows = conn.execute(
                f"SELECT id, inspection_id FROM inspections WHERE id IN "
                f"({', '.join('?' * len(chunk))})",
                chunk,
            )
            found.update((int(row_id), str(name)) for row_id, name in rows)
    finally:
        conn.close()
    return found
