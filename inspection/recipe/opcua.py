"""The station's OPC UA server (``opcua:`` in ``config/station.yaml``), following OPC UA for
Machine Vision (OPC 40100) where practical: its state machine, recipe management, results as
variables and events, and methods to trigger and reset.

Like the PLC link it belongs to the station and stays up across recipe changes. Anonymous access
is off unless asked for (and then it may only read). Users sign in with a name and password
(the password from an environment variable, never from the settings file in plain text when it
can be helped); an ``operator`` may call the methods, a ``viewer`` may browse, read and subscribe.
With a certificate and its key the server also offers Basic256Sha256 (sign and encrypt).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from inspection.recipe.common import HostName, Strict
from inspection.recipe.plc import RecipeTable


class OpcUaUser(Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str | None = None
    password_env: str | None = None
    """Name of an environment variable holding the password."""
    role: Literal["operator", "viewer"] = "viewer"
    """``operator``: may trigger, reset and change the recipe; ``viewer``: reads only."""

    @model_validator(mode="after")
    def _one_password(self) -> OpcUaUser:
        if (self.password is None) == (self.password_env is None):
            raise ValueError(f"user {self.name}: give password or password_env (one of them)")
        return self


class OpcUaSettings(Strict):
    """Where the server listens, who may sign in, and the recipes clients may select."""

    host: HostName = "127.0.0.1"
    """The address to listen on (the plant network's; the default reaches nothing beyond
    this PC)."""
    port: int = Field(default=4840, ge=1, le=65535)
    anonymous: bool = False
    """Let clients in without signing in (they may only read)."""
    users: list[OpcUaUser] = Field(default_factory=list, max_length=64)
    certificate: Path | None = None
    """The server's certificate (DER or PEM); with ``private_key``, Basic256Sha256 is offered."""
    private_key: Path | None = None
    recipes: RecipeTable = Field(default_factory=dict)
    """Recipe number → recipe file, for PrepareRecipe (a relative file is taken from the folder
    of the station file)."""

    @model_validator(mode="after")
    def _someone(self) -> OpcUaSettings:
        if not self.anonymous and not self.users:
            raise ValueError("no one could sign in: add users, or set anonymous: true")
        names = [u.name for u in self.users]
        if len(set(names)) != len(names):
            raise ValueError(f"user names must be unique, got {names}")
        if (self.certificate is None) != (self.private_key is None):
            raise ValueError("certificate and private_key go together")
        return self

    def resolved(self, base: Path) -> OpcUaSettings:
        """These settings with relative files taken from ``base`` (the station file's folder)."""

        def at(p: Path | None) -> Path | None:
            return p if p is None or p.is_absolute() else base / p

        return self.model_copy(
            update={
                "recipes": {n: at(p) for n, p in self.recipes.items()},
                "certificate": at(self.certificate),
                "private_key": at(self.private_key),
            }
        )
