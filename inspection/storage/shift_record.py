"""What a restarted station takes back from its records: part numbers, the shift's counts, serials.

A station must never hand out a part number twice, and a restart of the application (or of the
station after a recipe or camera change) must not zero the operator's counts nor forget the
serials already seen in the shift. All of it is read back from the results database here, with a
read-only connection of the caller's own. The start of a new count (the operator's "new shift
count") is one row in ``count_starts``; ``write_count_start`` adds it.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from inspection.errors import StorageError
from inspection.storage.queries import open_reader
from inspection.storage.schema import INSERT_COUNT_START, open_writer

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftRecord:
    """One station's state as recorded: where its numbering and its current count stand."""

    next_part: int = 0
    """One past the highest part number recorded for the station (0: none recorded)."""
    first_part: int = 0
    """First part number of the current count (0 when the count was never restarted)."""
    count_started: float = 0.0
    """UNIX time (s) the current count was started (0.0: never)."""
    passed: int = 0
    failed: int = 0
    errors: int = 0
    last_part: int = -1
    """Highest part number counted in the current count (-1: none)."""
    serials: tuple[tuple[str, str, int], ...] = ()
    """(tool id, key, part number) of every unique key seen in the current count, in part order."""
    last_simulated_part: int | None = None
    """Highest simulated-line part index recorded for the station (ground truth), if any."""

    @property
    def parts(self) -> int:
        return self.passed + self.failed + self.errors


def read_shift_record(db_path: Path, station: str) -> ShiftRecord:
    """The station's record in ``db_path``; an empty record when the database does not exist yet.

    Raises StorageError when the database exists but cannot be read.
    """
    if not Path(db_path).is_file():
        return ShiftRecord()
    conn = open_reader(db_path)
    try:
        return _read(conn, station)
    except sqlite3.Error as exc:
        raise StorageError(f"{db_path}: cannot read station {station!r}'s record: {exc}") from exc
    finally:
        conn.close()


def _read(conn: sqlite3.Connection, station: str) -> ShiftRecord:
    # Every query below is answered from the (station, part_seq) index: see EXPLAIN QUERY PLAN
    # in the tests; a restart stays quick on a database of millions of parts.
    (top,) = conn.execute(
        "SELECT MAX(part_seq) FROM inspections WHERE station = ?", (station,)
    ).fetchone()
    start = conn.execute(
        "SELECT first_part, wall_time FROM count_starts WHERE station = ? ORDER BY id DESC LIMIT 1",
        (station,),
    ).fetchone()
    first_part, started = (int(start[0]), float(start[1])) if start is not None else (0, 0.0)
    by_verdict = dict.fromkeys(("PASS", "FAIL", "ERROR"), 0)
    for verdict, n in conn.execute(
        "SELECT verdict, COUNT(*) FROM inspections WHERE station = ? AND part_seq >= ? "
        "GROUP BY verdict",
        (station, first_part),
    ):
        by_verdict[str(verdict)] = int(n)
    serials: list[tuple[str, str, int]] = []
    for part_seq, tool_id, keys in conn.execute(
        "SELECT i.part_seq, t.tool_id, t.unique_keys FROM inspections i "
        "JOIN tool_results t ON t.inspection = i.id "
        "WHERE i.station = ? AND i.part_seq >= ? AND t.unique_keys != '[]' "
        "ORDER BY i.part_seq, t.id",
        (station, first_part),
    ):
        for key in json.loads(keys):
            serials.append((str(tool_id), str(key), int(part_seq)))
    truth = conn.execute(
        "SELECT truth FROM inspections WHERE station = ? AND truth IS NOT NULL "
        "ORDER BY part_seq DESC LIMIT 1",
        (station,),
    ).fetchone()
    last_simulated = None
    if truth is not None:
        index = json.loads(truth[0]).get("part_index")
        last_simulated = int(index) if isinstance(index, int) else None
    # a count with parts in it ends at the station's highest part number
    last_counted = int(top) if sum(by_verdict.values()) else -1
    return ShiftRecord(
        next_part=max(int(top) + 1 if top is not None else 0, first_part),
        first_part=first_part,
        count_started=started,
        passed=by_verdict["PASS"],
        failed=by_verdict["FAIL"],
        errors=by_verdict["ERROR"],
        last_part=last_counted,
        serials=tuple(serials),
        last_simulated_part=last_simulated,
    )


def write_count_start(
    db_path: Path,
    station: str,
    first_part: int,
    *,
    reason: str,
    wall_time: float | None = None,
    busy_timeout_s: float = 5.0,
) -> None:
    """Record that the station's count starts again at part ``first_part``.

    Its own short connection: the boundary is a part number, not a moment, so it needs no
    ordering with the results writer's queue. Raises StorageError when it cannot be written.
    """
    when = time.time() if wall_time is None else wall_time
    conn = open_writer(db_path, busy_timeout_s)
    try:
        conn.execute(INSERT_COUNT_START, (station, int(first_part), float(when), reason))
    except sqlite3.Error as exc:
        raise StorageError(f"{db_path}: the new count could not be recorded: {exc}") from exc
    finally:
        conn.close()
    log.info("station %s: count starts again at part %d (%s)", station, first_part, reason)
