"""One output's own thread: takes results from the line without ever holding it up, keeps them
in its outbox, and sends them in part order whenever the other end is there.

The dispatcher hands each result over with ``on_inspection``: a put into a bounded queue that
never blocks. The runner moves what arrives into the outbox (disk) and sends the oldest waiting
results: one at a time, each acknowledged before the next, or, to a link that takes batches (a
database's all-or-nothing transaction, MQTT's pipelined publishes), up to ``SEND_BATCH`` at once,
of which the acknowledged beginning leaves the outbox. What a link was sending when its connection
broke is offered to it again, first, once it is back: a link that resumes (MQTT QoS 2) finishes its
own copy rather than sending a second (see each link for what can arrive twice). While the other
end is away it tries again every ``retry_s`` and keeps collecting. Its state (connected,
buffering with N waiting, failed with the reason) is reported on every change and can be read at
any time for the operator screen.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from inspection.errors import LinesideError
from inspection.integrations.outbox import Outbox, OutboxError
from inspection.jobs import join_within
from inspection.types import Inspection, StatusUpdate

log = logging.getLogger(__name__)

QUEUE_MAX = 10_000
"""Results between the line and the outbox; only a disk that hangs lets it fill."""
SEND_BATCH = 64
"""Results read from the outbox at a time (one batch to a link that takes batches)."""
GATHER_S = 0.05
"""After a wake, how long results gather before they go into the outbox together."""
BUFFERING_FROM = 10
"""Results waiting from which a connected output shows "buffering" rather than "connected"."""


class OutputError(LinesideError):
    """The other end cannot be reached or did not acknowledge; the message says why.
    ``sent``: of a batch, how many (from its start) the other end did acknowledge."""

    def __init__(self, message: str, *, sent: int = 0) -> None:
        super().__init__(message)
        self.sent = sent


class Link(Protocol):
    """The other end of an output (a broker, a database). Used from the runner's thread only."""

    name: str
    """What the operator reads: "MQTT broker 10.0.0.5:1883"."""

    def connect(self) -> None:
        """Reach the other end; OutputError with the reason when it cannot."""

    def send(self, topic: str, payload: bytes) -> None:
        """Send one item and return once the other end acknowledged it; OutputError when it did
        not (the link then counts as down and is closed)."""

    def send_unkept(self, topic: str, payload: bytes) -> None:
        """Send an item that is not kept when it cannot go (an alarm); OutputError."""

    def keep_alive(self) -> None:
        """Called about once a second while connected and nothing is being sent: do what the
        connection needs meanwhile (answer and ping the other end), and raise OutputError when
        it is known to be gone."""

    def lost(self) -> None:
        """The connection broke or the other end fell silent (a send raised OutputError): let
        go of it. A link that can resume what it had under way keeps that for its next
        ``connect``; the others simply close."""

    def close(self) -> None:
        """At the output's stop: say goodbye where the protocol has a way, and let go of
        everything (also when the connection is already down)."""


@runtime_checkable
class BatchLink(Link, Protocol):
    """A link that takes several results at once: a database transaction (one round trip and
    one commit for a whole batch), or MQTT QoS 2's publishes pipelined."""

    def send_batch(self, items: list[tuple[str, bytes]]) -> None:
        """Send (topic, payload) items in order; return once the other end acknowledged all of
        them, OutputError when it did not, its ``sent`` how many from the start it did."""


Message = tuple[str, str, bytes]
"""(key, topic, payload): the key (inspection id) tells one result from another."""


@dataclass(frozen=True, slots=True)
class OutputState:
    """What the operator screen shows for one output."""

    output_id: str
    link: str
    state: Literal["starting", "connected", "buffering", "failed", "stopped"]
    waiting: int
    """Results on disk that the other end does not have yet."""
    sent: int
    dropped: int
    """Results lost to this output: the outbox was full, or the queue before it."""
    reason: str = ""

    def describe(self) -> str:
        if self.state == "failed":  # the link's name says which output (a banner is short)
            text = f"{self.link} not reached: {self.reason}"
        elif self.state == "buffering":
            text = f"{self.output_id}: {self.waiting:,} result(s) waiting to be sent"
        else:
            text = f"{self.output_id}: {self.state}"
        if self.state == "failed" and self.waiting:
            text += f"; {self.waiting:,} result(s) kept on disk"
        if self.dropped:
            text += f"; {self.dropped:,} lost (outbox full)"
        return text


class Intake:
    """The line's hand-over to one output: a bounded queue that never blocks the thread putting
    in, and the messages made from it on the output's own thread. A part whose message cannot be
    made, or that finds the queue full, is counted (``lost``) and never holds up the rest."""

    def __init__(
        self, output_id: str, message_of: Callable[[Inspection], Message], maxsize: int
    ) -> None:
        self._output_id = output_id
        self._message_of = message_of
        # the parts themselves (their pixels already let go), or messages made already (an
        # output in a process of its own gets those: ``output_process``)
        self._queue: queue.Queue[Inspection | Message] = queue.Queue(maxsize=maxsize)
        self._lock = threading.Lock()
        self._lost = 0

    @property
    def lost(self) -> int:
        with self._lock:
            return self._lost

    def qsize(self) -> int:
        return self._queue.qsize()

    def put(self, item: Inspection | Message) -> None:
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            what = f"result {item[0]}" if isinstance(item, tuple) else f"part {item.part_seq}"
            with self._lock:
                self._lost += 1
            log.error("%s: %s lost: queue full", self._output_id, what)

    def take(self) -> list[Message]:
        """Everything waiting, made into messages, in order."""
        items: list[Message] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return items
            if isinstance(item, tuple):  # made already
                items.append(item)
                continue
            try:
                items.append(self._message_of(item))
            except Exception:  # a result that cannot be told is counted, never blocks the rest
                log.exception(
                    "%s: result of part %d cannot be made into a message",
                    self._output_id,
                    item.part_seq,
                )
                with self._lock:
                    self._lost += 1


class OutputRunner:
    """Runs one output: ``on_inspection``/``on_status`` from the station, ``start``/``stop``."""

    def __init__(
        self,
        output_id: str,
        link: Link,
        outbox: Callable[[], Outbox],
        message_of: Callable[[Inspection], Message],
        *,
        alarm_of: Callable[[StatusUpdate], tuple[str, bytes]] | None = None,
        retry_s: float = 2.0,
        on_state: Callable[[OutputState], None] = lambda _s: None,
        queue_max: int = QUEUE_MAX,
    ) -> None:
        self.output_id = output_id
        self._link = link
        self._open_outbox = outbox
        self._outbox: Outbox | None = None
        self.message_of = message_of
        self.alarm_of = alarm_of
        self.link_name = link.name
        self._retry_s = retry_s
        self._on_state = on_state
        # messages are made on this output's thread, not on the station's recording thread
        # that hands the parts over
        self._intake = Intake(output_id, message_of, queue_max)
        self._alarms: queue.Queue[tuple[str, bytes]] = queue.Queue(maxsize=100)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._connected = False
        self._sent = 0
        self._lost_before_outbox = 0
        self._reason = ""
        self._stopped = False
        self._last: OutputState | None = None

    # ---- the station's side (any thread; never blocks) ------------------------------------------

    def on_inspection(self, inspection: Inspection) -> None:
        self._intake.put(inspection)
        self._wake.set()

    def on_status(self, update: StatusUpdate) -> None:
        """An alarm to send now; dropped while the other end is away (the station's alarm list
        keeps it: the plant hears of it in the status it then reads)."""
        if self.alarm_of is None or not self._connected:
            return
        self.on_alarm(*self.alarm_of(update))

    def on_message(self, key: str, topic: str, payload: bytes) -> None:
        """A result whose message was made already (by ``output_process``'s station side)."""
        self._intake.put((key, topic, payload))
        self._wake.set()

    def on_alarm(self, topic: str, payload: bytes) -> None:
        """An alarm's message, to send now (see ``on_status``)."""
        if not self._connected:
            return
        try:
            self._alarms.put_nowait((topic, payload))
        except queue.Full:
            return  # alarms are not kept: the station's alarm list has them
        self._wake.set()

    def state(self) -> OutputState:
        with self._lock:
            connected, reason, sent = self._connected, self._reason, self._sent
            lost, stopped = self._lost_before_outbox, self._stopped
        outbox = self._outbox
        waiting = (len(outbox) if outbox is not None else 0) + self._intake.qsize()
        if stopped:
            name: Literal["starting", "connected", "buffering", "failed", "stopped"] = "stopped"
        elif connected:
            name = "buffering" if waiting >= BUFFERING_FROM else "connected"
        else:
            name = "failed" if reason else "starting"
        return OutputState(
            output_id=self.output_id,
            link=self._link.name,
            state=name,
            waiting=waiting,
            sent=sent,
            dropped=(outbox.dropped if outbox is not None else 0) + lost + self._intake.lost,
            reason=reason,
        )

    def start(self, *, on_thread: Callable[[], object] = lambda: None) -> None:
        """Open the outbox (OutboxError, naming the file, when it cannot be) and go.
        ``on_thread``: called first on the output's own thread (the station lowers its
        priority there; threads the link starts, such as paho's, inherit it)."""
        if self._thread is not None:
            return
        self._outbox = self._open_outbox()
        self._thread = threading.Thread(
            target=self._run, args=(on_thread,), name=f"output-{self.output_id}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Keep what is queued on disk, say goodbye, join; True when joined in time. Results
        not sent yet stay in the outbox and go first at the next start."""
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is None and self._outbox is not None:  # opened, never run
            self._outbox.close()
        return join_within(thread, timeout_s, f"output {self.output_id}")

    # ---- the output's thread -----------------------------------------------------------------------

    def _run(self, on_thread: Callable[[], object]) -> None:
        assert self._outbox is not None  # opened by start
        next_try = 0.0
        try:
            on_thread()
            while not self._stop.is_set():
                self._keep_arrivals()
                if not self._connected and time.monotonic() >= next_try:
                    self._try_connect()
                    next_try = time.monotonic() + self._retry_s
                if self._connected:
                    self._send_alarms()
                    if self._send_waiting():
                        continue  # more waiting: go on without sleeping
                    self._keep_alive()
                self._report()
                self._wake.wait(self._retry_s if not self._connected else 1.0)
                self._wake.clear()
                # let the results of the next moments gather: one outbox transaction (one disk
                # flush) for them all, not one per part, which would slow the station's own
                # recording on the same disk
                self._stop.wait(GATHER_S)
        except Exception:  # an output must never die silently
            log.exception("%s: output stopped by an error", self.output_id)
            with self._lock:
                self._connected = False
                self._reason = "stopped by an error (see the log)"
            self._report()
        finally:
            self._keep_arrivals()  # nothing handed over is lost at stop
            self._link.close()  # a link that resumes holds its client even while down
            self._outbox.close()
            with self._lock:
                self._connected = False
                self._stopped = True
            self._report()

    def _keep_arrivals(self) -> None:
        items = self._intake.take()
        if not items or self._outbox is None:
            return
        try:
            dropped = self._outbox.put(items)
        except OutboxError as exc:
            log.error("%s: %s", self.output_id, exc)
            with self._lock:
                self._lost_before_outbox += len(items)
                self._reason = str(exc)
            return
        if dropped:
            log.warning("%s: outbox full, the %d oldest result(s) dropped", self.output_id, dropped)

    def _try_connect(self) -> None:
        try:
            self._link.connect()
        except OutputError as exc:
            with self._lock:
                self._reason = str(exc)
            return
        with self._lock:
            self._connected = True
            self._reason = ""
        log.info("%s: connected to %s", self.output_id, self._link.name)

    def _down(self, exc: Exception) -> None:
        log.warning("%s: %s: %s", self.output_id, self._link.name, exc)
        self._link.lost()
        with self._lock:
            self._connected = False
            self._reason = str(exc)

    def _keep_alive(self) -> None:
        if not self._connected:
            return
        try:
            self._link.keep_alive()
        except OutputError as exc:
            self._down(exc)

    def _send_alarms(self) -> None:
        while self._connected:
            try:
                topic, payload = self._alarms.get_nowait()
            except queue.Empty:
                return
            try:
                self._link.send_unkept(topic, payload)
            except OutputError as exc:
                self._down(exc)

    def _send_waiting(self) -> bool:
        """Send a batch of the oldest waiting results; True when more are waiting. A link that
        takes batches gets them whole; any other, one result at a time, each acknowledged
        before the next. The outbox lets go of what was acknowledged once per batch."""
        outbox = self._outbox
        assert outbox is not None
        batch = outbox.oldest(SEND_BATCH)
        sent = 0
        try:
            if isinstance(self._link, BatchLink) and batch:
                self._link.send_batch([(item.topic, item.payload) for item in batch])
                sent = len(batch)
            else:
                for item in batch:
                    if self._stop.is_set():
                        break
                    self._link.send(item.topic, item.payload)
                    sent += 1
        except OutputError as exc:
            sent += exc.sent
            self._down(exc)
        if sent:
            outbox.done(batch[sent - 1].seq)
            with self._lock:
                self._sent += sent
        self._keep_arrivals()
        self._report()
        return self._connected and not self._stop.is_set() and len(batch) == SEND_BATCH

    def _report(self) -> None:
        state = self.state()
        last = self._last
        if last is not None and (last.state, last.reason) == (state.state, state.reason):
            return
        self._last = state
        try:
            self._on_state(state)
        except Exception:
            log.exception("%s: reporting its state failed", self.output_id)
