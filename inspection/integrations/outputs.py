"""Builds each output a recipe names (``outputs:``), by its ``type``: each in a process of its
own (``output_process``: its work never takes the station's interpreter lock)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from inspection.integrations.mqtt import mqtt_output
from inspection.integrations.output_process import OutputProcess
from inspection.integrations.output_runner import OutputState
from inspection.integrations.postgres import postgres_output
from inspection.recipe.outputs import MqttOutputSettings, OutputSettings, PostgresOutputSettings


def build_output(
    settings: OutputSettings,
    *,
    station: str,
    recipe: str,
    line: str = "",
    outbox_folder: Path,
    on_state: Callable[[OutputState], None],
) -> OutputProcess:
    """The output, not started (``line``: the station settings' line). LinesideError when its
    settings cannot work (say, a password variable that is not set)."""
    if isinstance(settings, MqttOutputSettings):
        make = functools.partial(
            mqtt_output, settings, station=station, recipe=recipe, outbox_folder=outbox_folder
        )
    elif isinstance(settings, PostgresOutputSettings):
        make = functools.partial(
            postgres_output, settings, station=station, line=line, outbox_folder=outbox_folder
        )
    else:
        raise TypeError(f"no output of type {type(settings).__name__}")  # the union is checked
    return OutputProcess(make, on_state=on_state)
