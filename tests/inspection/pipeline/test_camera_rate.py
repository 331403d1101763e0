"""Frames and drops per camera and minute: counted, handed on once a minute ends, recorded by
the results store and read back as the station's frame-rate and drop series."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspection.errors import StorageError
from inspection.pipeline.camera_rate import CameraRate
from inspection.storage.batch import CameraInterval
from inspection.storage.results import ResultsStore
from inspection.trends.measures import parse_series
from inspection.trends.series import available_series, load_raw_series

T0 = 1_780_000_020.0  # on a minute's edge (divisible by 60)


def test_a_minute_is_handed_on_when_the_next_begins() -> None:
    got: list[CameraInterval] = []
    rate = CameraRate("st1", got.append)
    for i in range(10):  # 10 frames in the first minute, seq 0..9
        rate.frame("cam1", i, T0 + i)
    assert got == []  # the minute is not over
    rate.frame("cam1", 14, T0 + 61)  # 10..13 never arrived
    assert got == [
        CameraInterval(station="st1", camera="cam1", start=T0, end=T0 + 60, frames=10, dropped=0)
    ]
    rate.dropped("cam1", T0 + 62, 3)  # the station let three go
    rate.flush(T0 + 90)
    assert got[1] == CameraInterval(
        station="st1", camera="cam1", start=T0 + 60, end=T0 + 90, frames=1, dropped=4 + 3
    )


def test_a_camera_that_sends_nothing_still_gets_its_minute_at_zero() -> None:
    got: list[CameraInterval] = []
    rate = CameraRate("st1", got.append)
    rate.frame("cam1", 0, T0 + 5)
    rate.frame("cam2", 0, T0 + 5)
    rate.tick(T0 + 60.5)  # the timer: both minutes end
    rate.tick(T0 + 120.5)  # a minute with no frame from either camera
    assert [(g.camera, g.start, g.frames) for g in got] == [
        ("cam1", T0, 1),
        ("cam2", T0, 1),
        ("cam1", T0 + 60, 0),
        ("cam2", T0 + 60, 0),
    ]


def test_a_camera_that_numbers_from_zero_again_is_not_dropping() -> None:
    got: list[CameraInterval] = []
    rate = CameraRate("st1", got.append)
    for seq in (100, 101, 0, 1, 3):  # reopened (numbers restart), then one lost
        rate.frame("cam1", seq, T0 + 1)
    rate.flush(T0 + 60)
    assert (got[0].frames, got[0].dropped) == (5, 1)


def test_a_stopped_store_loses_the_counts_not_the_camera() -> None:
    got: list[CameraInterval] = []

    def record(interval: CameraInterval) -> None:
        if interval.start == T0:  # the store was stopping
            raise StorageError("results store is not running")
        got.append(interval)

    rate = CameraRate("st1", record)
    rate.frame("cam1", 0, T0)
    rate.frame("cam1", 1, T0 + 61)  # hands on the first minute: refused, logged
    rate.frame("cam1", 2, T0 + 62)
    rate.flush(T0 + 120)
    assert [(g.start, g.frames) for g in got] == [(T0 + 60, 2)]


def test_bad_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        CameraRate("st1", lambda _i: None, interval_s=0)


def test_recorded_minutes_are_the_stations_frame_rate_and_drop_series(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite"
    store = ResultsStore(db)
    store.start()
    try:
        rate = CameraRate("st1", store.record_camera_interval)
        # 10 minutes: cam1 at 5 frames/s losing 1 frame a minute from minute 5 on
        seq = 0
        for minute in range(10):
            for k in range(300):
                seq += 2 if (minute >= 5 and k == 0) else 1
                rate.frame("cam1", seq, T0 + minute * 60 + k * 0.2)
        rate.flush(T0 + 600)
        assert store.flush(5.0)
    finally:
        store.stop()
    fps = load_raw_series(db, parse_series("station.fps:cam1"), T0, T0 + 600, interval_s=300)
    assert fps.t.tolist() == [T0, T0 + 300]
    assert fps.value.tolist() == pytest.approx([5.0, 5.0])
    assert fps.count.tolist() == [1500, 1500]
    drops = load_raw_series(db, parse_series("station.drops:cam1"), T0, T0 + 600, interval_s=60)
    # the first minute's first frame follows none; minutes 5..9 each lost one
    assert drops.value.tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    assert drops.part_id.tolist() == [-1] * 10
    names = [str(s.name) for s in available_series(db, T0, T0 + 600)]
    assert "station.fps:cam1" in names and "station.drops:cam1" in names
    # another station's range has none
    assert (
        load_raw_series(
            db, parse_series("station.fps:cam1"), T0, T0 + 600, station="other"
        ).t.tolist()
        == []
    )
    with pytest.raises(ValueError, match=r"station\.fps:<camera>"):
        parse_series("station.fps:")
