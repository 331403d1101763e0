"""An HTTP camera stand-in: the simulated line as an MJPEG stream (``/stream``) and a snapshot URL
(``/snapshot.jpg``) on 127.0.0.1, with optional basic or digest authentication.

Run as a child process (tests kill it mid-stream and start it again on the same port)::

    python -m inspection.simulators.mjpeg_server --port 8080 --width 1280 --height 720 --fps 25

It prints one line ``READY http://127.0.0.1:PORT/stream`` on stdout once it serves. Every frame
carries its send time (``inspection.simulators.stamp``), written just before it is encoded.
``--corrupt-every N`` sends every Nth part of a stream as bytes no JPEG decoder accepts, and
``--framing boundary`` leaves out each part's Content-Length, as some cameras do.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import logging
import secrets
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType

import cv2
import numpy as np

from inspection.recipe import SyntheticSourceSettings
from inspection.simulators.peers import simulator_arguments
from inspection.simulators.stamp import STAMP_WIDTH, write_stamp
from inspection.sources.synthetic import SyntheticLine

log = logging.getLogger(__name__)

BOUNDARY = "linesideframe"
REALM = "lineside"
# Starts like a JPEG, then nothing a decoder can use: what a camera's damaged frame looks like.
CORRUPT_JPEG = b"\xff\xd8\xff\xdb" + bytes(range(256)) * 8


class FrameBoard:
    """The newest encoded frame of the simulated line, renewed at ``fps`` by a thread of its own."""

    def __init__(self, width: int, height: int, fps: float, seed: int, quality: int) -> None:
        self._period = 1.0 / fps
        self._quality = quality
        self._line = SyntheticLine(
            SyntheticSourceSettings(
                type="synthetic", mode="video", width=width, height=height, seed=seed
            )
        )
        self._line.open()
        self._cond = threading.Condition()
        self.jpeg = b""
        self.number = 0
        self.stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="frame-board", daemon=True)
        self._publish()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopped.set()
        with self._cond:
            self._cond.notify_all()
        self._thread.join(2.0)

    def wait_newer(self, number: int, timeout_s: float) -> tuple[int, bytes] | None:
        """The first frame numbered above ``number``; None when stopped or after ``timeout_s``."""
        with self._cond:
            self._cond.wait_for(lambda: self.number > number or self.stopped.is_set(), timeout_s)
            if self.stopped.is_set() or self.number <= number:
                return None
            return self.number, self.jpeg

    def _publish(self) -> None:
        frame = self._line.read(timeout_s=1.0)
        assert frame is not None  # an endless line (parts=None) never ends
        image = np.array(frame.image, copy=True)
        if image.shape[1] >= STAMP_WIDTH:
            write_stamp(image, time.monotonic_ns())
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self._quality])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        with self._cond:
            self.jpeg = data.tobytes()
            self.number += 1
            self._cond.notify_all()

    def _run(self) -> None:
        due = time.monotonic()
        while not self.stopped.is_set():
            # Frames keep to a fixed grid, as a camera's sensor clock does, so a receiver can
            # count the missing ones from the send times; a feed a whole period behind skips
            # the frames it missed instead of sending a burst.
            due += self._period
            if time.monotonic() - due > self._period:
                due = time.monotonic()
            if self.stopped.wait(max(due - time.monotonic(), 0.0)):
                return
            self._publish()


class Auth:
    """Checks a request's Authorization header against one user (basic or digest, RFC 7616 MD5)."""

    def __init__(self, kind: str, user: str, password: str) -> None:
        self.kind = kind
        self.user = user
        self.password = password
        self.nonce = secrets.token_hex(16)

    def challenge(self) -> str:
        if self.kind == "basic":
            return f'Basic realm="{REALM}"'
        return f'Digest realm="{REALM}", nonce="{self.nonce}", qop="auth", algorithm=MD5'

    def allows(self, header: str | None, method: str) -> bool:
        if self.kind == "none":
            return True
        if not header:
            return False
        scheme, _, value = header.partition(" ")
        if self.kind == "basic" and scheme.lower() == "basic":
            expected = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            return secrets.compare_digest(value.strip(), expected)
        if self.kind == "digest" and scheme.lower() == "digest":
            fields = _digest_fields(value)

            def md5(text: str) -> str:
                return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()

            ha1 = md5(f"{self.user}:{REALM}:{self.password}")
            ha2 = md5(f"{method}:{fields.get('uri', '')}")
            expected = md5(
                f"{ha1}:{self.nonce}:{fields.get('nc', '')}:{fields.get('cnonce', '')}:"
                f"{fields.get('qop', '')}:{ha2}"
            )
            return fields.get("username") == self.user and secrets.compare_digest(
                fields.get("response", ""), expected
            )
        return False


def _digest_fields(value: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in value.split(","):
        key, _, val = item.strip().partition("=")
        fields[key.strip().lower()] = val.strip().strip('"')
    return fields


def make_handler(
    board: FrameBoard, auth: Auth, framing: str, corrupt_every: int
) -> type[BaseHTTPRequestHandler]:
    class CameraHandler(BaseHTTPRequestHandler):
        server_version = "LinesideCamera/1"

        def log_message(self, format: str, *args: object) -> None:
            log.debug(format, *args)

        def do_GET(self) -> None:
            if not auth.allows(self.headers.get("Authorization"), "GET"):
                self.send_response(401)
                self.send_header("WWW-Authenticate", auth.challenge())
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.path == "/stream":
                self._stream()
            elif self.path == "/snapshot.jpg":
                jpeg = board.jpeg  # once: the board renews it meanwhile
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(jpeg)))
                self.end_headers()
                self.wfile.write(jpeg)
            else:
                self.send_error(404, "no such camera path")

        def _stream(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            number, sent = 0, 0
            delimiter = f"\r\n--{BOUNDARY}\r\n".encode()
            try:
                if framing == "boundary":
                    # Each part ends with the next delimiter, so the client knows at once that
                    # the frame is complete (cameras without Content-Length do the same).
                    self.wfile.write(delimiter)
                while (got := board.wait_newer(number, 5.0)) is not None:
                    number, jpeg = got
                    sent += 1
                    if corrupt_every and sent % corrupt_every == 0:
                        jpeg = CORRUPT_JPEG
                    if framing == "length":
                        head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                        head += f"Content-Length: {len(jpeg)}\r\n\r\n"
                        self.wfile.write(head.encode() + jpeg + b"\r\n")
                    else:
                        self.wfile.write(b"Content-Type: image/jpeg\r\n\r\n" + jpeg + delimiter)
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return  # the client went away

    return CameraHandler


def serve(args: argparse.Namespace) -> int:
    board = FrameBoard(args.width, args.height, args.fps, args.seed, args.quality)
    auth = Auth(args.auth, args.user or "", args.password or "")
    handler = make_handler(board, auth, args.framing, args.corrupt_every)
    try:
        server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    except OSError as exc:
        print(f"mjpeg_server: cannot listen on 127.0.0.1:{args.port}: {exc}", file=sys.stderr)
        return 2
    server.daemon_threads = True

    def stop(_sig: int, _frame: FrameType | None) -> None:
        board.stopped.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    board.start()
    print(f"READY http://127.0.0.1:{args.port}/stream", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        board.stop()
        server.server_close()
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = simulator_arguments(__doc__.splitlines()[0])
    p.add_argument("--quality", type=int, default=85, help="JPEG quality, 1..100")
    p.add_argument("--auth", choices=("none", "basic", "digest"), default="none")
    p.add_argument("--user", default=None)
    p.add_argument("--password", default=None)
    p.add_argument("--framing", choices=("length", "boundary"), default="length")
    p.add_argument("--corrupt-every", type=int, default=0, help="send every Nth part corrupt")
    args = p.parse_args(argv)
    if args.auth != "none" and not args.user:
        p.error("--auth basic/digest needs --user")
    return args


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    return serve(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
