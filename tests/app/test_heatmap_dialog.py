"""Heatmaps of recent parts: scored as a job, shown with score against threshold."""

from __future__ import annotations

from pathlib import Path

from app.heatmap_dialog import HeatmapDialog, RecentParts
from inspection.jobs import JobPool
from inspection.paths import demo_recipe, user_paths
from inspection.pipeline import teaching
from inspection.recipe import load_recipe
from inspection.sources.synthetic import SyntheticLine
from inspection.types import Frame, Inspection, Verdict


def inspection(seq: int, frame: Frame) -> Inspection:
    return Inspection(
        inspection_id=f"id{seq}",
        station="s",
        part_seq=seq,
        verdict=Verdict.PASS,
        reason="",
        tool_results=(),
        frames=(frame,),
        recipe_name="demo",
        recipe_version="1",
    )


def test_recent_parts_keep_the_last_frames_per_camera():
    recent = RecentParts(size=2)
    for i in range(3):
        recent.add(inspection(i, Frame(camera="cam1", seq=i, t_ns=0, image=None)))  # type: ignore[arg-type]
    assert [seq for seq, _ in recent.frames("cam1")] == [1, 2]
    assert recent.frames("cam2") == []


def test_dialog_scores_recent_parts_off_the_gui_thread(qtbot, lineside_home: Path):
    recipe = load_recipe(demo_recipe())
    paths = user_paths().ensure()
    teaching.teach_from_line(recipe, paths, good_parts=20, tools=["surface"])
    line = SyntheticLine(recipe.cameras[0].source)
    parts = [(i, Frame(camera="cam1", seq=i, t_ns=0, image=line.render_part(i)[0])) for i in (0, 1)]
    pool = JobPool()
    dialog = HeatmapDialog(recipe, "surface", paths, pool, parts)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.job.done and len(dialog.previews) == 2, timeout=60_000)
    assert "Score / threshold" in dialog.message.text()
    assert dialog.grid.count() == 4  # a picture and a caption per part
    dialog.done(0)
    assert pool.shutdown(5.0)
