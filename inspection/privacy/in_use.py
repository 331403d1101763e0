"""Which recipe the station runs: the one the app opened last, else the demo recipe."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from inspection.paths import Paths, demo_recipe

log = logging.getLogger(__name__)


def recipe_in_use(paths: Paths) -> Path:
    """The recipe the app last opened (``last_recipe`` in its settings file), when that file
    still exists; otherwise the demo recipe, which the app opens then too.

    Read here rather than through ``app.settings``: the core never imports the app, and only
    this one field is needed. An unreadable settings file means the demo, as in the app.
    """
    try:
        data = json.loads(paths.settings_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return demo_recipe()
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        log.warning(
            "settings %s cannot be read (%s); using the demo recipe", paths.settings_file, exc
        )
        return demo_recipe()
    last = data.get("last_recipe") if isinstance(data, dict) else None
    if isinstance(last, str) and last and Path(last).is_file():
        return Path(last)
    return demo_recipe()
