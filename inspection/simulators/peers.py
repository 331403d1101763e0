"""Camera simulators as child processes on 127.0.0.1, and what a stream delivers from them.

``running_peer`` starts one (RTSP or MJPEG), waits for its READY line and yields it; the peer can be
killed mid-stream and started again on the same port, as a camera that reboots. ``measure_stream``
reads a source for a while and says how late, how fast and how complete its frames were, from
the send time each simulated frame carries. Used by the tests and ``lineside bench --sources``.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Literal

from inspection.errors import SourceError
from inspection.simulators.stamp import missing_on_grid, read_stamp
from inspection.sources.base import BadFrameError, Source

PeerKind = Literal["rtsp", "mjpeg"]
_MODULES = {
    "rtsp": "inspection.simulators.rtsp_server",
    "mjpeg": "inspection.simulators.mjpeg_server",
}
_READY_S = 20.0  # a cold start imports GStreamer or OpenCV and renders the line's scene


def simulator_arguments(description: str) -> argparse.ArgumentParser:
    """The options every camera simulator takes (``--port``, picture size in px, frame rate,
    scene seed); the simulator adds its own."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=720)
    p.add_argument("--fps", type=float, default=25.0)
    p.add_argument("--seed", type=int, default=1)
    return p


class PeerError(RuntimeError):
    """A simulator that would not start; the message carries its own last words."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Peer:
    """One simulator child process; ``args`` are its command-line options after ``--port``."""

    kind: PeerKind
    port: int
    args: list[str] = field(default_factory=list)
    url: str = ""
    process: subprocess.Popen[str] | None = None
    _log: IO[str] | None = None

    def start(self, args: Sequence[str] | None = None) -> str:
        """Start (again, possibly with other options) on the same port; its URL once READY."""
        if self.process is not None and self.process.poll() is None:
            raise PeerError(f"{self.kind} simulator already runs on port {self.port}")
        if args is not None:
            self.args = list(args)
        if self._log is not None:
            self._log.close()
        # kept open while the child runs (its stderr), closed by close() or the next start()
        self._log = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        command = [sys.executable, "-m", _MODULES[self.kind], "--port", str(self.port), *self.args]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.url = self._wait_ready(self.process)
        return self.url

    def _wait_ready(self, process: subprocess.Popen[str]) -> str:
        assert process.stdout is not None
        deadline = time.monotonic() + _READY_S
        with selectors.DefaultSelector() as sel:
            sel.register(process.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if not sel.select(timeout=max(deadline - time.monotonic(), 0.0)):
                    break
                line = process.stdout.readline()
                if not line:  # exited before READY
                    break
                if line.startswith("READY "):
                    return line.split(maxsplit=1)[1].strip()
        self.kill()
        raise PeerError(
            f"{self.kind} simulator on port {self.port} did not get ready within {_READY_S:g} s: "
            f"{self.last_words()}"
        )

    def last_words(self) -> str:
        """The end of what the simulator wrote on stderr (why it failed)."""
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read()[-2000:].strip() or "(nothing on stderr)"

    def kill(self) -> None:
        """SIGKILL, as a power cut: no goodbye to the clients."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(5.0)
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()

    def close(self) -> None:
        self.kill()
        if self._log is not None:
            self._log.close()
            self._log = None


@contextlib.contextmanager
def running_peer(
    kind: PeerKind,
    *,
    width: int = 1280,
    height: int = 720,
    fps: float = 25.0,
    extra: Sequence[str] = (),
    port: int | None = None,
) -> Iterator[Peer]:
    """A camera simulator running on 127.0.0.1 for the ``with`` block (``peer.url`` to connect).

    ``extra`` are further options of the simulator (``--codec h265``, ``--auth digest --user u
    --password p``, ``--corrupt-every 10`` ...). PeerError when it does not start.
    """
    peer = Peer(
        kind=kind,
        port=port or free_port(),
        args=["--width", str(width), "--height", str(height), "--fps", f"{fps:g}", *extra],
    )
    try:
        peer.start()
        yield peer
    finally:
        peer.close()


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamFigures:
    """What a source delivered from a stamped simulator over ``seconds``.

    latency_ms: send time (the stamp) → frame returned by ``read()``, median and 95th percentile.
    lost: frames missing between the first and last received one, from the senders' period.
    """

    seconds: float
    frames: int
    fps: float
    latency_median_ms: float
    latency_p95_ms: float
    lost: int
    seq_gaps: int
    bad_frames: int
    unstamped: int

    def as_dict(self) -> dict[str, float | int]:
        return {name: getattr(self, name) for name in self.__slots__}


def measure_stream(source: Source, seconds: float, sent_fps: float) -> StreamFigures:
    """Read an opened ``source`` fed by a simulator for ``seconds``; figures from the stamps.

    SourceError (other than one bad frame) ends the measurement and is raised."""
    latencies: list[float] = []
    stamps: list[int] = []
    seqs: list[int] = []
    bad = unstamped = 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        try:
            frame = source.read(1.0)
        except TimeoutError:
            continue
        except BadFrameError:
            bad += 1
            continue
        now = time.monotonic_ns()
        if frame is None:
            break
        seqs.append(frame.seq)
        stamp = read_stamp(frame.image)
        if stamp is None:
            unstamped += 1
            continue
        latencies.append((now - stamp) / 1e6)
        stamps.append(stamp)
    elapsed = time.monotonic() - start
    if not seqs:
        raise SourceError(f"camera {source.camera}: no frame in {seconds:g} s")
    lost = missing_on_grid(stamps, 1.0 / sent_fps)
    ordered = sorted(latencies) or [float("nan")]
    return StreamFigures(
        seconds=round(elapsed, 2),
        frames=len(seqs),
        fps=round(len(seqs) / elapsed, 2),
        latency_median_ms=round(statistics.median(ordered), 1),
        latency_p95_ms=round(ordered[min(int(len(ordered) * 0.95), len(ordered) - 1)], 1),
        lost=lost,
        seq_gaps=sum(b - a - 1 for a, b in itertools.pairwise(seqs)),
        bad_frames=bad,
        unstamped=unstamped,
    )
