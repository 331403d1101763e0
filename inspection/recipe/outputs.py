"""Where results go beyond this PC: the line's and the plant's systems (``outputs:``).

Each output is one entry of a discriminated union on ``type``, like cameras and tools, built by
its own module in ``inspection/integrations``. An output that must not lose results keeps an
on-disk outbox: results wait there while the other end is away and leave in part order when it is
back, each once.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from inspection.recipe.common import HostName, Identifier, Strict

_TOPIC_LEVEL = r"^[^/#+\x00]+$"  # one MQTT topic level: no separators, no wildcards


class MqttOutputSettings(Strict):
    """Results, station status and alarms as JSON to an MQTT broker, QoS 1 (or 2).

    Topics: ``<site>/<line>/<station>/result``, ``.../status`` (retained; a last will says
    "offline" when the station vanishes) and ``.../alarm``. The station level is the recipe's
    ``station``. The messages follow ``resources/schemas/mqtt-*.schema.json``.
    """

    type: Literal["mqtt"]
    id: Identifier = "mqtt"
    """Names this output on the operator screen and its outbox file."""
    host: HostName = "127.0.0.1"
    """The broker's host name or address."""
    port: int = Field(default=1883, ge=1, le=65535)
    site: str = Field(default="site", min_length=1, max_length=64, pattern=_TOPIC_LEVEL)
    """First topic level: the plant or site."""
    line: str = Field(default="line", min_length=1, max_length=64, pattern=_TOPIC_LEVEL)
    """Second topic level: the production line."""
    username: str | None = None
    password: str | None = None
    password_env: str | None = None
    """Name of an environment variable holding the password, so the recipe need not."""
    client_id: str | None = Field(default=None, max_length=64)
    """The MQTT client id; default: ``lineside-<station>``. With ``qos: 2`` the broker keeps a
    session under it: give each station its own."""
    qos: Literal[1, 2] = 1
    """Delivery of results and alarms. 1: at least once; after a broker outage the results in
    flight (one) may arrive twice, so consumers key on ``inspection_id``. 2: exactly once, also
    through broken connections and a broker restarted with its sessions kept (persistence); the
    station keeps a persistent session at the broker and sends four packets per result,
    pipelined (at most 10 under way: keep the broker's ``max_inflight_messages`` at 12 or more).
    A broker that loses its sessions (killed, no persistence) loses what it had acknowledged and
    not passed on, and may repeat the results under way (see
    ``inspection/integrations/mqtt.py``)."""
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    """Seconds between keep-alive pings; the broker declares the station offline after 1.5x."""
    ack_timeout_s: float = Field(default=5.0, gt=0.0, le=120.0)
    """A result the broker has not acknowledged within this time counts as not sent: the link
    is dropped and the result sent again once it is back."""
    retry_s: float = Field(default=2.0, gt=0.0, le=300.0)
    """Time between two attempts to reach a broker that is away."""
    outbox_max_parts: int = Field(default=200_000, ge=10, le=10_000_000)
    """Results kept on disk while the broker is away (~6 h at 10 parts/s); beyond it the oldest
    are dropped and counted."""


SQL_NAME = r"^[a-z_][a-z0-9_]{0,62}$"  # a PostgreSQL schema name that needs no quoting


class PostgresOutputSettings(Strict):
    """Every result into the plant's PostgreSQL database, beside the local SQLite.

    The same records (each part and each tool's result), keyed by station and inspection id:
    inserting one again changes nothing, so a replay after an outage never duplicates. Tables,
    indexes and the plant views (``yield_per_station_hour``, ``reasons_per_line``) are made in
    ``db_schema`` on first connect and migrated forward only. Many stations write into one database.
    """

    type: Literal["postgres"]
    id: Identifier = "postgres"
    """Names this output on the operator screen and its outbox file."""
    host: HostName = "127.0.0.1"
    port: int = Field(default=5432, ge=1, le=65535)
    dbname: str = Field(default="lineside", min_length=1, max_length=63)
    user: str = Field(default="lineside", min_length=1, max_length=63)
    password: str | None = None
    password_env: str | None = None
    """Name of an environment variable holding the password, so the recipe need not."""
    db_schema: str = Field(default="lineside", pattern=SQL_NAME)
    """The database schema the station's tables live in (shared by every station)."""
    line: str = Field(default="", max_length=80)
    """The production line, for the plant's per-line views (default: the station settings')."""
    connect_timeout_s: int = Field(default=5, ge=1, le=120)
    retry_s: float = Field(default=2.0, gt=0.0, le=300.0)
    outbox_max_parts: int = Field(default=200_000, ge=10, le=10_000_000)
    """Results kept on disk while the database is away; beyond it the oldest are dropped and
    counted."""


OutputSettings = Annotated[MqttOutputSettings | PostgresOutputSettings, Field(discriminator="type")]
"""Every output type, told apart by ``type``."""
OUTPUT_TYPES = ("mqtt", "postgres")
