"""The anomalib tool: the user's own anomalib model scores how unlike the good parts a region is.

Verdict: FAIL when the score reaches the threshold (``settings.threshold``, else the model's own:
metadata.json ``image_threshold`` on raw scores, 0.5 on normalised ones), PASS below it, ERROR
when the model gives no finite score. Regions are connected areas of the anomaly map at or above
the pixel threshold with at least ``min_area_px`` frame pixels, reported as red boxes.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

from inspection.inference.adapters.anomalib import AnomalibModel
from inspection.recipe import AnomalibToolSettings
from inspection.tools.base import crop, tool_result
from inspection.tools.registry import ToolContext
from inspection.types import Frame, Overlay, Region, ToolResult, Verdict

log = logging.getLogger(__name__)

MAX_REGIONS = 20
"""Regions kept per part, largest first: beyond this a map is noise, not separate findings."""


class AnomalibTool:
    """Runs one anomalib ONNX model on the ROI; ModelError at build when it cannot."""

    tool_type = "anomalib"

    def __init__(self, settings: AnomalibToolSettings, camera: str, context: ToolContext) -> None:
        self.settings = settings
        self.tool_id = settings.id
        self.camera = camera
        self._roi = settings.region()
        self._model = AnomalibModel(
            settings.model,
            sha256=settings.sha256,
            metadata=settings.metadata,
            threads=context.threads,
        )
        m = self._model
        self.threshold = settings.threshold if settings.threshold is not None else m.image_threshold
        # the recipe's threshold also cuts the map when map and score share one scale; otherwise
        # the model's own pixel threshold is the only one that means anything on the map
        same_scale = m.score_normalised == m.map_normalised
        self.pixel_threshold = (
            settings.threshold
            if settings.threshold is not None and same_scale
            else m.pixel_threshold
        )

    def inspect(self, frame: Frame) -> ToolResult:
        """Score ``frame`` (uint8 (H, W) grey or (H, W, 3) BGR) and locate the anomalous regions."""
        t0 = time.perf_counter_ns()
        image = np.asarray(frame.image)
        patch, region = crop(image, self._roi)
        if region.is_empty:
            h, w = image.shape[:2]
            r = self._roi
            where = f"({r.x}, {r.y}, {r.w}×{r.h}) " if r is not None else ""
            return tool_result(
                self,
                Verdict.ERROR,
                f"ROI {where}lies outside the frame ({w}×{h} px)",
                t0,
                roi=region,
            )
        pred = self._model.predict(patch)
        if not math.isfinite(pred.score):
            return tool_result(
                self, Verdict.ERROR, f"model gave no usable score ({pred.score})", t0, roi=region
            )
        regions = self._regions(pred.anomaly_map, region) if pred.anomaly_map is not None else []
        failed = pred.score >= self.threshold
        if failed:
            found = f", {len(regions)} region{'s' if len(regions) != 1 else ''}" if regions else ""
            reason = f"anomaly score {pred.score:.2f} ≥ {self.threshold:.2f}{found}"
        else:
            reason = ""
        overlays = tuple(
            Overlay(
                points=_corners(r["x"], r["y"], r["w"], r["h"]), label=f"{r['peak']:.2f}", ok=False
            )
            for r in regions
        )
        if failed and not regions:
            # a score-only model cannot say where: mark the whole region it judged
            overlays = (
                Overlay(
                    points=_corners(region.x, region.y, region.w, region.h),
                    label=f"anomaly {pred.score:.2f}",
                    ok=False,
                ),
            )
        return tool_result(
            self,
            Verdict.FAIL if failed else Verdict.PASS,
            reason,
            t0,
            roi=region,
            measurements={
                "score": pred.score,
                "threshold": float(self.threshold),
                "regions": float(len(regions)),
            },
            details={
                "score": round(pred.score, 6),
                "threshold": float(self.threshold),
                "pixel_threshold": float(self.pixel_threshold),
                "normalised": self._model.score_normalised,
                "regions": regions,
            },
            overlays=overlays if failed else (),
        )

    def _regions(self, amap: np.ndarray, region: Region) -> list[dict[str, Any]]:
        """Connected areas of ``amap`` (float32 (H, W) in ROI px) ≥ the pixel threshold, frame px."""
        mask = np.ascontiguousarray(amap >= self.pixel_threshold, dtype=np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        found: list[dict[str, Any]] = []
        for i in range(1, n):
            x, y, w, h, area = (int(v) for v in stats[i])
            if area < max(self.settings.min_area_px, 1):
                continue
            peak = float(amap[labels == i].max())
            found.append(
                {
                    "x": x + region.x,
                    "y": y + region.y,
                    "w": w,
                    "h": h,
                    "area_px": area,
                    "peak": round(peak, 4),
                }
            )
        found.sort(key=lambda r: -r["area_px"])
        return found[:MAX_REGIONS]

    def model_hashes(self) -> Mapping[str, str]:
        return {self.tool_id: self._model.sha256}

    def close(self) -> None:
        self._model.close()


def _corners(x: float, y: float, w: float, h: float) -> np.ndarray:
    """float32 (4, 2) corners of a box, clockwise from the top-left."""
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], dtype=np.float32)
