"""A station whose results disk fills stops inspecting, says so, and goes on once it empties."""

from __future__ import annotations

import time
from pathlib import Path

import yaml
from support.pipeline_tools import BrightnessTool, Collector, frames, make_recipe
from support.small_disk import fill, small_disk

from inspection.paths import user_paths
from inspection.pipeline.recording_watch import NOT_READY_REASON
from inspection.pipeline.station import Station
from inspection.sources.memory import MemorySource
from inspection.types import StatusLevel, Verdict


def _wait(cond, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_not_ready_while_results_cannot_be_recorded(tmp_path: Path, monkeypatch) -> None:
    with small_disk(tmp_path / "disk", 16) as disk:
        monkeypatch.setenv("LINESIDE_HOME", str(disk / "home"))
        paths = user_paths().ensure()
        paths.station_file.write_text(
            yaml.safe_dump({"storage": {"record_within_s": 1.0, "min_free_gb": 0.0,
                                        "min_free_percent": 0.0}}),
            encoding="utf-8",
        )  # fmt: skip
        collector = Collector()
        n = 400
        station = Station(
            make_recipe(workers=1),
            sources=[MemorySource(frames(n), rate_hz=40.0)],
            make_tools=lambda: [BrightnessTool()],
        )
        station.add_listener(collector)
        station.start()
        ballast = None
        try:
            _wait(lambda: len(collector.inspections) >= 20, 30, "the first parts")
            assert station.ready
            ballast = fill(disk)
            _wait(lambda: not station.ready, 30, "the station to say it is not ready")
            _wait(
                lambda: any(i.reason == f"station: {NOT_READY_REASON}" for i in collector.inspections),
                10,
                "a part refused while not ready",
            )  # fmt: skip
            alarms = [s for s in collector.status if s.source == "recording"]
            assert alarms and alarms[-1].level is StatusLevel.ALARM
            assert alarms[-1].message.startswith("NOT READY: results not recorded for")
            ballast.unlink()
            ballast = None
            _wait(lambda: station.ready, 30, "the station to be ready again")
            seen = len(collector.inspections)
            _wait(lambda: len(collector.inspections) >= seen + 10, 30, "parts after recovery")
        finally:
            if ballast is not None:
                ballast.unlink()
            station.stop(20)
        refused = [i for i in collector.inspections if i.reason == f"station: {NOT_READY_REASON}"]
        assert refused and all(i.verdict is Verdict.ERROR for i in refused)
        assert collector.inspections[-1].verdict is Verdict.PASS  # inspecting again
        ready_again = [s for s in collector.status if s.source == "recording"][-1]
        assert ready_again.level is StatusLevel.INFO
        # nothing the station published was lost: every part is recorded
        assert station.recorded() == len(collector.inspections)
