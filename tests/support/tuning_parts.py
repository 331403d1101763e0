"""A results database of hand-described parts for the tuning tests (tests/inspection/tuning), written by the results
store's own batch writer (so the rows are exactly the store's).

``Part(score, verdict=None, label_fails=False, defects=None)``: the surface (anomaly) tool's score
at threshold ``THRESHOLD`` (it FAILs at score >= threshold unless ``verdict`` says otherwise; NaN
score = the tool's ERROR), a label tool that fails when ``label_fails``, and the simulated
line's ground truth when ``defects`` is a tuple. Parts are 10 s apart from T0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspection.storage.batch import Pending, write_batch
from inspection.storage.schema import open_writer
from inspection.types import Frame, Inspection, PartTruth, ToolResult, Verdict

T0 = 1_780_000_000.0
THRESHOLD = 0.5


@dataclass(frozen=True)
class Part:
    score: float
    verdict: Verdict | None = None
    label_fails: bool = False
    defects: tuple[str, ...] | None = None


def surface(p: Part) -> ToolResult:
    if math.isnan(p.score):
        return ToolResult(
            tool_id="surface", tool_type="anomaly", verdict=Verdict.ERROR, reason="no part"
        )
    v = p.verdict or (Verdict.FAIL if p.score >= THRESHOLD else Verdict.PASS)
    return ToolResult(
        tool_id="surface",
        tool_type="anomaly",
        verdict=v,
        reason="defect found" if v is Verdict.FAIL else "",
        measurements={"score": p.score, "threshold": THRESHOLD, "regions": 1.0},
    )


def label_tool(p: Part) -> ToolResult:
    v = Verdict.FAIL if p.label_fails else Verdict.PASS
    return ToolResult(
        tool_id="label",
        tool_type="label",
        verdict=v,
        reason="lot unreadable" if p.label_fails else "",
        measurements={"lot_confidence": 0.4 if p.label_fails else 0.9},
    )


def write_parts(db: Path, parts: Sequence[Part], *, first: int = 0) -> list[str]:
    """Write ``parts`` (part numbers from ``first``); returns their inspection ids."""
    pending = []
    for seq, p in enumerate(parts, start=first):
        tools = (surface(p), label_tool(p))
        rejected = [t for t in tools if t.verdict is not Verdict.PASS]
        verdict = (
            Verdict.ERROR
            if any(t.verdict is Verdict.ERROR for t in tools)
            else Verdict.FAIL
            if rejected
            else Verdict.PASS
        )
        frames: tuple[Frame, ...] = ()
        if p.defects is not None:
            truth = PartTruth(part_index=seq, defects=p.defects)
            frames = (
                Frame(
                    camera="cam1", seq=seq, t_ns=seq, image=np.zeros((2, 2), np.uint8), truth=truth
                ),
            )
        inspection = Inspection(
            inspection_id=f"run1-{seq:05d}",
            station="st1",
            part_seq=seq,
            verdict=verdict,
            reason="; ".join(t.reason for t in rejected),
            tool_results=tools,
            frames=frames,
            recipe_name="demo",
            recipe_version="1",
            wall_time=T0 + 10 * seq,
        )
        pending.append(Pending(inspection, None, None))
    conn = open_writer(db)
    try:
        rejected_parts = write_batch(
            conn, pending, "run1", attribute=lambda t: ("2026-05-28", "Early")
        )
        assert not rejected_parts, rejected_parts
    finally:
        conn.close()
    return [p.inspection.inspection_id for p in pending]
