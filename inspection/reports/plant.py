"""The plant's shift report: every station's records of a period, read from the plant's
PostgreSQL database (the one the stations' ``postgres`` outputs write), as one report.

The period's parts are copied into a temporary results database with this station's own schema
(``storage/schema.py``), and the report is built from it as a station's is
(``plant_report.py``): a plant report has exactly the sheets, columns and figures of a
station's, and its per-station table.
Only the SELECTs here know the plant tables, by the names in ``inspection/plant_schema.py``.

What the plant database does not hold, the report says so rather than guessing: part images
stay on each station's PC (no image paths, no thumbnails), alarms are recorded when raised but
not when cleared (no downtime), and parts are placed in shifts by this PC's shift calendar.
The password comes from the DSN, ``--password-env`` or libpq's own variables and files
(``PGPASSWORD``, ``~/.pgpass``); it is never logged or shown.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from inspection.errors import LinesideError
from inspection.jobs import Cancelled, ProgressFn
from inspection.plant_schema import (
    ADDED_IN,
    EVENT_COLUMNS,
    EVENTS,
    INSPECTIONS,
    PART_COLUMNS,
    TOOL_COLUMNS,
    TOOL_RESULTS,
    VERSION_TABLE,
)
from inspection.recipe.outputs import SQL_NAME
from inspection.recipe.station import ShiftCalendar
from inspection.reports.figures import ReportPeriod
from inspection.reports.plant_rows import PlantRows, utc
from inspection.storage.schema import open_writer

log = logging.getLogger(__name__)

_CHUNK = 2000  # parts per SQLite transaction and per progress step


class PlantDatabaseError(LinesideError):
    """The plant database cannot give the report: unreachable, login refused, no Lineside
    schema. ``bad_input``: the command line was wrong (a malformed DSN, an unknown station)."""

    def __init__(self, message: str, *, bad_input: bool = False) -> None:
        super().__init__(message)
        self.bad_input = bad_input


@dataclass(frozen=True, slots=True)
class PlantDatabase:
    """Where the plant's records are: a libpq DSN (``host=... dbname=...`` or a
    ``postgresql://`` URI) and the schema the stations write into."""

    dsn: str = field(repr=False)
    schema: str = "lineside"
    password: str | None = field(default=None, repr=False)
    """Overrides the DSN's (from ``--password-env``); None: the DSN's or libpq's own."""
    connect_timeout_s: int = 10

    def __post_init__(self) -> None:
        if not re.fullmatch(SQL_NAME, self.schema):
            raise PlantDatabaseError(
                f"schema {self.schema!r} is not a schema name a station can use "
                "(lower-case letters, digits and _, not starting with a digit)",
                bad_input=True,
            )

    def where(self) -> str:
        """``host:port/dbname`` as the DSN (or libpq's defaults) names it, never the password."""
        try:
            parts = conninfo_to_dict(self.dsn)
        except psycopg.ProgrammingError:
            return "the plant database"
        host = str(parts.get("host") or parts.get("hostaddr") or "localhost")
        return f"{host}:{parts.get('port') or 5432}/{parts.get('dbname') or '(default)'}"


@dataclass(frozen=True, slots=True)
class PlantCopy:
    """The period's records, copied: the temporary database and what it holds."""

    db_path: Path
    parts: int
    stations: tuple[str, ...]
    """Every station in the plant database (not only those with parts in the period)."""
    schema_version: int
    source: str
    notes: tuple[str, ...]


_WHERE_FAILED = re.compile(
    r"(connection failed: )?connection to server (at|on) .*? failed: |FATAL: "
)


def _reason(exc: psycopg.Error) -> str:
    """libpq's or the server's words, without the connection string or where it failed (the
    message names the database already)."""
    text = (getattr(exc.diag, "message_primary", None) or str(exc)).strip()
    text = " ".join(_WHERE_FAILED.sub("", text).split())
    return text or type(exc).__name__


def connect(plant: PlantDatabase) -> psycopg.Connection[Any]:
    """A read connection; PlantDatabaseError saying whether the server could not be reached,
    refused the login or has no such database."""
    where = plant.where()
    try:
        conninfo_to_dict(plant.dsn)
    except psycopg.ProgrammingError:
        # libpq's message quotes the DSN, which may hold the password: not repeated here
        raise PlantDatabaseError(
            "--dsn is not a connection string: use key=value pairs "
            "(host=... port=... dbname=... user=...) or a postgresql:// URI",
            bad_input=True,
        ) from None
    extra: dict[str, Any] = {"connect_timeout": plant.connect_timeout_s}
    if plant.password is not None:
        extra["password"] = plant.password
    try:
        conn = psycopg.connect(plant.dsn, application_name="lineside report --plant", **extra)
    except psycopg.Error as exc:
        reason = _reason(exc)
        lowered = reason.lower()
        if "password authentication failed" in lowered or "no password supplied" in lowered:
            what = "refused the login"
        elif "does not exist" in lowered:
            what = "has no such database or role"
        else:
            what = "cannot be reached"
        raise PlantDatabaseError(f"plant database {where} {what}: {reason}") from None
    # one snapshot for the count, the parts and the events, even while stations write
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    return conn


def _version(conn: psycopg.Connection[Any], plant: PlantDatabase) -> int:
    """The schema's version; PlantDatabaseError when the database has no Lineside tables."""
    missing = [
        table
        for table in (VERSION_TABLE, INSPECTIONS, TOOL_RESULTS, EVENTS)
        if conn.execute("SELECT to_regclass(%s)", (f'"{plant.schema}".{table}',)).fetchone()
        == (None,)
    ]
    if missing:
        raise PlantDatabaseError(
            f"plant database {plant.where()} has no Lineside records: schema {plant.schema!r} "
            f"lacks the table(s) {', '.join(missing)} (no station's postgres output has "
            f"written to it yet, or the stations write into another schema: see --schema)"
        )
    query = sql.SQL("SELECT max(version) FROM {}.{}").format(
        sql.Identifier(plant.schema), sql.Identifier(VERSION_TABLE)
    )
    row = conn.execute(query).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _stations(conn: psycopg.Connection[Any], plant: PlantDatabase) -> list[str]:
    query = sql.SQL("SELECT DISTINCT station FROM {}.{} ORDER BY 1").format(
        sql.Identifier(plant.schema), sql.Identifier(INSPECTIONS)
    )
    return [str(r[0]) for r in conn.execute(query)]


def _column(alias: str, name: str, version: int) -> str:
    """One plant column in a SELECT (its default where the database predates it)."""
    if ADDED_IN.get(name, 1) > version:
        # '{{}}': an empty JSON object, its braces doubled for sql.SQL
        return {"model_hashes": "'{{}}'", "codes": "ARRAY[]::text[]"}.get(name, "NULL")
    if name == "at":
        return f"extract(epoch FROM {alias}.at)::float8"
    if name in ("model_hashes", "measurements"):
        return f"{alias}.{name}::text"
    return f"{alias}.{name}"


def _select(version: int, station: str | None) -> tuple[str, str, str]:
    """The count, the parts-with-tools and the events queries (``{s}``: the schema)."""
    where = "i.at >= %s AND i.at < %s" + (" AND i.station = %s" if station is not None else "")
    parts = ", ".join(_column("i", c, version) for c in PART_COLUMNS)
    tools = ", ".join(_column("t", c, version) for c in TOOL_COLUMNS[2:])
    position = "t.position NULLS LAST, " if ADDED_IN["position"] <= version else ""
    rows = (
        f"SELECT {parts}, {tools} FROM {{s}}.{INSPECTIONS} i LEFT JOIN {{s}}.{TOOL_RESULTS} t "
        f"ON t.station = i.station AND t.inspection_id = i.inspection_id WHERE {where} "
        f"ORDER BY i.at, i.station, i.part_seq, i.inspection_id, {position}t.tool_id"
    )
    count = f"SELECT count(*) FROM {{s}}.{INSPECTIONS} i WHERE {where}"
    ev_where = "e.at >= %s AND e.at < %s" + (" AND e.station = %s" if station is not None else "")
    events = (
        f"SELECT {', '.join(_column('e', c, version) for c in EVENT_COLUMNS)} "
        f"FROM {{s}}.{EVENTS} e WHERE {ev_where} ORDER BY e.at"
    )
    return count, rows, events


def _notes(version: int, calendar: ShiftCalendar) -> tuple[str, ...]:
    notes = [
        "Part images are not in the plant database: each station keeps them on its own PC, "
        "so this report has no image paths or thumbnails.",
        "Alarms: the plant database records when an alarm was raised, not when it cleared, "
        "so camera alarms and downtime are not counted here; alarms raised are under Changes.",
        f"Parts are placed in shifts by this PC's shift calendar ({calendar.timezone}).",
    ]
    if version < ADDED_IN["codes"]:
        notes.append(
            f"The plant schema is version {version}: codes read, model changes and the order "
            "of tools are not recorded in it."
        )
    return tuple(notes)


def copy_period(
    plant: PlantDatabase,
    period: ReportPeriod,
    calendar: ShiftCalendar,
    target: Path,
    *,
    station: str | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> PlantCopy:
    """Copy ``period``'s parts (of ``station``, else every station), their tool results and
    codes, and the period's events from the plant database into a new results database at
    ``target``. PlantDatabaseError when the database cannot give them; Cancelled."""
    with connect(plant) as conn:
        version = _version(conn, plant)
        stations = _stations(conn, plant)
        if station is not None and station not in stations:
            raise PlantDatabaseError(
                f"station {station!r} has no records in plant database {plant.where()}; "
                f"its stations: {', '.join(stations) or 'none yet'}",
                bad_input=True,
            )
        count_sql, rows_sql, events_sql = _select(version, station)
        params: list[Any] = [utc(period.start), utc(period.end)]
        if station is not None:
            params.append(station)
        s = sql.Identifier(plant.schema)
        counted = conn.execute(sql.SQL(count_sql).format(s=s), params).fetchone()
        total = int(counted[0]) if counted else 0
        log.info(
            "plant database %s, schema %s: %d part(s) in %s",
            plant.where(),
            plant.schema,
            total,
            period.label,
        )
        out = PlantRows(open_writer(target), calendar)
        try:
            done = 0
            for chunk in _chunks(conn, sql.SQL(rows_sql).format(s=s), params):
                if cancel is not None and cancel.is_set():
                    raise Cancelled(f"plant report {period.label} cancelled")
                done += out.add_parts(chunk)
                if progress is not None:
                    progress(done, total, "copying parts from the plant database")
            out.add_events(conn.execute(sql.SQL(events_sql).format(s=s), params).fetchall())
        except psycopg.Error as exc:
            raise PlantDatabaseError(
                f"plant database {plant.where()}: reading the records failed: {_reason(exc)}"
            ) from None
        finally:
            out.close()
    in_it = ", ".join(stations) or "none yet"
    return PlantCopy(
        db_path=target,
        parts=done,
        stations=tuple(stations),
        schema_version=version,
        source=f"plant database {plant.where()}, schema {plant.schema} (stations: {in_it})",
        notes=_notes(version, calendar),
    )


def _chunks(
    conn: psycopg.Connection[Any], query: sql.Composed, params: list[Any]
) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of one part together, about ``_CHUNK`` parts at a time, from a server-side
    cursor (a day of parts never sits in memory whole)."""
    with conn.cursor(name="lineside_plant_report") as cur:
        cur.itersize = _CHUNK * 4
        cur.execute(query, params)
        chunk: list[tuple[Any, ...]] = []
        parts = 0
        last_key: tuple[Any, Any] | None = None
        for row in cur:
            key = (row[0], row[1])
            if key != last_key:
                if parts >= _CHUNK:
                    yield chunk
                    chunk, parts = [], 0
                parts += 1
                last_key = key
            chunk.append(row)
        if chunk:
            yield chunk


__all__ = ["PlantCopy", "PlantDatabase", "PlantDatabaseError", "copy_period"]
