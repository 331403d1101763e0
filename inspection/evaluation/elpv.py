"""The ELPV solar-cell set laid out for `lineside eval anomaly`: a real set to judge the defect tool
on parts it was not tuned on (electroluminescence images of mono- and polycrystalline cells).

The set is not part of Lineside and is never fetched by it. A developer gets it once, by hand,
from the package index (CC BY-NC-SA 4.0, Buerhop-Lutz, Deitsch et al.), unpacks it, and lays it
out::

    pip download --no-deps elpv-dataset -d /tmp/elpv
    python -m zipfile -e /tmp/elpv/elpv_dataset-*.whl /tmp/elpv/x
    python -m inspection.evaluation.elpv /tmp/elpv/x/elpv_dataset/data /tmp/elpv_sets
    lineside eval anomaly --data /tmp/elpv_sets/mono

Each cell type becomes one MVTec-AD-layout folder of links to the images: ``TRAIN_SHARE`` of its
defect-free cells (shuffled with ``seed``) in ``train/good``, the other defect-free ones in
``test/good``, and the cells with a defect probability of at least ``DEFECTIVE_FROM`` in
``test/crack``. Cells rated 1/3 (the experts were unsure) are left out of both.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from pathlib import Path

TRAIN_SHARE = 0.6
DEFECTIVE_FROM = 0.5
KINDS = ("mono", "poly")


@dataclass(frozen=True, slots=True)
class Cell:
    image: Path
    defect_probability: float
    kind: str


def read_labels(data_dir: Path) -> list[Cell]:
    """The cells listed in ``data_dir/labels.csv`` (``<image> <probability> <kind>`` per line);
    ValueError naming the file and line when a line is not that."""
    labels = data_dir / "labels.csv"
    cells = []
    for number, line in enumerate(labels.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        try:
            name, probability, kind = parts
            p = float(probability)
        except ValueError:
            raise ValueError(
                f"{labels}:{number}: expected '<image> <probability> <kind>', got {line!r}"
            ) from None
        if kind not in KINDS or not 0.0 <= p <= 1.0:
            raise ValueError(f"{labels}:{number}: kind must be mono or poly, probability 0–1")
        cells.append(Cell(image=data_dir / name, defect_probability=p, kind=kind))
    return cells


def write_layout(data_dir: Path, out_dir: Path, seed: int = 0) -> dict[str, dict[str, int]]:
    """One folder per cell type under ``out_dir`` (module docstring); returns the counts."""
    cells = read_labels(data_dir)
    counts: dict[str, dict[str, int]] = {}
    for kind in KINDS:
        good = [c for c in cells if c.kind == kind and c.defect_probability == 0.0]
        bad = [c for c in cells if c.kind == kind and c.defect_probability >= DEFECTIVE_FROM]
        random.Random(seed).shuffle(good)
        taught = round(TRAIN_SHARE * len(good))
        split = {
            "train/good": good[:taught],
            "test/good": good[taught:],
            "test/crack": bad,
        }
        for folder, members in split.items():
            target = out_dir / kind / folder
            target.mkdir(parents=True, exist_ok=True)
            for cell in members:
                link = target / cell.image.name
                if not link.exists():
                    link.symlink_to(cell.image.resolve())
        counts[kind] = {folder: len(members) for folder, members in split.items()}
    return counts


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path, help="the unpacked set's data folder (labels.csv)")
    parser.add_argument("out", type=Path, help="where the mono/ and poly/ folders go")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(write_layout(args.data, args.out, args.seed))
