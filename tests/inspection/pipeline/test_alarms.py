"""The alarm book and the reject run: episodes open, repeat, get acknowledged and clear by
themselves; and a running station whose camera is lost, frozen or back keeps its book true."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from support.pipeline_tools import BrightnessTool, Collector, UnpluggableCamera, make_recipe

from inspection.pipeline.alarms import AlarmBook, AlarmEpisode, RejectRun
from inspection.pipeline.station import Station
from inspection.types import StatusLevel, StatusUpdate, Verdict


def status(level: StatusLevel, source: str, message: str) -> StatusUpdate:
    return StatusUpdate(level=level, source=source, message=message)


def alarm(source: str, message: str) -> StatusUpdate:
    return status(StatusLevel.ALARM, source, message)


def info(source: str, message: str) -> StatusUpdate:
    return status(StatusLevel.INFO, source, message)


def test_an_episode_opens_repeats_and_clears_itself_and_stays_in_the_shift_list():
    book = AlarmBook()
    book.update(alarm("cam1", "camera cam1 lost: stream ended"), 100.0)
    book.update(alarm("cam1", "camera cam1 cannot be opened: connection refused"), 101.0)
    book.update(info("station", "recipe running"), 101.5)  # another source clears nothing
    (episode,) = book.active()
    assert episode.source == "cam1" and episode.level is StatusLevel.ALARM
    assert episode.first_message == "camera cam1 lost: stream ended"
    assert episode.message == "camera cam1 cannot be opened: connection refused"
    assert (episode.raised_at, episode.last_at, episode.occurrences) == (100.0, 101.0, 2)
    assert episode.active and episode.cleared_at is None

    book.update(info("cam1", "camera cam1 connected"), 125.0)
    assert book.active() == ()
    assert not book.is_active("cam1")
    (closed,) = book.history()
    assert closed.episode_id == episode.episode_id
    assert closed.cleared_at == 125.0 and closed.cleared_by == "camera cam1 connected"
    assert not closed.active and closed.acknowledged_at is None

    # the same source failing again is a new episode; the list is newest first
    book.update(alarm("cam1", "camera cam1 lost again"), 130.0)
    assert [e.message for e in book.history()] == ["camera cam1 lost again", closed.message]
    assert book.active()[0].episode_id != closed.episode_id


def test_acknowledged_alarms_stay_active_until_their_cause_clears():
    book = AlarmBook()
    book.update(alarm("cam1", "camera cam1 lost"), 10.0)
    book.update(status(StatusLevel.WARNING, "sink", "a result receiver failed"), 11.0)
    acknowledged = book.acknowledge(12.0)
    assert {e.source for e in acknowledged} == {"cam1", "sink"}
    assert book.acknowledge(13.0) == ()  # nothing new to acknowledge
    assert all(e.active and e.acknowledged_at == 12.0 for e in book.active())

    # a continuing problem in other words (each retry names its own error) stays silenced
    book.update(alarm("cam1", "camera cam1 cannot be opened: no route to host"), 14.0)
    cam = next(e for e in book.active() if e.source == "cam1")
    assert cam.acknowledged and cam.occurrences == 2 and "no route" in cam.message

    # a warning that becomes an alarm is news: it re-arms
    book.update(alarm("sink", "the PLC receives no results"), 15.0)
    sink = next(e for e in book.active() if e.source == "sink")
    assert sink.level is StatusLevel.ALARM and not sink.acknowledged

    book.update(info("cam1", "camera cam1 connected"), 16.0)
    assert [e.source for e in book.active()] == ["sink"]
    cleared = next(e for e in book.history() if e.source == "cam1")
    assert cleared.acknowledged_at == 12.0 and cleared.cleared_at == 16.0


def test_a_new_shift_keeps_active_alarms_and_drops_cleared_ones():
    book = AlarmBook()
    book.update(alarm("cam1", "camera cam1 lost"), 1.0)
    book.update(alarm("storage", "disk full"), 2.0)
    book.update(info("cam1", "camera cam1 connected"), 3.0)
    book.new_shift()
    assert [e.source for e in book.history()] == ["storage"]
    assert [e.source for e in book.active()] == ["storage"]
    book.update(info("storage", "disk writable again"), 4.0)
    assert book.active() == ()
    assert book.history()[0].cleared_by == "disk writable again"


def test_the_shift_list_is_bounded_but_never_forgets_an_active_alarm():
    book = AlarmBook(limit=5)
    book.update(alarm("cam9", "camera cam9 lost"), 0.0)
    for i in range(20):
        book.update(alarm(f"src{i}", f"problem {i}"), 1.0 + i)
        book.update(info(f"src{i}", "fine"), 1.5 + i)
    history = book.history()
    assert len(history) == 5
    assert [e.message for e in history[:4]] == [f"problem {i}" for i in (19, 18, 17, 16)]
    assert history[-1].source == "cam9" and history[-1].active


def test_on_change_is_told_of_each_change_outside_the_lock_and_may_fail():
    seen: list[tuple[str, bool, bool]] = []
    book: AlarmBook

    def record(episode: AlarmEpisode) -> None:
        # reading the book from the callback would deadlock if it ran under the book's lock
        seen.append((episode.source, episode.active, bool(book.active())))
        if episode.source == "bad":
            raise RuntimeError("the database is away")

    book = AlarmBook(on_change=record)
    done = threading.Event()

    def changes() -> None:
        book.update(alarm("cam1", "lost"), 1.0)
        book.update(alarm("cam1", "lost, still"), 2.0)  # a repetition: no call
        book.acknowledge(3.0)
        book.update(info("cam1", "connected"), 4.0)
        book.update(alarm("bad", "x"), 5.0)  # its recorder fails; the alarm is still there
        done.set()

    worker = threading.Thread(target=changes, name="alarm-writer")
    worker.start()
    worker.join(5.0)
    assert done.is_set(), "on_change ran under the book's lock (deadlock)"
    assert seen == [
        ("cam1", True, True),
        ("cam1", True, True),
        ("cam1", False, False),
        ("bad", True, True),
    ]
    assert [e.source for e in book.active()] == ["bad"]


def test_many_threads_reporting_at_once_lose_no_occurrence():
    book = AlarmBook()

    def report(source: str) -> Callable[[], None]:
        def run() -> None:
            for i in range(500):
                book.update(alarm(source, f"{source} #{i}"), float(i))

        return run

    threads = [threading.Thread(target=report(f"cam{i % 2}")) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10.0)
    assert sorted((e.source, e.occurrences) for e in book.active()) == [
        ("cam0", 1500),
        ("cam1", 1500),
    ]
    assert len(book.history()) == 2


# ---- N rejects in a row ------------------------------------------------------------------------


def test_reject_run_alarms_at_n_rejects_in_a_row_counting_fail_and_error():
    run = RejectRun(limit=8)
    out = [run.add(v) for v in [Verdict.FAIL] * 6 + [Verdict.ERROR]]
    assert out == [None] * 7
    eighth = run.add(Verdict.ERROR)
    assert eighth is not None and eighth.level is StatusLevel.ALARM
    assert eighth.source == "rejects"
    assert eighth.message == "8 rejects in a row (6 FAIL, 2 ERROR) — check the line"
    ninth = run.add(Verdict.FAIL)  # each further reject refreshes the count
    assert ninth is not None and ninth.message.startswith("9 rejects in a row (7 FAIL, 2 ERROR)")
    cleared = run.add(Verdict.PASS)
    assert cleared is not None and cleared.level is StatusLevel.INFO
    assert cleared.source == "rejects" and "after 9 rejects" in cleared.message
    assert run.add(Verdict.PASS) is None  # passing on: nothing to say
    assert run.run == 0


def test_a_pass_breaks_the_run_before_the_limit_and_limit_zero_is_off():
    run = RejectRun(limit=3)
    verdicts = [Verdict.FAIL, Verdict.FAIL, Verdict.PASS, Verdict.FAIL, Verdict.FAIL]
    assert [run.add(v) for v in verdicts] == [None] * 5
    only_fails = run.add(Verdict.FAIL)
    assert only_fails is not None and "(3 FAIL)" in only_fails.message
    off = RejectRun(limit=0)
    assert all(off.add(Verdict.FAIL) is None for _ in range(100))


def test_a_reject_run_is_one_episode_in_the_book_that_a_pass_closes():
    book = AlarmBook()
    run = RejectRun(limit=2)
    for i, verdict in enumerate([Verdict.FAIL] * 5 + [Verdict.PASS]):
        update = run.add(verdict)
        if update is not None:
            book.update(update, float(i))
    (episode,) = book.history()
    assert episode.occurrences == 4 and episode.message.startswith("5 rejects in a row")
    assert episode.cleared_at == 5.0 and "after 5 rejects" in episode.cleared_by


# ---- a running station -------------------------------------------------------------------------


def wait_until(what: str, ok: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not ok():
        assert time.monotonic() < deadline, f"timed out waiting for: {what}"
        time.sleep(0.01)


@pytest.fixture
def camera() -> UnpluggableCamera:
    return UnpluggableCamera("cam1", period_s=0.01)


def live_station(cam: UnpluggableCamera, frozen_frames: int = 0) -> Station:
    recipe = make_recipe(cameras=1)
    health = recipe.cameras[0].health.model_copy(update={"frozen_frames": frozen_frames})
    recipe = recipe.model_copy(
        update={"cameras": [recipe.cameras[0].model_copy(update={"health": health})]}
    )
    # parts pass (bright frames), so no run of rejects raises an alarm of its own
    return Station(
        recipe, store_results=False, sources=[cam], make_tools=lambda: [BrightnessTool()]
    )


def test_a_lost_camera_alarm_survives_acknowledgement_and_clears_when_the_camera_is_back(
    camera: UnpluggableCamera,
):
    station = live_station(camera)
    collector = Collector()
    station.add_listener(collector)
    station.start()
    try:
        wait_until("camera connected", lambda: station.camera_connected("cam1"))
        assert station.alarms() == ()
        camera.unplugged.set()
        wait_until("camera alarm", lambda: bool(station.alarms()))
        station.acknowledge_alarms()
        (acked,) = station.alarms()
        # the station keeps retrying (and reporting) while the camera is down: still silenced
        wait_until("a retry", lambda: station.alarms()[0].occurrences > acked.occurrences + 1)
        (still,) = station.alarms()
        assert still.acknowledged and still.episode_id == acked.episode_id
        assert "cannot be opened" in still.message
        camera.unplugged.clear()
        wait_until("alarm cleared by itself", lambda: station.alarms() == ())
        assert station.camera_connected("cam1")
    finally:
        station.stop()
    (episode,) = station.alarm_history()
    assert episode.source == "cam1" and "camera cam1 lost" in episode.first_message
    assert episode.cleared_by == "camera cam1 connected"
    assert episode.acknowledged_at is not None and episode.cleared_at is not None
    assert episode.raised_at <= episode.acknowledged_at <= episode.cleared_at


def test_an_alarm_left_when_the_station_stopped_does_not_outlive_the_next_start(
    camera: UnpluggableCamera,
):
    station = live_station(camera)
    camera.unplugged.set()
    station.start()
    try:
        wait_until("camera alarm", lambda: bool(station.alarms()))
    finally:
        station.stop()
    # a stopped station watches no camera: the episode ends, and says why
    assert station.alarms() == ()
    assert "no longer watched" in station.alarm_history()[0].cleared_by
    camera.unplugged.clear()  # the camera was replaced meanwhile
    collector = Collector()
    station.add_listener(collector)
    station.start()
    try:
        wait_until("camera connected", lambda: station.camera_connected("cam1"))
        assert station.alarms() == ()
        # a first connection is announced too: whoever kept the old alarm hears it cleared
        wait_until(
            "connected notice",
            lambda: any(
                (s.level, s.message) == (StatusLevel.INFO, "camera cam1 connected")
                for s in collector.status
            ),
        )
    finally:
        station.stop()


def test_a_frozen_camera_alarm_holds_until_the_picture_moves_again(camera: UnpluggableCamera):
    station = live_station(camera, frozen_frames=5)
    collector = Collector()
    station.add_listener(collector)
    station.start()
    try:
        wait_until("camera connected", lambda: station.camera_connected("cam1"))
        camera.frozen.set()
        wait_until("frozen alarm", lambda: bool(station.alarms()))
        froze_at = len(collector.status)
        # reopened, it still sends the same picture: the first frame proves nothing
        wait_until("reopened twice", lambda: camera.opens >= 3)
        assert station.alarms()[0].source == "cam1"
        assert not any(s.level is StatusLevel.INFO for s in collector.status[froze_at:])
        camera.frozen.clear()
        wait_until("alarm cleared", lambda: station.alarms() == ())
    finally:
        station.stop()
    (episode,) = station.alarm_history()
    assert "frozen" in episode.first_message and episode.occurrences >= 2
    assert episode.cleared_by == "camera cam1 connected"


def test_reset_counts_starts_a_new_alarm_list_and_keeps_active_alarms(
    camera: UnpluggableCamera,
):
    station = live_station(camera)
    station.start()
    try:
        wait_until("camera connected", lambda: station.camera_connected("cam1"))
        camera.unplugged.set()
        wait_until("camera alarm", lambda: bool(station.alarms()))
        camera.unplugged.clear()
        wait_until("alarm cleared", lambda: station.alarms() == ())
        camera.unplugged.set()
        wait_until("camera alarm again", lambda: bool(station.alarms()))
        assert len(station.alarm_history()) == 2
        station.reset_counts()
        (kept,) = station.alarm_history()
        assert kept.active
        assert [e.episode_id for e in station.alarms()] == [kept.episode_id]
        camera.unplugged.clear()
        wait_until("alarm cleared", lambda: station.alarms() == ())
    finally:
        station.stop()
