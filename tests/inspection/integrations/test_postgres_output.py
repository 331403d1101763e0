"""The ``postgres`` output against a real PostgreSQL the tests start (initdb in a temporary
folder, 127.0.0.1, a non-root user): three stations at once, an outage under load, and databases
that refuse the station."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.pipeline_tools import BrightnessTool, Collector, make_recipe
from support.postgres import PASSWORD, PostgresServer

from inspection.integrations.messages import encode
from inspection.integrations.outbox import Outbox
from inspection.integrations.output_runner import OutputError
from inspection.integrations.postgres import (
    ALARM_TOPIC,
    ANALYZE_AFTER,
    EVENT_FIELDS,
    PART_FIELDS,
    RESULT_TOPIC,
    TOOL_FIELDS,
    PostgresLink,
)
from inspection.paths import Paths
from inspection.pipeline.station import Station
from inspection.plant_schema import EVENT_COLUMNS, PART_COLUMNS, SCHEMA_VERSION, TOOL_COLUMNS
from inspection.recipe.outputs import PostgresOutputSettings
from inspection.types import Frame, ToolResult, Verdict

DB = "plant"


class EveryThirdFails(BrightnessTool):
    """Fails every third frame, passes the others: both verdicts, with a reason, reach the
    database."""

    def __init__(self) -> None:
        super().__init__(minimum=0.0)

    def inspect(self, frame: Frame) -> ToolResult:
        if frame.seq % 3 == 2:
            return ToolResult(
                tool_id=self.tool_id,
                tool_type=self.tool_type,
                verdict=Verdict.FAIL,
                reason="bright: third frame",
                measurements={"mean": 1.0},
            )
        return super().inspect(frame)


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    pg = PostgresServer().init().start()
    try:
        pg.sql(f"CREATE DATABASE {DB}")
        pg.sql("CREATE ROLE reader LOGIN PASSWORD 'reader-pw'")
        pg.sql(f"REVOKE CREATE ON DATABASE {DB} FROM PUBLIC")
        pg.sql("REVOKE CREATE ON SCHEMA public FROM PUBLIC", dbname=DB)
        yield pg
    finally:
        pg.remove()


@pytest.fixture(autouse=True)
def password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINESIDE_PG_PASSWORD", PASSWORD)


def output(server: PostgresServer, **more: object) -> dict[str, object]:
    return {
        "type": "postgres",
        "port": server.port,
        "dbname": DB,
        "user": "lineside",
        "password_env": "LINESIDE_PG_PASSWORD",
        "db_schema": "plant_test",
        "line": "line-2",
        "retry_s": 0.2,
        **more,
    }


def station_for(
    home: Path, name: str, outputs: list[dict[str, object]], *, parts: int | None, rate: float
) -> tuple[Station, Collector]:
    recipe = make_recipe(cameras=1, outputs=outputs)
    cam = recipe.cameras[0]
    source = cam.source.model_copy(update={"parts": parts, "rate_hz": rate})
    recipe = recipe.model_copy(
        update={"station": name, "cameras": [cam.model_copy(update={"source": source})]}
    )
    paths = Paths(home / "config", home / "data", home / "logs", home / "cache").ensure()
    collector = Collector()
    st = Station(recipe, paths=paths, make_tools=lambda: [EveryThirdFails()])
    st.add_listener(collector)
    return st, collector


def wait_until(ok, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not ok():
        assert time.monotonic() < deadline, f"{what} not within {timeout_s} s"
        time.sleep(0.05)


def rows(server: PostgresServer, sql: str) -> list[tuple]:
    return server.sql(sql, dbname=DB)


def test_three_stations_write_at_once_and_the_plant_views_add_up(
    server: PostgresServer, tmp_path: Path
) -> None:
    schema = "three"
    stations = [
        station_for(
            tmp_path / f"s{i}",
            f"station-{i}",
            [output(server, db_schema=schema)],
            parts=120,
            rate=0.0,
        )
        for i in range(3)
    ]
    for st, _ in stations:
        st.start()
    for st, _ in stations:
        assert st.wait_finished(60)
    wait_until(
        lambda: all(
            s.outputs()[0].waiting == 0 and s.outputs()[0].sent >= 120 for s, _ in stations
        ),
        30,
        "every result in the database",
    )
    for st, _ in stations:
        st.stop(10)
    got = dict(rows(server, f"SELECT station, count(*) FROM {schema}.inspections GROUP BY 1"))
    assert got == {f"station-{i}": 120 for i in range(3)}
    ids = {r[0] for r in rows(server, f"SELECT inspection_id FROM {schema}.inspections")}
    sent = {i.inspection_id for _, c in stations for i in c.inspections}
    assert ids == sent
    assert rows(server, f"SELECT count(*) FROM {schema}.tool_results") == [(360,)]
    # migrated once, although three stations connected at the same moment
    versions = rows(server, f"SELECT version FROM {schema}.schema_version ORDER BY 1")
    assert versions == [(v,) for v in range(1, SCHEMA_VERSION + 1)]
    passed = sum(i.verdict is Verdict.PASS for _, c in stations for i in c.inspections)
    (parts, ok) = rows(
        server, f"SELECT sum(parts), sum(passed) FROM {schema}.yield_per_station_hour"
    )[0]
    assert (parts, ok) == (360, passed)
    assert 0 < passed < 360  # both verdicts made it
    rejected = rows(server, f"SELECT line, sum(parts) FROM {schema}.reasons_per_line GROUP BY line")
    assert rejected == [("line-2", 360 - passed)]


def test_an_outage_under_load_loses_nothing_and_never_holds_the_line(
    server: PostgresServer, tmp_path: Path
) -> None:
    schema = "outage"
    st, collector = station_for(
        tmp_path / "s", "station-out", [output(server, db_schema=schema)], parts=None, rate=40.0
    )
    st.start()
    try:
        wait_until(lambda: st.outputs()[0].sent >= 20, 20, "results before the outage")
        server.stop("immediate")
        stopped_at, parts_then = time.monotonic(), len(collector.inspections)
        wait_until(lambda: st.outputs()[0].state == "failed", 10, "the output noticing")
        time.sleep(3.0)
        during = len(collector.inspections) - parts_then
        seconds = time.monotonic() - stopped_at
        # the line kept its pace while the database was away (40 parts/s; half is plenty)
        assert during >= 0.5 * 40 * seconds, (during, seconds)
        state = st.outputs()[0]
        assert state.waiting > 0 and "not reached" in state.describe()
        server.start()
        back_at = time.monotonic()
        wait_until(lambda: st.outputs()[0].state != "failed", 20, "the output reconnecting")
    finally:
        st.stop(10)
    # stopped, the station's outbox keeps what it had not sent: started again, it catches up
    assert time.monotonic() - back_at < 20
    st.start()
    try:
        wait_until(lambda: st.outputs()[0].waiting == 0, 30, "the outbox emptied")
    finally:
        st.stop(10)
    recorded = [i.inspection_id for i in collector.inspections]
    in_db = rows(server, f"SELECT inspection_id FROM {schema}.inspections")
    assert len(in_db) == len({r[0] for r in in_db})  # once each
    # the line ran on to the stop: its last parts wait in the outbox for the next start
    outbox = Outbox(tmp_path / "s" / "data" / "outbox" / "postgres.sqlite", max_items=1)
    kept = {item.key for item in outbox.oldest(len(outbox))}
    outbox.close()
    assert len(kept) < 10
    assert {r[0] for r in in_db} | kept == set(recorded)  # every part that was recorded here
    assert not {r[0] for r in in_db} & kept


def test_a_database_that_refuses_the_schema_keeps_results_on_disk(
    server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("READER_PW", "reader-pw")
    st, collector = station_for(
        tmp_path / "s",
        "station-ro",
        [output(server, user="reader", password_env="READER_PW", db_schema="refused")],
        parts=30,
        rate=0.0,
    )
    st.start()
    try:
        assert st.wait_finished(30)
        wait_until(lambda: st.outputs()[0].state == "failed", 10, "the refusal")
        state = st.outputs()[0]
        assert "refused the schema" in state.reason and "permission denied" in state.reason
        wait_until(lambda: st.outputs()[0].waiting == 30, 10, "the results kept on disk")
        assert len(collector.inspections) == 30  # inspection went on
    finally:
        st.stop(10)


def test_a_newer_schema_or_a_wrong_password_is_a_failed_output_with_the_reason(
    server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows(server, "CREATE SCHEMA future")
    rows(
        server,
        "CREATE TABLE future.schema_version (version integer NOT NULL, applied_at timestamptz)",
    )
    rows(server, "INSERT INTO future.schema_version VALUES (99, now())")
    monkeypatch.setenv("WRONG_PW", "not-it")
    st, _ = station_for(
        tmp_path / "s",
        "station-new",
        [
            output(server, id="future", db_schema="future"),
            output(server, id="wrongpw", password_env="WRONG_PW", db_schema="whatever"),
        ],
        parts=5,
        rate=0.0,
    )
    st.start()
    try:
        assert st.wait_finished(30)
        wait_until(lambda: all(o.state == "failed" for o in st.outputs()), 10, "both refusals")
        future, wrong = st.outputs()
        assert f"version 99, newer than this station knows ({SCHEMA_VERSION})" in future.reason
        assert "password authentication failed" in wrong.reason
        assert "not-it" not in wrong.describe()  # a password is never shown
    finally:
        st.stop(10)


def test_a_password_variable_that_is_not_set_stops_the_start(tmp_path: Path) -> None:
    st, _ = station_for(
        tmp_path / "s",
        "station-nopw",
        [{"type": "postgres", "password_env": "NOT_SET_ANYWHERE"}],
        parts=1,
        rate=0.0,
    )
    with pytest.raises(Exception, match="NOT_SET_ANYWHERE"):
        st.start()
    assert not st.running


def _message(part: int, **more: object) -> bytes:
    body: dict[str, object] = {
        "schema": "lineside/result/1",
        "inspection_id": f"id-{part}",
        "site": "",
        "line": "line-9",
        "station": "station-link",
        "part_seq": part,
        "time": "2026-12-07T06:30:00.250+00:00",
        "verdict": "FAIL" if part % 2 else "PASS",
        "reason": "codes: no code" if part % 2 else "",
        "recipe": "bottles",
        "recipe_version": "v3",
        "lot": "L-7",
        "tools": [
            {"id": "codes", "type": "codes", "verdict": "PASS", "reason": "", "values": {}},
            {
                "id": "surface",
                "type": "anomaly",
                "verdict": "FAIL" if part % 2 else "PASS",
                "reason": "",
                "values": {"score": 0.5 + part},
            },
        ],
        **more,
    }
    return encode(body)


def connected_link(server: PostgresServer, schema: str) -> PostgresLink:
    """The link of station ``station-link`` to ``schema``, connected (the tables made)."""
    settings = PostgresOutputSettings.model_validate(
        {**output(server, db_schema=schema), "password": PASSWORD}
    )
    link = PostgresLink(settings, "station-link")
    link.connect()
    return link


def test_the_link_writes_each_message_as_its_rows_once_even_when_sent_again(
    server: PostgresServer,
) -> None:
    """A batch goes as the outbox's JSON, taken apart by the server: every column of the
    schema gets its value, tools keep their order, a message kept by an older station (no model
    hashes, no codes) lands with the defaults, and a batch sent again changes nothing."""
    assert tuple(PART_FIELDS) == PART_COLUMNS  # a column added to the schema gets written
    assert tuple(TOOL_FIELDS) == TOOL_COLUMNS and tuple(EVENT_FIELDS) == EVENT_COLUMNS
    schema = "link"
    link = connected_link(server, schema)
    try:
        batch = [
            (RESULT_TOPIC, _message(1, model_hashes={"surface": "ab12"}, codes=["A-1", "B-2"])),
            (RESULT_TOPIC, _message(2)),  # an older station's message
        ]
        link.send_batch(batch)
        link.send_batch(batch)  # its acknowledgement lost: sent again
        alarm = {
            "schema": "lineside/alarm/1",
            "site": "",
            "line": "line-9",
            "station": "station-link",
            "level": "alarm",
            "source": "camera",
            "message": "cam1 lost",
            "time": "2026-12-07T06:31:00.000+00:00",
        }
        link.send_unkept(ALARM_TOPIC, encode(alarm))
    finally:
        link.close()
    parts = rows(
        server,
        "SELECT inspection_id, line, part_seq, at = '2026-12-07 06:30:00.25+00', verdict, reason,"
        " recipe, recipe_version, lot, model_hashes, codes"
        f" FROM {schema}.inspections ORDER BY part_seq",
    )
    assert parts == [
        ("id-1", "line-9", 1, True, "FAIL", "codes: no code", "bottles", "v3", "L-7",
         {"surface": "ab12"}, ["A-1", "B-2"]),
        ("id-2", "line-9", 2, True, "PASS", "", "bottles", "v3", "L-7", {}, []),
    ]  # fmt: skip
    tools = rows(
        server,
        "SELECT inspection_id, tool_id, tool_type, verdict, measurements, position"
        f" FROM {schema}.tool_results ORDER BY inspection_id, position",
    )
    assert tools == [
        ("id-1", "codes", "codes", "PASS", {}, 0),
        ("id-1", "surface", "anomaly", "FAIL", {"score": 1.5}, 1),
        ("id-2", "codes", "codes", "PASS", {}, 0),
        ("id-2", "surface", "anomaly", "PASS", {"score": 2.5}, 1),
    ]
    events = rows(server, f"SELECT station, level, source, message FROM {schema}.events")
    assert events == [("station-link", "alarm", "camera", "cam1 lost")]


def test_a_batch_the_database_refuses_is_an_error_naming_why_and_lands_not_at_all(
    server: PostgresServer,
) -> None:
    schema = "refusing"
    link = connected_link(server, schema)
    try:
        with pytest.raises(OutputError, match="refused a result") as refused:
            link.send_batch(
                [(RESULT_TOPIC, _message(1)), (RESULT_TOPIC, _message(2, verdict="MAYBE"))]
            )
        assert "check constraint" in str(refused.value)
    finally:
        link.close()
    assert rows(server, f"SELECT count(*) FROM {schema}.inspections") == [(0,)]


def _rows_read(server: PostgresServer, link: PostgresLink, schema: str) -> int:
    """Rows of the parts table read through its indexes so far (the link's counts flushed
    first)."""
    assert link._conn is not None
    link._conn.execute("SELECT pg_stat_force_next_flush()")
    link._conn.execute("SELECT 1")  # the flush happens when the session next goes idle
    time.sleep(0.2)
    (count,) = rows(
        server,
        f"SELECT idx_tup_fetch FROM pg_stat_user_tables WHERE relid = '{schema}.inspections'::regclass",
    )[0]
    return int(count)


def test_a_new_plant_database_keeps_its_inserts_fast_as_it_fills(server: PostgresServer) -> None:
    """On a new, empty schema the server plans each tool row's key check through the wrong index
    (the station's parts by time: every part of the station read), and keeps that plan for the
    connection: every insert slower than the last. Once the parts table has grown
    (``ANALYZE_AFTER``) the station has the statistics gathered, and each check reads one row."""
    schema = "filling"
    link = connected_link(server, schema)
    try:
        batch = 50
        written = 0
        while written < ANALYZE_AFTER + 100:
            link.send_batch([(RESULT_TOPIC, _message(written + i)) for i in range(batch)])
            written += batch
        before = _rows_read(server, link, schema)
        for _ in range(10):
            link.send_batch([(RESULT_TOPIC, _message(written + i)) for i in range(batch)])
            written += batch
        after = _rows_read(server, link, schema)
    finally:
        link.close()
    # 500 parts, 1,000 tool rows: each key check reads its one part (the wrong plan: all 1,100+)
    assert after - before <= 2 * 1_000, (before, after)
    assert rows(server, f"SELECT count(*) FROM {schema}.inspections") == [(written,)]
