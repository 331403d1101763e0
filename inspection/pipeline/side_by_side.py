"""One part's tools side by side: a worker runs its part's tools at once on threads of its own,
so a part's verdict comes after its slowest tool instead of after all of them in turn.

The tools release the interpreter lock in onnxruntime, OpenCV and zxing-cpp, so on two cores a
part of a 50 ms defect tool and a 70 ms label tool is decided in about 70 ms, not 120. Each tool
instance still serves one part at a time (its worker's), so nothing a tool keeps between calls is
ever shared by two parts. A worker's helper threads end with it (``close``).

A worker runs a part side by side only when no other part is being inspected or waiting
(``Feed.alone``): only then are the other cores spare. Under load the other workers' parts
need them, and taking them makes every part later, the line's throughput no higher.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from inspection.tools.base import Tool, run_guarded
from inspection.types import Frame, ToolResult


class SideBySide:
    """Runs a worker's tools on one part at once; ``close`` at the worker's end."""

    def __init__(self, tools: int, name: str) -> None:
        # the worker's own thread runs the first tool: one helper fewer than tools
        self._pool = (
            ThreadPoolExecutor(max_workers=tools - 1, thread_name_prefix=name)
            if tools > 1
            else None
        )

    def run(self, calls: Sequence[tuple[Tool, Frame]]) -> list[ToolResult]:
        """Each (tool, frame) run through ``run_guarded`` (never raises); results in call order."""
        if self._pool is None or len(calls) < 2:
            return [run_guarded(tool, frame) for tool, frame in calls]
        others: list[Future[ToolResult]] = [
            self._pool.submit(run_guarded, tool, frame) for tool, frame in calls[1:]
        ]
        first = run_guarded(*calls[0])
        return [first, *(f.result() for f in others)]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
