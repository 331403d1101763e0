"""Inspection workers run a little behind the screen: niced per thread, the rest of the process
(the GUI thread, the cameras) untouched."""

from __future__ import annotations

import os
import threading

import pytest
from support.pipeline_tools import BrightnessTool, frames, make_recipe
from threadpoolctl import threadpool_info, threadpool_limits

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


class _BlasRecordingTool(BrightnessTool):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.blas_threads: set[int] = set()

    def inspect(self, frame: Frame) -> ToolResult:
        self.blas_threads |= {
            int(p["num_threads"]) for p in threadpool_info() if p["user_api"] == "blas"
        }
        return super().inspect(frame)


def test_a_running_stations_matrix_products_stay_on_the_calling_thread() -> None:
    """numpy's BLAS pool would fight the side-by-side tools for the cores (priority.py)."""
    if not any(p["user_api"] == "blas" for p in threadpool_info()):
        pytest.skip("this numpy has no BLAS library threadpoolctl can see")
    tool = _BlasRecordingTool(tool_id="a")
    with threadpool_limits(limits=2, user_api="blas"):  # as at start-up on a 2-core PC
        station = Station(
            make_recipe(workers=1),
            store_results=False,
            sources=[MemorySource(frames(3))],
            make_tools=lambda: [tool],
        )
        station.start()
        try:
            assert station.wait_finished(30.0)
        finally:
            station.stop(timeout_s=10.0)
    assert tool.blas_threads == {1}
