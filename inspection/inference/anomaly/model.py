"""The taught anomaly model and how it scores an image: nearest-bank-patch distance per patch."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from inspection.inference.anomaly.features import STRIDE, patch_features, placed
from inspection.inference.anomaly.nearest import NearestBank
from inspection.inference.anomaly.preprocess import Prepared, prepare
from inspection.inference.anomaly.scoring import PatchScores, centres, patch_count, top_mean
from inspection.inference.anomaly.settings import AnomalySettings
from inspection.inference.anomaly.tiling import tiles
from inspection.inference.backbone import FeatureBackbone

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class AnomalyModel:
    """What teaching learnt; scores are in units of ``score_scale`` (typical good image ≈ 1).

    bank: float32 (M, D) memory bank of good patch features (projected when ``projection`` is set;
        with ``settings.position_weight``, each patch's weighted place in its image in the last
        two columns).
    projection: float32 (40 + 112, D) applied to every patch feature before the search, or None.
    image_size: (height, width) of the images it was taught on (the commonest, when
        ``settings.sizes`` is "mixed"); with "one", other sizes are refused when scored.
    threshold: image score at and above which a part is defective (normalised units).
    calibration: how the threshold was chosen (method, held-out scores, ...), JSON-ready.
    provenance: image count, date, recipe, tool id, lineside version, skipped files, JSON-ready.
    """

    settings: AnomalySettings
    bank: np.ndarray
    image_size: tuple[int, int]
    backbone_sha256: str
    score_scale: float
    threshold: float
    calibration: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    projection: np.ndarray | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Scored:
    """One image's result: map float32 (H, W) at the input's size, its patch scores (same
    units) and ``score`` = ``image_score`` of them."""

    score: float
    map: np.ndarray
    patches: PatchScores


def image_score(values: np.ndarray, map_: np.ndarray, settings: AnomalySettings) -> float:
    """An image's (or part's) score from its patch scores ``values`` (P,) and its map (any shape,
    same units): the mean of the highest few patches, or the map's maximum for "map_max"."""
    if settings.score == "map_max":
        return float(map_.max()) if map_.size else 0.0
    return top_mean(values, patch_count(settings.pool, settings.score_patches))


def embed(
    backbone: FeatureBackbone,
    image: np.ndarray,
    settings: AnomalySettings,
    projection: np.ndarray | None = None,
) -> tuple[np.ndarray, Prepared]:
    """Patch features float32 (rows, cols, D) of a uint8 grey/BGR image, and how it was sized."""
    prepared = prepare(
        image,
        settings.long_side,
        backbone.multiple,
        settings.border_px,
        scale=settings.scale if settings.sizes == "mixed" else 0.0,
    )
    f8, f16 = backbone.features(prepared.image)
    return patch_features(f8, f16, prepared, settings, projection), prepared


def grid_centres(grid: np.ndarray, prepared: Prepared) -> np.ndarray:
    """int32 (rows·cols, 2) (y, x) px of each patch centre of ``grid`` in the embedded image."""
    rows, cols = grid.shape[:2]
    content, source = (
        (prepared.content_h, prepared.content_w),
        (prepared.source_h, prepared.source_w),
    )
    return centres(rows, cols, content, source, STRIDE)


def raw_map(
    nearest: NearestBank,
    grid: np.ndarray,
    prepared: Prepared,
    settings: AnomalySettings,
    offset: tuple[int, int] = (0, 0),
    image_hw: tuple[int, int] | None = None,
) -> tuple[np.ndarray, PatchScores]:
    """float32 (source_h, source_w) smoothed distance map (raw units) from a patch grid, and the
    patch scores it was made from. ``offset``: where the embedded image (a tile) lies in the
    whole image of ``image_hw`` (default: it is the whole image), for the patches' places."""
    rows, cols = grid.shape[:2]
    where = grid_centres(grid, prepared)
    feats = grid.reshape(rows * cols, -1)
    if settings.position_weight > 0:
        whole = image_hw or (prepared.source_h, prepared.source_w)
        feats = placed(feats, where + np.asarray(offset, np.int32), whole, settings.position_weight)
    dist = nearest.distances(feats).reshape(rows, cols)
    patches = PatchScores(values=dist.ravel(), centres=where)
    # grid cell centres sit at STRIDE·(i + 0.5): a half-pixel-aligned resize keeps them there
    up = cv2.resize(dist, (cols * STRIDE, rows * STRIDE), interpolation=cv2.INTER_LINEAR)
    up = up[: prepared.content_h, : prepared.content_w]
    if settings.sigma_px > 0:
        up = cv2.GaussianBlur(up, (0, 0), settings.sigma_px, borderType=cv2.BORDER_REFLECT)
    if (prepared.content_h, prepared.content_w) != (prepared.source_h, prepared.source_w):
        up = cv2.resize(up, (prepared.source_w, prepared.source_h), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(up, dtype=np.float32), patches


def image_map(
    backbone: FeatureBackbone,
    nearest: NearestBank,
    image: np.ndarray,
    settings: AnomalySettings,
    projection: np.ndarray | None = None,
) -> tuple[np.ndarray, PatchScores]:
    """float32 (H, W) raw distance map of a uint8 grey/BGR image, tile by tile when tiling is on,
    and its patch scores (every tile's, centres in the image's pixels)."""
    h, w = image.shape[:2]
    parts = tiles(h, w, settings.tile_px)
    if len(parts) == 1:
        grid, prepared = embed(backbone, image, settings, projection)
        return raw_map(nearest, grid, prepared, settings)
    out = np.zeros((h, w), np.float32)
    values: list[np.ndarray] = []
    where: list[np.ndarray] = []
    for y, x, th, tw in parts:
        grid, prepared = embed(backbone, image[y : y + th, x : x + tw], settings, projection)
        window = out[y : y + th, x : x + tw]
        tile_map, patches = raw_map(nearest, grid, prepared, settings, (y, x), (h, w))
        np.maximum(window, tile_map, out=window)
        values.append(patches.values)
        where.append(patches.centres + np.asarray([y, x], np.int32))
    return out, PatchScores(values=np.concatenate(values), centres=np.concatenate(where))


def raw_image_score(
    backbone: FeatureBackbone,
    nearest: NearestBank,
    image: np.ndarray,
    settings: AnomalySettings,
    projection: np.ndarray | None = None,
) -> float:
    """Image score in raw distance units (before ``score_scale``), as calibration needs it."""
    m, patches = image_map(backbone, nearest, image, settings, projection)
    return image_score(patches.values, m, settings)


class AnomalyScorer:
    """Scores images with one model on one backbone; belongs to one worker thread."""

    def __init__(
        self, model: AnomalyModel, backbone: FeatureBackbone, *, cells: bool = True
    ) -> None:
        """``cells``: False searches the bank by brute force (the same answer; for timing it)."""
        if model.backbone_sha256 != backbone.sha256:
            raise ValueError(
                f"model was taught on backbone {model.backbone_sha256[:16]}…, "
                f"this backbone is {backbone.sha256[:16]}…"
            )
        self.model = model
        self.backbone = backbone
        self._nearest = NearestBank(model.bank, model.settings.knn, cells=cells)
        self._projection = model.projection

    def score(self, image: np.ndarray) -> Scored:
        """Score and map (normalised units) of a uint8 grey or BGR image of the taught size
        (any size when the model was taught on mixed sizes)."""
        h, w = image.shape[:2]
        th, tw = self.model.image_size
        if self.model.settings.sizes == "one" and (h, w) != (th, tw):
            raise ValueError(f"image is {w}×{h} px, the model was taught on {tw}×{th} px images")
        st = self.model.settings
        m, raw = image_map(self.backbone, self._nearest, image, st, self._projection)
        inv = np.float32(1.0 / self.model.score_scale)
        m *= inv
        patches = PatchScores(values=raw.values * inv, centres=raw.centres)
        return Scored(score=image_score(patches.values, m, st), map=m, patches=patches)
