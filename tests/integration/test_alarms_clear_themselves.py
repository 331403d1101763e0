"""A camera alarm on a running station with a real camera peer clears by itself.

The MJPEG simulator (started here on 127.0.0.1) is killed mid-shift: the station raises a camera
alarm within a second and the operator acknowledges it; it stays active (silenced) while the
camera is down. Once the server is back and parts pass, the station's active alarms are empty
without anyone acknowledging again, and the shift's alarm list holds the closed episode.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from support.pipeline_tools import one_camera_station

from inspection.simulators.peers import running_peer
from inspection.types import StatusLevel, Verdict


def wait_until(what: str, ok: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not ok():
        assert time.monotonic() < deadline, f"timed out waiting for: {what}"
        time.sleep(0.02)


def test_a_lost_mjpeg_camera_alarm_clears_itself_once_the_camera_is_back():
    with running_peer("mjpeg", width=320, height=240, fps=25) as peer:
        station, clock = one_camera_station({"type": "http", "url": peer.url, "timeout_s": 2.0})
        station.start()
        try:
            wait_until("camera connected", lambda: station.camera_connected("cam"), 15.0)
            assert station.alarms() == ()

            killed = time.monotonic()
            peer.kill()
            alarm_s = clock.wait_for(StatusLevel.ALARM, "camera cam", killed, 5.0)
            assert alarm_s < 1.0
            (raised,) = station.alarms()
            assert raised.source == "cam" and raised.level is StatusLevel.ALARM
            station.acknowledge_alarms()
            # down for a while: retries keep reporting, the alarm stays active and silenced
            wait_until("a retry", lambda: station.alarms()[0].occurrences >= 3, 10.0)
            (down,) = station.alarms()
            assert down.acknowledged and down.episode_id == raised.episode_id

            peer.start()
            wait_until("camera back", lambda: station.camera_connected("cam"), 10.0)
            before = len(clock.inspections)
            for _ in range(3):
                station.trigger()
                time.sleep(0.1)
            wait_until("parts", lambda: len(clock.inspections) >= before + 3, 10.0)
            assert [i.verdict for i in clock.inspections[before:]] == [Verdict.PASS] * 3
            # nobody acknowledged again: the alarm went when its cause did
            assert station.alarms() == ()
        finally:
            station.stop()
    (episode,) = station.alarm_history()
    assert episode.episode_id == raised.episode_id and not episode.active
    assert episode.cleared_by == "camera cam connected"
    assert episode.acknowledged_at is not None and episode.cleared_at is not None
    assert episode.raised_at <= episode.acknowledged_at <= episode.cleared_at
    assert episode.occurrences >= 3
