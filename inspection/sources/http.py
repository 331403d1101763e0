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
from inspection.sources.multipart import MultipartError, MultipartReader
from inspection.sources.stream import StreamCamera
from inspection.sources.urls import credentials, redact, with_credentials

log = logging.getLogger(__name__)


class HttpCamera(StreamCamera):
    """A free-running HTTP camera; ``read()`` hands out the newest decoded frame."""

    def __init__(self, settings: HttpSourceSettings, camera: str = "cam1") -> None:
        # a flowing stream is left within a frame; a stalled one within the socket timeout
        super().__init__(camera, join_s=settings.timeout_s + 1.0)
        self._settings = settings
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

        self._start_reader("http", step, finish)
        log.info("camera %s: HTTP %s open (%s)", self.camera, self.shown_url, s.mode)

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
        seq = self._next_seq()  # taken first: a frame that cannot be decoded uses up its number
        color = self._settings.color
        flags = cv2.IMREAD_COLOR if color else cv2.IMREAD_GRAYSCALE
        image = cv2.imdecode(np.frombuffer(body, np.uint8), flags) if body else None
        if image is None:
            self._bad_frame(
                seq, f"{self._where()}: frame {seq} is not a readable JPEG ({len(body)} bytes)"
            )
            return
        self._deliver(image, codec, color, self.shown_url, seq)

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
