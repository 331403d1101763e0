"""Heatmap preview of a taught defect tool: the defect lights up, a good part stays cool."""

from __future__ import annotations

import pytest

from inspection.paths import demo_recipe, user_paths
from inspection.pipeline import teaching
from inspection.pipeline.preview import heatmap_previews
from inspection.recipe import load_recipe
from inspection.sources.synthetic import SyntheticLine
from inspection.types import Frame


def test_preview_shows_the_defect_hotter_than_a_good_part(lineside_home):
    recipe = load_recipe(demo_recipe())
    paths = user_paths().ensure()
    with pytest.raises(ValueError, match="not been taught"):
        heatmap_previews(recipe, "surface", paths, [])
    teaching.teach_from_line(recipe, paths, good_parts=30, tools=["surface"])
    line = SyntheticLine(recipe.cameras[0].source)
    good = next(i for i in range(200) if line.truth(i).is_good)
    stain = next(i for i in range(2000) if line.truth(i).defects == ("stain",))
    parts = [
        (i, Frame(camera="cam1", seq=i, t_ns=0, image=line.render_part(i)[0]))
        for i in (good, stain)
    ]
    previews = heatmap_previews(recipe, "surface", paths, parts)
    assert [p.part_seq for p in previews] == [good, stain]
    roi = recipe.tools[1].roi
    assert previews[0].image.shape == (roi.h, roi.w, 3)
    assert previews[1].score > previews[0].score
    assert previews[1].score >= previews[1].threshold > previews[0].score
    with pytest.raises(ValueError, match="not a defect tool"):
        heatmap_previews(recipe, "label", paths, parts)
