"""Storage test fixtures: hand-built Inspections and stores that are always stopped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from inspection.storage.results import ResultsStore
from inspection.types import Frame, Inspection, PartTruth, Region, Timing, ToolResult, Verdict

MakeInspection = Callable[..., Inspection]


def _frame(camera: str, seq: int, shape: tuple[int, ...]) -> Frame:
    rng = np.random.default_rng(seq)
    image = rng.integers(0, 256, size=shape, dtype=np.uint8)
    truth = PartTruth(part_index=seq, defects=("scratch",), serial=f"SN{seq:05d}")
    return Frame(camera=camera, seq=seq, t_ns=1_000_000 + seq, image=image, truth=truth)


@pytest.fixture
def make_inspection() -> MakeInspection:
    """Build an Inspection by hand: small frames, two tools, numpy values in measurements."""

    def make(
        seq: int = 0,
        verdict: Verdict = Verdict.PASS,
        *,
        inspection_id: str | None = None,
        cameras: tuple[str, ...] = ("top",),
        shape: tuple[int, ...] = (24, 32),
        roi: Region | None = None,
        wall_time: float = 1_700_000_000.0,
        details: dict[str, Any] | None = None,
    ) -> Inspection:
        frames = tuple(_frame(cam, seq, shape) for cam in cameras)
        code = ToolResult(
            tool_id="code",
            tool_type="codes",
            verdict=verdict,
            reason="" if verdict is Verdict.PASS else "code unreadable",
            measurements={"score": np.float32(0.75), "count": np.int64(2)},
            details=details if details is not None else {"texts": ("SN1", "SN2"), "raw": b"\x01"},
            roi=roi,
            duration_ns=2_500_000,
        )
        label = ToolResult(
            tool_id="label",
            tool_type="label",
            verdict=Verdict.PASS,
            measurements={"skew_deg": 0.5, "bad": float("nan")},
            details={"hist": np.arange(3, dtype=np.int16)},
            duration_ns=1_000_000,
        )
        t0 = 5_000_000_000
        return Inspection(
            inspection_id=inspection_id or f"run1-{seq:06d}",
            station="station-1",
            part_seq=seq,
            verdict=verdict,
            reason="" if verdict is Verdict.PASS else "code: code unreadable",
            tool_results=(code, label),
            frames=frames,
            recipe_name="demo",
            recipe_version="3",
            model_hashes={"defect": "ab" * 32},
            timing=Timing(
                captured_ns=t0,
                queued_ns=t0 + 1_000_000,
                started_ns=t0 + 2_000_000,
                decided_ns=t0 + 12_000_000,
                dispatched_ns=t0 + 13_000_000,
            ),
            wall_time=wall_time + seq,
        )

    return make


@pytest.fixture
def store_factory(tmp_path: Path) -> Iterator[Callable[..., ResultsStore]]:
    """Make started ResultsStores (db in tmp_path unless given) that are stopped at teardown."""
    stores: list[ResultsStore] = []

    def make(db_path: Path | None = None, **kwargs: Any) -> ResultsStore:
        store = ResultsStore(db_path or tmp_path / "results.sqlite", **kwargs)
        store.start()
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.stop(timeout_s=5.0)
