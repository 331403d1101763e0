"""Triggers from other programs on this PC: ``lineside trigger``, a script, a PLC gateway.

The running station listens on a Unix socket in its data folder (never on the network: only
users of this machine who can reach that folder may trigger). One request per connection, a line
of JSON: ``{"cmd": "trigger"}``; the answer is a line of JSON: ``{"ok": true, "trigger_id": 7}``
or ``{"ok": false, "error": "..."}``.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from pathlib import Path
from typing import Any

from inspection.errors import LinesideError
from inspection.integrations.base import FireTrigger

log = logging.getLogger(__name__)

_MAX_REQUEST = 4096
_DRAIN_LIMIT = 1 << 20  # read at most this much past a request before hanging up anyway


class LocalTriggerSocket:
    """A TriggerInput on a Unix socket at ``path``."""

    name = "local command socket"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._server: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self, fire: FireTrigger) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            if _answers(self.path):
                raise LinesideError(f"another station already listens on {self.path}")
            self.path.unlink()  # left behind by a station that did not stop cleanly
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(self.path))
        os.chmod(self.path, 0o600)
        server.listen(8)
        server.settimeout(0.1)
        self._server = server
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._serve, args=(server, fire), name="trigger-socket", daemon=True
        )
        self._thread.start()

    def stop(self, timeout_s: float) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("trigger socket thread did not stop within %.1f s", timeout_s)
            self._thread = None
        if self._server is not None:
            self._server.close()
            self._server = None
            self.path.unlink(missing_ok=True)

    def _serve(self, server: socket.socket, fire: FireTrigger) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError as exc:
                log.error("trigger socket %s failed: %s", self.path, exc)
                return
            with conn:
                conn.settimeout(1.0)
                try:
                    raw = _read_line(conn)
                except (OSError, TimeoutError) as exc:
                    log.warning("trigger socket: request not read: %s", exc)
                    continue
                if len(raw) >= _MAX_REQUEST:
                    reply = {"ok": False, "error": f"request longer than {_MAX_REQUEST} bytes"}
                else:
                    reply = self._answer(raw, fire)
                try:
                    conn.sendall(json.dumps(reply).encode() + b"\n")
                except OSError as exc:
                    log.warning("trigger socket: answer not sent: %s", exc)
                    continue
                try:
                    _drain(conn)
                except OSError as exc:  # the client kept its side open past the timeout
                    log.debug("trigger socket: client did not hang up: %s", exc)

    @staticmethod
    def _answer(raw: bytes, fire: FireTrigger) -> dict[str, Any]:
        try:
            request = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return {"ok": False, "error": f"request is not a line of JSON: {exc}"}
        except RecursionError:  # "[[[[…": left unanswered, it ended the socket's thread
            return {"ok": False, "error": "request is not a line of JSON: nested too deeply"}
        if not isinstance(request, dict) or request.get("cmd") != "trigger":
            return {"ok": False, "error": 'unknown request; send {"cmd": "trigger"}'}
        try:
            return {"ok": True, "trigger_id": fire()}
        except LinesideError as exc:
            return {"ok": False, "error": str(exc)}


def _read_line(conn: socket.socket) -> bytes:
    data = b""
    while b"\n" not in data and len(data) < _MAX_REQUEST:
        chunk = conn.recv(_MAX_REQUEST)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0]


def _drain(conn: socket.socket) -> None:
    """Read what the client sent past its request line (within the connection's timeout) before
    hanging up: closing a Unix socket with unread data resets it, and the client would lose the
    answer already sent."""
    conn.shutdown(socket.SHUT_WR)
    left = _DRAIN_LIMIT
    while left > 0 and (chunk := conn.recv(min(left, _MAX_REQUEST))):
        left -= len(chunk)


def _answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def send_trigger(path: Path, timeout_s: float = 2.0) -> int:
    """Trigger the station listening at ``path``; its trigger id. LinesideError says why not."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(timeout_s)
        try:
            client.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            raise LinesideError(
                f"no station is running with a software trigger here ({path} does not answer)"
            ) from None
        except OSError as exc:
            raise LinesideError(f"cannot reach the station at {path}: {exc}") from None
        try:
            client.sendall(b'{"cmd": "trigger"}\n')
            raw = _read_line(client)
        except (OSError, TimeoutError) as exc:
            raise LinesideError(f"the station at {path} did not answer: {exc}") from None
    try:
        reply = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise LinesideError(f"the station at {path} answered something unreadable") from None
    if not reply.get("ok"):
        raise LinesideError(str(reply.get("error", "the station refused the trigger")))
    return int(reply["trigger_id"])
