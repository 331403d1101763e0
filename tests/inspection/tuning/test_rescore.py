"""Re-score: a re-taught defect model on the images a real station run archived.

One short run of the simulated line (tests/support/rescore_line.py) through the
real results store and image archive; the model in force is taught on 6 good parts of the line, the
re-taught one on 5 good parts of another seed, written beside it. Re-scoring must give exactly the
scores the new model's tool gives on the archived files, and must write nothing.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import threading
from pathlib import Path
from typing import Any

import cv2
import pytest
from support.rescore_line import (
    OVERRIDE,
    RecordedLine,
    make_paths,
    recipe_doc,
    recorded_line,
    run_station,
)

from inspection.inference.anomaly.model_file import load_model
from inspection.inference.manifest import backbone_manifest_path, load_manifest
from inspection.jobs import Cancelled
from inspection.recipe import Recipe, parse_recipe
from inspection.tools.base import run_guarded
from inspection.tools.registry import ToolContext, build_tool
from inspection.tuning import rescore as rs
from inspection.tuning.rescore_images import image_for
from inspection.tuning.scores import TuningError
from inspection.types import Frame, Verdict


@pytest.fixture(scope="module")
def line(tmp_path_factory: pytest.TempPathFactory) -> RecordedLine:
    return recorded_line(tmp_path_factory.mktemp("line"))


def recorded(db: Path) -> list[tuple[str, str | None, str, float]]:
    """(inspection id, image path, the surface tool's verdict, its score) in part order."""
    with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT i.inspection_id, i.image_path, t.verdict, t.score FROM inspections i "
            "JOIN tool_results t ON t.inspection = i.id AND t.tool_id = 'surface' ORDER BY i.id"
        ).fetchall()
    conn.close()
    return rows


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def direct_result(recipe: Recipe, model: Path, image_file: Path, **settings: Any):
    """The new model's tool run on an archived file, without re-score's help."""
    tool_settings = recipe.tools[0].model_copy(update={"model": model, **settings})
    tool = build_tool(tool_settings, "cam1", ToolContext(threads=1))
    try:
        image = cv2.imread(str(image_file), cv2.IMREAD_UNCHANGED)
        return run_guarded(tool, Frame(camera="cam1", seq=0, t_ns=0, image=image))
    finally:
        tool.close()


def test_rescore_gives_the_new_models_scores_and_the_flips(line: RecordedLine) -> None:
    db, archive = line.paths.results_db, line.paths.archive
    before = digest(db)
    steps: list[tuple[int, int, str]] = []
    result = rs.rescore(
        db,
        archive,
        line.recipe,
        "surface",
        line.retaught,
        0.0,
        4e9,
        progress=lambda d, t, m: steps.append((d, t, m)),
    )
    rows = recorded(db)
    with_image = [r for r in rows if r[1]]
    assert len(rows) == 16 and 0 < len(with_image) < 16  # 1 in 2 passes archived, every fail
    assert result.summary.no_image == 16 - len(with_image)
    assert [p.inspection_id for p in result.parts] == [r[0] for r in with_image]
    assert not result.skipped and result.summary.rescored == len(with_image)
    assert steps[-1][:2] == (len(with_image), len(with_image)) and len(steps) == len(with_image)

    for part, row in zip(result.parts, with_image, strict=True):
        assert part.old_verdict == Verdict(row[2]) and part.old_score == row[3]
        assert part.old_threshold == OVERRIDE
        file = archive / str(row[1])
        direct = direct_result(line.recipe, line.retaught, file)
        assert part.new_score == direct.measurements["score"]  # exactly
        assert part.new_verdict is direct.verdict
        assert part.new_threshold == OVERRIDE  # the recipe's override stands

    expect_rejected = {
        p.inspection_id
        for p in result.parts
        if p.old_verdict is Verdict.PASS and p.new_verdict is not Verdict.PASS
    }
    expect_passed = {
        p.inspection_id
        for p in result.parts
        if p.old_verdict is not Verdict.PASS and p.new_verdict is Verdict.PASS
    }
    assert expect_rejected or expect_passed, "the scenario should flip some verdicts"
    assert {p.inspection_id for p in result.newly_rejected} == expect_rejected
    assert {p.inspection_id for p in result.newly_passed} == expect_passed
    s = result.summary
    assert (s.newly_rejected, s.newly_passed) == (len(expect_rejected), len(expect_passed))
    # one tool only: a part passes exactly when this tool passes it
    n = len(result.parts)
    assert s.old_yield == sum(r[2] == "PASS" for r in with_image) / n
    assert s.new_yield == sum(p.new_verdict is Verdict.PASS for p in result.parts) / n
    assert f"{n} parts re-scored" in s.line()

    assert digest(db) == before  # re-scoring reads only
    assert line.recipe.tools[0].model is None  # the recipe's model setting is untouched


def test_without_an_override_the_new_models_calibrated_threshold_decides(
    line: RecordedLine,
) -> None:
    recipe = parse_recipe(recipe_doc(7, threshold=None), "rescore.yaml")
    result = rs.rescore(
        line.paths.results_db, line.paths.archive, recipe, "surface", line.retaught, 0.0, 4e9
    )
    sha = load_manifest(backbone_manifest_path()).sha256
    calibrated = load_model(line.retaught, sha).threshold
    assert result.parts and all(p.new_threshold == calibrated for p in result.parts)
    assert all(p.old_threshold == OVERRIDE for p in result.parts)
    for p in result.parts:
        assert p.new_score is not None
        # no minimum area in this recipe: a score at or above the threshold fails
        assert (p.new_verdict is Verdict.FAIL) == (p.new_score >= calibrated)


def test_cancel_mid_way_raises_and_writes_nothing(line: RecordedLine) -> None:
    db = line.paths.results_db
    before = digest(db)
    files_before = sorted(p for p in line.paths.data.rglob("*") if p.is_file())
    cancel = threading.Event()
    seen: list[int] = []

    def progress(done: int, total: int, message: str) -> None:
        seen.append(done)
        if done == 2:
            cancel.set()

    with pytest.raises(Cancelled, match="nothing was changed"):
        rs.rescore(
            db,
            line.paths.archive,
            line.recipe,
            "surface",
            line.retaught,
            0.0,
            4e9,
            progress=progress,
            cancel=cancel,
        )
    assert seen == [1, 2]  # stopped between parts, at the next one
    assert digest(db) == before
    assert sorted(p for p in line.paths.data.rglob("*") if p.is_file()) == files_before


def test_a_corrupt_or_missing_image_is_skipped_and_counted(
    line: RecordedLine, tmp_path: Path
) -> None:
    archive = tmp_path / "images"
    shutil.copytree(line.paths.archive, archive)
    with_image = [r for r in recorded(line.paths.results_db) if r[1]]
    corrupt, missing = with_image[0], with_image[1]
    (archive / str(corrupt[1])).write_bytes(b"\xff\xd8 not a jpeg at all")
    (archive / str(missing[1])).unlink()
    result = rs.rescore(
        line.paths.results_db, archive, line.recipe, "surface", line.retaught, 0.0, 4e9
    )
    assert {(s.inspection_id, s.reason) for s in result.skipped} == {
        (corrupt[0], rs.UNREADABLE),
        (missing[0], rs.NO_FILE),
    }
    assert result.summary.skipped == {rs.UNREADABLE: 1, rs.NO_FILE: 1}
    assert result.summary.rescored == len(with_image) - 2
    assert "2 skipped" in result.summary.line()


def test_roi_crops_are_rescored_as_the_roi_and_other_tools_crops_are_skipped(
    line: RecordedLine, tmp_path: Path
) -> None:
    paths = make_paths(tmp_path / "crops")
    recipe = parse_recipe(recipe_doc(7, crops=True, parts=6), "crops.yaml")
    recipe = recipe.model_copy(
        update={"tools": [t.model_copy(update={"model": line.in_force}) for t in recipe.tools]}
    )
    run_station(recipe, paths)
    with_image = [r for r in recorded(paths.results_db) if r[1]]
    assert len(with_image) >= 2
    first = paths.archive / str(with_image[0][1])
    crops = sorted(first.parent.glob("*__cam1__surface.jpg"))
    assert len(crops) == len(with_image)
    assert not list(first.parent.glob("*__cam1.jpg"))  # crops only, no whole frames
    # one part keeps only the other tool's crop
    gone = with_image[-1][0]
    (first.parent / f"{gone}__cam1__surface.jpg").unlink()

    result = rs.rescore(paths.results_db, paths.archive, recipe, "surface", line.retaught, 0.0, 4e9)
    assert [(s.inspection_id, s.reason) for s in result.skipped] == [(gone, rs.OTHER_CROPS)]
    assert len(result.parts) == len(with_image) - 1
    # a tool aligned to the part's pose needs the whole frame: its crop is not enough
    aligned = recipe.tools[0].model_copy(update={"align": "part"})
    part_id, image_path = with_image[0][0], str(with_image[0][1])
    assert image_for(paths.archive, image_path, part_id, "cam1", aligned) == (
        None,
        rs.ALIGNED_CROP,
    )
    # two tools: a part passes after re-scoring only if the other tool passed it too
    with sqlite3.connect(f"{paths.results_db.as_uri()}?mode=ro", uri=True) as conn:
        edge = dict(
            conn.execute(
                "SELECT i.inspection_id, t.verdict FROM inspections i JOIN tool_results t "
                "ON t.inspection = i.id AND t.tool_id = 'edge'"
            ).fetchall()
        )
    conn.close()
    assert [p.others_pass for p in result.parts] == [
        edge[p.inspection_id] == "PASS" for p in result.parts
    ]
    assert result.summary.new_yield == sum(
        edge[p.inspection_id] == "PASS" and p.new_verdict is Verdict.PASS for p in result.parts
    ) / len(result.parts)
    for part in result.parts:
        crop = first.parent / f"{part.inspection_id}__cam1__surface.jpg"
        # the crop is the ROI: the tool on the whole crop gives the same score
        direct = direct_result(recipe, line.retaught, crop, roi=None)
        assert part.new_score == direct.measurements["score"]


def test_which_models_and_tools_can_be_rescored(line: RecordedLine, tmp_path: Path) -> None:
    assert rs.model_in_force(line.recipe, "surface", line.paths) == line.in_force
    assert rs.retaught_models(line.in_force) == [line.retaught]
    assert rs.retaught_models(tmp_path / "none" / "surface.lsam") == []
    with pytest.raises(TuningError, match="no tool 'nope'"):
        rs.rescore(
            line.paths.results_db, line.paths.archive, line.recipe, "nope", line.retaught, 0, 1
        )
    with pytest.raises(TuningError, match="does not exist"):
        rs.rescore(
            line.paths.results_db,
            line.paths.archive,
            line.recipe,
            "surface",
            tmp_path / "missing.lsam",
            0.0,
            4e9,
        )
    with pytest.raises(TuningError, match="no recorded parts"):
        rs.rescore(
            line.paths.results_db, line.paths.archive, line.recipe, "surface", line.retaught, 0, 1
        )
    codes = parse_recipe(
        {
            "name": "codes",
            "cameras": [{"id": "cam1", "source": {"type": "synthetic"}}],
            "tools": [{"id": "serial", "type": "codes", "formats": ["DataMatrix"]}],
        },
        "codes.yaml",
    )
    with pytest.raises(TuningError, match="is a codes tool"):
        rs.rescorable_settings(codes, "serial")
