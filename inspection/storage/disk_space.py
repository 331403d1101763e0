"""Free space on the results disk: an early warning, and room made from passed parts' images.

The writer thread checks the disk holding the database and the archive every so often. Below
the station's limits (default 2 GB and 5 % free, whichever is more) it warns, and the oldest
archived images of PASSED parts are removed, oldest first, until the disk is above the limits
again: a pass's image is the least valuable thing on the disk. Failed parts' images are never
removed for space, only by age; their record says when an image was removed and why.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from inspection.storage.archive import ImageArchive

log = logging.getLogger(__name__)

REMOVED_FOR_SPACE = "image removed: disk space low (oldest passed parts' images go first)"
_BATCH = 200


@dataclass(frozen=True, slots=True)
class FreeSpace:
    """Free and total bytes of the file system holding ``path``."""

    path: Path
    free_bytes: int
    total_bytes: int

    @property
    def free_fraction(self) -> float:
        return self.free_bytes / self.total_bytes if self.total_bytes else 0.0

    def __str__(self) -> str:
        return (
            f"{self.free_bytes / 1e9:.2f} GB ({100 * self.free_fraction:.1f} %) free on the "
            f"disk of {self.path}"
        )


@dataclass(frozen=True, slots=True)
class SpaceLimits:
    """Warn when less than ``min_free_bytes`` or ``min_free_fraction`` of the disk is free."""

    min_free_bytes: int = 2_000_000_000
    min_free_fraction: float = 0.05

    def is_low(self, space: FreeSpace) -> bool:
        return space.free_bytes < max(
            self.min_free_bytes, int(self.min_free_fraction * space.total_bytes)
        )

    def __str__(self) -> str:
        return f"{self.min_free_bytes / 1e9:g} GB and {100 * self.min_free_fraction:g} %"


def free_space(path: Path) -> FreeSpace:
    """OSError when ``path`` (or its nearest existing parent) cannot be asked."""
    probe = Path(path)
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    usage = shutil.disk_usage(probe)
    return FreeSpace(Path(path), int(usage.free), int(usage.total))


def remove_passed_images(
    conn: sqlite3.Connection, archive: ImageArchive, limits: SpaceLimits
) -> int:
    """Remove the oldest passed parts' archived images until ``archive.root``'s disk is above
    ``limits``; returns how many parts lost their image. Their records keep everything else,
    with ``image_note`` saying why. ``conn`` is the writer's (autocommit) connection."""
    removed = 0
    while limits.is_low(free_space(archive.root)):
        rows = conn.execute(
            "SELECT id, image_path FROM inspections WHERE verdict = 'PASS' "
            "AND image_path IS NOT NULL ORDER BY id LIMIT ?",
            (_BATCH,),
        ).fetchall()
        if not rows:
            break
        for _, image_path in rows:
            for path in archive.files_of(str(image_path)):
                path.unlink(missing_ok=True)  # already gone: that is what we wanted
        # the files go first: a crash between leaves a path to a missing file, which every
        # viewer already shows as "image not found", never a file no record points to
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "UPDATE inspections SET image_path = NULL, image_note = ? WHERE id = ?",
                [(REMOVED_FOR_SPACE, rowid) for rowid, _ in rows],
            )
            conn.execute("COMMIT")
        except sqlite3.Error:
            conn.execute("ROLLBACK")
            raise
        removed += len(rows)
    if removed:
        log.warning("image archive: removed %d passed part image(s) to free disk space", removed)
    return removed
