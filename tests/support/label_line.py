"""A short real run of the simulated line for the parameter-tuning tests: the real label tool
(taught on part 0, one OCR field read in its own region) on 40 packs, half of them with a skewed,
missing or misprinted label, recorded through the real results store. About 6 s.

The recipe file is written to the user's recipe folder, so its versions say the limits in force.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inspection.paths import Paths
from inspection.pipeline.station import Station
from inspection.pipeline.teaching import teach_label
from inspection.recipe import Recipe, SyntheticSourceSettings, dump_recipe, parse_recipe
from inspection.sources.synthetic import SyntheticLine

PARTS = 40
SOURCE: dict[str, Any] = {
    "type": "synthetic",
    "seed": 7,
    "defect_rate": 0.5,
    "parts": PARTS,
    "defects": ["skewed_label", "missing_label", "misprinted_lot"],
}
LIMITS = {"max_offset_px": 100.0, "max_rotation_deg": 5.0, "min_match": 0.6}


def recipe_doc() -> dict[str, Any]:
    return {
        "name": "labels",
        "version": "1",
        "cameras": [{"id": "cam1", "source": dict(SOURCE)}],
        "tools": [
            {
                "type": "label",
                "id": "label",
                "roi": {"x": 200, "y": 220, "w": 480, "h": 420},
                **LIMITS,
                "fields": [
                    {
                        "name": "lot",
                        "region": {"x": 8, "y": 82, "w": 240, "h": 36},
                        "rule": "regex",
                        "value": r"LOT L\d{4}[A-Z]",
                    }
                ],
            }
        ],
        "pipeline": {"workers": 1},
    }


def make_paths(root: Path) -> Paths:
    return Paths(root / "config", root / "data", root / "logs", root / "cache").ensure()


def recipe_file(paths: Paths) -> Path:
    return paths.config / "recipes" / "labels.yaml"


def run_line(recipe: Recipe, paths: Paths) -> None:
    """Run the recipe's finite simulated line to its end, recording every part."""
    station = Station(recipe, paths=paths)
    station.start()
    try:
        assert station.wait_finished(120.0), "the simulated line did not finish"
    finally:
        station.stop(10.0)


def recorded_label_line(root: Path) -> tuple[Paths, Path]:
    """Teach the label, write the recipe file (version 1), run the line; (paths, recipe file)."""
    paths = make_paths(root)
    recipe = parse_recipe(recipe_doc(), "labels.yaml")
    line = SyntheticLine(SyntheticSourceSettings.model_validate(SOURCE))
    teach_label(recipe, "label", paths, line.render_part(0)[0])
    path = recipe_file(paths)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_recipe(recipe), encoding="utf-8")
    run_line(recipe, paths)
    return paths, path
