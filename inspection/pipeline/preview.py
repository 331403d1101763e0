"""Heatmap preview: what a taught defect tool sees on recent parts, for the engineer to check."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from inspection.jobs import Cancelled
from inspection.paths import Paths
from inspection.pipeline.teaching import find_tool, tool_context
from inspection.recipe import AnomalyToolSettings, Recipe
from inspection.tools.anomaly import AnomalyTool
from inspection.types import Frame


@dataclass(frozen=True, slots=True, kw_only=True)
class HeatmapPreview:
    """One part's ROI with its anomaly map blended in.

    image: uint8 (H, W, 3) BGR, the ROI (aligned when the tool aligns) with the map over it,
    red where the score reaches the threshold. score / threshold in the model's units.
    """

    part_seq: int
    image: np.ndarray
    score: float
    threshold: float


def heatmap_previews(
    recipe: Recipe,
    tool_id: str,
    paths: Paths,
    parts: Sequence[tuple[int, Frame]],
    *,
    progress: Callable[[int, int, str], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[HeatmapPreview]:
    """Heatmaps of ``tool_id`` on ``parts`` (part number, frame); runs the model: not on the GUI."""
    settings = find_tool(recipe, tool_id)
    if not isinstance(settings, AnomalyToolSettings):
        raise ValueError(f"tool {tool_id!r} is a {settings.type} tool, not a defect tool")
    tool = AnomalyTool(settings, recipe.camera_for(settings), tool_context(recipe, paths))
    try:
        threshold = tool.threshold
        if threshold is None:
            raise ValueError(f"defect tool {tool_id!r} has not been taught yet")
        out = []
        for i, (seq, frame) in enumerate(parts):
            if cancel is not None and cancel.is_set():
                raise Cancelled("heatmap preview cancelled")
            cut = tool.cut(np.asarray(frame.image))
            if isinstance(cut, str):
                continue  # no part in this frame: nothing to preview
            patch, _, _ = cut
            heat = tool.score_map(patch)
            out.append(
                HeatmapPreview(
                    part_seq=seq,
                    image=blend(patch, heat, threshold),
                    score=float(heat.max()),
                    threshold=threshold,
                )
            )
            if progress is not None:
                progress(i + 1, len(parts), f"heatmap of part {seq}")
        return out
    finally:
        tool.close()


def blend(patch: np.ndarray, heat: np.ndarray, threshold: float) -> np.ndarray:
    """BGR uint8: ``patch`` with the map coloured over it (full red at the threshold)."""
    base = patch if patch.ndim == 3 else cv2.cvtColor(patch, cv2.COLOR_GRAY2BGR)
    level = np.clip(heat / max(threshold, 1e-6), 0.0, 1.0)
    colour = cv2.applyColorMap((level * 255).astype(np.uint8), cv2.COLORMAP_JET)
    return cv2.addWeighted(base, 0.55, colour, 0.45, 0.0)
