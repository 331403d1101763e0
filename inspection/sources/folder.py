"""Images from a folder in name order, one part each (re-inspecting saved parts, offline tests)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import cv2
import numpy as np

from inspection.errors import SourceError
from inspection.image_size import file_too_large, too_large
from inspection.recipe import FolderSourceSettings
from inspection.sources.base import BadFrameError
from inspection.types import Frame

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".pgm", ".pbm", ".ppm"}
)


def read_image(path: Path) -> np.ndarray:
    """Decode an image file to uint8 grey (H, W) or BGR (H, W, 3); SourceError names the problem."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise SourceError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    if data.size == 0:
        raise SourceError(f"{path}: file is empty")
    too_big = file_too_large(path)  # from the header: an absurd image is never decoded
    if too_big is not None:
        raise SourceError(f"{path}: {too_big}")
    decoded = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if decoded is None:
        raise SourceError(f"{path}: not a readable image (corrupt, truncated or unknown format)")
    image = np.asarray(decoded)
    too_big = too_large(image.shape[1], image.shape[0])  # a format whose header is not read there
    if too_big is not None:
        raise SourceError(f"{path}: {too_big}")
    if image.dtype == np.uint16:
        image = (image // 256).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise SourceError(f"{path}: pixel type {image.dtype} is not supported")
    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    elif image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    return np.ascontiguousarray(image)


WATCH_POLL_S = 0.1
"""How often a watched folder is listed; a new file is read once its size held for one poll."""


class FolderSource:
    """Each image file in the folder (sorted by name) is one part; ``loop`` starts over at the end;
    ``watch`` waits for new files instead (and wins over ``loop``)."""

    live = False

    def __init__(self, settings: FolderSourceSettings, camera: str = "cam1") -> None:
        self.camera = camera
        self._settings = settings
        self._files: list[Path] = []
        self._next = 0
        self._seq = 0
        self._seen: set[str] = set()  # names listed or read, so each file is one part only once
        self._growing: dict[str, int] = {}  # new file → its size at the last poll
        self._last_poll = 0.0

    def open(self) -> None:
        folder = self._settings.path
        if not folder.is_dir():
            raise SourceError(f"camera {self.camera}: folder {folder} does not exist")
        files = sorted(
            p
            for p in folder.glob(self._settings.pattern)
            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        skipped = sorted(
            p.name
            for p in folder.glob(self._settings.pattern)
            if p.is_file() and p.suffix.lower() not in IMAGE_SUFFIXES
        )
        self._log_skipped(skipped)
        self._files = files
        self._next = 0
        self._seen = {p.name for p in folder.glob(self._settings.pattern)}
        self._growing = {}

    def read(self, timeout_s: float) -> Frame | None:
        if self._next >= len(self._files) and self._settings.watch:
            self._wait_for_new_files(timeout_s)
        if self._next >= len(self._files):
            if not self._settings.loop or not self._files:
                return None
            self._next = 0
        path = self._files[self._next]
        self._next += 1
        seq = self._seq
        self._seq += 1
        try:
            image = read_image(path)
        except SourceError as exc:
            raise BadFrameError(str(exc), camera=self.camera, seq=seq) from None
        return Frame(
            camera=self.camera,
            seq=seq,
            t_ns=time.monotonic_ns(),
            image=image,
            source_name=path.name,
        )

    def close(self) -> None:
        self._files = []

    def _wait_for_new_files(self, timeout_s: float) -> None:
        """Poll until new image files have stopped growing; queue them in name order.

        A camera or another program may still be writing a file when it first shows up; one whose
        size held across two polls is complete. Empty files wait (just created). TimeoutError when
        none is ready within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            wait = self._last_poll + WATCH_POLL_S - time.monotonic()
            if wait > 0:
                if time.monotonic() + wait > deadline:
                    time.sleep(max(deadline - time.monotonic(), 0.0))
                    raise TimeoutError(
                        f"camera {self.camera}: no new file in {self._settings.path} "
                        f"within {timeout_s:.3f} s"
                    )
                time.sleep(wait)
            self._last_poll = time.monotonic()
            ready = self._poll()
            if ready:
                self._files = ready
                self._next = 0
                return

    def _poll(self) -> list[Path]:
        folder = self._settings.path
        if not folder.is_dir():
            raise SourceError(f"camera {self.camera}: watched folder {folder} has gone")
        ready: list[Path] = []
        skipped: list[str] = []
        sizes: dict[str, int] = {}
        for p in folder.glob(self._settings.pattern):
            if p.name in self._seen:
                continue
            try:
                if not p.is_file():
                    continue
                size = p.stat().st_size
            except OSError:
                continue  # gone again between listing and looking (a temporary file)
            if p.suffix.lower() not in IMAGE_SUFFIXES:
                skipped.append(p.name)
                self._seen.add(p.name)
            elif size > 0 and self._growing.get(p.name) == size:
                ready.append(p)
                self._seen.add(p.name)
            else:
                sizes[p.name] = size
        self._growing = sizes
        self._log_skipped(skipped)
        return sorted(ready)

    def _log_skipped(self, names: list[str]) -> None:
        """One warning naming the first ten non-image files (by name) that were passed over."""
        if names:
            log.warning(
                "camera %s: %d non-image files skipped in %s: %s",
                self.camera,
                len(names),
                self._settings.path,
                ", ".join(sorted(names)[:10]),
            )
