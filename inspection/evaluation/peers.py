"""Real peers on 127.0.0.1 for benchmarks and tests: a mosquitto broker and a PostgreSQL server,
started, stopped and killed here (an outage on demand). Nothing listens beyond loopback.

The PostgreSQL server is a cluster of its own (initdb in a temporary folder) run by a non-root
user: initdb and postgres refuse root, so as root it runs as the ``postgres`` account Debian's
package makes.
"""

from __future__ import annotations

import glob
import json
import multiprocessing
import multiprocessing.connection
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import psycopg
from paho.mqtt.enums import CallbackAPIVersion


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if os.access("/usr/sbin/mosquitto", os.X_OK) else None
    )


class Broker:
    """``start`` / ``kill`` (SIGKILL: no goodbye, nothing flushed) / ``start`` again, same port."""

    def __init__(
        self,
        folder: Path,
        port: int | None = None,
        *,
        passwords: dict[str, str] | None = None,
        persistence: bool = False,
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
        # the subscriber here is the plant's checker: every result must reach it, also when the
        # station catches up faster than it reads, or while it reconnects after an outage
        # (mosquitto drops what is queued for one client beyond 1,000 messages by default)
        lines = [f"listener {self.port} 127.0.0.1", "max_queued_messages 1000000"]
        if persistence:
            # sessions and their queued messages outlive a stop (saved on SIGTERM)
            lines += ["persistence true", f"persistence_location {folder}/"]
        else:
            lines.append("persistence false")
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

    def cpu_seconds(self) -> float:
        """CPU time the broker used so far (0 when it is not running)."""
        return _cpu_seconds([self.process.pid]) if self.process is not None else 0.0

    def stop(self) -> None:
        """A clean stop (SIGTERM): with ``persistence`` the broker saves its sessions."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.process = None


class Subscriber:
    """Records every message on ``topic`` (wildcards allowed) as (topic, JSON, retained); it
    reconnects and subscribes again by itself after the broker was away."""

    def __init__(
        self,
        port: int,
        topic: str,
        *,
        username: str | None = None,
        password: str | None = None,
        session: bool = False,
        qos: int = 1,
    ) -> None:
        """``session``: a persistent session, so that what the broker takes while this one is
        away waits for it (with a broker that keeps sessions). ``qos``: of the subscription (2:
        the broker hands each message over exactly once)."""
        # kept as they came, decoded when asked for: the bench's subscriber stands for the
        # plant's machine, and its CPU here is taken from the station measured beside it
        self._received: list[tuple[str, bytes, bool]] = []
        self._seen: set[tuple[str, bytes]] = set()
        self.redelivered = 0
        """Messages the broker delivered to this subscriber again (flagged DUP), left out."""
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"lineside-sub-{port}-{id(self)}",
            clean_session=not session,
        )
        if username:
            self.client.username_pw_set(username, password)
        # back soon after a broker restart (an outage being measured)
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)

        def on_connect(c: paho.Client, _u: object, _f: object, reason: object, _p: object) -> None:
            c.subscribe(topic, qos=qos)

        def on_subscribe(*_a: object) -> None:
            self._ready.set()

        def on_message(_c: object, _u: object, msg: paho.MQTTMessage) -> None:
            key = (msg.topic, bytes(msg.payload))
            with self._lock:
                if msg.dup and key in self._seen:
                    # the broker handing this subscriber again what it had not acknowledged
                    # (after a restart): not something the station sent twice
                    self.redelivered += 1
                    return
                self._seen.add(key)
                self._received.append((msg.topic, key[1], bool(msg.retain)))

        self.client.on_connect = on_connect
        self.client.on_subscribe = on_subscribe
        self.client.on_message = on_message
        self.client.connect("127.0.0.1", port, keepalive=5)
        self.client.loop_start()
        if not self._ready.wait(10):
            raise RuntimeError("the test subscriber did not subscribe")

    def on(self, suffix: str) -> list[dict[str, Any]]:
        with self._lock:
            found = [p for t, p, _r in self._received if t.endswith(suffix)]
        return [json.loads(p) for p in found]

    @property
    def messages(self) -> list[tuple[str, dict[str, Any], bool]]:
        """(topic, JSON, retained) of every message so far, in arrival order."""
        with self._lock:
            received = list(self._received)
        return [(t, json.loads(p), r) for t, p, r in received]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _subscriber_child(
    port: int, topic: str, session: bool, qos: int, conn: multiprocessing.connection.Connection
) -> None:
    """A Subscriber in a process of its own (see SubscriberProcess)."""
    sub = Subscriber(port, topic, session=session, qos=qos)
    conn.send("ready")
    while True:
        suffix = conn.recv()
        if suffix is None:
            sub.close()
            return
        conn.send(sub.on(suffix))


class SubscriberProcess:
    """A Subscriber in its own process, as the plant's subscriber would be on its own machine:
    its work (every message decoded) does not compete with the station measured beside it for
    this process's interpreter lock."""

    def __init__(self, port: int, topic: str, *, session: bool = False, qos: int = 1) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=_subscriber_child, args=(port, topic, session, qos, child), daemon=True
        )
        self.process.start()
        if not self._conn.poll(30) or self._conn.recv() != "ready":
            self.process.kill()
            raise RuntimeError("the test subscriber's process did not subscribe")

    def on(self, suffix: str) -> list[dict[str, Any]]:
        self._conn.send(suffix)
        return list(self._conn.recv())

    def cpu_seconds(self) -> float:
        return _cpu_seconds([self.process.pid]) if self.process.pid is not None else 0.0

    def close(self) -> None:
        if self.process.is_alive():
            self._conn.send(None)
            self.process.join(10)
        if self.process.is_alive():
            self.process.kill()


PASSWORD = "line-side-test"
ADMIN = "lineside"


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


class PostgresServer:
    """One cluster; ``dsn(user)`` reaches it over TCP on 127.0.0.1."""

    def __init__(self) -> None:
        bin_dir = _bin_dir()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL is not installed (apt install postgresql)")
        self.bin = bin_dir
        self.password = PASSWORD
        """The admin role's password (a scratch cluster's)."""
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="lineside-pg-"))
        self.data = self.root / "data"
        self._user: str | None = None
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            self._user = "postgres"
            entry = pwd.getpwnam(self._user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args),
            user=self._user,
            check=check,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=self.root,
        )

    def init(self) -> PostgresServer:
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            ADMIN,
            "--pwfile",
            str(pwfile),
            "--auth-host=scram-sha-256",
            "--auth-local=trust",
            "-E",
            "UTF8",
            "--locale=C",
        )
        return self

    def start(self) -> PostgresServer:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "start",
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                with psycopg.connect(self.dsn(), connect_timeout=2):
                    return self
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self, mode: str = "fast") -> None:
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False
        )

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def cpu_seconds(self) -> float:
        """CPU time the server's processes (the postmaster and its children) used so far;
        ended backends are counted by the postmaster's children totals."""
        try:
            postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return 0.0
        return _cpu_seconds([postmaster, *_children(postmaster)], children=True)

    def dsn(self, user: str = ADMIN, password: str = PASSWORD, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user={user} password={password} dbname={dbname}"

    def sql(self, statement: str, *, dbname: str = "postgres") -> list[tuple]:
        with psycopg.connect(self.dsn(dbname=dbname), autocommit=True) as conn:
            cur = conn.execute(statement)
            return cur.fetchall() if cur.description else []


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _cpu_seconds(pids: list[int], *, children: bool = False) -> float:
    """User and system CPU seconds of ``pids`` (with ``children``: also of their ended
    children, which the kernel adds to the parent's)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
        if children:
            total += int(fields[13]) + int(fields[14])
    return total / os.sysconf("SC_CLK_TCK")
