"""The GUI's own settings (last recipe, window geometry) as a forgiving JSON file.

Forgiving (DESIGN §5): a field with a wrong type is dropped with a warning and the rest is kept;
fields this version does not know are kept as they are, so a newer Lineside's settings survive.
Qt-free, so the headless commands may import it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspection.paths import written_in_place

log = logging.getLogger(__name__)


@dataclass(slots=True)
class AppSettings:
    last_recipe: Path | None = None
    window_geometry: str | None = None
    """Base64 of ``QMainWindow.saveGeometry()``."""
    unknown: dict[str, Any] = field(default_factory=dict)
    """Fields this version does not know, written back unchanged."""


def load_settings(path: Path) -> AppSettings:
    """Read settings; whatever is missing, unreadable or wrong falls back to its default."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return AppSettings()
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("settings %s cannot be read (%s); using defaults", path, exc)
        return AppSettings()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        log.warning("settings %s: not valid JSON (%s); using defaults", path, exc)
        return AppSettings()
    if not isinstance(data, dict):
        log.warning(
            "settings %s: expected a JSON object, got %s; using defaults", path, type(data).__name__
        )
        return AppSettings()

    settings = AppSettings()
    for key, value in data.items():
        if key == "last_recipe":
            if isinstance(value, str) and value:
                settings.last_recipe = Path(value)
            elif value is not None:
                log.warning(
                    "settings %s: last_recipe: expected a path, got %r; ignored", path, value
                )
        elif key == "window_geometry":
            if isinstance(value, str):
                settings.window_geometry = value
            elif value is not None:
                log.warning(
                    "settings %s: window_geometry: expected text, got %r; ignored", path, value
                )
        else:
            log.warning("settings %s: unknown field %r kept as it is", path, key)
            settings.unknown[key] = value
    return settings


def save_settings(path: Path, settings: AppSettings) -> None:
    """Write settings atomically (a crash mid-write leaves the old file intact)."""
    data: dict[str, Any] = dict(settings.unknown)
    data["last_recipe"] = str(settings.last_recipe) if settings.last_recipe else None
    data["window_geometry"] = settings.window_geometry
    path.parent.mkdir(parents=True, exist_ok=True)
    with written_in_place(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
