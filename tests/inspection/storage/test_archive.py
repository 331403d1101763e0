"""ImageArchive: what is kept, how files are named and cropped, and purging by age."""

from __future__ import annotations

import datetime as dt
import os
from contextlib import closing
from pathlib import Path

import cv2
import numpy as np
import pytest

from inspection.errors import StorageError
from inspection.recipe import ArchiveSettings
from inspection.storage.archive import ImageArchive
from inspection.storage.results import inspection_by_id, open_reader
from inspection.types import Frame, Region, Verdict

DAY = 86400.0


def test_keeps_failed_and_errors_and_one_in_n_passes(make_inspection, tmp_path: Path) -> None:
    archive = ImageArchive(tmp_path, ArchiveSettings(failed=True, pass_every=3))
    passed = make_inspection(0, Verdict.PASS)
    assert [archive.should_keep(passed, i) for i in range(7)] == [
        True,
        False,
        False,
        True,
        False,
        False,
        True,
    ]
    assert archive.should_keep(make_inspection(1, Verdict.FAIL), 1)
    assert archive.should_keep(make_inspection(2, Verdict.ERROR), 1)

    none = ImageArchive(tmp_path, ArchiveSettings(failed=False, pass_every=0))
    assert not none.should_keep(make_inspection(1, Verdict.FAIL), 0)
    assert not any(none.should_keep(passed, i) for i in range(5))


def test_saves_each_camera_as_jpeg_named_by_inspection_id(make_inspection, tmp_path: Path) -> None:
    archive = ImageArchive(tmp_path, ArchiveSettings(jpeg_quality=95))
    insp = make_inspection(4, Verdict.FAIL, cameras=("top", "side"), shape=(24, 32, 3))
    rel = archive.save(insp)
    day = dt.datetime.fromtimestamp(insp.wall_time).strftime("%Y-%m-%d")
    assert rel == f"{day}/run1-000004__top.jpg"
    files = archive.files_of(rel)
    assert [f.name for f in files] == ["run1-000004__side.jpg", "run1-000004__top.jpg"]
    for f in files:
        image = cv2.imread(str(f), cv2.IMREAD_UNCHANGED)
        assert image.shape == (24, 32, 3)
    assert not list((tmp_path / day).glob(".*tmp"))


def test_png_is_lossless(make_inspection, tmp_path: Path) -> None:
    archive = ImageArchive(tmp_path, ArchiveSettings(), ext=".png")
    insp = make_inspection(1, Verdict.FAIL)
    rel = archive.save(insp)
    assert rel is not None and rel.endswith("run1-000001__top.png")
    back = cv2.imread(str(tmp_path / rel), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(back, insp.frames[0].image)
    with pytest.raises(StorageError, match="ext"):
        ImageArchive(tmp_path, ArchiveSettings(), ext=".bmp")


def test_roi_crops_only_writes_crops_of_the_roi_size(make_inspection, tmp_path: Path) -> None:
    archive = ImageArchive(tmp_path, ArchiveSettings(roi_crops_only=True), ext=".png")
    insp = make_inspection(3, Verdict.FAIL, shape=(40, 60), roi=Region(x=5, y=7, w=20, h=10))
    rel = archive.save(insp)
    assert rel is not None and rel.endswith("run1-000003__top__code.png")
    # Only the "code" tool has an ROI; "label" covers the whole frame and is not cropped.
    assert [f.name for f in archive.files_of(rel)] == ["run1-000003__top__code.png"]
    crop = cv2.imread(str(tmp_path / rel), cv2.IMREAD_UNCHANGED)
    assert crop.shape == (10, 20)
    np.testing.assert_array_equal(crop, insp.frames[0].image[7:17, 5:25])


def test_roi_crop_is_clipped_and_follows_the_named_camera(make_inspection, tmp_path: Path) -> None:
    archive = ImageArchive(tmp_path, ArchiveSettings(roi_crops_only=True), ext=".png")
    insp = make_inspection(
        5,
        Verdict.FAIL,
        cameras=("top", "side"),
        shape=(40, 60),
        roi=Region(x=50, y=30, w=30, h=30),
        details={"camera": "side"},
    )
    rel = archive.save(insp)
    assert rel is not None
    assert [f.name for f in archive.files_of(rel)] == ["run1-000005__side__code.png"]
    assert cv2.imread(str(tmp_path / rel), cv2.IMREAD_UNCHANGED).shape == (10, 10)

    outside = make_inspection(6, Verdict.FAIL, roi=Region(x=500, y=500, w=5, h=5))
    assert archive.save(outside) is None


def test_bad_image_is_refused_with_its_name(tmp_path: Path, make_inspection) -> None:
    archive = ImageArchive(tmp_path, ArchiveSettings())
    insp = make_inspection(0, Verdict.FAIL)
    bad = Frame(camera="top", seq=0, t_ns=0, image=np.zeros((4, 4), dtype=np.float32))
    from dataclasses import replace

    with pytest.raises(StorageError, match=r"run1-000000__top\.jpg.*float32"):
        archive.save(replace(insp, frames=(bad,)))
    assert archive.save(replace(insp, frames=())) is None


def _old_file(folder: Path, name: str, mtime: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"jpeg")
    os.utime(path, (mtime, mtime))
    return path


def test_purge_removes_old_keeps_new_protected_and_foreign(tmp_path: Path) -> None:
    now = dt.datetime(2024, 6, 20, 12, 0).timestamp()
    archive = ImageArchive(tmp_path, ArchiveSettings(retention_days=7))
    old_day = tmp_path / "2024-06-01"
    old_time = dt.datetime(2024, 6, 1, 10, 0).timestamp()
    gone = [_old_file(old_day, f"a{i}__top.jpg", old_time) for i in range(3)]
    emptied = _old_file(tmp_path / "2024-06-02", "b__top.jpg", old_time + DAY)
    protected = _old_file(tmp_path / "2024-06-03", "c__top.jpg", old_time + 2 * DAY)
    recent = _old_file(tmp_path / "2024-06-19", "d__top.jpg", now - DAY)
    # Inside the retention period by its folder date, even though its mtime is old.
    young_folder = _old_file(tmp_path / "2024-06-14", "e__top.jpg", old_time)
    foreign = _old_file(tmp_path / "exports", "report.jpg", old_time)

    removed = archive.purge(now, protect=lambda p: p == protected)
    assert removed == 4
    assert not any(p.exists() for p in gone) and not emptied.exists()
    assert not old_day.exists() and not (tmp_path / "2024-06-02").exists()
    assert protected.exists() and recent.exists() and young_folder.exists() and foreign.exists()
    # Once the report is done, the protected file goes on the next purge.
    assert archive.purge(now) == 1
    assert not (tmp_path / "2024-06-03").exists()
    assert ImageArchive(tmp_path / "missing", ArchiveSettings()).purge(now) == 0


def test_store_archives_on_the_writer_thread_and_records_the_path(
    store_factory, make_inspection, tmp_path: Path
) -> None:
    root = tmp_path / "images"
    archive = ImageArchive(root, ArchiveSettings(failed=True, pass_every=2))
    store = store_factory(archive=archive, batch_wait_s=0.0)
    parts = [
        make_inspection(0, Verdict.PASS),
        make_inspection(1, Verdict.PASS),
        make_inspection(2, Verdict.PASS),
        make_inspection(3, Verdict.FAIL),
        make_inspection(4, Verdict.PASS),
    ]
    for p in parts:
        store.submit(p)
    store.submit(make_inspection(5, Verdict.FAIL), image_path="given/by-caller.jpg")
    assert store.flush(5.0)
    assert store.stats.images_saved == 3

    with closing(open_reader(tmp_path / "results.sqlite")) as conn:
        paths = {i: inspection_by_id(conn, f"run1-{i:06d}")["image_path"] for i in range(6)}
    # Passes 0 and 2 of the passed parts (part_seq 0 and 2) and the failed part 3.
    assert paths[1] is None and paths[4] is None
    for i in (0, 2, 3):
        assert paths[i] is not None and f"run1-{i:06d}__top" in paths[i]
        assert (root / paths[i]).is_file()
    assert paths[5] == "given/by-caller.jpg"
    assert len(list(root.rglob("*.jpg"))) == 3


def test_archive_failure_is_reported_and_the_row_still_written(
    store_factory, make_inspection, tmp_path: Path
) -> None:
    root = tmp_path / "images"
    root.write_text("a file where the archive folder should be")
    messages: list[str] = []
    archive = ImageArchive(root, ArchiveSettings())
    store = store_factory(archive=archive, batch_wait_s=0.0, status_callback=messages.append)
    store.submit(make_inspection(0, Verdict.FAIL))
    assert store.flush(5.0)
    assert store.stats.image_failures == 1
    assert any("cannot create folder" in m and "images" in m for m in messages)
    with closing(open_reader(tmp_path / "results.sqlite")) as conn:
        row = inspection_by_id(conn, "run1-000000")
    assert row is not None and row["image_path"] is None


def test_running_store_applies_retention_by_itself(store_factory, tmp_path: Path) -> None:
    root = tmp_path / "images"
    old_time = dt.datetime(2020, 1, 1, 10, 0).timestamp()
    stale = _old_file(root / "2020-01-01", "x__top.jpg", old_time)
    today = dt.date.today().isoformat()
    fresh = _old_file(root / today, "y__top.jpg", dt.datetime.now().timestamp())
    store = store_factory(archive=ImageArchive(root, ArchiveSettings(retention_days=30)))
    # the writer purges as it starts (then hourly when idle); stop() joins it
    assert store.stop(timeout_s=5.0)
    assert not stale.exists() and fresh.exists()
