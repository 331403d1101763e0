"""``lineside bench --links``' MQTT and PostgreSQL half on a short run: real peers, an outage of
each, and every recorded part arriving exactly once in both."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspection.evaluation.outputs_bench import bench_outputs
from inspection.evaluation.peers import mosquitto_binary


@pytest.mark.skipif(mosquitto_binary() is None, reason="installer/linux/setup.sh test installs it")
@pytest.mark.parametrize("qos", [1, 2])
def test_a_short_outputs_bench_loses_nothing_and_reports_its_fields(
    tmp_path: Path, qos: int
) -> None:
    figures = bench_outputs(tmp_path, phase_s=4.0, outage_s=3.0, mqtt_qos=qos)
    assert figures["mqtt_qos"] == qos
    assert set(figures) >= {"mqtt_per_s", "postgres_per_s", "inspection_slowdown", "outage"}
    assert figures["parts_recorded"] > 0
    for peer in ("mqtt", "postgres"):
        outage = figures["outage"][peer]
        # QoS 1 is at least once: the one result in flight at the broker's stop may come twice
        most = 1 if peer == "mqtt" and qos == 1 else 0
        assert outage["lost"] == 0 and outage["duplicates"] <= most, (peer, outage)
        assert outage["catch_up_s"] >= 0
        assert figures[f"{peer}_per_s"] > 0
    assert figures["peers_cpu_s_per_s"] > 0  # the subscriber's process is counted with the peers
    # how far behind the line each output was at the end of each round with outputs
    assert [set(w) for w in figures["waiting_at_round_end"]] == [{"mqtt", "postgres"}] * 2
