"""The plant database's rows as a results database's: parts, tool results, codes and events
written into the temporary copy a plant report is built from (``plant.py``).

Parts get row ids in the order they come (time order), each followed by its tool results, as the
station's own storage writer would have numbered them; each part is stamped with its production
day and shift by the calendar given, and a tool result's headline score and threshold come from
its measurements, as the storage writer takes them (``schema.headline_of``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

from inspection.plant_schema import PART_COLUMNS
from inspection.recipe.station import ShiftCalendar
from inspection.storage.schema import (
    INSERT_EVENT,
    INSERT_PART_CODE,
    INSERT_TOOL_RESULT,
    INSPECTION_COLUMNS,
    finite_or_none,
    headline_of,
)

RUN_ID = "plant"
"""The run id of every copied part (a station's run ids are not in the plant database)."""

INSERT_WITH_ID = (
    f"INSERT INTO inspections (id, {', '.join(INSPECTION_COLUMNS)}) "
    f"VALUES ({', '.join('?' * (len(INSPECTION_COLUMNS) + 1))})"
)
_TOOL_AT = len(PART_COLUMNS)  # where a row's tool columns start (see plant._select)
_P = {name: k for k, name in enumerate(PART_COLUMNS)}


def utc(unix_s: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(unix_s, dt.UTC)


class PlantRows:
    """Writes copied rows into a results database (``conn``, autocommit, migrated)."""

    def __init__(self, conn: sqlite3.Connection, calendar: ShiftCalendar) -> None:
        self._conn = conn
        self._calendar = calendar
        self._next_part = 1
        self._last_key: tuple[Any, Any] | None = None

    def add_parts(self, rows: Sequence[tuple[Any, ...]]) -> int:
        """Rows of parts joined to their tool results, a part's rows together; returns how
        many parts were added (one transaction)."""
        parts: list[tuple[Any, ...]] = []
        tools: list[tuple[Any, ...]] = []
        codes: list[tuple[int, str]] = []
        for row in rows:
            key = (row[_P["station"]], row[_P["inspection_id"]])
            if key != self._last_key:
                self._last_key = key
                parts.append(self._part(row))
                codes += [(self._next_part, str(c)) for c in row[_P["codes"]] or ()]
                self._next_part += 1
            if row[_TOOL_AT] is not None:
                tools.append(self._tool(self._next_part - 1, row[_TOOL_AT:]))
        with self._transaction():
            self._conn.executemany(INSERT_WITH_ID, parts)
            self._conn.executemany(INSERT_TOOL_RESULT, tools)
            self._conn.executemany(INSERT_PART_CODE, codes)
        return len(parts)

    def _part(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        wall_time = float(row[_P["at"]])
        day, shift = self._calendar.attribute(wall_time)
        values: dict[str, Any] = {
            "inspection_id": row[_P["inspection_id"]],
            "station": row[_P["station"]],
            "part_seq": int(row[_P["part_seq"]]),
            "verdict": row[_P["verdict"]],
            "reason": row[_P["reason"]],
            "recipe_name": row[_P["recipe"]],
            "recipe_version": row[_P["recipe_version"]],
            "model_hashes": row[_P["model_hashes"]] or "{}",
            "wall_time": wall_time,
            "run_id": RUN_ID,
            "production_day": day,
            "shift": shift,
            "line": row[_P["line"]] or "",
            "lot": row[_P["lot"]] or "",
        }
        return (self._next_part, *(values.get(c) for c in INSPECTION_COLUMNS))

    def _tool(self, part_id: int, t: tuple[Any, ...]) -> tuple[Any, ...]:
        tool_id, tool_type, verdict, reason, measurements_json = t[:5]
        measurements = json.loads(measurements_json or "{}")
        return (
            part_id,
            tool_id,
            tool_type,
            verdict,
            reason,
            measurements_json or "{}",
            "{}",  # details: not in the plant database
            None,  # duration: likewise
            "[]",
            headline_of(str(tool_type), measurements),
            finite_or_none(measurements.get("threshold")),
        )

    def add_events(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """The plant's events (station, at, level, source, message) as Changes rows. An
        alarm's kind is ``alarm raised``, not ``alarm``: without its clearing, counting it as an
        alarm episode would put downtime up to the period's end."""
        events = [
            (
                str(station),
                float(at),
                "alarm raised" if level == "alarm" else str(level),
                f"{station}: {source}: {message}",
                json.dumps({"source": source, "level": level}),
            )
            for station, at, level, source, message in rows
        ]
        with self._transaction():
            self._conn.executemany(INSERT_EVENT, events)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN ... COMMIT on the autocommit connection; ROLLBACK on an error."""
        self._conn.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def close(self) -> None:
        self._conn.close()
