"""A stored part's whole frame of a camera: by inspection id, or the newest kept one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support.history_parts import Part, write_parts

from inspection.errors import StorageError
from inspection.history.part_image import stored_frame
from inspection.storage.queries import open_reader


def test_by_id_or_the_newest_kept_and_why_there_is_none(tmp_path: Path) -> None:
    db, archive = tmp_path / "results.sqlite", tmp_path / "archive"
    ids = write_parts(db, [Part(image=True), Part(image=True), Part(image=False)], archive)
    conn = open_reader(db)
    try:
        newest = stored_frame(conn, archive, "cam1", recipe_name="demo")
        assert newest.inspection_id == ids[1]  # the newest part kept no image
        assert newest.image.shape == (96, 128) and newest.image.dtype == np.uint8
        assert newest.path == archive / "2026-06-01" / f"{ids[1]}__cam1.png"
        assert stored_frame(conn, archive, "cam1", inspection_id=ids[0]).inspection_id == ids[0]
        with pytest.raises(StorageError, match="no image was kept"):
            stored_frame(conn, archive, "cam1", inspection_id=ids[2])
        with pytest.raises(StorageError, match="not in the results database"):
            stored_frame(conn, archive, "cam1", inspection_id="nope")
        with pytest.raises(StorageError, match="no whole frame of camera cam2"):
            stored_frame(conn, archive, "cam2", inspection_id=ids[0])
        with pytest.raises(StorageError, match="no stored part of recipe other"):
            stored_frame(conn, archive, "cam1", recipe_name="other")
    finally:
        conn.close()
