"""`lineside bench --sources`: each camera kind measured against its simulator."""

from __future__ import annotations

import json

import pytest

from inspection.cli import main


def test_bench_sources_measures_every_camera_kind(capsys: pytest.CaptureFixture[str]):
    assert main(["bench", "--sources", "--sources-only", "--seconds", "2", "--json"]) == 0
    sources = json.loads(capsys.readouterr().out)["sources"]
    assert set(sources) == {"gige", "rtsp", "http"}
    for kind, figures in sources.items():
        assert "error" not in figures, f"{kind}: {figures.get('error')}"
        assert figures["fps"] > 10, kind
        assert figures["unstamped_frames"] == 0, kind
        # on a loaded test machine only sanity: the latency is there, positive and below 1 s
        assert 0 <= figures["latency_ms_p50"] < 1000, kind
        assert figures["lost_frames"] >= 0 and figures["frames"] > 0
