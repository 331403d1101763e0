"""`lineside bench --links`: the PLC's trigger-to-OK/NG, measured against the station's own
Modbus server on 127.0.0.1 (a few handshakes here; 1,000 in the real bench)."""

from __future__ import annotations

import json

import pytest

from inspection.cli import main


def test_bench_links_prints_the_plc_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--links", "--link-parts", "4", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
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
