"""The MQTT output: results, station status and alarms as JSON to the plant's broker (paho-mqtt).

Topics ``<site>/<line>/<station>/result|status|alarm``. Results go QoS 1 through the output's
outbox (``output_runner``): each is acknowledged by the broker (PUBACK) before it leaves the disk,
so a broker outage loses nothing and results arrive in part order. The status is retained:
"online" once connected, "offline" at a clean stop, and the same "offline" as the last will, which
the broker publishes when the station vanishes without a word. Alarms go QoS 1 while the broker
is there and are not kept while it is away (the station's alarm list keeps them).

Each connection is a fresh client with a clean session: what was in flight when a connection
broke is sent again from the outbox, not by paho. The password comes from the recipe or an
environment variable and is never logged.
"""

from __future__ import annotations

import contextlib
import logging
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


def topics(settings: MqttOutputSettings, station: str) -> dict[str, str]:
    root = f"{settings.site}/{settings.line}/{station}"
    return {name: f"{root}/{name}" for name in ("result", "status", "alarm")}


class MqttLink:
    """One connection at a time to the broker; see the module docstring."""

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
        self._client: paho.Client | None = None
        self._connected = threading.Event()
        self._refused = ""

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

    def connect(self) -> None:
        s = self.settings
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=s.client_id or f"lineside-{self.station}",
            clean_session=True,
            reconnect_on_failure=False,  # the runner reconnects, and resends from the outbox
        )
        if s.username:
            client.username_pw_set(s.username, self._password)
        client.will_set(self.topics["status"], self._status("offline"), qos=1, retain=True)
        self._connected.clear()
        self._refused = ""

        def on_connect(_c: object, _u: object, _f: object, reason: object, _p: object) -> None:
            if getattr(reason, "is_failure", False):
                self._refused = str(reason)
            else:
                self._connected.set()

        def on_disconnect(_c: object, _u: object, _f: object, reason: object, _p: object) -> None:
            self._connected.clear()

        client.on_connect = on_connect
        client.on_disconnect = on_disconnect
        try:
            client.connect(s.host, s.port, keepalive=s.keepalive_s)
        except OSError as exc:  # "connection refused", not "[Errno 111] Connection refused"
            raise OutputError((exc.strerror or str(exc) or type(exc).__name__).lower()) from None
        except ValueError as exc:
            raise OutputError(str(exc)) from None
        client.loop_start()
        self._client = client
        deadline = time.monotonic() + s.ack_timeout_s
        while not self._connected.wait(0.05):
            if self._refused or time.monotonic() > deadline:
                why = f"refused: {self._refused}" if self._refused else "no answer to CONNECT"
                self.close(goodbye=False)
                raise OutputError(why)
        self.send(self.topics["status"], self._status("online"), retain=True)

    def send(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        client = self._client
        if client is None or not self._connected.is_set():
            raise OutputError("connection lost")
        info = client.publish(topic, payload, qos=1, retain=retain)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise OutputError(f"publish failed: {paho.error_string(info.rc)}")
        deadline = time.monotonic() + self.settings.ack_timeout_s
        while not info.is_published():
            if not self._connected.is_set():
                raise OutputError("connection lost before the broker acknowledged")
            if time.monotonic() > deadline:
                raise OutputError(f"no acknowledgement in {self.settings.ack_timeout_s:g} s")
            info.wait_for_publish(0.05)

    def send_unkept(self, topic: str, payload: bytes) -> None:
        self.send(topic, payload)

    def close(self, *, goodbye: bool = True) -> None:
        if self._client is None:
            return
        if goodbye and self._connected.is_set():
            # a clean stop says offline itself (the will is only for vanishing)
            with contextlib.suppress(OutputError):
                self.send(self.topics["status"], self._status("offline"), retain=True)
            self._client.disconnect()
        client, self._client = self._client, None
        client.loop_stop()
        self._connected.clear()


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
