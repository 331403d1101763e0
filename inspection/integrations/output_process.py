"""An output (MQTT, PostgreSQL) run in a process of its own, so that its work never takes the
station's interpreter lock.

Why a process: on the bench line (a CPU-bound station at ~117 parts/s, ``lineside bench
--links``) an output's network client, outbox and acknowledgements cost about 0.4-0.6 ms of
Python per result. In the station's process every one of those milliseconds holds the lock the
inspection workers and the recording thread need, so the line lost several times the outputs' own
CPU share. In a child process the outputs' CPU is only CPU, which the two cores share out.

The station's side (this class) keeps ``OutputRunner``'s surface: ``on_inspection`` never
blocks, ``state`` can be read by any thread at any time, ``start`` raises the reason the output
could not start (an outbox that cannot be opened, named), ``stop`` keeps whatever was handed over. Its
feed thread turns each part into the output's message (the same ``message_of`` as in a thread)
and hands a batch over the pipe every ``GATHER_S``; the child runs the output's own
``OutputRunner`` and sends back its state, its logging, and how many results it has taken, so
the parent counts a result as waiting from the moment the line handed it over until the other end
has it. The child inherits the niceness of the feed thread that starts it (the station puts its
outputs behind the inspection workers), and its environment (a password variable).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from inspection.errors import LinesideError
from inspection.integrations.output_runner import (
    GATHER_S,
    QUEUE_MAX,
    Intake,
    OutputRunner,
    OutputState,
)
from inspection.jobs import join_within
from inspection.types import Inspection, StatusUpdate

log = logging.getLogger(__name__)

START_LIMIT_S = 60.0
"""How long the child may take to import its libraries and open its outbox (a loaded PC)."""
STATE_EVERY_S = 0.05
"""How often the child sends its counts (waiting, sent) while nothing else changes."""
RESPAWN_WAIT_S = 5.0
"""After a child died, how long before the next is started (one that dies at once is not
started again in a tight loop)."""

MakeRunner = Callable[..., OutputRunner]
"""Builds the output's runner, given ``on_state=``: a picklable callable (a module-level function
with its settings bound by ``functools.partial``), called once here and once in the child."""


class OutputProcessError(LinesideError):
    """The output could not start (its own reason, say an outbox that cannot be opened) or its
    process did not come up; the message says why."""


class OutputProcess:
    """One output in its own process, with ``OutputRunner``'s surface (see the module)."""

    def __init__(
        self,
        make: MakeRunner,
        *,
        on_state: Callable[[OutputState], None] = lambda _s: None,
        queue_max: int = QUEUE_MAX,
    ) -> None:
        self._make = make
        # built here too, not started (it opens nothing): its name, link and how it makes messages
        self._template = make(on_state=lambda _s: None)
        self.output_id = self._template.output_id
        self._on_state = on_state
        self._intake = Intake(self.output_id, self._template.message_of, queue_max)
        self._alarms: queue.Queue[tuple[str, bytes]] = queue.Queue(maxsize=100)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._conn: multiprocessing.connection.Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._feeder: threading.Thread | None = None
        self._reader: threading.Thread | None = None
        self._started = threading.Event()
        self._start_error = ""
        self._child_state: OutputState | None = None
        self._handed = 0
        """Results sent down the pipe."""
        self._taken = 0
        """Of those, how many the child has put in its runner's queue (its last word)."""
        self._lost = 0
        """Results lost on their way to a child that died (the intake counts its own)."""
        self._connected = False
        self._ended = False

    # ---- the station's side (any thread; never blocks) ----------------------------------------------

    def on_inspection(self, inspection: Inspection) -> None:
        self._intake.put(inspection)
        self._wake.set()

    def on_status(self, update: StatusUpdate) -> None:
        """An alarm to send now; dropped while the other end is away (as ``OutputRunner``)."""
        alarm_of = self._template.alarm_of
        if alarm_of is None or not self._connected or self._ended:
            return
        try:  # sent by the feed thread: a full pipe never holds up the station's thread
            self._alarms.put_nowait(alarm_of(update))
        except queue.Full:
            return  # alarms are not kept: the station's alarm list has them
        self._wake.set()

    def state(self) -> OutputState:
        with self._lock:
            child, ended = self._child_state, self._ended
            in_pipe = self._handed - self._taken
            lost = self._lost
            start_error = self._start_error
        lost += self._intake.lost
        waiting = self._intake.qsize() + max(in_pipe, 0)
        if child is None:
            return OutputState(
                output_id=self.output_id,
                link=self._template.link_name,
                state="stopped" if ended else ("failed" if start_error else "starting"),
                waiting=waiting,
                sent=0,
                dropped=lost,
                reason=start_error,
            )
        if ended and child.state != "stopped":
            child = replace(child, state="stopped")
        return replace(child, waiting=child.waiting + waiting, dropped=child.dropped + lost)

    def start(self, *, on_thread: Callable[[], object] = lambda: None) -> None:
        """``launch``, then ``ready``."""
        self.launch(on_thread=on_thread)
        self.ready()

    def launch(self, *, on_thread: Callable[[], object] = lambda: None) -> None:
        """Start the child, from the feed thread after ``on_thread`` (it inherits that thread's
        priority); ``ready`` waits for it. Several outputs start side by side this way."""
        if self._feeder is not None:
            return
        self._feeder = threading.Thread(
            target=self._feed, args=(on_thread,), name=f"output-{self.output_id}-feed", daemon=True
        )
        self._feeder.start()

    def ready(self) -> None:
        """Wait until the child's outbox is open; OutputProcessError with the reason when it
        could not be (the output's own error, naming the file) or the child did not come up at
        all. Either way the child is ended."""
        if not self._started.wait(START_LIMIT_S):
            self.stop(2.0)
            raise OutputProcessError(
                f"output {self.output_id}: its process did not start within {START_LIMIT_S:g} s"
            )
        if self._start_error:
            self.stop(2.0)
            raise OutputProcessError(self._start_error)

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Hand over what is queued, let the child keep it on disk and say goodbye, join; True
        when all of it ended in time (a child that did not is killed)."""
        deadline = time.monotonic() + timeout_s
        self._stop.set()
        self._wake.set()
        feeder, self._feeder = self._feeder, None
        joined = join_within(
            feeder, max(deadline - time.monotonic(), 0.1), f"output {self.output_id}"
        )
        process = self._process
        if process is not None:
            process.join(max(deadline - time.monotonic(), 0.1))
            if process.is_alive():
                log.warning("%s: its process did not end in time; ended", self.output_id)
                process.kill()
                process.join(2.0)
                joined = False
        reader, self._reader = self._reader, None
        if self._conn is not None:
            self._conn.close()
        joined = join_within(reader, 2.0, f"output {self.output_id}") and joined
        with self._lock:
            self._ended = True
            self._connected = False
        return joined

    # ---- the feed thread (parent) ---------------------------------------------------------------------

    def _feed(self, on_thread: Callable[[], object]) -> None:
        try:
            on_thread()
            if not self._spawn():
                return
            while not self._stop.is_set():
                self._wake.wait(1.0)
                self._wake.clear()
                self._stop.wait(GATHER_S)  # one hand-over for the results of the next moments
                if not self._alive() and not self._stop.is_set():
                    self._respawn()
                self._hand_over()
            self._hand_over()  # nothing handed over by the line is lost at stop
            self._send(("stop",))
        except Exception:
            log.exception("%s: the hand-over to its process stopped", self.output_id)
            with contextlib.suppress(Exception):
                self._send(("stop",))

    def _alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def _respawn(self) -> None:
        """The child died (a crash in a network library, the OOM killer): what it had on disk
        stays there for the next one; what was in the pipe is counted lost. Started again."""
        process, reader = self._process, self._reader
        code = process.exitcode if process is not None else None
        if reader is not None:
            reader.join(2.0)
        with self._lock:
            lost = max(self._handed - self._taken, 0)
            self._lost += lost
            self._handed = self._taken = 0
            self._child_state = None
            self._start_error = f"its process ended unexpectedly (exit code {code}); started again"
        log.error(
            "%s: its process ended unexpectedly (exit code %s), %d result(s) on their way to it "
            "lost; starting it again",
            self.output_id,
            code,
            lost,
        )
        self._report()
        if self._conn is not None:
            self._conn.close()
        if self._stop.wait(RESPAWN_WAIT_S):
            return  # stopping meanwhile: what the line still hands over is counted lost
        self._started.clear()
        if self._spawn() and self._started.wait(START_LIMIT_S):
            with self._lock:
                self._start_error = ""

    def _report(self) -> None:
        """Tell the station this output's state now (a change the child reported, a death)."""
        try:
            self._on_state(self.state())
        except Exception:
            log.exception("%s: reporting its state failed", self.output_id)

    def _spawn(self) -> bool:
        ctx = multiprocessing.get_context("spawn")  # never fork a process full of threads
        parent, child = ctx.Pipe()
        self._conn = parent
        self._process = ctx.Process(
            target=_child, args=(self._make, child), name=f"lineside-output-{self.output_id}"
        )
        self._process.daemon = True
        try:
            self._process.start()
        except OSError as exc:
            with self._lock:
                self._start_error = f"output {self.output_id}: cannot start its process: {exc}"
            self._started.set()
            return False
        finally:
            child.close()
        self._reader = threading.Thread(
            target=self._read, name=f"output-{self.output_id}-read", daemon=True
        )
        self._reader.start()
        return True

    def _hand_over(self) -> None:
        items = self._intake.take()
        if items:
            with self._lock:
                self._handed += len(items)
            if not self._send(("results", items)):
                with self._lock:
                    self._handed -= len(items)
                    self._lost += len(items)
                log.error("%s: %d result(s) lost: its process is gone", self.output_id, len(items))
        while True:
            try:
                topic, payload = self._alarms.get_nowait()
            except queue.Empty:
                return
            self._send(("alarm", topic, payload))

    def _send(self, message: tuple[Any, ...]) -> bool:
        """From the feed thread only (it may wait while the child catches up); False when the
        child is gone (what it had is on its disk)."""
        conn = self._conn
        if conn is None:
            return False
        try:
            conn.send(message)
        except (OSError, ValueError):
            return False
        return True

    # ---- the reader thread (parent) --------------------------------------------------------------------

    def _read(self) -> None:
        conn = self._conn
        assert conn is not None
        try:
            while True:
                kind, *rest = conn.recv()
                if kind == "state":
                    self._child_said(rest[0], rest[1])
                elif kind == "log":
                    record: logging.LogRecord = rest[0]
                    logging.getLogger(record.name).handle(record)
                elif kind == "ready":
                    self._started.set()
                elif kind == "failed":
                    with self._lock:
                        self._start_error = str(rest[0])
                    self._started.set()
        except (EOFError, OSError):
            pass  # the child ended
        finally:
            with self._lock:
                self._connected = False
                if not self._started.is_set():
                    self._start_error = self._start_error or (
                        f"output {self.output_id}: its process ended before it started (see the log)"
                    )
            self._started.set()

    def _child_said(self, state: OutputState, taken: int) -> None:
        with self._lock:
            last = self._child_state
            self._child_state = state
            self._taken = taken
            self._connected = state.state in {"connected", "buffering"}
        if last is None or (last.state, last.reason) != (state.state, state.reason):
            self._report()


# ---- the child process ------------------------------------------------------------------------------------


class _ToParent(logging.Handler):
    """The child's log records, sent to the station's logging (its files and screen)."""

    def __init__(self, send: Callable[[tuple[Any, ...]], None]) -> None:
        super().__init__()
        self._send_up = send

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if record.exc_info:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.msg, record.args = record.getMessage(), None
            record.exc_info = None
            self._send_up(("log", record))
        except Exception:
            self.handleError(record)


def _child(make: MakeRunner, conn: multiprocessing.connection.Connection) -> None:
    """The output's own runner, fed from the pipe until the parent says stop or goes away."""
    # Ctrl-C in a terminal reaches the whole process group: the station decides when its outputs
    # stop (it hands over what it still has first), so the child never ends on it by itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    lock = threading.Lock()

    def send(message: tuple[Any, ...]) -> None:
        with lock:
            conn.send(message)

    root = logging.getLogger()
    root.handlers[:] = [_ToParent(send)]
    root.setLevel(logging.INFO)
    taken = 0

    def on_state(state: OutputState) -> None:
        with contextlib.suppress(OSError, ValueError):
            send(("state", state, taken))

    runner = make(on_state=on_state)
    try:
        runner.start()
    except (LinesideError, OSError) as exc:
        send(("failed", str(exc)))
        return
    on_state(runner.state())  # before "ready": what its outbox holds is known once started
    send(("ready",))
    try:
        while True:
            if conn.poll(STATE_EVERY_S):
                message = conn.recv()
                if message[0] == "results":
                    for key, topic, payload in message[1]:
                        runner.on_message(key, topic, payload)
                    taken += len(message[1])
                elif message[0] == "alarm":
                    runner.on_alarm(message[1], message[2])
                elif message[0] == "stop":
                    break
            on_state(runner.state())
    except (EOFError, OSError):
        pass  # the station went away: keep what was handed over, and end
    finally:
        runner.stop(10.0)
        with contextlib.suppress(OSError, ValueError):
            on_state(runner.state())
        conn.close()
