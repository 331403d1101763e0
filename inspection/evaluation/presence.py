"""Does the presence trigger take exactly one part per passing part? Measured on the simulated
conveyor (video mode), whose ground truth names the part each frame shows."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from inspection.errors import LinesideError
from inspection.evaluation.headless import limit_parts
from inspection.pipeline.station import Station
from inspection.recipe import PresenceTrigger, Recipe, SyntheticSourceSettings
from inspection.types import Inspection, StatusUpdate, Verdict


class _Parts:
    def __init__(self) -> None:
        self.indexes: list[int | None] = []
        self.verdicts: Counter[Verdict] = Counter()
        self.lock = threading.Lock()

    def on_inspection(self, inspection: Inspection) -> None:
        truth = inspection.truth
        with self.lock:
            self.indexes.append(truth.part_index if truth is not None else None)
            self.verdicts[inspection.verdict] += 1

    def on_status(self, update: StatusUpdate) -> None:
        pass


def evaluate_presence(
    recipe: Recipe,
    parts: int,
    *,
    progress: Callable[[int, int], None] | None = None,
    timeout_s: float = 3600.0,
) -> dict[str, Any]:
    """Run ``parts`` simulated parts past the recipe's presence trigger; count what was taken.

    ``one_per_part`` is true when every part was inspected exactly once, each on a frame that
    shows it whole.
    """
    if not isinstance(recipe.trigger, PresenceTrigger):
        raise LinesideError(f"recipe {recipe.name} has no presence trigger")
    watcher = recipe.trigger.camera or recipe.cameras[0].id
    cam = next(c for c in recipe.cameras if c.id == watcher)
    if not isinstance(cam.source, SyntheticSourceSettings) or cam.source.mode != "video":
        raise LinesideError(
            f"camera {watcher} must be the simulated line in video mode (it knows each part)"
        )
    recipe = limit_parts(recipe, parts)
    collected = _Parts()
    station = Station(recipe, store_results=False)
    station.add_listener(collected)
    t0 = time.perf_counter()
    station.start()
    deadline = time.monotonic() + timeout_s
    try:
        while not station.wait_finished(0.5):
            if progress is not None:
                seen = {i for i in collected.indexes if i is not None}
                progress(len(seen), parts)
            if time.monotonic() > deadline:
                break
    finally:
        station.stop(timeout_s=10.0)
    elapsed = time.perf_counter() - t0
    snap = station.counters()
    counts = Counter(i for i in collected.indexes if i is not None)
    missed = [i for i in range(parts) if counts[i] == 0]
    twice = sorted(i for i, n in counts.items() if n > 1)
    not_whole = sum(1 for i in collected.indexes if i is None)
    if progress is not None:
        progress(parts, parts)
    return {
        "recipe": f"{recipe.name} v{recipe.version}",
        "parts": parts,
        "inspections": len(collected.indexes),
        "one_per_part": not missed and not twice and not_whole == 0,
        "missed": missed[:50],
        "inspected_twice": twice[:50],
        "frames_not_showing_a_whole_part": not_whole,
        "frames": sum(snap.frames_in.values()),
        "dropped": snap.dropped_total,
        "verdicts": {v.value: n for v, n in collected.verdicts.items()},
        "elapsed_s": round(elapsed, 2),
        "frames_per_s": round(sum(snap.frames_in.values()) / elapsed, 1) if elapsed else None,
    }
