"""Every knob of the anomaly model, with defaults chosen to work on any folder of good parts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

PREPROCESSING_VERSION = 4
"""Bumped whenever preprocessing or feature extraction changes the features a model learnt."""

SIZE_POLICIES = ("one", "mixed")
SCORES = ("patches", "map_max")
LEGACY: dict[str, Any] = {"score": "map_max", "score_patches": 0, "position_weight": 0.0}
"""Values of settings added later, for model files written before them: what they were taught with."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AnomalySettings:
    """How images become patch features, how the memory bank is built and how maps are scored.

    long_side: an image whose longer side exceeds this many px is shrunk to it (never enlarged),
        aspect ratio kept, and padded (reflected) up to multiples of 32; thin defects keep
        their shape.
    border_px: reflected context (px of the resized image, a multiple of 16) added on every
        side before the backbone, so edge patches are not computed against its zero padding.
    pool: side of the local average pooling on each feature map (patch neighbourhood, odd).
        3 (PatchCore's) gives smooth maps for defects several patches large; 1 (none) keeps
        thin cracks, scratches and pits a few px wide from being averaged into the texture
        around them (much better on fine textures; less smooth maps of large defects).
    weight16: factor on the stride-16 features before concatenation with the stride-8 ones.
    feature_dims: patch features are projected onto their first this many principal components
        (fitted on the taught patches, stored with the model); 0 keeps all of them. Nearest-
        neighbour search time is proportional to it.
    coreset_ratio / bank_min / bank_max: memory bank = greedy k-center coreset of this fraction
        of the training patches, but at least ``bank_min`` (few images: keep them all) and at
        most ``bank_max`` patches, so scoring time does not grow with the number of images.
    knn: patch score = mean distance to this many nearest bank patches.
    sigma_px: Gaussian smoothing of the map, in px of the resized image.
    score: how an image's score is made (scoring.py): "map_max", the smoothed map's highest
        pixel (the default, and what models taught before this setting existed keep);
        "patches", the mean of its ``score_patches`` highest patch scores (textures, with
        pool 1: a good texture's single peaks count less than a defect's several patches).
    score_patches: with "patches", how many are averaged; 0 is (pool + 1)², the patches a
        defect smaller than one patch raises; 1 is PatchCore's plain maximum patch score.
    position_weight: 0 (off) compares a patch with good patches from anywhere in the image; > 0,
        for parts that are aligned (the same place of the part at the same place in the image),
        adds this many distance units per 1 % of the image's height or width between a patch
        and a good one, so a patch is compared mostly with good patches from its own
        neighbourhood: a crack like a busbar elsewhere no longer finds its match there.
    tile_px: 0 scores the image whole; else an image with a side longer than this is cut into
        overlapping tiles of at most tile_px × tile_px, each taught and scored at its own
        resolution (see tiling.py): small defects in large frames.
    holdout: fraction of the good images kept out of the bank to calibrate the threshold
        (at least 2 images).
    sizes: "one": every image is the taught size (a tool's ROI), others are refused when
        scored; "mixed" (set by teaching when the good images differ in size): every image,
        taught or scored, is resized by ``scale`` (aspect kept, padded by reflection), so
        textures and defects keep one size in pixels across images of any size.
    scale: with "mixed", the factor every image is resized by; teaching sets it so the
        median image's longer side becomes ``long_side`` (small images are enlarged by the
        same factor, never left small).
    """

    long_side: int = 384
    border_px: int = 16
    pool: int = 3
    weight16: float = 1.5
    feature_dims: int = 64
    coreset_ratio: float = 0.1
    bank_min: int = 4096
    bank_max: int = 8192
    knn: int = 1
    sigma_px: float = 4.0
    score: str = "map_max"
    score_patches: int = 0
    position_weight: float = 0.0
    tile_px: int = 0
    holdout: float = 0.2
    seed: int = 0
    sizes: str = "one"
    scale: float = 0.0
    version: int = PREPROCESSING_VERSION

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AnomalySettings:
        """Settings from a model file; unknown keys or values of the wrong type are a ValueError
        naming them (a damaged file's ``"long_side": null`` would fail later, far from here)."""
        names = {f.name for f in fields(cls)}
        data = {**LEGACY, **data}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown settings {unknown}")
        for f in fields(cls):
            if f.name in data and not _of_type(data[f.name], f.type):
                raise ValueError(f"setting {f.name!r} must be {f.type}, got {data[f.name]!r}")
        return cls(**data)

    def __post_init__(self) -> None:
        if self.border_px < 0 or self.border_px % 16:
            raise ValueError(
                f"border_px must be a non-negative multiple of 16, got {self.border_px}"
            )
        if self.tile_px and self.tile_px < 32:
            raise ValueError(f"tile_px must be 0 (off) or at least 32, got {self.tile_px}")
        if self.sizes not in SIZE_POLICIES:
            raise ValueError(f"sizes must be one of {SIZE_POLICIES}, got {self.sizes!r}")
        if self.sizes == "mixed" and not self.scale > 0:
            raise ValueError(f"sizes 'mixed' needs a scale > 0, got {self.scale}")
        if self.pool < 1 or self.pool % 2 == 0:
            raise ValueError(f"pool must be an odd number ≥ 1, got {self.pool}")
        if self.score not in SCORES:
            raise ValueError(f"score must be one of {SCORES}, got {self.score!r}")
        if self.score_patches < 0:
            raise ValueError(
                f"score_patches must be 0 (auto) or positive, got {self.score_patches}"
            )
        if not self.position_weight >= 0:
            raise ValueError(f"position_weight must be ≥ 0, got {self.position_weight}")
        if self.feature_dims < 0:
            raise ValueError(f"feature_dims must be 0 (all) or positive, got {self.feature_dims}")


def _of_type(value: object, annotation: object) -> bool:
    """Whether a JSON value fits a settings field annotated ``int``, ``float`` or ``str``."""
    if isinstance(value, bool):
        return False
    if annotation == "int":
        return isinstance(value, int)
    if annotation == "float":
        return isinstance(value, int | float)
    return isinstance(value, str)
