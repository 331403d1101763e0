"""What every command shares: exit codes, JSON on stdout, progress on stderr, the recipe."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from inspection.paths import demo_recipe

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
SURFACE_MATERIALS = ("metal", "fabric", "tiles", "solar")
"""`simulate surfaces` materials (inspection.evaluation.surfaces.MATERIALS, kept light here)."""


def json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def emit(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(json_safe(result)) + "\n")
    else:
        sys.stdout.write(json.dumps(json_safe(result), indent=2) + "\n")
    sys.stdout.flush()


def show_progress(done: int, total: int) -> None:
    """A progress line on stderr (stdout stays machine-readable)."""
    if total and (done == total or done % max(total // 20, 1) == 0):
        sys.stderr.write(f"\r{done}/{total} ({100 * done // total} %)")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def recipe_or_demo(path: str | None) -> Any:
    from inspection.recipe import load_recipe

    return load_recipe(path or demo_recipe())
