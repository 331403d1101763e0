"""An output's password: from the recipe, or from an environment variable it names, so a recipe
can travel without one. Checked when the station starts (a variable that is not set stops the
start with its name); never logged or shown. ``lineside report --plant --password-env`` reads
its password the same way."""

from __future__ import annotations

import os

from inspection.errors import LinesideError


def password_of(
    owner: str, password: str | None, password_env: str | None, what: str
) -> str | None:
    """``password``, or the value of the variable ``password_env`` when one is named;
    LinesideError naming ``owner`` and the variable when it is not set."""
    if password_env:
        if password_env not in os.environ:
            raise LinesideError(f"{owner}: environment variable {password_env} ({what}) is not set")
        return os.environ[password_env]
    return password


def output_password(
    output_id: str, password: str | None, password_env: str | None, what: str
) -> str | None:
    """The password of output ``output_id`` (``what``: "MQTT password", ...)."""
    return password_of(f"output {output_id}", password, password_env, what)
