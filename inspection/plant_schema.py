"""The plant database's tables and views, made and migrated by the stations that write to it.

The one definition of its layout: the ``postgres`` output (``integrations/postgres.py``) writes
these tables and ``lineside report --plant`` (``reports/plant.py``) reads them, so the module
sits beside ``types``, where both rooms may import it without importing each other.

Forward only: each step in ``MIGRATIONS`` takes the schema from version N to N + 1, and the
version lives in ``<schema>.schema_version``. A station applies the steps it knows under an
advisory lock (several stations connecting at once migrate once), and refuses a database whose
version is newer than it knows: an older station must not write into tables it does not
understand.

The layout suits a time-series view: every part is one row of ``inspections`` keyed by
(station, inspection_id), with its time in ``at`` (a BRIN index: rows arrive in time order)
and a (station, at) index for one station's recent parts; each tool's result is a row of
``tool_results`` under the same key; the warnings and alarms the operators saw are ``events``.
``yield_per_station_hour`` and ``reasons_per_line`` are the plant dashboard's views.

Version 2 adds what a shift report needs beyond the result message: each part's model hashes
(teaching shows as a change) and the codes read on it, and each tool result's position in its
part (the report lists tools in the order they ran). Rows written before it keep the defaults.
"""

from __future__ import annotations

SCHEMA_VERSION = 2
LOCK_KEY = 0x4C494E45  # "LINE": pg_advisory_xact_lock key of the migration

MIGRATIONS: list[list[str]] = [
    # 0 -> 1
    [
        "CREATE TABLE {s}.inspections ("
        " station text NOT NULL,"
        " inspection_id text NOT NULL,"
        " line text NOT NULL DEFAULT '',"
        " part_seq bigint NOT NULL,"
        " at timestamptz NOT NULL,"
        " verdict text NOT NULL CHECK (verdict IN ('PASS', 'FAIL', 'ERROR')),"
        " reason text NOT NULL DEFAULT '',"
        " recipe text NOT NULL,"
        " recipe_version text NOT NULL,"
        " lot text NOT NULL DEFAULT '',"
        " received_at timestamptz NOT NULL DEFAULT now(),"
        " PRIMARY KEY (station, inspection_id))",
        "CREATE INDEX inspections_at ON {s}.inspections USING brin (at)",
        "CREATE INDEX inspections_station_at ON {s}.inspections (station, at)",
        "CREATE TABLE {s}.tool_results ("
        " station text NOT NULL,"
        " inspection_id text NOT NULL,"
        " tool_id text NOT NULL,"
        " tool_type text NOT NULL,"
        " verdict text NOT NULL CHECK (verdict IN ('PASS', 'FAIL', 'ERROR')),"
        " reason text NOT NULL DEFAULT '',"
        " measurements jsonb NOT NULL DEFAULT '{{}}',"
        " PRIMARY KEY (station, inspection_id, tool_id),"
        " FOREIGN KEY (station, inspection_id) REFERENCES {s}.inspections ON DELETE CASCADE)",
        "CREATE TABLE {s}.events ("
        " station text NOT NULL,"
        " at timestamptz NOT NULL,"
        " level text NOT NULL,"
        " source text NOT NULL,"
        " message text NOT NULL)",
        "CREATE INDEX events_at ON {s}.events USING brin (at)",
        "CREATE VIEW {s}.yield_per_station_hour AS"
        " SELECT station, line, date_trunc('hour', at) AS hour,"
        " count(*) AS parts,"
        " count(*) FILTER (WHERE verdict = 'PASS') AS passed,"
        " count(*) FILTER (WHERE verdict = 'FAIL') AS failed,"
        " count(*) FILTER (WHERE verdict = 'ERROR') AS errors,"
        " round(count(*) FILTER (WHERE verdict = 'PASS')::numeric / count(*), 4) AS yield"
        " FROM {s}.inspections GROUP BY station, line, date_trunc('hour', at)",
        "CREATE VIEW {s}.reasons_per_line AS"
        " SELECT line, split_part(reason, ':', 1) AS tool, reason,"
        " count(*) AS parts, count(DISTINCT station) AS stations,"
        " min(at) AS first_at, max(at) AS last_at"
        " FROM {s}.inspections WHERE verdict <> 'PASS' GROUP BY line, reason",
    ],
    # 1 -> 2
    [
        "ALTER TABLE {s}.inspections ADD COLUMN model_hashes jsonb NOT NULL DEFAULT '{{}}'",
        "ALTER TABLE {s}.inspections ADD COLUMN codes text[] NOT NULL DEFAULT '{{}}'",
        "ALTER TABLE {s}.tool_results ADD COLUMN position smallint",
    ],
]

# ---- names, for the writer's INSERTs and the plant report's SELECTs ---------------------------

INSPECTIONS = "inspections"
TOOL_RESULTS = "tool_results"
EVENTS = "events"
VERSION_TABLE = "schema_version"

PART_COLUMNS = (
    "station",
    "inspection_id",
    "line",
    "part_seq",
    "at",
    "verdict",
    "reason",
    "recipe",
    "recipe_version",
    "lot",
    "model_hashes",
    "codes",
)
TOOL_COLUMNS = (
    "station",
    "inspection_id",
    "tool_id",
    "tool_type",
    "verdict",
    "reason",
    "measurements",
    "position",
)
EVENT_COLUMNS = ("station", "at", "level", "source", "message")
ADDED_IN: dict[str, int] = {"model_hashes": 2, "codes": 2, "position": 2}
"""Columns newer than version 1, by the version that added them (a reader of an older database
reads their defaults instead)."""
