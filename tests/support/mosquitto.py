"""A real mosquitto broker for the MQTT output's tests, on 127.0.0.1 and a free port, started and
killed by the test; and a subscriber that records what arrives, in order."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if os.access("/usr/sbin/mosquitto", os.X_OK) else None
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Broker:
    """``start`` / ``kill`` (SIGKILL: no goodbye, nothing flushed) / ``start`` again, same port."""

    def __init__(
        self, folder: Path, port: int | None = None, *, passwords: dict[str, str] | None = None
    ) -> None:
        binary = mosquitto_binary()
        if binary is None:
            raise RuntimeError(
                "mosquitto is not installed (installer/linux/setup.sh test installs it)"
            )
        self.binary = binary
        self.port = port or free_port()
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        lines = [f"listener {self.port} 127.0.0.1", "persistence false"]
        if os.geteuid() == 0:
            # as root mosquitto would switch to its own user, who cannot read the test's files
            lines.append("user root")
        if passwords:
            pw_file = folder / "passwords"
            pw_file.write_text("")
            for user, password in passwords.items():
                subprocess.run(
                    ["mosquitto_passwd", "-b", str(pw_file), user, password],
                    check=True,
                    capture_output=True,
                )
            lines += ["allow_anonymous false", f"password_file {pw_file}"]
        else:
            lines.append("allow_anonymous true")
        self.config = folder / "mosquitto.conf"
        self.config.write_text("\n".join(lines) + "\n")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 10.0) -> None:
        with (self.folder / "mosquitto.log").open("ab") as log_file:
            self.process = subprocess.Popen(
                [self.binary, "-c", str(self.config)],
                stdout=subprocess.DEVNULL,
                stderr=log_file,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.process.poll() is not None:
                    log = (self.folder / "mosquitto.log").read_text(errors="replace")
                    raise RuntimeError(f"mosquitto exited: {log[-500:]}") from None
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.port} in {timeout_s} s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.process = None


class Subscriber:
    """Records every message on ``topic`` (wildcards allowed) as (topic, JSON, retained)."""

    def __init__(
        self, port: int, topic: str, *, username: str | None = None, password: str | None = None
    ) -> None:
        self.messages: list[tuple[str, dict[str, Any], bool]] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=f"test-sub-{port}-{id(self)}"
        )
        if username:
            self.client.username_pw_set(username, password)

        def on_connect(c: paho.Client, _u: object, _f: object, reason: object, _p: object) -> None:
            c.subscribe(topic, qos=1)

        def on_subscribe(*_a: object) -> None:
            self._ready.set()

        def on_message(_c: object, _u: object, msg: paho.MQTTMessage) -> None:
            with self._lock:
                self.messages.append((msg.topic, json.loads(msg.payload), bool(msg.retain)))

        self.client.on_connect = on_connect
        self.client.on_subscribe = on_subscribe
        self.client.on_message = on_message
        self.client.connect("127.0.0.1", port, keepalive=5)
        self.client.loop_start()
        if not self._ready.wait(10):
            raise RuntimeError("the test subscriber did not subscribe")

    def on(self, suffix: str) -> list[dict[str, Any]]:
        with self._lock:
            return [m for t, m, _r in self.messages if t.endswith(suffix)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
