"""An output's password: from the recipe, or from an environment variable it names, so a recipe
can travel without one. Checked when the station starts (a variable that is not set stops the
start with its name); never logged or shown."""

from __future__ import annotations

import os

from inspection.errors import LinesideError


def output_password(
    output_id: str, password: str | None, password_env: str | None, what: str
) -> str | None:
    """The password of output ``output_id`` (``what``: "MQTT password", ...)."""
    if password_env:
        if password_env not in os.environ:
            raise LinesideError(
                f"output {output_id}: environment variable {password_env} ({what}) is not set"
            )
        return os.environ[password_env]
    return password
