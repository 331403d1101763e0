"""An IP camera's RTSP stream (H.264 / H.265), decoded by FFmpeg through PyAV on a reader thread.

PyAV with FFmpeg's low-delay flags measured ~54 ms from glass to frame here, against ~91 ms for
cv2.VideoCapture, whose FFmpeg backend buffers; and PyAV tells why a connection failed (401, 404,
refused) where OpenCV only says it did not open.
"""

from __future__ import annotations

import functools
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import av
import av.error

from inspection.errors import SourceError
from inspection.recipe import RtspSourceSettings
from inspection.sources.stream import StreamCamera
from inspection.sources.urls import credentials, redact, with_credentials

log = logging.getLogger(__name__)

CODEC_NAMES = {"h264": "H.264", "hevc": "H.265"}
"""FFmpeg decoder name → the name on the camera's data sheet; only these are supported."""

# Enough to find the SPS/PPS of one key frame; FFmpeg's default (5 MB, 5 s) delays the start.
_PROBE_BYTES = 65536
_ANALYZE_US = 200_000


def ffmpeg_reason(exc: av.error.FFmpegError) -> str:
    """FFmpeg's reason without the URL PyAV appends (it may carry the password)."""
    return str(exc.strerror or type(exc).__name__)


def _resolves(url: str) -> bool:
    """Whether the URL's host name resolves (asked only after FFmpeg failed to connect)."""
    parts = urlsplit(url)
    try:
        socket.getaddrinfo(parts.hostname or "", parts.port or 554, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return False
    return True


class RtspCamera(StreamCamera):
    """A free-running RTSP camera; ``read()`` hands out the newest decoded frame."""

    def __init__(self, settings: RtspSourceSettings, camera: str = "cam1") -> None:
        # the reader notices within one frame; a stalled server within timeout_s
        super().__init__(camera, join_s=settings.timeout_s + 1.0)
        self._settings = settings
        self.shown_url = redact(settings.url)

    def open(self) -> None:
        self.close()
        s = self._settings
        bare, user, password = credentials(s.url, s.username, s.password, s.password_env)
        url = with_credentials(bare, user, password)
        self.shown_url = redact(url)
        options = {
            "rtsp_transport": s.transport,
            # socket timeout in µs: a server that dies without closing is noticed
            "timeout": str(int(s.timeout_s * 1e6)),
        }
        if s.low_delay:
            options |= {
                "fflags": "nobuffer",
                "flags": "low_delay",
                "probesize": str(_PROBE_BYTES),
                "analyzeduration": str(_ANALYZE_US),
            }
        start = time.monotonic()
        try:
            container = av.open(url, options=options, timeout=(s.timeout_s, s.timeout_s))
        except av.error.FFmpegError as exc:
            raise SourceError(self._why_not_open(exc, time.monotonic() - start)) from None
        try:
            if not container.streams.video:
                raise SourceError(f"camera {self.camera}: {self.shown_url} has no video stream")
            stream = container.streams.video[0]
            codec = stream.codec_context.name
            if codec not in CODEC_NAMES:
                raise SourceError(
                    f"camera {self.camera}: {self.shown_url} sends {codec}, which is not "
                    f"supported (H.264 or H.265 only)"
                )
            # Frame threading holds back one frame per thread; slices do not.
            stream.thread_type = "SLICE" if s.low_delay else "AUTO"
        except SourceError:
            container.close()
            raise
        # bound to this connection: a reader that outlived close() never reads the next one's
        step = functools.partial(self._step, container.demux(stream), CODEC_NAMES[codec])
        self._start_reader("rtsp", step, container.close)
        log.info("camera %s: RTSP %s open (%s)", self.camera, self.shown_url, CODEC_NAMES[codec])

    def _why_not_open(self, exc: av.error.FFmpegError, took_s: float) -> str:
        where = f"camera {self.camera}: {self.shown_url}"
        if isinstance(exc, av.error.HTTPUnauthorizedError):
            return f"{where}: wrong user name or password (RTSP 401)"
        if isinstance(exc, av.error.HTTPNotFoundError):
            return f"{where}: path not found (RTSP 404)"
        if isinstance(exc, av.error.HTTPForbiddenError):
            return f"{where}: access refused by the camera (RTSP 403)"
        if isinstance(exc, av.error.ConnectionRefusedError):
            return f"{where}: connection refused (nothing serves RTSP on that port)"
        # FFmpeg reports a server that never answers as "invalid data" once its timeout hits
        timed_out = took_s >= 0.9 * self._settings.timeout_s
        if isinstance(exc, av.error.ExitError | av.error.TimeoutError) or timed_out:
            return f"{where}: no answer within {self._settings.timeout_s:g} s"
        if isinstance(exc, av.error.InvalidDataError):
            return f"{where}: the server does not answer as an RTSP camera ({ffmpeg_reason(exc)})"
        if not _resolves(self._settings.url):  # FFmpeg says only "Input/output error"
            return f"{where}: host name not found"
        return f"{where}: cannot be opened ({ffmpeg_reason(exc)})"

    # ---- reader thread ---------------------------------------------------------------------

    def _step(self, packets: Iterator[Any], codec_name: str) -> None:
        """Demux one packet, decode it, put its frames in the slot."""
        where = f"camera {self.camera}: {self.shown_url}"
        try:
            packet = next(packets)
        except (StopIteration, av.error.EOFError):
            raise SourceError(f"{where}: stream ended (server closed it)") from None
        except av.error.FFmpegError as exc:
            raise SourceError(f"{where}: stream lost ({ffmpeg_reason(exc)})") from None
        if packet.size == 0:  # the demuxer's flush packet at the end
            raise SourceError(f"{where}: stream ended (server closed it)")
        try:
            frames = packet.decode()
        except av.error.InvalidDataError as exc:
            seq = self._next_seq()
            self._bad_frame(seq, f"{where}: frame {seq} cannot be decoded ({ffmpeg_reason(exc)})")
            return
        color = self._settings.color
        for vf in frames:
            image = vf.to_ndarray(format="bgr24" if color else "gray")
            self._deliver(image, codec_name, color, self.shown_url)
