"""An IP camera over HTTP: an MJPEG stream (multipart/x-mixed-replace) or a snapshot URL polled at
``interval_s``, with basic or digest authentication; read on a reader thread of its own."""

from __future__ import annotations

import http.client
import logging
import socket
import time
import urllib.error
import urllib.request
from typing import Any

import cv2
import numpy as np

from inspection.errors import SourceError
from inspection.recipe import HttpSourceSettings
from inspection.sources.base import BadFrameError
from inspection.sources.multipart import MultipartError, MultipartReader
from inspection.sources.stream import (
    FormatWatch,
    NewestFrame,
    ReaderThread,
    StreamFormat,
)
from inspection.sources.urls import credentials, redact, with_credentials
from inspection.types import Frame

log = logging.getLogger(__name__)


class HttpCamera:
    """A free-running HTTP camera; ``read()`` hands out the newest decoded frame."""

    live = True

    def __init__(self, settings: HttpSourceSettings, camera: str = "cam1") -> None:
        self.camera = camera
        self._settings = settings
        self._format = FormatWatch(camera)
        self._seq = 0  # counts on across reconnects, so the station never sees a number twice
        self._slot = NewestFrame()
        self._reader: ReaderThread | None = None
        self._url = ""
        self._opener: urllib.request.OpenerDirector | None = None
        self._sends_credentials = False
        self.shown_url = redact(settings.url)

    def open(self) -> None:
        self.close()
        s = self._settings
        bare, user, password = credentials(s.url, s.username, s.password, s.password_env)
        self._url = bare
        self.shown_url = redact(with_credentials(bare, user, password))
        self._opener = _opener(bare, user, password, s.auth)
        self._sends_credentials = bool(user) and s.auth != "none"
        self._slot = NewestFrame()
        response = self._get()
        if s.mode == "mjpeg":
            content_type = response.headers.get_content_type()
            boundary = response.headers.get_param("boundary")
            if not content_type.startswith("multipart/") or not isinstance(boundary, str):
                response.close()
                raise SourceError(
                    f"{self._where()}: not an MJPEG stream (Content-Type {content_type}); "
                    f"for a single-image URL use mode: snapshot"
                )
            parts = MultipartReader(response, boundary)

            def step() -> None:
                self._next_stream_part(parts)

            finish = response.close
        else:
            self._decode(self._body(response), "JPEG")  # the first frame proves the URL works
            due = [time.monotonic() + s.interval_s]

            def step() -> None:
                self._next_snapshot(due)

            def finish() -> None:
                return None

        self._reader = ReaderThread(f"http-{self.camera}", step, self._slot, self.camera, finish)
        self._reader.start()
        log.info("camera %s: HTTP %s open (%s)", self.camera, self.shown_url, s.mode)

    def read(self, timeout_s: float) -> Frame | None:
        if self._reader is None:
            raise SourceError(f"camera {self.camera}: read() before open()")
        return self._slot.take(timeout_s, f"camera {self.camera}")

    def close(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            # a flowing stream is left within a frame; a stalled one within the socket timeout
            reader.join(join_s=self._settings.timeout_s + 1.0)

    # ---- reader thread ---------------------------------------------------------------------

    def _next_stream_part(self, parts: MultipartReader) -> None:
        try:
            body = parts.next_part()
        except MultipartError as exc:
            raise SourceError(f"{self._where()}: broken MJPEG stream ({exc})") from None
        except (OSError, http.client.HTTPException) as exc:
            raise SourceError(f"{self._where()}: stream lost ({_reason(exc, self)})") from None
        if body is None:
            raise SourceError(f"{self._where()}: stream ended (server closed it)")
        self._decode(body, "MJPEG")

    def _next_snapshot(self, due: list[float]) -> None:
        assert self._reader is not None
        if self._reader.stop.wait(max(due[0] - time.monotonic(), 0.0)):
            return
        # a slow camera is polled again one interval after its answer, never in a burst
        due[0] = max(due[0] + self._settings.interval_s, time.monotonic())
        self._decode(self._body(self._get()), "JPEG")

    def _decode(self, body: bytes, codec: str) -> None:
        seq = self._seq
        self._seq += 1
        flags = cv2.IMREAD_COLOR if self._settings.color else cv2.IMREAD_GRAYSCALE
        image = cv2.imdecode(np.frombuffer(body, np.uint8), flags) if body else None
        if image is None:
            self._slot.put_error(
                BadFrameError(
                    f"{self._where()}: frame {seq} is not a readable JPEG ({len(body)} bytes)",
                    camera=self.camera,
                    seq=seq,
                )
            )
            return
        t_ns = time.monotonic_ns()
        height, width = image.shape[:2]
        self._format.check(StreamFormat(width=width, height=height, codec=codec))
        self._slot.put(
            Frame(
                camera=self.camera,
                seq=seq,
                t_ns=t_ns,
                image=np.ascontiguousarray(image),
                source_name=self.shown_url,
            )
        )

    # ---- HTTP ------------------------------------------------------------------------------

    def _where(self) -> str:
        return f"camera {self.camera}: {self.shown_url}"

    def _get(self) -> Any:
        assert self._opener is not None
        request = urllib.request.Request(self._url, headers={"User-Agent": "Lineside"})
        try:
            return self._opener.open(request, timeout=self._settings.timeout_s)
        except urllib.error.HTTPError as exc:
            exc.close()
            sent = bool(self._sends_credentials)
            raise SourceError(
                f"{self._where()}: {_http_status(exc.code, exc.reason, sent)}"
            ) from None
        except urllib.error.URLError as exc:
            reason = exc.reason if isinstance(exc.reason, BaseException) else OSError(exc.reason)
            raise SourceError(f"{self._where()}: {_reason(reason, self)}") from None
        except (OSError, http.client.HTTPException) as exc:
            raise SourceError(f"{self._where()}: {_reason(exc, self)}") from None

    def _body(self, response: Any) -> bytes:
        try:
            with response:
                data: bytes = response.read()
                return data
        except (OSError, http.client.HTTPException) as exc:
            raise SourceError(f"{self._where()}: snapshot lost ({_reason(exc, self)})") from None


def _opener(
    url: str, user: str | None, password: str | None, auth: str
) -> urllib.request.OpenerDirector:
    # No proxy: a camera sits on the line's own network, never behind the office proxy.
    handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
    if user and auth != "none":
        if auth == "basic":
            # sent with the first request, saving the camera a round trip per snapshot
            prior = urllib.request.HTTPPasswordMgrWithPriorAuth()
            prior.add_password(None, url, user, password or "", is_authenticated=True)
            handlers.append(urllib.request.HTTPBasicAuthHandler(prior))
        else:
            manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            manager.add_password(None, url, user, password or "")
            handlers.append(urllib.request.HTTPDigestAuthHandler(manager))
    return urllib.request.build_opener(*handlers)


def _http_status(code: int, reason: str, sent_credentials: bool) -> str:
    if code == 401 and sent_credentials:
        return "wrong user name or password (HTTP 401)"
    if code == 401:
        return "the camera wants a user name and password (HTTP 401); set username and auth"
    if code == 403:
        return "access refused by the camera (HTTP 403)"
    if code == 404:
        return "path not found (HTTP 404)"
    return f"the camera answered HTTP {code} {reason}"


def _reason(exc: BaseException, cam: HttpCamera) -> str:
    """Why a connection failed, in the words of the network, never with the URL."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (nothing serves HTTP on that port)"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"no answer within {cam._settings.timeout_s:g} s"
    if isinstance(exc, socket.gaierror):
        return "host name not found"
    if isinstance(exc, http.client.RemoteDisconnected | ConnectionResetError):
        return "the server closed the connection"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__
