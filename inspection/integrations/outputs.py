"""Builds the runner of each output a recipe names (``outputs:``), by its ``type``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from inspection.integrations.mqtt import mqtt_output
from inspection.integrations.output_runner import OutputRunner, OutputState
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
) -> OutputRunner:
    """The output's runner, not started (``line``: the station settings' line). LinesideError when its settings cannot work (say, a
    password variable that is not set)."""
    if isinstance(settings, MqttOutputSettings):
        return mqtt_output(
            settings, station=station, recipe=recipe, outbox_folder=outbox_folder, on_state=on_state
        )
    if isinstance(settings, PostgresOutputSettings):
        return postgres_output(
            settings, station=station, line=line, outbox_folder=outbox_folder, on_state=on_state
        )
    raise TypeError(f"no output of type {type(settings).__name__}")  # the union is checked
