"""A part the simulated line calls dented shows it: every chip bites visibly into the pack.

Issue #14: a bite out of the bottom edge bulged towards the surface zone's centre, so near either
end of the edge it ran along the edge — a sliver 2–5 px deep (part 738 of seed 7), which the
ground truth still counted as a dent and the defect tool could not be expected to see.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from inspection.recipe import SyntheticSourceSettings
from inspection.sources import synthetic_defects as defects
from inspection.sources.synthetic_pack import PackPrinter
from inspection.sources.synthetic_plan import LinePlan
from inspection.sources.synthetic_render import make_geometry

GEOMETRY = make_geometry(1280, 1024, False)  # the demo's frames: scale 1, 768 px packs


def carton() -> np.ndarray:
    g = GEOMETRY
    alpha = np.zeros((g.sprite_h, g.sprite_w), np.uint8)
    alpha[g.margin : g.margin + g.pack_h, g.margin : g.margin + g.pack_w] = 255
    return alpha


def test_every_chip_bites_at_least_7_px_into_the_pack() -> None:
    whole = carton() > 127
    depth_of = cv2.distanceTransform(whole.astype(np.uint8), cv2.DIST_L2, 5)
    chips = 0
    for seed in range(400):
        alpha = carton()
        body = np.full(alpha.shape, 200, np.uint8)
        _, outline_changed = defects.dent(body, alpha, GEOMETRY, np.random.default_rng(seed))
        if not outline_changed:
            continue
        chips += 1
        lost = whole & (alpha < 128)
        # before the fix: as little as 25 px², 2 px deep
        assert lost.sum() >= 200, f"seed {seed}: the chip removes only {lost.sum()} px² of pack"
        depth = float(depth_of[lost].max())
        assert depth >= 7.0, f"seed {seed}: the chip reaches only {depth:.0f} px into the pack"
    assert chips > 150  # about half the dents are chips


@pytest.mark.parametrize(
    ("a", "b", "inside", "expected"),
    [
        ((10.0, 100.0), (-10.0, 100.0), (0.0, 0.0), (0.0, -1.0)),  # bottom edge: straight up
        ((-10.0, 100.0), (10.0, 100.0), (300.0, 0.0), (0.0, -1.0)),  # centre far off to a side
        ((30.0, 100.0), (0.0, 70.0), (200.0, 50.0), (0.7071, -0.7071)),  # bottom-left corner
    ],
)
def test_chip_bulges_square_to_its_cut(
    a: tuple[float, float],
    b: tuple[float, float],
    inside: tuple[float, float],
    expected: tuple[float, float],
) -> None:
    got = defects.chip_inward(np.array(a), np.array(b), np.array(inside))
    assert got == pytest.approx(np.array(expected), abs=1e-3)


def test_seed_7_part_738_is_visibly_chipped() -> None:
    plan = LinePlan(
        SyntheticSourceSettings.model_validate(
            {"type": "synthetic", "seed": 7, "defect_rate": 0.25, "print_variation": 0.05}
        )
    ).part(738)
    assert plan.defect == "dent"
    printer = PackPrinter(GEOMETRY, np.random.default_rng(0))
    dented = printer.sprite(plan).keep.astype(np.int16)
    clean = printer.sprite(dataclasses.replace(plan, defect=None)).keep.astype(np.int16)
    # where the belt now shows through the pack (in the pack's drop shadow, so "shows" is a gain
    # in belt share of ~50 of at most ~130 there): a sliver of 148 px² before the fix, now 444
    bite = (dented - clean) > 40
    assert bite.sum() >= 300
