"""What every image source is: open, read frames, close. The pipeline owns the thread."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from inspection.errors import SourceError
from inspection.types import Frame


class BadFrameError(SourceError):
    """One frame could not be read (corrupt file, bad pixel format); the stream itself goes on.

    The pipeline records the part it stood for as ERROR with this message as the reason.
    """

    def __init__(self, message: str, *, camera: str, seq: int) -> None:
        super().__init__(message)
        self.camera = camera
        self.seq = seq


@runtime_checkable
class Source(Protocol):
    """One camera or file source. Used from one acquisition thread only.

    ``live`` sources (free-running streams) cannot wait: when the line falls behind, the pipeline
    drops their oldest frame and counts it. Other sources (triggered cameras, files, the simulated
    line in triggered mode) are held back instead, so no part is ever skipped.
    """

    camera: str
    live: bool

    def open(self) -> None:
        """Connect; raises SourceError with the reason."""
        ...

    def read(self, timeout_s: float) -> Frame | None:
        """Next frame; None at the end of a finite source. Raises SourceError (BadFrameError for one
        unreadable frame), or TimeoutError when nothing came within ``timeout_s``."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class BatchAware(Protocol):
    """A source that knows the batch it shows (the simulated line; a camera fed by an MES)."""

    def batch_info(self) -> dict[str, str]:
        """Batch values such as ``lot`` and ``product``; the station offers them to tools."""
        ...


@runtime_checkable
class SoftwareTriggerable(Protocol):
    """A camera that takes one frame on command (GenICam ``TriggerSoftware``)."""

    def fire_trigger(self, trigger_id: int) -> None:
        """Ask for one frame, to be delivered by ``read`` with this ``trigger_id``; may be called
        from another thread than the one reading. Raises SourceError when the camera is not
        connected."""
        ...


@runtime_checkable
class ResumableLine(Protocol):
    """A source that makes its own parts (the simulated line) and can go on after a given one,
    so a restarted station never sees the same part (and serial) twice."""

    def resume_after(self, part_index: int) -> None:
        """Make part ``part_index + 1`` next; called before ``open``."""
        ...
