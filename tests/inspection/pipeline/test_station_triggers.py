"""Triggers and camera health on a running station: software triggers, lost and frozen cameras."""

from __future__ import annotations

import threading
import time

import pytest
from support.pipeline_tools import (
    AlarmClock,
    BrightnessTool,
    Collector,
    UnpluggableCamera,
    make_recipe,
)

from inspection.errors import LinesideError
from inspection.pipeline.station import Station
from inspection.types import StatusLevel, Verdict


def wait_parts(collector: Collector, n: int, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while len(collector.inspections) < n:
        assert time.monotonic() < deadline, f"{len(collector.inspections)} of {n} parts"
        time.sleep(0.01)


def software_station(cams: list[UnpluggableCamera], collector: Collector) -> Station:
    recipe = make_recipe(cameras=len(cams), trigger={"type": "software", "timeout_s": 0.5})
    station = Station(
        recipe,
        store_results=False,
        sources=cams,
        make_tools=lambda: [BrightnessTool(camera=c.camera) for c in cams],
    )
    station.add_listener(collector)
    return station


def wait_connected(station: Station, camera: str, timeout_s: float = 3.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not station.camera_connected(camera):
        assert time.monotonic() < deadline, f"camera {camera} never connected"
        time.sleep(0.01)


def test_each_trigger_is_one_part_with_every_cameras_frame_after_it():
    cams = [UnpluggableCamera("cam1"), UnpluggableCamera("cam2")]
    collector = Collector()
    station = software_station(cams, collector)
    station.start()
    try:
        for c in cams:
            wait_connected(station, c.camera)
        fired = []
        for _ in range(5):
            before = time.monotonic_ns()
            station.trigger()
            fired.append(before)
            time.sleep(0.05)
        wait_parts(collector, 5)
    finally:
        station.stop()
    assert [i.verdict for i in collector.inspections] == [Verdict.PASS] * 5
    for insp, fired_ns in zip(collector.inspections, fired, strict=True):
        assert {f.camera for f in insp.frames} == {"cam1", "cam2"}
        # every frame was captured after its trigger, within a few frame periods
        assert all(0 <= f.t_ns - fired_ns < 0.2e9 for f in insp.frames)


def test_triggers_while_a_camera_is_down_are_recorded_as_error_then_it_comes_back():
    cams = [UnpluggableCamera("cam1"), UnpluggableCamera("cam2")]
    alarms = AlarmClock()
    station = software_station(cams, alarms)
    station.start()
    try:
        for c in cams:
            wait_connected(station, c.camera)
        station.trigger()
        wait_parts(alarms, 1)
        pulled = time.monotonic()
        cams[1].unplugged.set()
        seconds = alarms.wait_for(StatusLevel.ALARM, "camera cam2 lost", pulled, 2.0)
        assert seconds < 1.0  # the operator sees the alarm within a second
        for _ in range(3):
            station.trigger()
        wait_parts(alarms, 4)
        back = time.monotonic()
        cams[1].unplugged.clear()
        reconnect_s = alarms.wait_for(StatusLevel.INFO, "camera cam2 connected", back, 15.0)
        wait_connected(station, "cam2")
        station.trigger()
        wait_parts(alarms, 5)
    finally:
        station.stop()
    verdicts = [i.verdict for i in alarms.inspections]
    assert verdicts == [Verdict.PASS, Verdict.ERROR, Verdict.ERROR, Verdict.ERROR, Verdict.PASS]
    for insp in alarms.inspections[1:4]:
        assert "cam2 not connected" in insp.reason
    # retries come at least once a second, so the camera is back well within 2 s
    assert reconnect_s < 2.0


def test_a_camera_that_stops_sending_is_reported_lost_and_reopened():
    cam = UnpluggableCamera("cam1", period_s=0.02)
    alarms = AlarmClock()
    station = Station(
        make_recipe(cameras=1),
        store_results=False,
        sources=[cam],
        make_tools=lambda: [BrightnessTool()],
    )
    station.add_listener(alarms)
    station.start()
    try:
        wait_parts(alarms, 20)
        cam.period_s = 5.0  # the stream stalls (no error, just nothing)
        stalled = time.monotonic()
        seconds = alarms.wait_for(StatusLevel.ALARM, "sent no frame", stalled, 3.0)
        cam.period_s = 0.02
        alarms.wait_for(StatusLevel.INFO, "camera cam1 connected", stalled, 5.0)
    finally:
        station.stop()
    # 5 periods of 20 ms, but never less than 0.5 s, plus one read timeout
    assert seconds < 1.0
    assert cam.opens >= 2


def test_a_frozen_stream_is_reported_and_reopened():
    cam = UnpluggableCamera("cam1", period_s=0.005)
    alarms = AlarmClock()
    recipe = make_recipe(cameras=1)
    cam_settings = recipe.cameras[0].model_copy(
        update={"health": recipe.cameras[0].health.model_copy(update={"frozen_frames": 20})}
    )
    recipe = recipe.model_copy(update={"cameras": [cam_settings]})
    station = Station(recipe, store_results=False, sources=[cam], make_tools=lambda: [])
    station.add_listener(alarms)
    station.start()
    try:
        wait_parts(alarms, 5)
        froze = time.monotonic()
        cam.frozen.set()
        alarms.wait_for(StatusLevel.ALARM, "frozen: 20 identical frames", froze, 3.0)
    finally:
        station.stop()
    assert cam.opens >= 2


def test_trigger_on_a_station_that_is_not_software_triggered_says_why():
    station = Station(
        make_recipe(cameras=1),
        store_results=False,
        sources=[UnpluggableCamera()],
        make_tools=lambda: [],
    )
    with pytest.raises(LinesideError, match="not running"):
        station.trigger()
    station.start()
    try:
        with pytest.raises(LinesideError, match="every_frame trigger"):
            station.trigger()
    finally:
        station.stop()


def test_each_part_carries_its_trigger_id_and_two_stops_at_once_are_one():
    """The PLC finds its part's result by trigger id; a PLC changeover and the program ending
    may stop the same station at the same moment."""
    cam = UnpluggableCamera("cam1")
    collector = Collector()
    station = software_station([cam], collector)
    station.start()
    wait_connected(station, "cam1")
    assert station.ready_for_parts
    ids = [station.trigger(), station.trigger()]
    wait_parts(collector, 2)
    assert [i.trigger_id for i in collector.inspections] == ids
    errors: list[BaseException] = []

    def stop() -> None:
        try:
            station.stop(5.0)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=stop) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not errors and not station.running and not station.ready_for_parts
