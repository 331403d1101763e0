"""The image archive: which part images are kept, writing them, and purging them by age.

Layout: ``root/YYYY-MM-DD/<inspection id>__<camera>.jpg`` for whole frames, and
``...__<camera>__<tool id>.jpg`` for ROI crops. The date is the capture's local date. Every
file of one part starts with ``<inspection id>__`` so a viewer finds them all from the one path
stored in the results row. ``save`` runs on the storage writer thread, never on the pipeline's.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from inspection.errors import StorageError
from inspection.recipe import ArchiveSettings
from inspection.types import Frame, Inspection, Verdict

log = logging.getLogger(__name__)

_DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
SEP = "__"


def safe_name(text: str) -> str:
    """``text`` usable in a file name on every platform (ids are mostly safe already)."""
    cleaned = _UNSAFE.sub("-", text).strip(".-")
    return cleaned or "unnamed"


def part_file_stem(inspection_id: str, camera: str, tool_id: str | None = None) -> str:
    """The name (without suffix) the archive gives a part's whole frame of ``camera``, or with
    ``tool_id`` that tool's ROI crop of it."""
    stem = f"{safe_name(inspection_id)}{SEP}{safe_name(camera)}"
    return stem if tool_id is None else f"{stem}{SEP}{safe_name(tool_id)}"


def read_archived(path: Path) -> np.ndarray | None:
    """An archived image as written (uint8 (H, W) grey or (H, W, 3) BGR, C-contiguous); None
    when the file is missing or cannot be read or decoded. Also for non-ASCII paths, where
    ``cv2.imread`` fails."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError:
        return None
    if data.size == 0:
        return None
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if image is None or image.dtype != np.uint8 or image.ndim not in (2, 3):
        return None
    return np.ascontiguousarray(image[:, :, :3] if image.ndim == 3 else image)


class ImageArchive:
    """Keeps failed parts and 1 in N passes as JPEG (or ROI crops), and purges them by age."""

    def __init__(self, root: Path, settings: ArchiveSettings, *, ext: str = ".jpg") -> None:
        if ext not in (".jpg", ".png"):
            raise StorageError(f"image archive: ext must be '.jpg' or '.png', got {ext!r}")
        self.root = Path(root)
        self.settings = settings
        self._ext = ext

    def should_keep(self, inspection: Inspection, pass_index: int) -> bool:
        """Whether to archive this part; ``pass_index`` counts passed parts from 0."""
        if inspection.verdict is not Verdict.PASS:
            return self.settings.failed
        every = self.settings.pass_every
        return every > 0 and pass_index % every == 0

    def save(self, inspection: Inspection) -> str | None:
        """Write the part's frames (or ROI crops); the first file's path relative to root, or None.

        None when there is nothing to write (no frames, no ROIs). Raises StorageError when a
        frame cannot be encoded or written; the caller records the part without an image then.
        """
        images = self._images(inspection)
        if not images:
            return None
        when = inspection.wall_time if inspection.wall_time > 0 else time.time()
        day = dt.datetime.fromtimestamp(when).strftime("%Y-%m-%d")
        folder = self.root / day
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"image archive: cannot create folder {folder}: {exc}") from exc
        first: str | None = None
        for stem, image in images:
            name = f"{stem}{self._ext}"
            self._write(folder / name, image)
            if first is None:
                first = f"{day}/{name}"
        return first

    def files_of(self, image_path: str) -> list[Path]:
        """All files of the part whose first archived file is ``image_path`` (relative to root)."""
        first = self.root / image_path
        stem = first.name.split(SEP, 1)[0]
        return sorted(first.parent.glob(f"{stem}{SEP}*"))

    def _images(self, inspection: Inspection) -> list[tuple[str, np.ndarray]]:
        if not self.settings.roi_crops_only:
            return [
                (part_file_stem(inspection.inspection_id, f.camera), f.image)
                for f in inspection.frames
            ]
        out: list[tuple[str, np.ndarray]] = []
        for result in inspection.tool_results:
            if result.roi is None:
                continue
            for frame in self._frames_for(inspection, result.details.get("camera")):
                h, w = frame.image.shape[:2]
                r = result.roi.clip(w, h)
                if r.is_empty:
                    continue
                crop = frame.image[r.y : r.y + r.h, r.x : r.x + r.w]
                stem = part_file_stem(inspection.inspection_id, frame.camera, result.tool_id)
                out.append((stem, crop))
        return out

    @staticmethod
    def _frames_for(inspection: Inspection, camera: object) -> tuple[Frame, ...]:
        # ToolResult does not name its camera; a tool may say so in details. Without that, crop
        # every frame: an extra crop costs a little disk, a missing one loses the evidence.
        named = tuple(f for f in inspection.frames if f.camera == camera)
        return named or inspection.frames

    def _write(self, path: Path, image: np.ndarray) -> None:
        if image.dtype != np.uint8 or image.ndim not in (2, 3):
            raise StorageError(
                f"image archive: cannot write {path.name}: expected uint8 (H, W) or (H, W, 3), "
                f"got {image.dtype} {image.shape}"
            )
        params = (
            [cv2.IMWRITE_JPEG_QUALITY, int(self.settings.jpeg_quality)]
            if self._ext == ".jpg"
            else [cv2.IMWRITE_PNG_COMPRESSION, 3]
        )
        ok, buf = cv2.imencode(self._ext, np.ascontiguousarray(image), params)
        if not ok:
            raise StorageError(f"image archive: OpenCV could not encode {path.name}")
        # Write then rename, so a reader or the purge never sees half a file.
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            tmp.write_bytes(buf.tobytes())
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise StorageError(f"image archive: cannot write {path}: {exc}") from exc

    def purge(
        self, now: float | None = None, *, protect: Callable[[Path], bool] | None = None
    ) -> int:
        """Delete images older than the retention period; returns how many files were removed.

        A file goes when its date folder's day ended before the cutoff AND its mtime is before
        the cutoff. Files ``protect`` claims (a running report reads them) stay, and folders that
        are not ``YYYY-MM-DD`` are never touched. Emptied date folders are removed.
        """
        now = time.time() if now is None else now
        cutoff = now - self.settings.retention_days * 86400.0
        if not self.root.is_dir():
            return 0
        removed = 0
        for folder in sorted(self.root.iterdir()):
            if not folder.is_dir() or not _DATE_DIR.match(folder.name):
                continue
            try:
                day = dt.datetime.strptime(folder.name, "%Y-%m-%d")
            except ValueError:
                continue
            day_end = (day + dt.timedelta(days=1)).timestamp()
            if day_end > cutoff:
                continue
            removed += self._purge_folder(folder, cutoff, protect)
        if removed:
            log.info("image archive: purged %d file(s) older than %s", removed, _iso(cutoff))
        return removed

    @staticmethod
    def _purge_folder(folder: Path, cutoff: float, protect: Callable[[Path], bool] | None) -> int:
        removed = 0
        for path in folder.iterdir():
            if not path.is_file():
                continue
            try:
                if path.stat().st_mtime >= cutoff:
                    continue
                if protect is not None and protect(path):
                    continue
                path.unlink()
                removed += 1
            except FileNotFoundError:
                continue  # removed by someone else meanwhile: that is what we wanted
            except OSError:
                log.exception("image archive: cannot remove %s", path)
        # A folder still holding kept or protected files stays until they go.
        if not any(folder.iterdir()):
            try:
                folder.rmdir()
            except OSError:
                log.exception("image archive: cannot remove empty folder %s", folder)
        return removed


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t).isoformat(timespec="seconds")
