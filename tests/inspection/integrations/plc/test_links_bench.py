"""`lineside bench --links`: the PLC's trigger-to-OK/NG against the station's own Modbus server,
and MQTT's and PostgreSQL's rates and outages against a real broker and server, all on 127.0.0.1
(a few handshakes and seconds here; 1,000 handshakes and a 60 s outage in the real bench)."""

from __future__ import annotations

import json

import pytest

from inspection.cli import main


def test_bench_links_prints_the_plc_figures(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--link-parts", "4", "--outage-s", "2", "--phase-s", "2", "--json"]
    assert main(["bench", "--links", *args]) == 0
    figures = json.loads(capsys.readouterr().out)
    # the fields other tools read, by these names
    assert list(figures)[:5] == [
        "plc_ms",
        "mqtt_per_s",
        "postgres_per_s",
        "inspection_slowdown",
        "outage",
    ]
    for link in ("mqtt", "postgres"):
        outage = figures["outage"][link]
        assert set(outage) == {"lost", "duplicates", "catch_up_s"}
        # what the station had not sent when it stopped waits in its outbox: kept, not lost
        assert outage["lost"] == 0, (link, outage, figures["kept_at_stop"])
        assert figures["kept_at_stop"][link] >= 0
        # PostgreSQL: exactly once (idempotent inserts); MQTT QoS 1: the one result in flight
        # when the broker went may arrive twice, never more
        assert outage["duplicates"] <= (1 if link == "mqtt" else 0), (link, outage)
        assert outage["catch_up_s"] > 0
        assert figures[f"{link}_per_s"] > 0
    assert figures["parts_recorded"] > 0 and -1 < figures["inspection_slowdown"] < 1
    assert figures["plc_parts"] == 4
    plc, trip, own = (
        figures["plc_ms"],
        figures["plc_round_trip_ms"],
        figures["plc_inspection_ms"],
    )
    assert set(plc) == {"p50", "p99"}
    assert 0 < plc["p50"] <= plc["p99"]
    # the link's share is the round trip less the station's own time, part by part
    assert trip["p50"] > own["p50"] > 0
    assert plc["p50"] < trip["p50"]


def test_bench_links_refuses_no_parts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--links", "--link-parts", "0"]) == 2
    assert "--link-parts must be at least 1" in capsys.readouterr().err
