"""A watched folder: files written after the start are read once complete, in name order."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from inspection.recipe import FolderSourceSettings
from inspection.sources.folder import WATCH_POLL_S, FolderSource
from inspection.types import Frame


def png_bytes(value: int) -> bytes:
    ok, data = cv2.imencode(".png", np.full((30, 40), value, np.uint8))
    assert ok
    return data.tobytes()


def watched(folder: Path, **kw: object) -> FolderSource:
    settings = FolderSourceSettings.model_validate(
        {"type": "folder", "path": str(folder), "watch": True, **kw}
    )
    return FolderSource(settings, camera="cam4")


def next_frame(src: FolderSource, limit_s: float = 3.0) -> Frame:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            frame = src.read(0.2)
        except TimeoutError:
            continue
        assert frame is not None, "a watched folder never ends"
        return frame
    pytest.fail(f"no frame within {limit_s:g} s")


def test_reads_existing_files_then_waits_with_timeout(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(png_bytes(10))
    src = watched(tmp_path)
    src.open()
    assert next_frame(src).source_name == "a.png"
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="no new file"):
        src.read(0.3)
    assert 0.25 < time.monotonic() - start < 0.6
    src.close()


def test_new_files_in_name_order_each_once_with_seq_counting_on(tmp_path: Path) -> None:
    (tmp_path / "p000.png").write_bytes(png_bytes(10))
    src = watched(tmp_path, loop=True)  # watch wins over loop: nothing is read twice
    src.open()
    first = next_frame(src)
    (tmp_path / "p002.png").write_bytes(png_bytes(30))
    (tmp_path / "p001.png").write_bytes(png_bytes(20))
    got = [next_frame(src), next_frame(src)]
    with pytest.raises(TimeoutError):
        src.read(3 * WATCH_POLL_S)
    src.close()
    assert [first.source_name, *(f.source_name for f in got)] == [
        "p000.png",
        "p001.png",
        "p002.png",
    ]
    assert [f.seq for f in (first, *got)] == [0, 1, 2]
    assert [int(f.image[0, 0]) for f in got] == [20, 30]


def test_a_file_still_being_written_is_read_only_when_complete(tmp_path: Path) -> None:
    src = watched(tmp_path)
    src.open()
    data = png_bytes(77)
    done = threading.Event()

    def write_slowly() -> None:
        with (tmp_path / "slow.png").open("wb") as fh:
            for i in range(0, len(data), 8):
                fh.write(data[i : i + 8])
                fh.flush()
                time.sleep(WATCH_POLL_S / 4)  # grows at every poll
        done.set()

    writer = threading.Thread(target=write_slowly)
    writer.start()
    try:
        frame = next_frame(src, limit_s=10.0)
    finally:
        writer.join(10.0)
        src.close()
    assert done.is_set()
    assert frame.source_name == "slow.png" and int(frame.image[0, 0]) == 77


def test_new_non_image_files_are_skipped_and_listed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    src = watched(tmp_path)
    src.open()
    (tmp_path / "notes.txt").write_text("operator notes")
    (tmp_path / "b.png").write_bytes(png_bytes(50))
    assert next_frame(src).source_name == "b.png"
    src.close()
    assert "1 non-image files skipped" in caplog.text and "notes.txt" in caplog.text


def test_without_watch_the_folder_still_ends(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(png_bytes(10))
    src = FolderSource(FolderSourceSettings(type="folder", path=tmp_path), camera="cam4")
    src.open()
    assert src.read(0.2) is not None
    (tmp_path / "b.png").write_bytes(png_bytes(20))
    assert src.read(0.2) is None
    src.close()
