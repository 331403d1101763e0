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
import logging
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
    EVENTS,
    INSPECTIONS,
    LOCK_KEY,
    MIGRATIONS,
    SCHEMA_VERSION,
    TOOL_RESULTS,
)
from inspection.recipe.outputs import PostgresOutputSettings
from inspection.types import Inspection, StatusUpdate

log = logging.getLogger(__name__)

RESULT_TOPIC = "result"
ALARM_TOPIC = "alarm"

ANALYZE_AFTER = 1_000
"""Rows written into a part table that was (nearly) empty when this station connected, after
which the station has the server gather the tables' statistics (ANALYZE), once.

Why: the server checks each tool row's foreign key with a plan it makes the first time and keeps
for the connection. Made while the parts table is empty, that plan goes through the (station, at)
index and reads every part of the station, so each insert grows slower as the table fills
(measured: 0.3 ms per result at 5,000 rows, 1.9 ms at 20,000, on one connection). ANALYZE makes
the server plan again with the table's real size: the primary key, one row per check (0.05 ms
per result). The server's own autovacuum would do it too, but only after a
minute or more of a new plant database filling up."""


def _reason(exc: psycopg.Error) -> str:
    """The server's or libpq's own words, first line only (never the connection string)."""
    text = (getattr(exc.diag, "message_primary", None) or str(exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# Each batch goes as one JSON array of the result messages the outbox holds, the very bytes, and
# the server takes the rows apart (``jsonb_array_elements``), in one statement for a batch's parts
# and their tools: no decoding and re-encoding here, one round trip and one plan per batch rather
# than one per row. Measured on the bench line (``lineside bench --links``): this output's own CPU
# per result and the database server's both fell (see the commit that made it so). A statement is
# atomic: the batch lands whole or not at all, and ``ON CONFLICT DO NOTHING`` makes a replay land
# once. Rows of tools go in the same statement as their parts (a data-modifying CTE): the foreign
# key is checked at its end, when the parts are there.
PART_FIELDS: dict[str, str] = {  # column: its value, from a message b
    "station": "b->>'station'",
    "inspection_id": "b->>'inspection_id'",
    "line": "b->>'line'",
    "part_seq": "(b->>'part_seq')::bigint",
    "at": "(b->>'time')::timestamptz",
    "verdict": "b->>'verdict'",
    "reason": "b->>'reason'",
    "recipe": "b->>'recipe'",
    "recipe_version": "b->>'recipe_version'",
    "lot": "b->>'lot'",
    # messages kept by an older station, without these, land with the defaults
    "model_hashes": "coalesce(b->'model_hashes', '{{}}'::jsonb)",
    "codes": "coalesce(ARRAY(SELECT jsonb_array_elements_text(b->'codes')), '{{}}')",
}
TOOL_FIELDS: dict[str, str] = {
    "station": "b->>'station'",
    "inspection_id": "b->>'inspection_id'",
    "tool_id": "t->>'id'",
    "tool_type": "t->>'type'",
    "verdict": "t->>'verdict'",
    "reason": "t->>'reason'",
    "measurements": "t->'values'",
    "position": "(n - 1)::smallint",
}
EVENT_FIELDS: dict[str, str] = {
    "station": "b->>'station'",
    "at": "(b->>'time')::timestamptz",
    "level": "b->>'level'",
    "source": "b->>'source'",
    "message": "b->>'message'",
}
INSERT_RESULTS = (
    "WITH batch AS (SELECT b FROM jsonb_array_elements(%s::jsonb) AS b), "
    f"parts AS (INSERT INTO {{s}}.{INSPECTIONS} ({', '.join(PART_FIELDS)}) "
    f"SELECT {', '.join(PART_FIELDS.values())} FROM batch "
    "ON CONFLICT (station, inspection_id) DO NOTHING) "
    f"INSERT INTO {{s}}.{TOOL_RESULTS} ({', '.join(TOOL_FIELDS)}) "
    f"SELECT {', '.join(TOOL_FIELDS.values())} "
    "FROM batch, jsonb_array_elements(b->'tools') WITH ORDINALITY AS x(t, n) "
    "ON CONFLICT (station, inspection_id, tool_id) DO NOTHING"
)
INSERT_EVENTS = (
    f"INSERT INTO {{s}}.{EVENTS} ({', '.join(EVENT_FIELDS)}) "
    f"SELECT {', '.join(EVENT_FIELDS.values())} FROM jsonb_array_elements(%s::jsonb) AS b"
)


def _json_array(payloads: list[bytes]) -> str:
    """The messages as one JSON array, as text (bytes would go as ``bytea``)."""
    return (b"[" + b",".join(payloads) + b"]").decode()


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
        self._analyze_in: int | None = None
        """Results still to write before the one ANALYZE (None: not needed, or done)."""
        self._insert_results = self._sql(INSERT_RESULTS)
        self._insert_events = self._sql(INSERT_EVENTS)

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
        self._analyze_in = ANALYZE_AFTER if self._parts_known() < ANALYZE_AFTER else None

    def _parts_known(self) -> float:
        """How many part rows the server's statistics know of (-1: never gathered)."""
        assert self._conn is not None
        row = self._conn.execute(
            "SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
            (f"{self.settings.db_schema}.{INSPECTIONS}",),
        ).fetchone()
        return float(row[0]) if row else -1.0

    def _analyze_when_grown(self, written: int) -> None:
        """See ``ANALYZE_AFTER``. A role that may not analyze leaves it to the server's own."""
        if self._analyze_in is None or self._conn is None:
            return
        self._analyze_in -= written
        if self._analyze_in > 0:
            return
        self._analyze_in = None
        try:
            for table in (INSPECTIONS, TOOL_RESULTS):
                self._conn.execute(self._sql(f"ANALYZE {{s}}.{table}"))
        except psycopg.OperationalError:
            raise  # the connection itself: send_batch says so
        except psycopg.Error as exc:
            log.info("%s: statistics left to the server's autovacuum: %s", self.name, _reason(exc))

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
        """Every item in one statement per kind (results, alarms), all in one transaction: its
        commit acknowledges them all."""
        conn = self._conn
        if conn is None or conn.closed:
            raise OutputError("connection lost")
        results = [payload for topic, payload in items if topic != ALARM_TOPIC]
        events = [payload for topic, payload in items if topic == ALARM_TOPIC]
        statements = [
            (statement, (_json_array(payloads),))
            for statement, payloads in (
                (self._insert_results, results),
                (self._insert_events, events),
            )
            if payloads
        ]
        try:
            if len(statements) == 1:  # one statement is a transaction of its own (autocommit)
                conn.execute(*statements[0])
            else:
                with conn.transaction(), conn.cursor() as cur:
                    for statement, params in statements:
                        cur.execute(statement, params)
            self._analyze_when_grown(len(results))
        except psycopg.OperationalError as exc:
            self.close()
            raise OutputError(f"connection lost: {_reason(exc)}") from None
        except psycopg.Error as exc:  # the database refused a row: say so, keep them on disk
            if conn.closed:
                self.close()
            raise OutputError(f"the database refused a result: {_reason(exc)}") from None

    def keep_alive(self) -> None:
        """Nothing to do between batches: a database that went away is found at the next one
        (a query per second only to check would cost the server more than the results do)."""

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
