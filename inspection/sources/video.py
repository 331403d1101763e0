"""A video file as a camera, decoded by FFmpeg through PyAV: played once or looped, as fast as the
line inspects, or at the file's own frame rate (``real_time``) like a live camera."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import av
import av.error

from inspection.errors import SourceError
from inspection.recipe import VideoSourceSettings
from inspection.sources.stream import FormatWatch, StreamFormat, as_frame_image
from inspection.types import Frame

log = logging.getLogger(__name__)

_DEFAULT_FPS = 25.0  # when a file does not say its rate (rare; raw streams)


class VideoFile:
    """Frames of a video file in order; ``read`` returns None at the end unless ``loop``."""

    def __init__(self, settings: VideoSourceSettings, camera: str = "cam1") -> None:
        self.camera = camera
        self._settings = settings
        # In real time the file stands for a free-running camera: the line drops frames when
        # behind. Otherwise every frame is a part and none may be skipped.
        self.live = settings.real_time
        self._format = FormatWatch(camera)
        self._seq = 0
        self._container: Any = None
        self._frames: Iterator[Any] | None = None
        self._period_s = 1.0 / _DEFAULT_FPS
        self._clock_start = 0.0
        self._played = 0  # frames of the file gone by since the clock started (read or skipped)
        self._in_pass = 0

    def open(self) -> None:
        self.close()
        path = self._settings.path
        where = f"camera {self.camera}: {path}"
        if not path.is_file():
            raise SourceError(f"{where}: file does not exist")
        try:
            container = av.open(str(path))
        except av.error.InvalidDataError:
            raise SourceError(
                f"{where}: not a video file (FFmpeg cannot read its format)"
            ) from None
        except av.error.FFmpegError as exc:
            raise SourceError(f"{where}: cannot be opened ({exc.strerror})") from None
        if not container.streams.video:
            container.close()
            raise SourceError(f"{where}: has no video stream")
        stream = container.streams.video[0]
        if stream.codec_context is None or stream.codec_context.codec is None:
            container.close()
            raise SourceError(f"{where}: its video codec is not supported")
        rate = stream.average_rate or stream.base_rate
        self._period_s = 1.0 / float(rate) if rate else 1.0 / _DEFAULT_FPS
        self._container = container
        self._frames = self._decode_from_start()
        self._clock_start = time.monotonic()
        self._played = 0
        log.info(
            "camera %s: video %s open (%s, %.2f fps)",
            self.camera,
            path,
            stream.codec_context.name,
            1.0 / self._period_s,
        )

    def _decode_from_start(self) -> Iterator[Any]:
        self._container.seek(0)
        self._in_pass = 0
        return iter(self._container.decode(video=0))

    def read(self, timeout_s: float) -> Frame | None:
        if self._frames is None:
            raise SourceError(f"camera {self.camera}: read() before open()")
        if self._settings.real_time:
            self._wait_for_due(timeout_s)
        vf = self._next_video_frame()
        if vf is None:
            return None
        self._played += 1
        self._format.check(
            StreamFormat(
                width=vf.width,
                height=vf.height,
                codec=self._container.streams.video[0].codec_context.name,
            )
        )
        color = self._settings.color
        image = as_frame_image(vf.to_ndarray(format="bgr24" if color else "gray"), color)
        frame = Frame(
            camera=self.camera,
            seq=self._seq,
            t_ns=time.monotonic_ns(),
            image=image,
            source_name=f"{self._settings.path.name}#{self._in_pass - 1}",
        )
        self._seq += 1
        return frame

    def _wait_for_due(self, timeout_s: float) -> None:
        """Sleep until the next frame is due; skip the frames a slow reader missed (a live camera
        would not have kept them either). TimeoutError when it is due after ``timeout_s``."""
        due = self._clock_start + self._played * self._period_s
        now = time.monotonic()
        if due - now > timeout_s:
            time.sleep(max(timeout_s, 0.0))
            raise TimeoutError(
                f"camera {self.camera}: next video frame is due in {due - now:.3f} s, later than "
                f"the {timeout_s:.3f} s timeout"
            )
        if due > now:
            time.sleep(due - now)
            return
        behind = int((now - due) / self._period_s)
        for _ in range(behind):
            if self._next_video_frame() is None:
                return
            self._played += 1
            self._seq += 1  # a gap in seq tells the station these frames were lost

    def _next_video_frame(self) -> Any | None:
        assert self._frames is not None
        where = f"camera {self.camera}: {self._settings.path}"
        for attempt in range(2):
            try:
                vf = next(self._frames)
            except StopIteration:
                if not self._settings.loop:
                    return None
                if attempt == 1 or self._in_pass == 0:
                    raise SourceError(f"{where}: no frame could be decoded") from None
                self._frames = self._decode_from_start()
                continue
            except av.error.FFmpegError as exc:
                raise SourceError(f"{where}: cannot be decoded ({exc.strerror})") from None
            self._in_pass += 1
            return vf
        return None

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
        self._container = None
        self._frames = None
