"""The defect tool: anything unlike the taught good parts inside the ROI is a finding.

Verdicts, in the operator's words:

* no model taught yet → ERROR "defect tool '<id>' has not been taught yet (...)";
* image score ≥ threshold with at least one region of ≥ ``min_area_px`` → FAIL
  "defect found (score 3.2 > 2.0, 1 region, 850 px²)";
* otherwise PASS. Regions are connected areas of the smoothed anomaly map at or above the
  threshold, measured in frame pixels; they come back as red boxes in frame coordinates.
  Aligned to the part (``align: part``), only the part is judged: a region wholly on the belt
  around it does not count, and the score is the map's highest point on the part (with
  ``score: patches``, the mean of the highest patch scores centred on the part).

A model file that exists but cannot be used is a ModelError at construction, so the station
refuses to start with it and the running recipe stays in force.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from inspection.errors import ModelError
from inspection.inference.anomaly.model import AnomalyScorer, image_score
from inspection.inference.anomaly.model_file import SUFFIX, load_model
from inspection.inference.anomaly.settings import AnomalySettings
from inspection.inference.backbone import FeatureBackbone
from inspection.inference.session import SessionSettings, sha256_file
from inspection.recipe import AnomalyToolSettings
from inspection.tools.anomaly_part import mask_of_corners
from inspection.tools.base import crop
from inspection.tools.fixture import FoundPart, PartPose, cut_aligned, find_part, to_frame
from inspection.tools.registry import ToolContext
from inspection.types import Frame, Overlay, Region, ToolResult, Verdict

log = logging.getLogger(__name__)

MAX_REGIONS_IN_DETAILS = 20


RECIPE_MODEL_SETTINGS = ("pool", "score", "score_patches", "position_weight")
"""Model settings a recipe may choose (besides tiling); left out, the defaults are taught and any
model is accepted; given, a model taught otherwise is refused (teach it again)."""


def model_settings(settings: AnomalyToolSettings) -> AnomalySettings:
    """The model settings a tool's recipe entry asks for when it is taught (tiling, patch
    neighbourhood, image score); what it leaves out takes AnomalySettings' defaults."""
    chosen = {n: getattr(settings, n) for n in RECIPE_MODEL_SETTINGS}
    return dataclasses.replace(
        AnomalySettings(tile_px=settings.tile_px or 0),
        **{n: v for n, v in chosen.items() if v is not None},
    )


def model_path(settings: AnomalyToolSettings, context: ToolContext) -> Path | None:
    """Where the tool's model file is (explicit ``model``, else ``<models_dir>/<id>.lsam``)."""
    if settings.model is not None:
        return settings.model
    if context.models_dir is None:
        return None
    return context.models_dir / f"{settings.id}{SUFFIX}"


RETAUGHT = "retaught"


def retaught_path(in_force: Path) -> Path:
    """Where re-teaching writes a model without replacing the one in force: beside it,
    ``<stem>.retaught<suffix>`` (compared by re-scoring, then applied as a recipe version)."""
    return in_force.with_name(f"{in_force.stem}.{RETAUGHT}{in_force.suffix}")


class AnomalyTool:
    """Scores the ROI against the taught good parts; one instance per worker thread."""

    tool_type = "anomaly"

    def __init__(self, settings: AnomalyToolSettings, camera: str, context: ToolContext) -> None:
        self.settings = settings
        self.tool_id = settings.id
        self.camera = camera
        self._roi = settings.region()
        self.model_file = model_path(settings, context)
        self._scorer: AnomalyScorer | None = None
        self._reference: PartPose | None = None
        self._hashes: dict[str, str] = {}
        self.last_map: np.ndarray | None = None
        """float32 (h, w) anomaly map of the last inspected ROI (normalised score units)."""
        if self.model_file is None or not self.model_file.is_file():
            log.warning(
                "defect tool %r: no model at %s; parts get ERROR", self.tool_id, self.model_file
            )
            return
        backbone = FeatureBackbone(SessionSettings(threads=context.threads))
        model = load_model(self.model_file, backbone.sha256)
        wanted = model_settings(settings)
        for name in ("tile_px", *RECIPE_MODEL_SETTINGS):
            if name != "tile_px" and getattr(settings, name) is None:
                continue  # not chosen by the recipe: the model's own, whatever it was taught with
            has, asks = getattr(model.settings, name), getattr(wanted, name)
            if has != asks:
                raise ModelError(
                    f"{self.model_file}: taught with {name} {has or 'off'}, "
                    f"the recipe asks for {asks or 'off'}; teach the tool again"
                )
        if settings.align == "part":
            fixture = model.provenance.get("fixture")
            if not isinstance(fixture, dict):
                raise ModelError(
                    f"{self.model_file}: taught without part alignment, but the recipe asks for "
                    "align: part; teach the tool again"
                )
            self._reference = PartPose.from_json(fixture)
        self._scorer = AnomalyScorer(model, backbone)
        self._hashes = {self.tool_id: sha256_file(self.model_file), "backbone": backbone.sha256}

    @property
    def taught(self) -> bool:
        return self._scorer is not None

    @property
    def threshold(self) -> float | None:
        """Threshold in force: the recipe's override, else the model's calibrated one."""
        if self.settings.threshold is not None:
            return self.settings.threshold
        return self._scorer.model.threshold if self._scorer is not None else None

    def score_map(self, patch: np.ndarray) -> np.ndarray:
        """float32 anomaly map of an already cut ROI (see ``cut``), in score units."""
        return self._require_model().score(patch).map

    def heatmap(self, frame: Frame) -> np.ndarray:
        """float32 (h, w) anomaly map of the ROI in ``frame`` (ROI coordinates, score units)."""
        scorer = self._require_model()
        cut = self.cut(np.asarray(frame.image))
        if isinstance(cut, str):
            raise ValueError(cut)
        return scorer.score(cut[0]).map

    def cut(self, image: np.ndarray) -> tuple[np.ndarray, Region, FoundPart | None] | str:
        """The ROI to score (aligned to the taught part when asked, with the part found), or
        why there is none."""
        h, w = image.shape[:2]
        roi = self._roi or Region(x=0, y=0, w=w, h=h)
        if self._reference is not None:
            if roi.clip(w, h).is_empty:
                return (
                    f"ROI ({roi.x}, {roi.y}, {roi.w}×{roi.h}) lies outside the frame ({w}×{h} px)"
                )
            found = find_part(image)
            if found is None:
                return "no part found in the frame to align the defect check to"
            return cut_aligned(image, found.pose, self._reference, roi), roi, found
        patch, region = crop(image, self._roi)
        if region.is_empty:
            return f"ROI ({roi.x}, {roi.y}, {roi.w}×{roi.h}) lies outside the frame ({w}×{h} px)"
        return np.ascontiguousarray(patch), region, None

    def inspect(self, frame: Frame) -> ToolResult:
        """Score the ROI of ``frame`` (uint8 (H, W) grey or (H, W, 3) BGR) and judge it."""
        t0 = time.perf_counter_ns()
        if self._scorer is None:
            return self._result(
                Verdict.ERROR,
                f"defect tool '{self.tool_id}' has not been taught yet "
                "(lineside train ... or Teach good parts)",
                t0,
            )
        cut = self.cut(np.asarray(frame.image))
        if isinstance(cut, str):
            return self._result(Verdict.ERROR, cut, t0)
        patch, region, found = cut
        scored = self._scorer.score(patch)
        self.last_map = scored.map
        threshold = self.threshold
        assert threshold is not None
        # An aligned tool judges the part only: the belt around it is no defect of the part.
        on_part = None
        if found is not None and self._reference is not None:
            on_part = mask_of_corners(found.corners, found.pose, self._reference, region)
        score = scored.score
        if on_part is not None:
            st = self._scorer.model.settings
            score = image_score(scored.patches.inside(on_part), scored.map[on_part], st)
        regions = find_regions(scored.map, threshold, self.settings.min_area_px, on_part)
        fail = score >= threshold and bool(regions)
        largest = max((r["area_px"] for r in regions), default=0)
        reason = ""
        if fail:
            total = sum(r["area_px"] for r in regions)
            n = len(regions)
            reason = (
                f"defect found (score {score:.2f} > {threshold:.2f}, "
                f"{n} region{'s' if n != 1 else ''}, {total} px²)"
            )
        shifted = [
            {**r, "x": r["x"] + region.x, "y": r["y"] + region.y}
            for r in regions[:MAX_REGIONS_IN_DETAILS]
        ]
        if found is not None and self._reference is not None:
            # boxes were found in the aligned cut: draw them where they are on this part
            overlays = tuple(
                Overlay(
                    points=to_frame(_box(r), found.pose, self._reference, region),
                    label=f"{r['peak']:.1f}",
                    ok=False,
                )
                for r in regions[:MAX_REGIONS_IN_DETAILS]
            )
        else:
            overlays = tuple(
                Overlay(points=_box(r), label=f"{r['peak']:.1f}", ok=False) for r in shifted
            )
        return ToolResult(
            tool_id=self.tool_id,
            tool_type=self.tool_type,
            verdict=Verdict.FAIL if fail else Verdict.PASS,
            reason=reason,
            measurements={
                "score": score,
                "threshold": float(threshold),
                "regions": float(len(regions)),
                "max_region_px": float(largest),
            },
            details={"regions": shifted, "regions_total": len(regions)},
            overlays=overlays,
            roi=region,
            camera=self.camera,
            duration_ns=time.perf_counter_ns() - t0,
        )

    def model_hashes(self) -> Mapping[str, str]:
        return dict(self._hashes)

    def close(self) -> None:
        self._scorer = None
        self.last_map = None

    def _require_model(self) -> AnomalyScorer:
        if self._scorer is None:
            raise ValueError(f"defect tool '{self.tool_id}' has not been taught yet")
        return self._scorer

    def _outside(self, frame: Frame) -> str:
        r = self._roi
        where = f"({r.x}, {r.y}, {r.w}×{r.h}) " if r is not None else ""
        h, w = np.asarray(frame.image).shape[:2]
        return f"ROI {where}lies outside the frame ({w}×{h} px)"

    def _result(self, verdict: Verdict, reason: str, t0: int) -> ToolResult:
        return ToolResult(
            tool_id=self.tool_id,
            tool_type=self.tool_type,
            verdict=verdict,
            reason=reason,
            camera=self.camera,
            duration_ns=time.perf_counter_ns() - t0,
        )


def find_regions(
    heatmap: np.ndarray,
    threshold: float,
    min_area_px: int,
    on_part: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """Connected areas of ``heatmap`` ≥ ``threshold`` with ≥ ``min_area_px`` px, largest first.

    Each: x, y, w, h (box in map px), area_px, peak (highest score inside), JSON-ready. With
    ``on_part`` (bool, the map's shape) an area counts only if some of it lies on the part; its
    size is still all of it, so damage at the part's edge keeps the belt showing through it.
    (Not "its peak on the part": at the ROI's border the map peaks at the border, which for a
    chipped corner there is the belt below it.)
    """
    mask = (heatmap >= threshold).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    out: list[dict[str, Any]] = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if area < max(min_area_px, 1):
            continue
        inside = labels[y : y + h, x : x + w] == i
        if on_part is not None and not on_part[y : y + h, x : x + w][inside].any():
            continue  # all of it on the belt beside the part: not the part's defect
        peak = round(float(heatmap[y : y + h, x : x + w][inside].max()), 3)
        out.append({"x": x, "y": y, "w": w, "h": h, "area_px": area, "peak": peak})
    out.sort(key=lambda r: -r["area_px"])
    return out


def _box(r: Mapping[str, Any]) -> np.ndarray:
    x0, y0, x1, y1 = r["x"], r["y"], r["x"] + r["w"], r["y"] + r["h"]
    return np.asarray([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)


def region_of(r: Mapping[str, Any]) -> Region:
    """A region dict from ``find_regions`` (or the tool's details) as a Region."""
    return Region(x=int(r["x"]), y=int(r["y"]), w=int(r["w"]), h=int(r["h"]))
