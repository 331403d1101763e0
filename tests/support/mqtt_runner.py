"""The MQTT output's tests: one runner built as a station builds it, against a test broker, and
a wait for what a test expects."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from inspection.integrations.mqtt import mqtt_output
from inspection.integrations.output_runner import OutputRunner, OutputState
from inspection.recipe import MqttOutputSettings
from inspection.types import Inspection, ToolResult, Verdict


def mqtt_runner(
    port: int,
    tmp_path: Path,
    *,
    station: str,
    states: list[OutputState] | None = None,
    **settings: object,
) -> OutputRunner:
    """A ``type: mqtt`` output of ``station`` on site plant-a, line line-2, trying again every
    0.2 s and waiting 2 s for an acknowledgement, unless ``settings`` say otherwise."""
    values: dict[str, object] = {
        "type": "mqtt",
        "host": "127.0.0.1",
        "port": port,
        "site": "plant-a",
        "line": "line-2",
        "retry_s": 0.2,
        "ack_timeout_s": 2.0,
        **settings,
    }
    return mqtt_output(
        MqttOutputSettings.model_validate(values),
        station=station,
        recipe="demo",
        outbox_folder=tmp_path / "outbox",
        on_state=(states.append if states is not None else lambda _s: None),
    )


def wait_for(what: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out: {what.__code__.co_names}")
        time.sleep(0.02)


def passing_part(seq: int, station: str) -> Inspection:
    """Part ``seq`` of ``station``: passed by one surface tool, no frames (what an output sends)."""
    return Inspection(
        inspection_id=f"part-{seq:05d}",
        station=station,
        part_seq=seq,
        verdict=Verdict.PASS,
        reason="",
        tool_results=(
            ToolResult(
                tool_id="surface",
                tool_type="anomaly",
                verdict=Verdict.PASS,
                reason="",
                measurements={"score": seq / 1000},
            ),
        ),
        frames=(),
        recipe_name="demo",
        recipe_version="3",
        wall_time=1_780_000_000.0 + seq,
    )
