"""The station end to end: order, back-pressure, drops, ERROR paths, clean stop, records."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from support.pipeline_tools import BrightnessTool, Collector, ExplodingTool, frames, make_recipe

from inspection.errors import SourceError
from inspection.paths import user_paths
from inspection.pipeline.station import Station
from inspection.recipe import parse_recipe
from inspection.sources.memory import MemorySource
from inspection.types import Verdict


@pytest.fixture
def collector() -> Collector:
    return Collector()


STATION_THREADS = ("acq-", "worker-", "dispatcher", "results-writer")


def station_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(STATION_THREADS)]


def run_to_end(station: Station, timeout_s: float = 30.0) -> None:
    station.start()
    try:
        assert station.wait_finished(timeout_s), "station did not finish its finite source"
    finally:
        station.stop(timeout_s=10.0)


def test_parts_leave_in_order_with_two_workers_finishing_out_of_order(collector: Collector):
    tools_made: list[BrightnessTool] = []

    def make_tools():
        tools_made.append(BrightnessTool(work_s=0.004))
        return [tools_made[-1]]

    station = Station(
        make_recipe(workers=2),
        store_results=False,
        sources=[MemorySource(frames(60))],
        make_tools=make_tools,
    )
    station.add_listener(collector)
    run_to_end(station)
    assert [i.part_seq for i in collector.inspections] == list(range(60))
    assert collector.threads == {"dispatcher"}
    # both workers really worked, each with its own tool instance
    assert len(tools_made) == 2 and all(t.seen for t in tools_made)
    assert all(t.closed for t in tools_made)
    assert all(i.verdict is Verdict.PASS for i in collector.inspections)
    snap = station.counters()
    assert snap.parts == 60 and snap.passed == 60 and snap.frames_in == {"cam1": 60}
    assert snap.dropped_total == 0


def test_triggered_source_is_held_back_never_dropped(collector: Collector):
    station = Station(
        make_recipe(workers=1, queue_size=1),
        store_results=False,
        sources=[MemorySource(frames(40))],
        make_tools=lambda: [BrightnessTool(work_s=0.003)],
    )
    station.add_listener(collector)
    run_to_end(station)
    assert len(collector.inspections) == 40
    assert station.counters().dropped_total == 0


def test_live_stream_drops_oldest_and_counts_every_drop(collector: Collector):
    n = 80
    station = Station(
        make_recipe(workers=1, queue_size=2),
        store_results=False,
        sources=[MemorySource(frames(n), live=True)],
        make_tools=lambda: [BrightnessTool(work_s=0.01)],
    )
    station.add_listener(collector)
    run_to_end(station)
    snap = station.counters()
    seqs = [i.part_seq for i in collector.inspections]
    assert snap.dropped_total > 0
    assert len(seqs) + snap.dropped_total == n  # every frame is either inspected or counted
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert "oldest live frame dropped" in next(iter(snap.dropped))


def test_verdicts_and_reasons(collector: Collector):
    imgs = frames(3, value=200) + frames(2, value=20)
    station = Station(
        make_recipe(workers=2),
        store_results=False,
        sources=[MemorySource(imgs)],
        make_tools=lambda: [BrightnessTool()],
    )
    station.add_listener(collector)
    run_to_end(station)
    v = [i.verdict for i in collector.inspections]
    assert v == [Verdict.PASS] * 3 + [Verdict.FAIL] * 2
    assert collector.inspections[4].reason == "bright: too dark (20)"
    insp = collector.inspections[0]
    assert insp.recipe_name == "test" and insp.station == "station-1"
    t = insp.timing
    assert 0 < t.captured_ns <= t.queued_ns <= t.started_ns <= t.decided_ns <= t.dispatched_ns


def test_a_crashing_tool_gives_error_never_pass(collector: Collector):
    station = Station(
        make_recipe(),
        store_results=False,
        sources=[MemorySource(frames(4))],
        make_tools=lambda: [BrightnessTool(), ExplodingTool(tool_id="boom")],
    )
    station.add_listener(collector)
    run_to_end(station)
    assert len(collector.inspections) == 4
    for insp in collector.inspections:
        assert insp.verdict is Verdict.ERROR
        assert "boom: tool failed: RuntimeError: sensor model diverged" in insp.reason


@pytest.mark.parametrize(
    "bad, why",
    [
        (np.zeros((40, 40), np.float32), "pixel type float32"),
        (np.zeros((40, 40, 4), np.uint8), "4 channels"),
        (np.zeros((4, 4), np.uint8), "too small"),
        (np.zeros((2, 3, 4, 5), np.uint8), "shape"),
    ],
)
def test_bad_frames_give_error_with_reason(bad, why, collector: Collector):
    station = Station(
        make_recipe(),
        store_results=False,
        sources=[MemorySource([*frames(1), bad, *frames(1)])],
        make_tools=lambda: [BrightnessTool()],
    )
    station.add_listener(collector)
    run_to_end(station)
    v = [i.verdict for i in collector.inspections]
    assert v == [Verdict.PASS, Verdict.ERROR, Verdict.PASS]
    assert why in collector.inspections[1].reason


def test_corrupt_image_file_in_folder_is_an_error_part(tmp_path: Path, collector: Collector):
    folder = tmp_path / "parts"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), np.full((40, 50), 220, np.uint8))
    good = (folder / "a.png").read_bytes()
    (folder / "b.png").write_bytes(good[: len(good) // 2])  # truncated
    (folder / "c.png").write_bytes(b"not an image at all")
    cv2.imwrite(str(folder / "d.png"), np.full((40, 50), 220, np.uint8))
    (folder / "notes.txt").write_text("operator notes, not an image")
    recipe = parse_recipe(
        {
            "name": "files",
            "cameras": [{"id": "cam1", "source": {"type": "folder", "path": str(folder)}}],
        },
        "t",
    )
    station = Station(recipe, store_results=False, make_tools=lambda: [BrightnessTool()])
    station.add_listener(collector)
    run_to_end(station)
    got = [(i.verdict, i.reason) for i in collector.inspections]
    assert [v for v, _ in got] == [Verdict.PASS, Verdict.ERROR, Verdict.ERROR, Verdict.PASS]
    assert "b.png" in got[1][1] and "not a readable image" in got[1][1]
    assert "c.png" in got[2][1]


def test_recipe_without_tools_never_passes(collector: Collector):
    station = Station(
        make_recipe(), store_results=False, sources=[MemorySource(frames(2))], make_tools=list
    )
    station.add_listener(collector)
    run_to_end(station)
    assert [i.verdict for i in collector.inspections] == [Verdict.ERROR, Verdict.ERROR]


def test_duplicate_serial_fails_the_later_part_whatever_the_worker_count(collector: Collector):
    imgs = frames(6)
    imgs[4].flat[2] = 1  # part 4 repeats part 1's serial
    station = Station(
        make_recipe(workers=2),
        store_results=False,
        sources=[MemorySource(imgs)],
        make_tools=lambda: [BrightnessTool(serial_from_pixel=True, work_s=0.004)],
    )
    station.add_listener(collector)
    run_to_end(station)
    v = [i.verdict for i in collector.inspections]
    assert v == [Verdict.PASS] * 4 + [Verdict.FAIL, Verdict.PASS]
    assert "duplicate serial 'S1' (first seen on part 2)" in collector.inspections[4].reason
    # a new shift forgets the serials
    station.reset_counts()
    assert station.counters().parts == 0


def test_privacy_mask_is_applied_before_tools_and_display(collector: Collector):
    tool = BrightnessTool()
    recipe = make_recipe(
        workers=1,
        cameras=1,
    )
    cam = recipe.cameras[0].model_copy(
        update={"privacy_masks": [[(0.0, 0.0), (20.0, 0.0), (20.0, 20.0), (0.0, 20.0)]]}
    )
    recipe = recipe.model_copy(update={"cameras": [cam]})
    station = Station(
        recipe, store_results=False, sources=[MemorySource(frames(2))], make_tools=lambda: [tool]
    )
    station.add_listener(collector)
    run_to_end(station)
    for img in tool.seen:
        assert img[5:15, 5:15].max() == 0 and img[30:, 30:].min() == 200
    newest = station.newest_frame("cam1")
    assert newest is not None and newest.image[10, 10] == 0


def test_two_cameras_make_one_part_per_trigger(collector: Collector):
    recipe = make_recipe(workers=2, cameras=2)
    station = Station(
        recipe,
        store_results=False,
        sources=[MemorySource(frames(5), camera="cam1"), MemorySource(frames(4), camera="cam2")],
        make_tools=lambda: [BrightnessTool("a", "cam1"), BrightnessTool("b", "cam2")],
    )
    station.add_listener(collector)
    run_to_end(station)
    got = collector.inspections
    assert len(got) == 5
    assert {f.camera for f in got[0].frames} == {"cam1", "cam2"}
    assert [i.verdict for i in got[:4]] == [Verdict.PASS] * 4
    # cam2 ended one frame early: that part is an ERROR naming the camera, not a skipped part
    assert got[4].verdict is Verdict.ERROR and "no frame from camera cam2" in got[4].reason


def test_results_are_committed_before_the_line_hears_of_them(lineside_home: Path):
    paths = user_paths()
    seen_in_db: list[bool] = []

    class LineSink:
        def on_inspection(self, inspection):
            with sqlite3.connect(paths.results_db) as conn:
                row = conn.execute(
                    "SELECT verdict FROM inspections WHERE inspection_id = ?",
                    (inspection.inspection_id,),
                ).fetchone()
            seen_in_db.append(row is not None and row[0] == inspection.verdict)

        def on_status(self, update):
            pass

    station = Station(
        make_recipe(),
        paths=paths,
        sources=[MemorySource(frames(12))],
        make_tools=lambda: [BrightnessTool()],
        line_sinks=[LineSink()],
    )
    run_to_end(station)
    assert seen_in_db == [True] * 12
    with sqlite3.connect(paths.results_db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM inspections").fetchone()[0] == 12


def test_stop_leaves_no_thread_behind_on_an_endless_line(collector: Collector):
    recipe = parse_recipe(
        {
            "name": "endless",
            "cameras": [
                {"id": "cam1", "source": {"type": "synthetic", "width": 640, "height": 512}}
            ],
        },
        "t",
    )
    collector.want = 5
    station = Station(recipe, make_tools=lambda: [BrightnessTool(minimum=0)])
    station.add_listener(collector)
    station.start()
    try:
        assert collector.done.wait(30.0)
        assert station_threads()
    finally:
        station.stop(timeout_s=5.0)
    assert station_threads() == []
    assert not station.running
    seqs = [i.part_seq for i in collector.inspections]
    assert seqs == list(range(len(seqs)))  # nothing captured was lost at stop


class FlakyCamera(MemorySource):
    """A camera that cannot be opened at first, then drops out once in the middle of a stream."""

    def __init__(self, images, lose_at: int) -> None:
        super().__init__(images)
        self.open_calls = 0
        self.lose_at = lose_at
        self.lost = False

    def open(self) -> None:
        self.open_calls += 1
        if self.open_calls == 1:
            raise SourceError("no route to host 127.0.0.1")
        if self.open_calls == 2:
            super().open()  # later opens continue the stream where it was

    def read(self, timeout_s: float):
        if self._next == self.lose_at and not self.lost:
            self.lost = True
            raise SourceError("stream ended unexpectedly")
        return super().read(timeout_s)


def test_camera_alarms_and_reconnects_and_the_alarm_clears(collector: Collector):
    cam = FlakyCamera(frames(6), lose_at=3)
    station = Station(
        make_recipe(workers=1),
        store_results=False,
        sources=[cam],
        make_tools=lambda: [BrightnessTool()],
    )
    station.add_listener(collector)
    run_to_end(station)
    cam_status = [(s.level, s.message) for s in collector.status if s.source == "cam1"]
    assert cam_status == [
        ("alarm", "camera cam1 cannot be opened: no route to host 127.0.0.1"),
        ("info", "camera cam1 connected"),
        ("alarm", "camera cam1 lost: stream ended unexpectedly"),
        ("info", "camera cam1 connected"),
    ]
    assert [i.part_seq for i in collector.inspections] == list(range(6))


def test_part_numbers_go_on_after_a_restart(collector: Collector):
    station = Station(
        make_recipe(workers=1),
        store_results=False,
        sources=[MemorySource(frames(3))],
        make_tools=lambda: [BrightnessTool()],
    )
    station.add_listener(collector)
    run_to_end(station)
    run_to_end(station)  # the memory source starts over; the station's numbering does not
    assert [i.part_seq for i in collector.inspections] == [0, 1, 2, 3, 4, 5]


def test_parts_still_queued_when_a_stop_runs_out_of_time_are_recorded_not_lost(
    lineside_home: Path, collector: Collector
):
    # slow tools (0.4 s a part on average) and a full queue: inspecting all of it would take
    # longer than the stop may; what is left is recorded as not inspected, never dropped
    paths = user_paths()
    station = Station(
        make_recipe(workers=2, queue_size=8),
        paths=paths,
        sources=[MemorySource(frames(40))],
        make_tools=lambda: [BrightnessTool(work_s=0.8)],
    )
    collector.want = 1
    station.add_listener(collector)
    station.start()
    try:
        assert collector.done.wait(30.0)
        time.sleep(0.5)  # the queue fills behind the slow workers
    finally:
        station.stop(timeout_s=2.0)
    assert station_threads() == []
    got = collector.inspections
    assert [i.part_seq for i in got] == list(range(len(got)))
    assert len(got) >= 10  # the queue of 8 and the parts in the workers' hands
    unfinished = [i for i in got if i.verdict is Verdict.ERROR]
    assert unfinished, "the stop had time to inspect everything: make the parts slower"
    assert {i.reason for i in unfinished} == {"station: station stopped before inspection"}
    with sqlite3.connect(paths.results_db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM inspections").fetchone()[0] == len(got)


class _StuckOnOnePart(BrightnessTool):
    """Holds part ``stuck`` until ``release`` is set (a tool hung on a camera's odd frame)."""

    def __init__(self, stuck: int, holding: threading.Event, release: threading.Event) -> None:
        super().__init__()
        self.stuck = stuck
        self.holding = holding
        self.release = release

    def inspect(self, frame):  # type: ignore[no-untyped-def]
        if frame.seq == self.stuck:
            self.holding.set()
            self.release.wait(30.0)
        else:
            time.sleep(0.01)
        return super().inspect(frame)


def test_a_part_still_in_a_worker_when_the_stop_runs_out_of_time_is_recorded_once(
    lineside_home: Path, collector: Collector
):
    # one part's tools hang past the whole stop: that part is recorded as ERROR, the parts
    # after it (finished, waiting behind it for their turn) are recorded too, in order; and
    # when the hung tool returns at last, its late result is not recorded a second time
    paths = user_paths()
    holding, release = threading.Event(), threading.Event()
    station = Station(
        make_recipe(workers=2, queue_size=8),
        paths=paths,
        sources=[MemorySource(frames(40))],
        make_tools=lambda: [_StuckOnOnePart(3, holding, release)],
    )
    station.add_listener(collector)
    station.start()
    try:
        assert holding.wait(20.0)
        time.sleep(0.5)  # the other worker inspects the parts after it meanwhile
    finally:
        station.stop(timeout_s=1.0)
    got = collector.inspections
    assert [i.part_seq for i in got] == list(range(len(got)))
    assert len(got) > 4  # parts after the hung one were not lost behind it
    assert got[3].verdict is Verdict.ERROR
    assert got[3].reason == (
        "station: station stopped during inspection (the tools took longer than the stop allows)"
    )
    release.set()  # the hung tool returns: its worker drops the late result and ends
    deadline = time.monotonic() + 10.0
    while station_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert station_threads() == []
    assert [i.part_seq for i in collector.inspections] == [i.part_seq for i in got]
    with sqlite3.connect(paths.results_db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM inspections").fetchone()[0] == len(got)
