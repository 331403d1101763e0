"""``lineside bench`` feeds the station the simulated line's parts from memory, with the batch
the line announces, so the label tool checks its batch fields as on the line."""

from __future__ import annotations

from inspection.evaluation.bench import _LineInMemory
from inspection.paths import demo_recipe
from inspection.recipe import SyntheticSourceSettings, load_recipe
from inspection.sources.base import BatchAware
from inspection.sources.synthetic import SyntheticLine


def test_the_bench_source_announces_the_simulated_lines_batch() -> None:
    recipe = load_recipe(demo_recipe())
    camera = recipe.cameras[0]
    assert isinstance(camera.source, SyntheticSourceSettings)
    source = _LineInMemory(recipe, [], rate_hz=4.0)
    assert isinstance(source, BatchAware)  # the station asks it at start
    batch = source.batch_info()
    assert batch == SyntheticLine(camera.source, camera=camera.id).batch_info()
    assert batch["lot"] and batch["product"]  # what the demo's label fields check against
