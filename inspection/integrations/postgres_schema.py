"""The plant database's tables and views, made and migrated by the stations that write to it.

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
"""

from __future__ import annotations

SCHEMA_VERSION = 1
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
]
