"""What the free-running camera sources share: a reader thread that keeps only the newest frame,
the check that a stream still has the size and codec it started with, and ``StreamCamera``, the
part of a stream camera that does not depend on how it connects and decodes."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from inspection.errors import SourceError
from inspection.sources.base import BadFrameError
from inspection.types import Frame

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamFormat:
    """The picture a stream delivers: width × height in px and the codec's name (``H.264``)."""

    width: int
    height: int
    codec: str

    def __str__(self) -> str:
        return f"{self.width}×{self.height} {self.codec}"


class FormatWatch:
    """Remembers a camera's stream format across reconnects, so a change is reported once.

    A camera reconfigured behind the line's back (new resolution, new codec) must not pass
    unnoticed: tools, ROIs and masks were set up for the old picture.
    """

    def __init__(self, camera: str) -> None:
        self.camera = camera
        self.known: StreamFormat | None = None

    def check(self, seen: StreamFormat) -> None:
        """SourceError naming old and new format when ``seen`` differs from the last one."""
        old, self.known = self.known, seen
        if old is not None and old != seen:
            raise SourceError(f"camera {self.camera}: stream changed from {old} to {seen}")


class NewestFrame:
    """A one-frame slot between a reader thread and ``read()``: a new frame replaces an unread one.

    A live camera must never build a backlog: the line wants the picture of now, and the station
    counts the parts it could not inspect. An error from the reader thread is kept until read.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._error: BaseException | None = None
        self._arrivals = 0
        self._frame_at = 0  # arrival number of the waiting frame / error, to hand them out in order
        self._error_at = 0
        self.replaced = 0
        """Frames overwritten before anyone read them (they show up as seq gaps too)."""

    def put(self, frame: Frame) -> None:
        with self._cond:
            if self._frame is not None:
                self.replaced += 1
            self._frame = frame
            self._arrivals += 1
            self._frame_at = self._arrivals
            self._cond.notify_all()

    def put_error(self, error: BaseException) -> None:
        with self._cond:
            self._error = error
            self._arrivals += 1
            self._error_at = self._arrivals
            self._cond.notify_all()

    def take(self, timeout_s: float, what: str) -> Frame:
        """The newest unread frame, or the stored error, whichever came first; TimeoutError after
        ``timeout_s``.

        In arrival order: a stream that ends still hands over the frame it decoded last, and a
        bad frame is reported before the newer frame that followed it (seq stays in order)."""
        with self._cond:
            if not self._cond.wait_for(
                lambda: self._frame is not None or self._error is not None, max(timeout_s, 0.0)
            ):
                raise TimeoutError(f"{what}: no frame within {timeout_s:.3f} s")
            if self._frame is not None and (self._error is None or self._frame_at < self._error_at):
                frame, self._frame = self._frame, None
                return frame
            error, self._error = self._error, None
            assert error is not None
            raise error


class ReaderThread:
    """Runs ``step()`` in a loop on a thread of its own until stopped or until it raises.

    What ``step`` raises is handed to ``slot`` (a SourceError as it is, anything else as a
    SourceError naming the camera), so ``read()`` reports it instead of the thread dying silently.
    """

    def __init__(
        self,
        name: str,
        step: Callable[[], None],
        slot: NewestFrame,
        camera: str,
        finish: Callable[[], None] | None = None,
    ) -> None:
        self._step = step
        self._finish = finish
        self._slot = slot
        self._camera = camera
        self.stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                self._step()
        except SourceError as exc:
            if not self.stop.is_set():
                self._slot.put_error(exc)
        except Exception as exc:  # a dead reader would leave read() timing out forever
            if not self.stop.is_set():
                log.exception("camera %s: reader failed", self._camera)
                self._slot.put_error(
                    SourceError(f"camera {self._camera}: reader stopped: {type(exc).__name__}")
                )
        finally:
            if self._finish is not None:
                self._finish()  # on this thread: the handle is never freed under a running step

    def join(self, join_s: float, unblock: Callable[[], None] | None = None) -> None:
        """Stop and wait up to ``join_s``; ``unblock`` (shutting a socket) wakes a step stuck in a
        blocking call."""
        self.stop.set()
        if unblock is not None:
            unblock()
        if self._thread.ident is not None:
            self._thread.join(join_s)
            if self._thread.is_alive():
                log.warning("camera %s: reader did not stop within %.1f s", self._camera, join_s)


class StreamCamera:
    """A free-running camera read on a reader thread; ``read()`` hands out the newest frame.

    A subclass connects and decodes: its ``open()`` calls ``close()`` first, connects, then
    ``_start_reader`` with a ``step`` that hands each picture to ``_deliver`` (or a frame it cannot
    decode to ``_bad_frame``). ``join_s`` bounds how long ``close()`` waits for the reader.
    """

    live = True

    def __init__(self, camera: str, join_s: float) -> None:
        self.camera = camera
        self._join_s = join_s
        self._format = FormatWatch(camera)
        self._seq = 0  # counts on across reconnects, so the station never sees a number twice
        self._slot = NewestFrame()
        self._reader: ReaderThread | None = None

    def read(self, timeout_s: float) -> Frame | None:
        if self._reader is None:
            raise SourceError(f"camera {self.camera}: read() before open()")
        return self._slot.take(timeout_s, f"camera {self.camera}")

    def close(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.join(join_s=self._join_s)
        self._slot = NewestFrame()  # a reopened camera hands out nothing from before

    def _start_reader(
        self, kind: str, step: Callable[[], None], finish: Callable[[], None]
    ) -> None:
        """Run ``step`` on a thread named ``kind-camera``; ``finish`` frees the connection there."""
        self._reader = ReaderThread(f"{kind}-{self.camera}", step, self._slot, self.camera, finish)
        self._reader.start()

    def _next_seq(self) -> int:
        seq = self._seq
        self._seq += 1
        return seq

    def _deliver(
        self, image: np.ndarray, codec: str, color: bool, source_name: str, seq: int | None = None
    ) -> None:
        """Put a decoded picture in the slot as frame ``seq`` (by default the next number).

        ``image`` is uint8 (H, W) or (H, W, 3); SourceError when its size or codec is not the one
        the stream started with."""
        t_ns = time.monotonic_ns()
        height, width = image.shape[:2]
        self._format.check(StreamFormat(width=width, height=height, codec=codec))
        self._slot.put(
            Frame(
                camera=self.camera,
                seq=self._next_seq() if seq is None else seq,
                t_ns=t_ns,
                image=as_frame_image(image, color),
                source_name=source_name,
            )
        )

    def _bad_frame(self, seq: int, message: str) -> None:
        """Report frame ``seq`` as unreadable in its turn; the stream goes on."""
        self._slot.put_error(BadFrameError(message, camera=self.camera, seq=seq))


def as_frame_image(image: np.ndarray, color: bool) -> np.ndarray:
    """uint8 BGR (H, W, 3) or grey (H, W) → what the recipe asked for, C-contiguous."""
    if color and image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif not color and image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return np.ascontiguousarray(image)
