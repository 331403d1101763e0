"""The results database's schema, its forward-only migrations, and how records become rows.

The version lives in ``PRAGMA user_version``. Each step in ``MIGRATIONS`` takes a database from
version N to N + 1 inside one transaction, so a crash mid-migration leaves the old version intact.
A database written by a newer Lineside is refused rather than guessed at.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

from inspection.errors import StorageError
from inspection.part_codes import codes_read as codes_read  # re-exported: its earlier home
from inspection.recipe.station import ShiftCalendar
from inspection.storage.tool_measures import create_tool_measures
from inspection.types import Inspection, Timing, ToolResult

log = logging.getLogger(__name__)

Migration = Callable[[sqlite3.Connection], None]


def _v1_tables(conn: sqlite3.Connection) -> None:
    # Timings are ms relative to capture (NULL = stage not reached); the raw capture stamp is
    # monotonic ns, only comparable within one run_id.
    conn.execute(
        """
        CREATE TABLE inspections (
            id INTEGER PRIMARY KEY,
            inspection_id TEXT NOT NULL UNIQUE,
            station TEXT NOT NULL,
            part_seq INTEGER NOT NULL,
            verdict TEXT NOT NULL CHECK (verdict IN ('PASS', 'FAIL', 'ERROR')),
            reason TEXT NOT NULL DEFAULT '',
            recipe_name TEXT NOT NULL,
            recipe_version TEXT NOT NULL,
            model_hashes TEXT NOT NULL DEFAULT '{}',
            wall_time REAL NOT NULL,
            captured_ns INTEGER,
            queued_ms REAL,
            started_ms REAL,
            decided_ms REAL,
            dispatched_ms REAL,
            truth TEXT,
            image_path TEXT,
            run_id TEXT NOT NULL
        )
        """
    )
    conn.execute(
        """
        CREATE TABLE tool_results (
            id INTEGER PRIMARY KEY,
            inspection INTEGER NOT NULL REFERENCES inspections(id) ON DELETE CASCADE,
            tool_id TEXT NOT NULL,
            tool_type TEXT NOT NULL,
            verdict TEXT NOT NULL CHECK (verdict IN ('PASS', 'FAIL', 'ERROR')),
            reason TEXT NOT NULL DEFAULT '',
            measurements TEXT NOT NULL DEFAULT '{}',
            details TEXT NOT NULL DEFAULT '{}',
            duration_ms REAL
        )
        """
    )
    conn.execute("CREATE INDEX inspections_wall_time ON inspections(wall_time)")
    conn.execute("CREATE INDEX inspections_verdict ON inspections(verdict)")
    conn.execute("CREATE INDEX tool_results_inspection ON tool_results(inspection)")


def _v2_stored_ms(conn: sqlite3.Connection) -> None:
    # DESIGN §3 asks for the "stored" stamp too: capture → row written by the storage writer.
    conn.execute("ALTER TABLE inspections ADD COLUMN stored_ms REAL")
    conn.execute("CREATE INDEX inspections_station_seq ON inspections(station, part_seq)")


def _v3_shift_record(conn: sqlite3.Connection) -> None:
    # A restarted station goes on where it stopped: its part numbers, the counts of the shift and
    # the serials already seen in it (unique_keys) all come back from here.
    conn.execute("ALTER TABLE tool_results ADD COLUMN unique_keys TEXT NOT NULL DEFAULT '[]'")
    conn.execute(
        """
        CREATE TABLE count_starts (
            id INTEGER PRIMARY KEY,
            station TEXT NOT NULL,
            first_part INTEGER NOT NULL,
            wall_time REAL NOT NULL,
            reason TEXT NOT NULL DEFAULT ''
        )
        """
    )
    conn.execute("CREATE INDEX count_starts_station ON count_starts(station, id)")


def _v4_history(conn: sqlite3.Connection) -> None:
    # Reports and the History page. Each part is stamped with its production day and shift when
    # it is recorded (a later calendar change never moves it), its line and lot; each tool result
    # with its headline score and the threshold in force, so a shift's statistics need no JSON.
    for column in (
        "production_day TEXT",
        "shift TEXT",
        "line TEXT NOT NULL DEFAULT ''",
        "lot TEXT NOT NULL DEFAULT ''",
    ):
        conn.execute(f"ALTER TABLE inspections ADD COLUMN {column}")
    conn.execute("ALTER TABLE tool_results ADD COLUMN score REAL")
    conn.execute("ALTER TABLE tool_results ADD COLUMN threshold REAL")
    conn.execute("CREATE INDEX inspections_shift ON inspections(production_day, shift)")
    conn.execute("CREATE INDEX inspections_lot ON inspections(lot)")
    # History: one shift's rejects in id order without sorting the shift; a part number typed
    # in without its station; a recipe version's parts; a tool's rejects (a partial index:
    # passes are most rows).
    conn.execute(
        "CREATE INDEX inspections_shift_verdict ON inspections(production_day, shift, verdict)"
    )
    conn.execute("CREATE INDEX inspections_part_seq ON inspections(part_seq)")
    conn.execute("CREATE INDEX inspections_recipe_version ON inspections(recipe_version)")
    conn.execute(
        "CREATE INDEX tool_results_not_passed ON tool_results(tool_id, inspection) "
        "WHERE verdict <> 'PASS'"
    )
    # Codes read on a part, one row each, so a serial is found without reading every part.
    conn.execute(
        """
        CREATE TABLE part_codes (
            inspection INTEGER NOT NULL REFERENCES inspections(id) ON DELETE CASCADE,
            code TEXT NOT NULL
        )
        """
    )
    conn.execute("CREATE INDEX part_codes_code ON part_codes(code)")
    conn.execute("CREATE INDEX part_codes_inspection ON part_codes(inspection)")
    # What changed while the line ran: recipe versions, thresholds, teaching, batches, alarms.
    conn.execute(
        """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            station TEXT NOT NULL,
            wall_time REAL NOT NULL,
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            details TEXT NOT NULL DEFAULT '{}'
        )
        """
    )
    conn.execute("CREATE INDEX events_time ON events(wall_time)")


def _v5_report_indexes(conn: sqlite3.Connection) -> None:
    # Covering indexes for reports: a tool's counts, scores and thresholds over a period are read
    # from its own slice of this index, never from the wide tool_results rows (which carry the
    # JSON measurements): a day's per-tool figures went from ~5 s to ~1.5 s on 864,000 parts.
    # The parts CSV's pivot of each part's tool results is a seek into it too.
    conn.execute(
        "CREATE INDEX tool_results_scores ON tool_results"
        "(tool_id, inspection, verdict, score, threshold, tool_type)"
    )
    # A part's codes straight from the index (the parts CSV reads them for every part);
    # it replaces the narrower part_codes_inspection, which it covers.
    conn.execute("CREATE INDEX part_codes_inspection_code ON part_codes(inspection, code)")
    conn.execute("DROP INDEX part_codes_inspection")


def _v6_control_limits(conn: sqlite3.Connection) -> None:
    # Trends: control limits an engineer set from a baseline, kept with the recipe version they
    # belong to. Never updated in place: a new baseline is a new row and the newest row of a
    # (recipe, version, series) wins, so the limits a past chart was judged by stay on record.
    conn.execute(
        """
        CREATE TABLE control_limits (
            id INTEGER PRIMARY KEY,
            recipe_name TEXT NOT NULL,
            recipe_version TEXT NOT NULL,
            series TEXT NOT NULL,
            chart TEXT NOT NULL CHECK (chart IN ('individuals', 'xbar', 'p')),
            centre REAL NOT NULL,
            ucl REAL NOT NULL,
            lcl REAL NOT NULL,
            sigma REAL NOT NULL,
            subgroup INTEGER NOT NULL DEFAULT 1,
            range_centre REAL,
            range_ucl REAL,
            range_lcl REAL,
            baseline_from REAL NOT NULL,
            baseline_to REAL NOT NULL,
            baseline_n INTEGER NOT NULL,
            baseline TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL
        )
        """
    )
    conn.execute(
        "CREATE INDEX control_limits_key ON control_limits(recipe_name, recipe_version, series, id)"
    )


def _v7_tool_measures(conn: sqlite3.Connection) -> None:
    # Trends: each per-part tool measure (label offset, print contrast, decode attempts...) as a
    # number of its own, so a day of one measure is an index range, not 864,000 JSON documents
    # parsed (tool_measures.py says which keys). Existing parts are filled in, in SQL.
    create_tool_measures(conn)
    # Station series: each camera's frames and drops per interval (a minute), for its frame
    # rate and drop trends. Wall-clock seconds; end - start is the time the frames came in.
    conn.execute(
        """
        CREATE TABLE camera_intervals (
            station TEXT NOT NULL,
            camera TEXT NOT NULL,
            start REAL NOT NULL,
            end REAL NOT NULL,
            frames INTEGER NOT NULL,
            dropped INTEGER NOT NULL
        )
        """
    )
    conn.execute("CREATE INDEX camera_intervals_camera ON camera_intervals(camera, start)")


def _v8_part_labels(conn: sqlite3.Connection) -> None:
    # Tuning: an engineer's judgement of a recorded part (defect, good, escape, unsure), in a
    # table of its own so a label never alters the inspection record. Never updated in place:
    # the newest row of a (part, tool) wins and the older ones stay as its history. ``tool`` is
    # the tool whose finding the label judges ('' = the part as a whole). ``who`` stays '' until
    # users exist; ``source`` says where it came from ('review', 'import:<file name>').
    conn.execute(
        """
        CREATE TABLE part_labels (
            id INTEGER PRIMARY KEY,
            inspection INTEGER NOT NULL REFERENCES inspections(id) ON DELETE CASCADE,
            tool TEXT NOT NULL DEFAULT '',
            label TEXT NOT NULL CHECK (label IN ('defect', 'good', 'escape', 'unsure')),
            reason TEXT NOT NULL DEFAULT '',
            labelled_at REAL NOT NULL,
            who TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL DEFAULT 'review'
        )
        """
    )
    # The labels of a range of parts (a shift's ids) in part order, newest last.
    conn.execute("CREATE INDEX part_labels_inspection ON part_labels(inspection, id)")


def _v9_interval_index(conn: sqlite3.Connection) -> None:
    # Trends: yield, ERROR rate and fails per interval of a day are one index range (time,
    # verdict, station) instead of a look-up of each part's wide row.
    conn.execute(
        "CREATE INDEX inspections_time_verdict ON inspections(wall_time, verdict, station)"
    )


def _v10_image_note(conn: sqlite3.Connection) -> None:
    # A part whose image the policy kept but the disk (or the queue) could not take says so,
    # rather than looking like a part whose image was never meant to be kept.
    conn.execute("ALTER TABLE inspections ADD COLUMN image_note TEXT")
    # When the disk runs low, the oldest passed parts' images go first: found by this index
    # without reading the records of parts that have no image.
    conn.execute(
        "CREATE INDEX inspections_pass_images ON inspections(id) "
        "WHERE verdict = 'PASS' AND image_path IS NOT NULL"
    )


MIGRATIONS: tuple[Migration, ...] = (
    _v1_tables,
    _v2_stored_ms,
    _v3_shift_record,
    _v4_history,
    _v5_report_indexes,
    _v6_control_limits,
    _v7_tool_measures,
    _v8_part_labels,
    _v9_interval_index,
    _v10_image_note,
)
"""Step i takes the database from version i to i + 1. Append only; never edit a shipped step."""

SCHEMA_VERSION = len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def check_not_newer(conn: sqlite3.Connection, db_path: Path, current: int = SCHEMA_VERSION) -> int:
    """The database's schema version; StorageError when a newer Lineside wrote it."""
    found = user_version(conn)
    if found > current:
        raise StorageError(
            f"{db_path}: results database has schema version {found}, but this Lineside "
            f"understands versions up to {current}; use a newer Lineside or another database file"
        )
    return found


def migrate(
    conn: sqlite3.Connection, db_path: Path, migrations: Sequence[Migration] = MIGRATIONS
) -> int:
    """Bring the database to the newest version, one transaction per step; returns the version.

    ``conn`` must be in autocommit mode (``isolation_level=None``) so the explicit BEGIN here
    is the only transaction.
    """
    found = check_not_newer(conn, db_path, len(migrations))
    for version in range(found, len(migrations)):
        log.info("migrating %s from schema version %d to %d", db_path, version, version + 1)
        try:
            conn.execute("BEGIN IMMEDIATE")
            migrations[version](conn)
            # PRAGMA takes no parameters; the value is our own int.
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StorageError(
                f"{db_path}: migration from schema version {version} to {version + 1} failed: {exc}"
            ) from exc
    return len(migrations)


def open_writer(db_path: Path, busy_timeout_s: float = 5.0) -> sqlite3.Connection:
    """A write connection (autocommit, WAL, synchronous=NORMAL) on a migrated database.

    Creates the file and its folder when missing. Raises StorageError naming the file when it
    cannot be opened, refuses WAL (a network share) or was written by a newer Lineside.
    """
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread=False: the results store opens it in start() so a bad file is
        # reported at once, then only its writer thread uses it.
        conn = sqlite3.connect(
            db_path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
    except (sqlite3.Error, OSError) as exc:
        raise StorageError(f"{db_path}: cannot open results database: {exc}") from exc
    try:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StorageError(
                f"{db_path}: SQLite refused WAL mode (got {mode!r}); "
                "is the file on a network share?"
            )
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        migrate(conn, db_path)
    except sqlite3.Error as exc:
        conn.close()
        raise StorageError(f"{db_path}: cannot prepare results database: {exc}") from exc
    except StorageError:
        conn.close()
        raise
    return conn


def attribute_unstamped(conn: sqlite3.Connection, calendar: ShiftCalendar) -> int:
    """Stamp parts recorded before shifts existed (schema < 4) with ``calendar``'s production
    day and shift; returns how many. Parts already stamped are never touched."""
    # (production_day, shift) is indexed: finding none costs nothing on a large database
    rows = conn.execute(
        "SELECT id, wall_time FROM inspections WHERE production_day IS NULL"
    ).fetchall()
    if not rows:
        return 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany(
            "UPDATE inspections SET production_day = ?, shift = ? WHERE id = ?",
            [(*calendar.attribute(float(t)), part_id) for part_id, t in rows],
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    log.info("stamped %d earlier part(s) with their production day and shift", len(rows))
    return len(rows)


# ---- plain JSON ---------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types: numpy → Python, tuples → lists, NaN/inf → None, else str.

    Non-finite floats become null because strict JSON readers (Excel, JavaScript) reject NaN.
    """
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def to_json(value: Any) -> str:
    return json.dumps(jsonable(value), ensure_ascii=False, allow_nan=False)


# ---- rows ---------------------------------------------------------------------------------

INSPECTION_COLUMNS = (
    "inspection_id",
    "station",
    "part_seq",
    "verdict",
    "reason",
    "recipe_name",
    "recipe_version",
    "model_hashes",
    "wall_time",
    "captured_ns",
    "queued_ms",
    "started_ms",
    "decided_ms",
    "dispatched_ms",
    "stored_ms",
    "truth",
    "image_path",
    "run_id",
    "production_day",
    "shift",
    "line",
    "lot",
    "image_note",
)
INSERT_INSPECTION = (
    f"INSERT INTO inspections ({', '.join(INSPECTION_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(INSPECTION_COLUMNS))})"
)
INSERT_TOOL_RESULT = (
    "INSERT INTO tool_results (inspection, tool_id, tool_type, verdict, reason, measurements, "
    "details, duration_ms, unique_keys, score, threshold) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_PART_CODE = "INSERT INTO part_codes (inspection, code) VALUES (?, ?)"
INSERT_EVENT = "INSERT INTO events (station, wall_time, kind, text, details) VALUES (?, ?, ?, ?, ?)"
INSERT_CAMERA_INTERVAL = (
    "INSERT INTO camera_intervals (station, camera, start, end, frames, dropped) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
INSERT_COUNT_START = (
    "INSERT INTO count_starts (station, first_part, wall_time, reason) VALUES (?, ?, ?, ?)"
)
JSON_COLUMNS = frozenset({"model_hashes", "truth", "measurements", "details", "unique_keys"})


def _since_capture(timing: Timing, stamp_ns: int) -> float | None:
    if not timing.captured_ns or not stamp_ns:
        return None
    return (stamp_ns - timing.captured_ns) / 1e6


def inspection_row(
    inspection: Inspection,
    image_path: str | None,
    run_id: str,
    stored_ns: int,
    attribution: tuple[str, str] | None = None,
    line: str = "",
    image_note: str | None = None,
) -> tuple[Any, ...]:
    """The ``inspections`` row for one part, in ``INSPECTION_COLUMNS`` order; ``attribution`` is
    its (production day, shift) from the calendar in force when it is recorded; ``image_note``
    why the archive policy kept its image but the archive does not have it."""
    t = inspection.timing
    truth = inspection.truth
    return (
        inspection.inspection_id,
        inspection.station,
        int(inspection.part_seq),
        str(inspection.verdict),
        inspection.reason,
        inspection.recipe_name,
        inspection.recipe_version,
        to_json(inspection.model_hashes),
        float(inspection.wall_time),
        t.captured_ns or None,
        _since_capture(t, t.queued_ns),
        _since_capture(t, t.started_ns),
        _since_capture(t, t.decided_ns),
        _since_capture(t, t.dispatched_ns),
        _since_capture(t, stored_ns),
        None if truth is None else to_json(truth),
        image_path,
        run_id,
        attribution[0] if attribution else None,
        attribution[1] if attribution else None,
        line,
        inspection.lot,
        image_note,
    )


# The one number per tool a shift's statistics describe, for tools that do not call it "score":
# the code tool's weakest symbol quality, the label tool's weakest OCR confidence.
_HEADLINE = {"codes": "quality_min"}


def headline_score(result: ToolResult) -> float | None:
    """The tool's headline score (``score``, else its tool type's stand-in), None when none."""
    return headline_of(result.tool_type, result.measurements)


def headline_of(tool_type: str, m: Mapping[str, Any]) -> float | None:
    """``headline_score`` of a tool type's measurements (as the plant database keeps them)."""
    value = m.get("score", m.get(_HEADLINE.get(tool_type, ""), None))
    if value is None:
        confidences = [v for k, v in m.items() if k.endswith("_confidence")]
        value = min(confidences) if confidences else None
    return finite_or_none(value)


def finite_or_none(value: Any) -> float | None:
    """``value`` as a finite float; None when it is missing, not a number, NaN or infinite."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def tool_result_row(inspection_rowid: int, result: ToolResult) -> tuple[Any, ...]:
    return (
        inspection_rowid,
        result.tool_id,
        result.tool_type,
        str(result.verdict),
        result.reason,
        to_json(result.measurements),
        to_json(result.details),
        result.duration_ns / 1e6,
        to_json(list(result.unique_keys)),
        headline_score(result),
        finite_or_none(result.measurements.get("threshold")),
    )


def decode_row(row: sqlite3.Row) -> dict[str, Any]:
    """A row as a dict with its JSON columns parsed."""
    out: dict[str, Any] = {}
    for key in row.keys():  # noqa: SIM118 - sqlite3.Row is not iterable by key
        value = row[key]
        if key in JSON_COLUMNS and isinstance(value, str):
            value = json.loads(value)
        out[key] = value
    return out
