"""A short real run of the simulated line for the re-score tests (core and dialog): a defect
tool taught on a few good parts, 16 parts recorded through the real results store and image
archive (every reject and 1 in 2 passes kept), and a model re-taught on other good parts written
beside the one in force. About 3 s."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspection.paths import Paths
from inspection.pipeline import teaching
from inspection.pipeline.station import Station
from inspection.recipe import Recipe, parse_recipe
from inspection.tuning.rescore import retaught_path

ROI = {"x": 300, "y": 600, "w": 256, "h": 160}
OVERRIDE = 0.9  # the recipe's threshold: some of the run's parts fail, some pass


def recipe_doc(
    seed: int, *, threshold: float | None = OVERRIDE, crops: bool = False, parts: int = 16
) -> dict[str, Any]:
    """The test line's recipe: one defect tool on a small ROI of the simulated packs."""
    tools: list[dict[str, Any]] = [{"id": "surface", "type": "anomaly", "roi": ROI}]
    if threshold is not None:
        tools[0]["threshold"] = threshold
    if crops:  # a second tool on another ROI, so the archive holds other tools' crops too
        tools.append({"id": "edge", "type": "anomaly", "roi": {**ROI, "x": 700}})
    return {
        "name": "rescore",
        "cameras": [
            {
                "id": "cam1",
                "source": {"type": "synthetic", "seed": seed, "defect_rate": 0.5, "parts": parts},
            }
        ],
        "tools": tools,
        "archive": {"pass_every": 2, "roi_crops_only": crops},
        "pipeline": {"workers": 1},
    }


def make_paths(root: Path) -> Paths:
    return Paths(root / "config", root / "data", root / "logs", root / "cache").ensure()


def run_station(recipe: Recipe, paths: Paths) -> None:
    """Run the recipe's finite simulated line to its end, recording through the results store."""
    station = Station(recipe, paths=paths)
    station.start()
    try:
        assert station.wait_finished(60.0), "the simulated line did not finish"
    finally:
        station.stop(10.0)


@dataclass(frozen=True)
class RecordedLine:
    recipe: Recipe
    paths: Paths
    in_force: Path
    retaught: Path


def recorded_line(root: Path) -> RecordedLine:
    """Teach, run 16 parts, re-teach to ``<model>.retaught.lsam``; the model in force stays."""
    paths = make_paths(root)
    recipe = parse_recipe(recipe_doc(7), "rescore.yaml")
    good = teaching.frames_from_camera(recipe, "cam1", 6)
    in_force = teaching.teach_anomaly(recipe, "surface", paths, good)
    run_station(recipe, paths)
    other = parse_recipe(recipe_doc(11), "other.yaml")
    before = in_force.read_bytes()
    retaught = teaching.teach_anomaly(
        recipe,
        "surface",
        paths,
        teaching.frames_from_camera(other, "cam1", 5),
        target=retaught_path(in_force),
    )
    # teaching to a target of its own leaves the model in force as it was
    assert retaught == in_force.with_name("surface.retaught.lsam") and retaught.is_file()
    assert in_force.read_bytes() == before
    return RecordedLine(recipe=recipe, paths=paths, in_force=in_force, retaught=retaught)
