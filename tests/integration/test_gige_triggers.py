"""Triggered GigE cameras on a running station, against Aravis's fake camera (own namespace)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from support.gige_peer import running_fake_camera
from support.pipeline_tools import AlarmClock, BrightnessTool

from inspection.paths import user_paths
from inspection.pipeline.station import Station
from inspection.recipe import parse_recipe
from inspection.types import StatusLevel, Verdict


@pytest.fixture
def fake_gige() -> Iterator[Any]:
    yield from running_fake_camera("TRIGGER1")


def station_for(
    fake: Any, trigger: str, recipe_trigger: dict[str, Any]
) -> tuple[Station, AlarmClock]:
    recipe = parse_recipe(
        {
            "name": "gige-trigger",
            "cameras": [
                {
                    "id": "cam",
                    "source": {
                        "type": "gige",
                        "device": fake.address,
                        "pixel_format": "Mono8",
                        "width": 640,
                        "height": 480,
                        "trigger": trigger,
                    },
                }
            ],
            "trigger": recipe_trigger,
            "pipeline": {"workers": 1},
        }
    )
    station = Station(
        recipe, paths=user_paths(), make_tools=lambda: [BrightnessTool(camera="cam", minimum=0)]
    )
    clock = AlarmClock()
    station.add_listener(clock)
    with fake.inside():  # the station's threads are born in the camera's namespace
        station.start()
    deadline = time.monotonic() + 10
    while not station.camera_connected("cam"):
        assert time.monotonic() < deadline, f"camera never connected: {clock.stamped}"
        time.sleep(0.02)
    return station, clock


def test_each_software_trigger_is_one_frame_commanded_from_the_camera(fake_gige: Any):
    station, clock = station_for(fake_gige, "software", {"type": "software", "timeout_s": 1.0})
    try:
        time.sleep(0.5)
        assert clock.inspections == []  # the camera sends nothing until told
        ids = []
        for _ in range(5):
            ids.append(station.trigger())
            time.sleep(0.1)
        deadline = time.monotonic() + 10
        while len(clock.inspections) < 5:
            assert time.monotonic() < deadline, [i.reason for i in clock.inspections]
            time.sleep(0.02)
    finally:
        station.stop()
    assert [i.verdict for i in clock.inspections] == [Verdict.PASS] * 5
    assert [i.frames[0].trigger_id for i in clock.inspections] == ids


def test_a_hardware_triggered_camera_waiting_for_parts_is_not_lost_but_a_dead_one_is(
    fake_gige: Any,
):
    station, clock = station_for(fake_gige, "hardware", {"type": "every_frame"})
    try:
        time.sleep(2.5)  # no pulse on Line0: no frame, and that is normal
        assert clock.inspections == []
        assert not [u for _, u in clock.stamped if u.level is StatusLevel.ALARM]
        assert station.camera_connected("cam")
        killed = time.monotonic()
        fake_gige.kill()
        alarm_s = clock.wait_for(StatusLevel.ALARM, "camera cam", killed, 5.0)
    finally:
        station.stop()
    assert alarm_s < 1.0
