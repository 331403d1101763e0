"""Writing a generated surface set in the MVTec AD layout, so `lineside eval anomaly` runs on it.

``train/good/``, ``test/good/``, ``test/<defect>/`` and ``ground_truth/<defect>/<stem>_mask.png``
(0 or 255). Every image has its own seeded generator, so a set is the same on every machine and
one image does not change when the counts do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from inspection.errors import LinesideError
from inspection.evaluation.surfaces.defects import draw_defect
from inspection.evaluation.surfaces.textures import MATERIALS, surface

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Material:
    """How a material's set is made: its defects and its image size(s), (height, width) px.

    size: one size for every image, or None for sizes drawn per image between ``side_min`` and
    ``side_max`` px with an aspect ratio up to ``aspect_max`` (a folder of tile crops).
    """

    name: str
    defects: tuple[str, ...]
    size: tuple[int, int] | None = None
    side_min: int = 100
    side_max: int = 630
    aspect_max: float = 3.0


MATERIAL_SETS = {
    "metal": Material(name="metal", defects=("pit", "scratch"), size=(160, 384)),
    "fabric": Material(name="fabric", defects=("pit", "scratch"), size=(256, 256)),
    "tiles": Material(name="tiles", defects=("crack", "pit")),
    "solar": Material(name="solar", defects=("crack", "pit"), size=(300, 300)),
}
assert tuple(MATERIAL_SETS) == MATERIALS

_SPLITS = {"train": 0, "good": 1, "crack": 2, "pit": 3, "scratch": 4}


def image_size(material: Material, rng: np.random.Generator) -> tuple[int, int]:
    """(height, width) of one image of ``material``."""
    if material.size is not None:
        return material.size
    long = int(rng.integers(int(material.side_min * 1.4), material.side_max + 1))
    short = max(material.side_min, round(long / float(rng.uniform(1.0, material.aspect_max))))
    return (long, short) if rng.random() < 0.5 else (short, long)


def _rng(seed: int, material: str, split: str, i: int) -> np.random.Generator:
    return np.random.default_rng([seed, MATERIALS.index(material), _SPLITS[split], i])


def _write(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise LinesideError(f"{path}: PNG encoding failed")
    try:
        path.write_bytes(data.tobytes())
    except OSError as exc:
        raise LinesideError(f"{path}: cannot write: {exc}") from None


def write_surface_set(
    material: str,
    out_dir: Path,
    *,
    seed: int = 0,
    train: int = 40,
    test_good: int = 20,
    per_defect: int = 15,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Write one material's set to ``out_dir``; a JSON-ready summary (counts, sizes, defects)."""
    if material not in MATERIAL_SETS:
        raise ValueError(f"unknown material {material!r}; choose from {MATERIALS}")
    if train < 5 or test_good < 1 or per_defect < 1:
        raise ValueError(
            f"need train ≥ 5, test_good ≥ 1 and per_defect ≥ 1 (got {train}, {test_good}, "
            f"{per_defect})"
        )
    spec = MATERIAL_SETS[material]
    out_dir = Path(out_dir)
    jobs: list[tuple[str, str, int]] = [("train", "good", i) for i in range(train)]
    jobs += [("test", "good", i) for i in range(test_good)]
    jobs += [("test", d, i) for d in spec.defects for i in range(per_defect)]
    sizes: list[tuple[int, int]] = []
    for n, (split, kind, i) in enumerate(jobs):
        rng = _rng(seed, material, "train" if split == "train" else kind, i)
        h, w = image_size(spec, rng)
        sizes.append((h, w))
        image = surface(material, rng, h, w)
        stem = f"{i:03d}"
        if kind == "good":
            _write(out_dir / split / "good" / f"{stem}.png", image)
        else:
            drawn = draw_defect(rng, image, kind)
            _write(out_dir / "test" / kind / f"{stem}.png", drawn.image)
            mask = drawn.mask.astype(np.uint8) * 255
            _write(out_dir / "ground_truth" / kind / f"{stem}_mask.png", mask)
        if progress is not None:
            progress(n + 1, len(jobs))
    return {
        "material": material,
        "out": str(out_dir),
        "seed": seed,
        "train_good": train,
        "test_good": test_good,
        "defects": {d: per_defect for d in spec.defects},
        "sizes": {
            "min": [min(s[0] for s in sizes), min(s[1] for s in sizes)],
            "max": [max(s[0] for s in sizes), max(s[1] for s in sizes)],
            "distinct": len(set(sizes)),
        },
    }
