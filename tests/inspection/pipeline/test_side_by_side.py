"""A part's tools side by side: both run at once (a barrier only both can pass proves it), results
keep the recipe's order, a failing tool is still an ERROR result, the helper threads end with
the worker, a part runs side by side only when it is alone in the station, and
`tools_side_by_side: false` runs them one after another."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
from support.pipeline_tools import BrightnessTool, Collector, ExplodingTool, frames, make_recipe

from inspection.pipeline.side_by_side import SideBySide
from inspection.pipeline.station import Station
from inspection.sources.memory import MemorySource
from inspection.tools.base import Tool
from inspection.types import Frame, ToolResult, Verdict


class MeetingTool(BrightnessTool):
    """Passes only when the other tools of the same part reach ``barrier`` while it waits:
    tools run one after another never meet, and the part is rejected with the reason."""

    tool_type = "meeting"

    def __init__(self, tool_id: str, barrier: threading.Barrier) -> None:
        super().__init__(tool_id=tool_id, minimum=0)
        self.barrier = barrier
        self.threads: set[str] = set()

    def inspect(self, frame: Frame) -> ToolResult:
        self.threads.add(threading.current_thread().name)
        self.barrier.wait(timeout=2.0)  # BrokenBarrierError: the tool fails, the part is ERROR
        return super().inspect(frame)


def _frame() -> Frame:
    return Frame(camera="cam1", seq=0, t_ns=0, image=np.full((48, 64), 200, np.uint8))


def test_tools_of_one_part_run_at_once_and_keep_their_order() -> None:
    barrier = threading.Barrier(3)
    tools = [MeetingTool(f"t{i}", barrier) for i in range(3)]
    runner = SideBySide(len(tools), "test-tool")
    try:
        for _ in range(3):  # the same helper threads serve part after part
            results = runner.run([(t, _frame()) for t in tools])
            assert [r.tool_id for r in results] == ["t0", "t1", "t2"]
            assert all(r.verdict is Verdict.PASS for r in results)
    finally:
        runner.close()
    assert tools[0].threads == {threading.current_thread().name}  # the caller runs the first
    assert not any(t.name.startswith("test-tool") for t in threading.enumerate())


def test_a_failing_tool_is_an_error_result_beside_the_others() -> None:
    runner = SideBySide(2, "test-tool")
    try:
        results = runner.run(
            [(BrightnessTool("ok", minimum=0), _frame()), (ExplodingTool("boom"), _frame())]
        )
    finally:
        runner.close()
    assert [r.verdict for r in results] == [Verdict.PASS, Verdict.ERROR]
    assert "sensor model diverged" in results[1].reason


def _inspect(
    pipeline: dict[str, object],
    source: MemorySource,
    parts: int,
    make_tools: Callable[[], list[Tool]],
) -> list[Verdict]:
    """The verdicts of a 2-worker station on the ``parts`` parts of ``source``."""
    recipe = make_recipe(workers=2, pipeline={"workers": 2, **pipeline})
    collector = Collector(want=parts)
    station = Station(recipe, store_results=False, sources=[source], make_tools=make_tools)
    station.add_listener(collector)
    station.start()
    try:
        assert collector.done.wait(30.0)
    finally:
        station.stop(timeout_s=10.0)
    return [i.verdict for i in collector.inspections]


def _station_run(side_by_side: bool) -> list[Verdict]:
    def make_tools() -> list[Tool]:
        barrier = threading.Barrier(2)  # one per worker: its two tools meet on each part
        return [MeetingTool("a", barrier), MeetingTool("b", barrier)]

    # parts far enough apart that each is alone in the station (a backlog: see below)
    source = MemorySource(frames(6), rate_hz=10.0)
    return _inspect({"tools_side_by_side": side_by_side}, source, 6, make_tools)


def test_the_station_runs_a_parts_tools_side_by_side_unless_the_recipe_says_not() -> None:
    assert _station_run(side_by_side=True) == [Verdict.PASS] * 6
    started = time.monotonic()
    # one after another the two tools never meet: each part is ERROR, none is PASS
    assert _station_run(side_by_side=False) == [Verdict.ERROR] * 6
    assert time.monotonic() - started >= 2.0  # each waited its barrier's timeout


class SlowTool(BrightnessTool):
    """Takes 40 ms and notes which thread ran it, part by part."""

    tool_type = "slow"

    def __init__(self, tool_id: str, seen: list[tuple[int, str]]) -> None:
        super().__init__(tool_id=tool_id, minimum=0)
        self.threads_seen = seen

    def inspect(self, frame: Frame) -> ToolResult:
        self.threads_seen.append((frame.seq, threading.current_thread().name))
        time.sleep(0.04)
        return super().inspect(frame)


def _threads_per_part(rate_hz: float | None, parts: int) -> dict[int, set[str]]:
    seen: list[tuple[int, str]] = []
    source = MemorySource(frames(parts), rate_hz=rate_hz or 0.0)
    verdicts = _inspect(
        {"queue_size": 16},
        source,
        parts,
        lambda: [SlowTool("a", seen), SlowTool("b", seen), SlowTool("c", seen)],
    )
    assert verdicts == [Verdict.PASS] * parts
    out: dict[int, set[str]] = {}
    for seq, thread in seen:
        out.setdefault(seq, set()).add(thread)
    return out


def test_a_part_alone_runs_its_tools_side_by_side_and_parts_with_others_about_do_not() -> None:
    alone = _threads_per_part(rate_hz=5.0, parts=4)  # 200 ms apart, 120 ms of tools each
    assert all(len(threads) == 3 for threads in alone.values()), alone
    # a backlog: 12 parts at once, 2 workers; each part's tools on its worker's own thread,
    # except perhaps the first, taken before the others were queued
    backlog = _threads_per_part(rate_hz=None, parts=12)
    at_once = [seq for seq, threads in backlog.items() if len(threads) > 1]
    assert len(at_once) <= 1, backlog
    assert all(len(threads) == 1 for seq, threads in backlog.items() if seq not in at_once)


def test_a_paced_memory_source_keeps_the_line_rate() -> None:
    source = MemorySource(frames(5), rate_hz=20.0)
    source.open()
    t0 = time.monotonic()
    seqs = [source.read(timeout_s=1.0).seq for _ in range(5)]  # type: ignore[union-attr]
    assert seqs == [0, 1, 2, 3, 4]
    assert time.monotonic() - t0 >= 4 / 20.0 - 0.005  # the first at once, then every 50 ms
    assert source.read(timeout_s=1.0) is None
