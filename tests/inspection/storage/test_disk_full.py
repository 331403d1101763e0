"""The results store on a disk that fills: on a real (small tmpfs) disk the test mounts."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from support.small_disk import fill, small_disk

from inspection.history.record import part_record
from inspection.recipe import ArchiveSettings
from inspection.storage.archive import ImageArchive
from inspection.storage.disk_space import REMOVED_FOR_SPACE, SpaceLimits
from inspection.storage.results import NOT_ARCHIVED_DISK_FULL, ResultsStore, open_reader
from inspection.storage.write_queue import NOT_ARCHIVED_QUEUE_FULL
from inspection.types import Frame, Inspection, Timing, Verdict

MB = 1024 * 1024


def _part(i: int, verdict: Verdict, shape: tuple[int, int] = (1024, 1280)) -> Inspection:
    rng = np.random.default_rng(i)
    image = rng.integers(0, 256, shape, dtype=np.uint8)  # noise: JPEG cannot shrink it much
    return Inspection(
        inspection_id=f"part-{i:05d}",
        station="s1",
        part_seq=i,
        verdict=verdict,
        reason="" if verdict is Verdict.PASS else "surface: scratch",
        tool_results=(),
        frames=(Frame(camera="cam1", seq=i, t_ns=i, image=image),),
        recipe_name="r",
        recipe_version="1",
        model_hashes={},
        wall_time=time.time(),
        timing=Timing(captured_ns=i),
    )


def _wait(cond, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_a_full_disk_loses_no_record_and_memory_stays_bounded(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", 24) as disk:
        messages: list[str] = []
        store = ResultsStore(
            disk / "results.sqlite",
            archive=ImageArchive(disk / "archive", ArchiveSettings(pass_every=0)),
            queue_max_bytes=8 * MB,
            space_limits=SpaceLimits(0, 0.0),
            status_callback=messages.append,
        )
        store.start()
        ballast = fill(disk)
        peak = 0
        n = 120
        try:
            for i in range(n):
                store.submit(_part(i, Verdict.FAIL))
                peak = max(peak, store.stats.queued_bytes)
            _wait(lambda: store.unwritten_for_s() > 0.3, 20, "the writes to fail")
            stuck = store.stats
            assert stuck.committed < n and stuck.rejected == 0
            assert peak <= 8 * MB  # 120 frames of 1.3 MB did not all wait in memory
            assert any("cannot write results.sqlite" in m for m in messages), messages
            ballast.unlink()  # space returns
            assert store.flush(60), "results not written once space returned"
            assert store.unwritten_for_s() == 0.0
        finally:
            assert store.stop(10)
        stats = store.stats
        assert (stats.committed, stats.rejected) == (n, 0)
        conn = open_reader(disk / "results.sqlite")
        try:
            rows = conn.execute(
                "SELECT image_path, image_note FROM inspections ORDER BY part_seq"
            ).fetchall()
            full = conn.execute(
                "SELECT inspection_id FROM inspections WHERE image_note = ?",
                (NOT_ARCHIVED_DISK_FULL,),
            ).fetchone()
            # the part's record in the history says why there is no image
            record = part_record(conn, full[0], disk / "archive") if full else None
            assert record is not None and record.image_note == NOT_ARCHIVED_DISK_FULL
        finally:
            conn.close()
        assert len(rows) == n
        # every failed part's image is either archived or its record says why not
        notes = {note for path, note in rows if path is None}
        assert all((path is None) != (note is None) for path, note in rows), rows[:5]
        assert notes <= {NOT_ARCHIVED_DISK_FULL, NOT_ARCHIVED_QUEUE_FULL}
        assert NOT_ARCHIVED_DISK_FULL in notes


def test_low_space_warns_and_removes_the_oldest_passed_images_first(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", 32) as disk:
        warnings: list[str] = []
        store = ResultsStore(
            disk / "results.sqlite",
            archive=ImageArchive(disk / "archive", ArchiveSettings(pass_every=1)),
            space_limits=SpaceLimits(min_free_bytes=12 * MB, min_free_fraction=0.0),
            warning_callback=warnings.append,
            space_check_every_s=0.0,
        )
        store.start()
        try:
            fill(disk, leave_bytes=20 * MB)  # room for a few parts' images before it is low
            for i in range(40):
                verdict = Verdict.FAIL if i % 10 == 9 else Verdict.PASS
                store.submit(_part(i, verdict, shape=(720, 960)))
                assert store.flush(20)
        finally:
            assert store.stop(10)
        assert any(w.startswith("disk space low") for w in warnings), warnings
        conn = open_reader(disk / "results.sqlite")
        try:
            rows = conn.execute(
                "SELECT part_seq, verdict, image_path, image_note FROM inspections "
                "ORDER BY part_seq"
            ).fetchall()
        finally:
            conn.close()
        assert len(rows) == 40
        removed = [r[0] for r in rows if r[3] == REMOVED_FOR_SPACE]
        assert removed, "no passed image was removed though the disk ran low"
        assert all(r[1] == "PASS" for r in rows if r[3] == REMOVED_FOR_SPACE)
        # oldest first: every passed part still holding its image is younger than any removed
        kept_passes = [r[0] for r in rows if r[1] == "PASS" and r[2] is not None]
        assert not kept_passes or min(kept_passes) > max(removed)
        fails = [r for r in rows if r[1] == "FAIL"]
        assert all(r[3] != REMOVED_FOR_SPACE for r in fails)  # failed parts' images stay
        for _, _, path, _ in rows:
            if path is not None:
                assert (disk / "archive" / path).is_file()


@pytest.mark.parametrize("max_mb", [4])
def test_the_queue_drops_the_oldest_frames_first_and_keeps_every_record(max_mb: int) -> None:
    from inspection.storage.batch import Pending
    from inspection.storage.write_queue import WriteQueue

    q = WriteQueue(max_bytes=max_mb * MB, max_parts=10)
    items = [Pending(_part(i, Verdict.FAIL), None, None) for i in range(6)]  # 1.25 MB each
    for item in items:
        q.put(item, 0.1)
        assert q.queued_bytes <= max_mb * MB
    assert q.qsize() == 6 and q.frames_dropped == 3
    assert [it.image_note for it in items] == [NOT_ARCHIVED_QUEUE_FULL] * 3 + [None] * 3
    assert all(it.inspection.frames[0].image.size == 0 for it in items[:3])
    assert all(it.inspection.frames[0].image.nbytes == 1024 * 1280 for it in items[3:])
    got = [q.get(0.0) for _ in range(6)]
    assert [g.inspection.part_seq for g in got if g] == list(range(6))
    assert q.queued_bytes == 0 and q.get(0.0) is None


def test_a_queue_full_of_records_refuses_after_its_timeout() -> None:
    from inspection.storage.batch import Pending
    from inspection.storage.write_queue import QueueFull, WriteQueue

    q = WriteQueue(max_bytes=MB, max_parts=2)
    q.put(Pending(_part(0, Verdict.PASS, (8, 8)), None, None), 0.0)
    q.put(Pending(_part(1, Verdict.PASS, (8, 8)), None, None), 0.0)
    t0 = time.monotonic()
    with pytest.raises(QueueFull):
        q.put(Pending(_part(2, Verdict.PASS, (8, 8)), None, None), 0.2)
    assert time.monotonic() - t0 >= 0.2
    assert q.qsize() == 2
