"""Heatmaps of recent parts: scored as a job, shown with score against threshold."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QGuiApplication

from app.heatmap_dialog import HeatmapDialog, RecentParts
from inspection.jobs import JobPool
from inspection.paths import demo_recipe, user_paths
from inspection.pipeline import teaching
from inspection.recipe import load_recipe
from inspection.sources.synthetic import SyntheticLine
from inspection.types import Frame, Inspection, Verdict


def inspection(seq: int, frame: Frame, verdict: Verdict = Verdict.PASS) -> Inspection:
    return Inspection(
        inspection_id=f"id{seq}",
        station="s",
        part_seq=seq,
        verdict=verdict,
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


def test_recent_parts_keep_the_last_failed_parts_too():
    recent = RecentParts(size=2)
    for i in range(8):
        verdict = Verdict.FAIL if i in (1, 2, 5) else Verdict.PASS
        recent.add(inspection(i, Frame(camera="cam1", seq=i, t_ns=0, image=None), verdict))  # type: ignore[arg-type]
    assert [seq for seq, _ in recent.frames("cam1")] == [6, 7]
    assert [seq for seq, _ in recent.frames("cam1", failed=True)] == [2, 5]
    assert [i.verdict for i in recent.parts(failed=True)] == [Verdict.FAIL, Verdict.FAIL]


def test_dialog_scores_recent_or_failed_parts_off_the_gui_thread(qtbot, lineside_home: Path):
    recipe = load_recipe(demo_recipe())
    paths = user_paths().ensure()
    teaching.teach_from_line(recipe, paths, good_parts=20, tools=["surface"])
    line = SyntheticLine(recipe.cameras[0].source)
    recent = RecentParts()
    for i, verdict in ((0, Verdict.PASS), (1, Verdict.FAIL), (2, Verdict.PASS)):
        frame = Frame(camera="cam1", seq=i, t_ns=0, image=line.render_part(i)[0])
        recent.add(inspection(i, frame, verdict))
    pool = JobPool()
    dialog = HeatmapDialog(recipe, "surface", paths, pool, recent)
    qtbot.addWidget(dialog)

    # sized to the screen from the start, not a small box that grows off-screen later
    area = QGuiApplication.primaryScreen().availableGeometry()
    width, height = dialog.width(), dialog.height()
    assert 0.7 * area.width() <= width <= area.width()
    assert 0.7 * area.height() <= height <= area.height()

    assert dialog.choice() == "recent"
    qtbot.waitUntil(lambda: dialog.job.done and len(dialog.previews) == 3, timeout=60_000)
    assert "Score / threshold" in dialog.message.text()
    assert dialog.grid.count() == 6  # a picture and a caption per part
    assert (dialog.width(), dialog.height()) == (width, height)  # the pictures scroll

    dialog.choice_box.setCurrentIndex(dialog.choice_box.findData("failed"))
    qtbot.waitUntil(lambda: dialog.job.done and len(dialog.previews) == 1, timeout=60_000)
    assert [p.part_seq for p in dialog.previews] == [1]
    qtbot.waitUntil(lambda: dialog.grid.count() == 2)
    captions = [
        dialog.grid.itemAt(n).widget().text()
        for n in range(dialog.grid.count())
        if dialog.grid.itemAt(n).widget().text()
    ]
    assert len(captions) == 1 and captions[0].startswith("part 1:")
    assert "line said FAIL" in captions[0]
    dialog.done(0)
    assert pool.shutdown(5.0)
