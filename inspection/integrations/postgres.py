"""The ``postgres`` output: every result into the plant's PostgreSQL database (psycopg 3).

Results travel the outbox way (``output_runner``): kept on disk while the database is away, sent
in part order when it is back, a batch of up to 64 per transaction, acknowledged by its
commit. Each insert is keyed by (station, inspection id) and does nothing when the row is there
already, so a batch whose commit acknowledgement was lost, sent again, lands once: every row
arrives exactly once. The message is the JSON result the MQTT output publishes (``messages.result_message``),
so the outbox holds one format.

The message also carries what a shift report made from the plant database needs beyond it (the
part's model hashes and the codes read on it); messages kept in an outbox by an older version,
without them, land with the defaults.

On connect the station makes or migrates the schema (``plant_schema``); a database that
refuses it (no right to create the schema, a newer version than this station knows) is a failed
output with that reason, and results wait on disk. Warnings and alarms go to ``events`` when
the database is there, and are not kept when it is not.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from inspection.integrations.credentials import output_password
from inspection.integrations.messages import alarm_message, encode, result_message
from inspection.integrations.outbox import Outbox
from inspection.integrations.output_runner import (
    Message,
    OutputError,
    OutputRunner,
    OutputState,
)
from inspection.part_codes import part_codes
from inspection.plant_schema import (
    EVENT_COLUMNS,
    EVENTS,
    INSPECTIONS,
    LOCK_KEY,
    MIGRATIONS,
    PART_COLUMNS,
    SCHEMA_VERSION,
    TOOL_COLUMNS,
    TOOL_RESULTS,
    insert_sql,
)
from inspection.recipe.outputs import PostgresOutputSettings
from inspection.types import Inspection, StatusUpdate

RESULT_TOPIC = "result"
ALARM_TOPIC = "alarm"

INSERT_PART = insert_sql(INSPECTIONS, PART_COLUMNS, ("station", "inspection_id"))
INSERT_TOOL = insert_sql(TOOL_RESULTS, TOOL_COLUMNS, ("station", "inspection_id", "tool_id"))
INSERT_EVENT = insert_sql(EVENTS, EVENT_COLUMNS)


def _reason(exc: psycopg.Error) -> str:
    """The server's or libpq's own words, first line only (never the connection string)."""
    text = (getattr(exc.diag, "message_primary", None) or str(exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _part_row(body: dict[str, Any]) -> tuple[Any, ...]:
    return (
        body["station"],
        body["inspection_id"],
        body["line"],
        body["part_seq"],
        dt.datetime.fromisoformat(body["time"]),
        body["verdict"],
        body["reason"],
        body["recipe"],
        body["recipe_version"],
        body["lot"],
        json.dumps(body.get("model_hashes", {})),
        list(body.get("codes", [])),
    )


def _tool_rows(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    station, inspection_id = body["station"], body["inspection_id"]
    return [
        (
            station,
            inspection_id,
            t["id"],
            t["type"],
            t["verdict"],
            t["reason"],
            json.dumps(t["values"]),
            position,
        )
        for position, t in enumerate(body["tools"])
    ]


def _event_row(body: dict[str, Any]) -> tuple[Any, ...]:
    return (
        body["station"],
        dt.datetime.fromisoformat(body["time"]),
        body["level"],
        body["source"],
        body["message"],
    )


class PostgresLink:
    """One connection at a time to the plant database. Used from the output's thread only."""

    def __init__(self, settings: PostgresOutputSettings, station: str) -> None:
        self.settings = settings
        self.station = station
        self.name = f"PostgreSQL {settings.host}:{settings.port}/{settings.dbname}"
        # checked now: a missing variable stops the start
        self._password = output_password(
            settings.id, settings.password, settings.password_env, "PostgreSQL password"
        )
        self._schema = sql.Identifier(settings.db_schema)
        self._conn: psycopg.Connection[Any] | None = None
        self.schema_version = 0

    def _sql(self, text: str) -> sql.Composed:
        return sql.SQL(text).format(s=self._schema)

    def connect(self) -> None:
        s = self.settings
        try:
            conn = psycopg.connect(
                host=s.host,
                port=s.port,
                dbname=s.dbname,
                user=s.user,
                password=self._password,
                connect_timeout=s.connect_timeout_s,
                application_name=f"lineside {self.station}"[:63],
                autocommit=True,  # each result is its own transaction() block
            )
        except psycopg.Error as exc:
            raise OutputError(_reason(exc)) from None
        try:
            self.schema_version = self._migrate(conn)
        except psycopg.Error as exc:
            conn.close()
            raise OutputError(f"the database refused the schema: {_reason(exc)}") from None
        except OutputError:
            conn.close()
            raise
        self._conn = conn

    def _migrate(self, conn: psycopg.Connection[Any]) -> int:
        """Make or migrate the schema, once even when several stations connect at once."""
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            conn.execute(self._sql("CREATE SCHEMA IF NOT EXISTS {s}"))
            conn.execute(
                self._sql(
                    "CREATE TABLE IF NOT EXISTS {s}.schema_version (version integer NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())"
                )
            )
            row = conn.execute(self._sql("SELECT max(version) FROM {s}.schema_version")).fetchone()
            version = int(row[0]) if row and row[0] is not None else 0
            if version > SCHEMA_VERSION:
                raise OutputError(
                    f"the database's schema {self.settings.db_schema} is version {version}, "
                    f"newer than this station knows ({SCHEMA_VERSION}): update the station"
                )
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step]:
                    conn.execute(self._sql(statement))
                conn.execute(
                    self._sql("INSERT INTO {s}.schema_version (version) VALUES (%s)"), (step + 1,)
                )
        return SCHEMA_VERSION

    def send(self, topic: str, payload: bytes) -> None:
        self.send_batch([(topic, payload)])

    def send_unkept(self, topic: str, payload: bytes) -> None:
        self.send_batch([(topic, payload)])

    def send_batch(self, items: list[tuple[str, bytes]]) -> None:
        """Every item in one transaction: its commit acknowledges them all."""
        conn = self._conn
        if conn is None or conn.closed:
            raise OutputError("connection lost")
        parts: list[tuple[Any, ...]] = []
        tools: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        for topic, payload in items:
            body = json.loads(payload)
            if topic == ALARM_TOPIC:
                events.append(_event_row(body))
            else:
                parts.append(_part_row(body))
                tools += _tool_rows(body)
        try:
            with conn.transaction(), conn.cursor() as cur:
                for statement, rows in (
                    (INSERT_PART, parts),
                    (INSERT_TOOL, tools),
                    (INSERT_EVENT, events),
                ):
                    if rows:
                        cur.executemany(self._sql(statement), rows)
        except psycopg.OperationalError as exc:
            self.close()
            raise OutputError(f"connection lost: {_reason(exc)}") from None
        except psycopg.Error as exc:  # the database refused a row: say so, keep them on disk
            if conn.closed:
                self.close()
            raise OutputError(f"the database refused a result: {_reason(exc)}") from None

    def lost(self) -> None:
        """Nothing to resume: a transaction not committed is sent again whole."""
        self.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error):  # already gone: nothing to let go of
                conn.close()


def postgres_output(
    settings: PostgresOutputSettings,
    *,
    station: str,
    line: str,
    outbox_folder: Path,
    on_state: Callable[[OutputState], None] = lambda _s: None,
) -> OutputRunner:
    """The runner of one ``type: postgres`` output, its outbox in ``outbox_folder``; ``line``
    is the station settings' line, unless the output names its own."""
    link = PostgresLink(settings, station)
    line = settings.line or line

    def message_of(inspection: Inspection) -> Message:
        body = result_message(inspection, site="", line=line)
        body["model_hashes"] = {str(k): str(v) for k, v in inspection.model_hashes.items()}
        body["codes"] = part_codes(inspection.tool_results)
        return inspection.inspection_id, RESULT_TOPIC, encode(body)

    def alarm_of(update: StatusUpdate) -> tuple[str, bytes]:
        body = alarm_message(update, site="", line=line, station=station, at=time.time())
        return ALARM_TOPIC, encode(body)

    return OutputRunner(
        settings.id,
        link,
        lambda: Outbox(outbox_folder / f"{settings.id}.sqlite", settings.outbox_max_parts),
        message_of,
        alarm_of=alarm_of,
        retry_s=settings.retry_s,
        on_state=on_state,
    )
