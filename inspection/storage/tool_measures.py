"""The ``tool_measures`` table: each per-part tool measure (``inspection/part_measures.py`` says
which) as a row of its own, so a trend of one measure over a day is one index range, not 864,000
JSON documents parsed."""

from __future__ import annotations

import sqlite3

from inspection.part_measures import (
    FIELD_SUFFIXES,
    FIELD_TOOL_TYPE,
    STORED_MEASURES,
    measure_values,
)
from inspection.types import ToolResult

INSERT_TOOL_MEASURE = (
    # OR IGNORE: a part with the same value twice under one tool id (no recipe allows two tools
    # with one id) must not reject the whole part.
    "INSERT OR IGNORE INTO tool_measures (tool_id, measure, inspection, value) VALUES (?, ?, ?, ?)"
)


def measure_rows(inspection_rowid: int, result: ToolResult) -> list[tuple[str, str, int, float]]:
    """The ``tool_measures`` rows of one tool result, in ``INSERT_TOOL_MEASURE`` order."""
    return [(result.tool_id, k, inspection_rowid, v) for k, v in measure_values(result)]


def _backfill_sql(source: str) -> str:
    """One pass over ``tool_results`` taking every stored measure out of its ``source`` JSON."""
    wanted = []
    for tool_type, keys in STORED_MEASURES.items():
        names = [k for s, k in keys if s == source]
        if names:
            listed = ", ".join(f"'{k}'" for k in names)
            wanted.append(f"(t.tool_type = '{tool_type}' AND j.key IN ({listed}))")
    if source == "measurements":
        # GLOB's '?' asks for at least one character of field name before the suffix
        globs = " OR ".join(f"j.key GLOB '?*{s}'" for s in FIELD_SUFFIXES)
        wanted.append(f"(t.tool_type = '{FIELD_TOOL_TYPE}' AND ({globs}))")
    return (
        "INSERT OR IGNORE INTO tool_measures (tool_id, measure, inspection, value) "
        f"SELECT t.tool_id, j.key, t.inspection, j.value FROM tool_results t, json_each(t.{source}) j "
        f"WHERE ({' OR '.join(wanted)}) AND j.type IN ('integer', 'real') "
        "AND abs(j.value) < 9e999"
    )


def create_tool_measures(conn: sqlite3.Connection) -> None:
    """The ``tool_measures`` table, filled from the tool results already recorded."""
    # Keyed (tool, measure, part, value) WITHOUT ROWID: one measure's day is one contiguous
    # range of the table itself, its value inside the key (no second copy in an index).
    # No foreign key: enforcing one would make every delete of a part scan this table (it is
    # not ordered by part). Nothing deletes parts today; a purge by age would delete these rows
    # with "inspection < ?" in one pass.
    conn.execute(
        """
        CREATE TABLE tool_measures (
            tool_id TEXT NOT NULL,
            measure TEXT NOT NULL,
            inspection INTEGER NOT NULL,
            value REAL NOT NULL,
            PRIMARY KEY (tool_id, measure, inspection, value)
        ) WITHOUT ROWID
        """
    )
    for source in ("measurements", "details"):
        conn.execute(_backfill_sql(source))
