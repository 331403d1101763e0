"""The MQTT output: results, station status and alarms as JSON to the plant's broker (paho-mqtt).

Topics ``<site>/<line>/<station>/result|status|alarm``. Results go through the output's outbox
(``output_runner``): each leaves the disk only once the broker acknowledged it, so a broker outage
loses nothing and results arrive in part order. The status is retained: "online" once connected,
"offline" at a clean stop, and the same "offline" as the last will, which the broker publishes
when the station vanishes without a word. Alarms go while the broker is there and are not kept
while it is away (the station's alarm list keeps them). The password comes from the recipe or an
environment variable and is never logged.

Two deliveries, the output's ``qos``:

- **1, at least once** (the default). One result at a time, each acknowledged (PUBACK) before the
  next. Each connection is a fresh client with a clean session; what was in flight when it broke
  is sent again from the outbox. So after an outage the one result in flight may arrive twice
  (the broker may have taken it before its PUBACK was lost); consumers key on the inspection id.
  The output's own thread drives the client's network (no paho thread): a result is written as
  it is published and its PUBACK read by the thread waiting for it, rather than handed between
  two threads three times per result (measured on the bench line: that hand-over cost about as
  much CPU as the rest of the output together). Between results the runner's ``keep_alive``
  lets paho answer the broker and ping it, and notices a broker that went away.
- **2, exactly once**. One paho client, with a persistent session (a fixed client id,
  ``clean_session=False``), lives from the output's start to its stop. After a break the same
  client connects again and paho finishes the handshakes that were under way: a result the
  broker had taken (PUBREC) is completed with PUBREL, never published a second time; mosquitto
  hands a QoS 2 result to subscribers when the PUBREL arrives, once (checked against mosquitto
  2.0). The link remembers what it published and is not acknowledged yet, so when the outbox
  offers such a result again after the break it waits for paho's original rather than publishing
  a copy, and nothing newer goes out before it (order holds). Up to ``QOS2_WINDOW`` results are
  under way at once (pipelined), so catching up after an outage does not pay four packets' round
  trips per result. A new client (the station started again) first connects once with a clean
  session: the session an earlier run left at the broker holds packet ids the new client will
  reuse, and the broker would take a new result under such an id for the old copy (mosquitto
  then releases or drops the wrong one): lost.

What a broker killed with SIGKILL and no persistence (it forgets every session and message it
held) can lose or repeat:

- QoS 1: a result it acknowledged (PUBACK) but had not yet handed to its subscribers is lost;
  the one result in flight, taken but not acknowledged, may arrive twice.
- QoS 2: a result it acknowledged (PUBREC, then PUBCOMP) is its responsibility: what it had not
  yet handed to its subscribers is lost with it. When the station comes back to a broker that no
  longer has its session (CONNACK without "session present"), the results whose PUBREL may not
  have been acted on are published again rather than released (a PUBREL the new broker does not
  know would be answered PUBCOMP: lost), so they may arrive twice instead; at most
  ``QOS2_WINDOW`` results repeat. Results the broker had not taken arrive once.

A broker stopped cleanly with persistence keeps its sessions: QoS 2 is exactly once through it.
One window stays: a station that dies (power cut) between a PUBREL and its PUBCOMP sends that
result again at its next start, and the broker may have released it already.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from inspection.integrations.credentials import output_password
from inspection.integrations.messages import (
    alarm_message,
    encode,
    result_message,
    status_message,
)
from inspection.integrations.outbox import Outbox
from inspection.integrations.output_runner import Message, OutputError, OutputRunner, OutputState
from inspection.recipe.outputs import MqttOutputSettings
from inspection.types import Inspection, StatusUpdate

log = logging.getLogger(__name__)

QOS2_WINDOW = 10
"""QoS 2 results under way at once. A broker takes only so many unreleased QoS 2 messages from
one client (mosquitto: ``max_inflight_messages``, 20 by default); beyond that mosquitto 2.0
still answers PUBREC to an MQTT 3.1.1 client but drops the message, and the PUBREL that follows
is answered PUBCOMP: lost. paho resends everything it holds at a reconnect, whatever its own
in-flight limit, so the link itself keeps what paho holds below the broker's limit, with room
for a status and an alarm."""

_Item = tuple[str, bytes, bool]
"""(topic, payload, retain)"""


def topics(settings: MqttOutputSettings, station: str) -> dict[str, str]:
    root = f"{settings.site}/{settings.line}/{station}"
    return {name: f"{root}/{name}" for name in ("result", "status", "alarm")}


class MqttLink:
    """The broker, at the output's ``qos``; see the module docstring. Used from the runner's
    thread only (paho's callbacks run on it too at QoS 1, on paho's network thread at QoS 2)."""

    def __init__(self, settings: MqttOutputSettings, station: str, recipe: str = "") -> None:
        self.settings = settings
        self.station = station
        self.recipe = recipe
        self.name = f"MQTT broker {settings.host}:{settings.port}"
        self.topics = topics(settings, station)
        # checked now: a missing variable stops the start
        self._password = output_password(
            settings.id, settings.password, settings.password_env, "MQTT password"
        )
        self._exactly_once = settings.qos == 2
        self._driven = not self._exactly_once  # this thread runs the client's network
        self._client: paho.Client | None = None
        self._connected = threading.Event()
        self._refused = ""
        self._resuming = False
        # (qos 2) what this client published and the broker has not completed yet, by
        # (topic, payload): offered again after a break, it is waited for, not published again
        self._unacked: dict[tuple[str, bytes], paho.MQTTMessageInfo] = {}

    def _status(self, state: str) -> bytes:
        s = self.settings
        return encode(
            status_message(
                site=s.site,
                line=s.line,
                station=self.station,
                state=state,
                recipe=self.recipe,
                at=time.time(),
            )
        )

    # ---- connecting ---------------------------------------------------------------------------------

    def connect(self) -> None:
        if self._client is not None and self._exactly_once:
            self._open(self._client, resume=True)  # paho finishes what was under way
        else:
            if self._exactly_once:
                # a new client numbers its packets from 1 again: wipe the session an earlier
                # run may have left, or the broker could take a new result for an old copy
                wipe = self._new_client(clean=True, will=False)
                self._open(wipe, resume=False)
                wipe.disconnect()
                _halt(wipe, goodbye_s=1.0, connected=self._connected)
            client = self._new_client(clean=not self._exactly_once, will=True)
            self._open(client, resume=False)
            self._client = client
        self.send(self.topics["status"], self._status("online"), retain=True)

    def _new_client(self, *, clean: bool, will: bool) -> paho.Client:
        s = self.settings
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=s.client_id or f"lineside-{self.station}",
            clean_session=clean,
            reconnect_on_failure=False,  # the runner decides when to try again
        )
        if s.username:
            client.username_pw_set(s.username, self._password)
        if will:
            client.will_set(self.topics["status"], self._status("offline"), qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        return client

    def _open(self, client: paho.Client, *, resume: bool) -> None:
        """Connect ``client`` (again, keeping its messages, when ``resume``) and start its
        network thread; OutputError with the reason, the client then halted."""
        s = self.settings
        self._connected.clear()
        self._refused = ""
        self._resuming = resume
        try:
            if resume:
                client.reconnect()
            else:
                client.connect(s.host, s.port, keepalive=s.keepalive_s)
        except OSError as exc:  # "connection refused", not "[Errno 111] Connection refused"
            raise OutputError((exc.strerror or str(exc) or type(exc).__name__).lower()) from None
        except ValueError as exc:
            raise OutputError(str(exc)) from None
        if not self._driven:
            client.loop_start()
        deadline = time.monotonic() + s.ack_timeout_s
        while not self._network(client, 0.05):
            if self._refused or time.monotonic() > deadline:
                why = f"refused: {self._refused}" if self._refused else "no answer to CONNECT"
                _halt(client)
                raise OutputError(why)

    def _on_connect(
        self, client: paho.Client, _u: object, flags: paho.ConnectFlags, reason: object, _p: object
    ) -> None:
        if getattr(reason, "is_failure", False):
            self._refused = str(reason)
            return
        if self._resuming and not flags.session_present:
            _publish_again_when_forgotten(client, self.name)
        self._connected.set()

    def _on_disconnect(self, *_args: object) -> None:
        self._connected.clear()

    def _network(self, client: paho.Client, timeout_s: float) -> bool:
        """Let the client's network move for up to ``timeout_s`` (QoS 1: here, on this thread;
        QoS 2: paho's thread does, this one waits); True while connected."""
        if not self._driven:
            return self._connected.wait(timeout_s)
        if client.loop(timeout_s) != paho.MQTT_ERR_SUCCESS:
            self._connected.clear()  # paho said why in on_disconnect, or never connected
        return self._connected.is_set()

    def keep_alive(self) -> None:
        """Between results: answer and ping the broker (QoS 1), and raise OutputError when the
        connection is gone, so the output shows it at once, not at its next result."""
        client = self._client
        if client is None or not self._network(client, 0.0):
            raise OutputError("connection lost")

    # ---- sending --------------------------------------------------------------------------------------

    def send(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """One message (the status, an alarm): not offered again after a break, so not
        remembered; paho still finishes it if it was under way."""
        self._deliver([(topic, payload, retain)], remember=False)

    def send_unkept(self, topic: str, payload: bytes) -> None:
        self.send(topic, payload)

    def send_batch(self, items: list[tuple[str, bytes]]) -> None:
        """Results in order: QoS 2 publishes them all, then waits for each PUBCOMP; QoS 1 sends
        one at a time. OutputError with ``sent``: how many from the start were acknowledged."""
        self._deliver([(topic, payload, False) for topic, payload in items], remember=True)

    def _deliver(self, items: list[_Item], *, remember: bool) -> None:
        client = self._client
        if client is None or not self._connected.is_set():
            raise OutputError("connection lost")
        infos: list[paho.MQTTMessageInfo | None] = [None] * len(items)

        def acknowledged() -> int:
            n = 0
            while n < len(infos) and (info := infos[n]) is not None and info.is_published():
                n += 1
            return n

        remember = remember and self._exactly_once
        if remember and self._unacked:
            # Results this client published before are offered again after a break, from the
            # first the runner did not see acknowledged: the whole rest of the batch it was
            # sending, even those paho completed meanwhile (completions come back out of order
            # when paho resumes). They are not published again; those still under way go first,
            # so nothing newer overtakes them. The runner offers the oldest first, so a result
            # done and not among ``items`` will not be offered again: forgotten.
            offered = {(topic, payload) for topic, payload, _r in items}
            self._unacked = {
                k: i for k, i in self._unacked.items() if k in offered or not i.is_published()
            }
            for n, (topic, payload, _retain) in enumerate(items):
                infos[n] = self._unacked.get((topic, payload))
            self._wait(list(self._unacked.values()), acknowledged)
        window = QOS2_WINDOW if self._exactly_once else 1
        published = 0
        for n in range(len(items)):
            # at most ``window`` under way: published ahead while the oldest is awaited
            while published < min(n + window, len(items)):
                if infos[published] is None:
                    infos[published] = self._publish(
                        client, items[published], acknowledged, remember=remember
                    )
                published += 1
            self._wait([infos[n]], acknowledged)
        if remember:
            for topic, payload, _retain in items:
                self._unacked.pop((topic, payload), None)

    def _publish(
        self,
        client: paho.Client,
        item: _Item,
        acknowledged: Callable[[], int],
        *,
        remember: bool,
    ) -> paho.MQTTMessageInfo:
        topic, payload, retain = item
        info = client.publish(topic, payload, qos=self.settings.qos, retain=retain)
        if self._exactly_once and info.rc in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):
            # paho keeps a QoS 2 message it could not send yet and sends it at the reconnect
            info.rc = paho.MQTT_ERR_SUCCESS
            if remember:
                self._unacked[(topic, payload)] = info
            if not self._connected.is_set():
                raise OutputError("connection lost", sent=acknowledged())
        elif info.rc != paho.MQTT_ERR_SUCCESS:
            raise OutputError(f"publish failed: {paho.error_string(info.rc)}", sent=acknowledged())
        return info

    def _wait(
        self, infos: list[paho.MQTTMessageInfo | None], acknowledged: Callable[[], int]
    ) -> None:
        """Until each is acknowledged, in order; each one acknowledged gives the next the whole
        ``ack_timeout_s`` (a long catch-up is not a silent broker)."""
        timeout_s = self.settings.ack_timeout_s
        deadline = time.monotonic() + timeout_s
        for info in infos:
            if info is None:
                continue
            while not info.is_published():
                if not self._connected.is_set():
                    raise OutputError(
                        "connection lost before the broker acknowledged", sent=acknowledged()
                    )
                if time.monotonic() > deadline:
                    raise OutputError(f"no acknowledgement in {timeout_s:g} s", sent=acknowledged())
                if self._driven and self._client is not None:
                    self._network(self._client, 0.05)
                else:
                    info.wait_for_publish(0.05)
            deadline = time.monotonic() + timeout_s

    # ---- letting go ------------------------------------------------------------------------------------

    def lost(self) -> None:
        """The connection broke (or the broker fell silent). QoS 1 lets the client go; QoS 2
        keeps it, with what it has under way, for the next ``connect``."""
        if not self._exactly_once or self._client is None:
            self.close()
            return
        _halt(self._client)
        self._connected.clear()

    def close(self, *, goodbye: bool = True) -> None:
        client = self._client
        if client is None:
            return
        if goodbye and self._connected.is_set():
            # a clean stop says offline itself (the will is only for vanishing); it goes after
            # whatever paho still has under way (the offline status waits behind it)
            with contextlib.suppress(OutputError):
                self.send(self.topics["status"], self._status("offline"), retain=True)
            client.disconnect()
            if self._driven:  # the DISCONNECT on its way out, with nobody else to send it
                deadline = time.monotonic() + 1.0
                while self._network(client, 0.01) and time.monotonic() < deadline:
                    pass
        self._client = None
        _halt(client, goodbye_s=1.0, connected=self._connected)
        self._connected.clear()
        self._unacked.clear()


def _halt(
    client: paho.Client, *, goodbye_s: float = 0.0, connected: threading.Event | None = None
) -> None:
    """Stop ``client``'s network thread, cutting its connection (after up to ``goodbye_s`` for
    a DISCONNECT on its way out to clear ``connected``). paho keeps its messages for a
    ``reconnect``."""
    if connected is not None:
        deadline = time.monotonic() + goodbye_s
        while connected.is_set() and time.monotonic() < deadline:
            time.sleep(0.01)
    sock = client.socket()
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    # the thread may end by itself meanwhile, which loop_stop does not expect
    with contextlib.suppress(AttributeError):
        client.loop_stop()


def _publish_again_when_forgotten(client: paho.Client, name: str) -> None:
    """The broker came back without this client's session (it was killed, or restarted without
    persistence): it no longer holds the QoS 2 results it had taken, so a PUBREL for them would
    be answered PUBCOMP and the results lost. Publish them again instead (at least once).
    Runs in paho's thread, from on_connect, before paho resends what was under way.
    Needed when the first try to connect again gets through: paho resets a released result to
    "resend PUBREL" at each ``reconnect``, and from the second try on to "publish" (a DUP
    PUBLISH, which a broker still holding the session takes as the same result)."""
    again = 0
    # paho's own bookkeeping (2.1 and 2.2): it has no public way to say "publish these again"
    with client._out_message_mutex:
        for message in client._out_messages.values():
            if message.qos == 2 and message.state == paho.mqtt_ms_resend_pubrel:
                message.state = paho.mqtt_ms_publish
                message.dup = True
                again += 1
    if again:
        log.warning(
            "%s came back without this station's session: %d result(s) it had taken are "
            "published again and may arrive twice",
            name,
            again,
        )


def mqtt_output(
    settings: MqttOutputSettings,
    *,
    station: str,
    recipe: str,
    outbox_folder: Path,
    on_state: Callable[[OutputState], None] = lambda _s: None,
) -> OutputRunner:
    """The runner of one ``type: mqtt`` output, its outbox in ``outbox_folder``."""
    link = MqttLink(settings, station, recipe)
    result_topic, alarm_topic = link.topics["result"], link.topics["alarm"]

    def message_of(inspection: Inspection) -> Message:
        body = result_message(inspection, site=settings.site, line=settings.line)
        return inspection.inspection_id, result_topic, encode(body)

    def alarm_of(update: StatusUpdate) -> tuple[str, bytes]:
        body = alarm_message(
            update, site=settings.site, line=settings.line, station=station, at=time.time()
        )
        return alarm_topic, encode(body)

    return OutputRunner(
        settings.id,
        link,
        lambda: Outbox(outbox_folder / f"{settings.id}.sqlite", settings.outbox_max_parts),
        message_of,
        alarm_of=alarm_of,
        retry_s=settings.retry_s,
        on_state=on_state,
    )
