"""Inspection workers run a little behind the screen: niced per thread, the rest of the process
(the GUI thread, the cameras) untouched."""

from __future__ import annotations

import os
import threading

import pytest
from support.pipeline_tools import BrightnessTool, frames, make_recipe

from inspection.pipeline.priority import WORKER_NICE, behind_the_screen
from inspection.pipeline.station import Station
from inspection.sources.memory import MemorySource
from inspection.types import Frame, ToolResult

pytestmark = pytest.mark.skipif(
    not os.path.isdir("/proc/self/task"), reason="threads are niced one by one on Linux only"
)


def _nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_a_thread_and_the_threads_it_starts_are_niced_the_caller_is_not() -> None:
    before = _nice()
    seen: dict[str, int] = {}

    def child() -> None:
        seen["child"] = _nice()

    def worker() -> None:
        seen["ok"] = behind_the_screen()
        seen["worker"] = _nice()
        t = threading.Thread(target=child)
        t.start()
        t.join()

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen["ok"] is True
    assert seen["worker"] == min(before + WORKER_NICE, 19)
    assert seen["child"] == seen["worker"]  # a tool's side-by-side thread inherits it
    assert _nice() == before  # this thread (the GUI thread, in the app) keeps its priority


class _NiceRecordingTool(BrightnessTool):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.nice: set[int] = set()

    def inspect(self, frame: Frame) -> ToolResult:
        self.nice.add(_nice())
        return super().inspect(frame)


def test_the_stations_tools_run_niced_and_the_caller_keeps_its_priority() -> None:
    before = _nice()
    tools = [_NiceRecordingTool(tool_id="a"), _NiceRecordingTool(tool_id="b")]
    recipe = make_recipe(workers=1)
    station = Station(
        recipe,
        store_results=False,
        sources=[MemorySource(frames(6))],
        make_tools=lambda: tools,
    )
    station.start()
    try:
        assert station.wait_finished(30.0)
    finally:
        station.stop(timeout_s=10.0)
    assert all(t.seen for t in tools)
    assert {n for t in tools for n in t.nice} == {min(before + WORKER_NICE, 19)}
    assert _nice() == before
