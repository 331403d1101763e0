"""What a worker does with one part: run its tools, decide, and make the part's one record."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence

from inspection.pipeline.decide import decide
from inspection.pipeline.parts import PartJob
from inspection.pipeline.side_by_side import SideBySide
from inspection.recipe import Recipe
from inspection.tools.base import Tool, error_result, run_guarded
from inspection.types import Frame, Inspection, Timing, ToolResult, Verdict


def inspect_part(
    job: PartJob, tools: Sequence[Tool], recipe: Recipe, side_by_side: SideBySide | None = None
) -> Inspection:
    """Each tool on its camera's frame (all at once with ``side_by_side``, else in turn); a
    missing frame or a camera error makes the part ERROR."""
    started = time.monotonic_ns()
    results: list[ToolResult] = []
    if job.errors:
        results.append(
            ToolResult(
                tool_id="acquisition",
                tool_type="camera",
                verdict=Verdict.ERROR,
                reason="; ".join(job.errors),
            )
        )
    hashes: dict[str, str] = {}
    calls: list[tuple[Tool, Frame]] = []
    for tool in tools:
        frame = job.frames.get(tool.camera)
        if frame is None:
            if not job.errors:
                results.append(error_result(tool, f"no frame from camera {tool.camera}"))
            continue
        calls.append((tool, frame))
    if side_by_side is not None:
        results += side_by_side.run(calls)
    else:
        results += [run_guarded(tool, frame) for tool, frame in calls]
    for tool, _ in calls:
        hashes.update(tool.model_hashes())
    verdict, reason = decide(results)
    return _record(job, recipe, verdict, reason, tuple(results), hashes, started)


def unfinished_part(job: PartJob, reason: str, recipe: Recipe) -> Inspection:
    """The ERROR record of a part the station could not inspect (stopping, internal failure)."""
    result = ToolResult(
        tool_id="station", tool_type="station", verdict=Verdict.ERROR, reason=reason
    )
    return _record(job, recipe, Verdict.ERROR, f"station: {reason}", (result,), {}, 0)


def _record(
    job: PartJob,
    recipe: Recipe,
    verdict: Verdict,
    reason: str,
    results: tuple[ToolResult, ...],
    hashes: dict[str, str],
    started_ns: int,
) -> Inspection:
    return Inspection(
        inspection_id=uuid.uuid4().hex,
        station=recipe.station,
        part_seq=job.part_seq,
        verdict=verdict,
        reason=reason,
        tool_results=results,
        frames=tuple(job.frames.values()),
        recipe_name=recipe.name,
        recipe_version=recipe.version,
        model_hashes=hashes,
        timing=Timing(
            triggered_ns=job.triggered_ns,
            captured_ns=job.captured_ns,
            queued_ns=job.queued_ns,
            started_ns=started_ns,
            decided_ns=time.monotonic_ns(),
        ),
        wall_time=job.wall_time,
        trigger_id=job.trigger_id,
    )
