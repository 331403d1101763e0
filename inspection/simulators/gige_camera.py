"""A GigE Vision camera to test against: Aravis's fake camera, in a network namespace of its own.

The fake camera answers discovery broadcasts and streams GVSP over UDP like a real camera. Run on
the machine's own network it would answer every scan on the plant network and send to whatever
asked, so it lives in a private network namespace with only a loopback interface. The reading side
joins that namespace with ``FakeGigECamera.inside()``: network namespaces belong to a thread on
Linux, and every socket or thread created while a thread is inside stays there for good. So only
the code that *opens* the camera (discovery, the control socket, the stream socket and Aravis's
stream and heartbeat threads) needs to run inside; reading and triggering afterwards can happen
from any thread. This keeps the reader in the test process, where pytest sees its errors, instead
of in a child process under ``ip netns exec``.

Used by the GigE tests and by ``lineside bench --sources``.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from inspection.errors import SourceError
from inspection.recipe import GigESourceSettings
from inspection.sources.gige import GVCP_PORT, gvcp_alive

log = logging.getLogger(__name__)

FAKE_CAMERA_COMMAND = "arv-fake-gv-camera-0.8"
# Debian package that brings each command the fake camera needs.
REQUIRED_COMMANDS = {FAKE_CAMERA_COMMAND: "aravis-tools", "ip": "iproute2"}
ADDRESS = "127.0.0.1"
_CLONE_NEWNET = 0x40000000
_NETNS_DIR = Path("/var/run/netns")

BENCH_WIDTH = 1280
BENCH_HEIGHT = 1024
BENCH_PACKET_SIZE = 8192
"""Loopback carries 64 KiB datagrams; 8 KiB packets cut the fake camera's per-packet cost ~6×
against the 1400-byte default, and stay under the recipe's 9000-byte (jumbo frame) limit."""
BENCH_FRAME_RATE_HZ = 100.0


def missing_commands() -> list[str]:
    """``command (Debian package)`` for each command the fake camera needs and this host lacks."""
    return [f"{cmd} ({pkg})" for cmd, pkg in REQUIRED_COMMANDS.items() if shutil.which(cmd) is None]


def bench_settings(camera: FakeGigECamera) -> GigESourceSettings:
    """The source settings ``lineside bench --sources`` reads the fake camera with: 1280×1024
    Mono8, 8 KiB packets, 100 frames/s asked (the fake camera skips a slot whenever it runs
    late, so asking for exactly 80 would measure its lateness, not ours). Open the source
    inside ``camera.inside()``."""
    return GigESourceSettings(
        type="gige",
        device=camera.device_id,
        pixel_format="Mono8",
        width=BENCH_WIDTH,
        height=BENCH_HEIGHT,
        frame_rate_hz=BENCH_FRAME_RATE_HZ,
        packet_size=BENCH_PACKET_SIZE,
        buffers=32,
    )


class FakeGigECamera:
    """Aravis's fake GigE Vision camera at 127.0.0.1 in a private network namespace.

    ``start()`` creates the namespace and starts the camera; ``kill()`` / ``restart()`` make it
    vanish and come back (same serial, same address) like a camera losing power; ``stop()`` ends
    it and deletes the namespace. Needs root (network namespaces) and the REQUIRED_COMMANDS.
    """

    def __init__(self, serial: str = "LINESIDE0") -> None:
        self.serial = serial
        self.namespace = f"lineside-{secrets.token_hex(4)}"
        self._process: subprocess.Popen[bytes] | None = None
        self._ns_created = False
        self._log_dir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def device_id(self) -> str:
        """The Aravis device id (``Vendor-Model-Serial``) the camera announces."""
        return f"Aravis-Fake-{self.serial}"

    @property
    def address(self) -> str:
        return ADDRESS

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def __enter__(self) -> FakeGigECamera:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self, timeout_s: float = 5.0) -> None:
        """Create the namespace and start the camera; returns once it answers on GVCP."""
        missing = missing_commands()
        if missing:
            raise SourceError(f"the fake GigE camera needs: {', '.join(missing)}")
        if not self._ns_created:
            _run(["ip", "netns", "add", self.namespace])
            self._ns_created = True
            _run(["ip", "-n", self.namespace, "link", "set", "lo", "up"])
            self._log_dir = tempfile.TemporaryDirectory(prefix="lineside-fake-gige-")
        self._spawn(timeout_s)

    def kill(self) -> None:
        """SIGKILL the camera, as if its power were cut: no goodbye on the wire."""
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self._process.send_signal(signal.SIGKILL)
        self._process.wait(timeout=5.0)
        self._process = None

    def restart(self, timeout_s: float = 5.0) -> None:
        """Start the camera again after ``kill()``; returns once it answers."""
        self.kill()
        self._spawn(timeout_s)

    def stop(self) -> None:
        """Stop the camera and delete the namespace (idempotent)."""
        self.kill()
        if self._ns_created:
            _run(["ip", "netns", "delete", self.namespace])
            self._ns_created = False
        if self._log_dir is not None:
            self._log_dir.cleanup()
            self._log_dir = None

    @contextlib.contextmanager
    def inside(self) -> Iterator[None]:
        """Run the calling thread in the camera's namespace for the ``with`` block.

        Sockets and threads made in the block stay in the namespace after it ends."""
        if not self._ns_created:
            raise SourceError(f"fake camera {self.serial}: not started")
        with enter_namespace(self.namespace):
            yield

    def _spawn(self, timeout_s: float) -> None:
        assert self._log_dir is not None
        log_path = Path(self._log_dir.name) / "camera.log"
        with log_path.open("ab") as log_file:
            # `ip netns exec` execs the camera, so this pid is the camera's own (kill hits it).
            self._process = subprocess.Popen(
                [
                    "ip",
                    "netns",
                    "exec",
                    self.namespace,
                    FAKE_CAMERA_COMMAND,
                    "-i",
                    ADDRESS,
                    "-s",
                    self.serial,
                ],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
            )
        deadline = time.monotonic() + timeout_s
        with self.inside():
            probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with probe:
            probe.connect((ADDRESS, GVCP_PORT))
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    raise SourceError(
                        f"fake camera {self.serial} exited with {self._process.returncode}: "
                        f"{log_path.read_text(errors='replace')[-2000:]}"
                    )
                if gvcp_alive(probe, 0.1):
                    log.info("fake GigE camera %s up in %s", self.serial, self.namespace)
                    return
                time.sleep(0.02)
        self.kill()
        raise SourceError(f"fake camera {self.serial} did not answer within {timeout_s:.1f} s")


@contextlib.contextmanager
def enter_namespace(name: str) -> Iterator[None]:
    """Move the calling thread into network namespace ``name`` (from ``ip netns add``) and back."""
    libc = ctypes.CDLL(None, use_errno=True)
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open(_NETNS_DIR / name, os.O_RDONLY)
        try:
            if libc.setns(target, _CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                raise SourceError(f"cannot enter network namespace {name}: {os.strerror(err)}")
        finally:
            os.close(target)
        try:
            yield
        finally:
            if libc.setns(own, _CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                # A thread left in the camera's namespace would talk to the wrong network.
                raise SourceError(f"cannot leave network namespace {name}: {os.strerror(err)}")
    finally:
        os.close(own)


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    if result.returncode != 0:
        raise SourceError(f"{' '.join(command)} failed: {result.stderr.strip()}")
