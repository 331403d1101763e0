"""Tuning a tool's parameters (the label's offset, rotation, match and a field's OCR confidence)
on parts recorded by the real label tool on the simulated line: the what-if's counts equal numpy
on the same database, the limit in force reproduces the recorded verdicts, the suggestions say
the right side, Apply writes version N+1 and the next parts are judged by it, and limits that
cannot be tuned honestly say why."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from support.label_line import LIMITS, PARTS, recorded_label_line, run_line

from inspection.cli import main
from inspection.evaluation.truth import COVERED_BY_TOOL_TYPE
from inspection.paths import Paths
from inspection.recipe import load_recipe
from inspection.tuning import recipe_edit
from inspection.tuning.labels import set_label
from inspection.tuning.parameter_scores import load_parameter_scores
from inspection.tuning.parameters import find_parameter, recipe_value, with_parameter
from inspection.tuning.scores import TuningError
from inspection.tuning.suggest import NO_ESCAPES, suggest

EVER = (0.0, 4e9)


@pytest.fixture(scope="module")
def line(tmp_path_factory: pytest.TempPathFactory) -> tuple[Paths, Path]:
    return recorded_label_line(tmp_path_factory.mktemp("label-line"))


def load(paths: Paths, recipe: Path, parameter: str, labels: str = "truth"):
    return load_parameter_scores(
        paths.results_db,
        "label",
        parameter,
        *EVER,
        labels=labels,  # type: ignore[arg-type]
        recipe_files=[recipe],
    )


def rows(db: Path) -> dict[str, np.ndarray]:
    """The label tool's parts straight from the rows: verdict, reason, truth and measures."""
    conn = sqlite3.connect(db)
    found = conn.execute(
        "SELECT i.id, t.verdict, t.reason, i.truth FROM inspections i JOIN tool_results t "
        "ON t.inspection = i.id AND t.tool_id = 'label' ORDER BY i.id"
    ).fetchall()
    measures: dict[str, dict[int, float]] = {}
    for measure, part, value in conn.execute(
        "SELECT measure, inspection, value FROM tool_measures WHERE tool_id = 'label'"
    ):
        measures.setdefault(measure, {})[part] = value
    conn.close()
    caught = COVERED_BY_TOOL_TYPE["label"]
    defects = [set(json.loads(t)["defects"]) for *_, t in found]
    out = {
        "id": np.array([r[0] for r in found]),
        "passed": np.array([r[1] == "PASS" for r in found]),
        "reason": np.array([r[2] for r in found], dtype=object),
        "bad": np.array([bool(d & caught) for d in defects]),
    }
    for measure, values in measures.items():
        out[measure] = np.array([values.get(int(i), math.nan) for i in out["id"]])
    return out


CASES = [
    ("max_rotation_deg", "rotation_deg", "label skewed (", ">", [2.0, 4.0, 5.0, 8.0, 12.5, 20.0]),
    ("max_offset_px", "offset_px", "label shifted (", ">", [5.0, 20.0, 40.0, 100.0]),
    ("min_match", "match", "label does not match", "<", [0.5, 0.99, 0.995, 0.999]),
    ("lot.min_confidence", "lot_confidence", "lot unreadable (", "<", [0.5, 0.97, 0.98, 0.99]),
]


@pytest.mark.parametrize(("parameter", "measure", "finding", "sign", "limits"), CASES)
def test_counts_at_a_limit_equal_numpy_on_the_database(
    line: tuple[Paths, Path],
    parameter: str,
    measure: str,
    finding: str,
    sign: str,
    limits: list[float],
) -> None:
    paths, recipe = line
    view = load(paths, recipe, parameter).view()
    r = rows(paths.results_db)
    value = np.abs(r[measure]) if measure == "rotation_deg" else r[measure]
    decided = np.array(
        [
            p or all(x.startswith(finding) for x in str(why).split("; "))
            for p, why in zip(r["passed"], r["reason"], strict=True)
        ]
    ) & ~np.isnan(value)
    good = ~r["bad"]
    assert view.parts == PARTS and len(view.good) == good.sum()
    for limit in limits:
        fails = value > limit if sign == ">" else value < limit
        passes = decided & ~fails
        c = view.counts_at(limit)
        assert c.false_rejects == int((good & decided & fails).sum()), limit
        assert c.escapes == int((r["bad"] & passes).sum()), limit
        assert c.passed == int(passes.sum()) and c.yield_ == passes.sum() / PARTS
        assert c.newly_rejected == int((r["passed"] & fails).sum())
        assert c.newly_passed == int((~r["passed"] & passes).sum())
    # the limit in force gives exactly the recorded verdicts
    assert view.in_force == LIMITS.get(parameter, 0.5)
    now = view.counts_at(view.in_force)
    assert (now.newly_rejected, now.newly_passed) == (0, 0)
    assert now.passed == int(r["passed"].sum())


def test_the_rotation_limit_spreads_skewed_and_straight_labels_and_suggests_between(
    line: tuple[Paths, Path],
) -> None:
    """An engineer labels the skewed labels defect and the untouched packs good."""
    paths, recipe = line
    conn = sqlite3.connect(paths.results_db)
    truth = conn.execute("SELECT id, truth FROM inspections ORDER BY id").fetchall()
    conn.close()
    for part, text in truth:
        defects = json.loads(text)["defects"]
        if defects in ([], ["skewed_label"]):
            set_label(paths.results_db, part, "defect" if defects else "good")
    loaded = load(paths, recipe, "max_rotation_deg", labels="db")
    view = loaded.view()
    s = loaded.scores
    assert loaded.parameter.decision.rejects == "above" and loaded.versions == ("labels 1",)
    # real degrees, not a transformed score; a missing label has none and is rejected whatever
    assert np.nanmax(s.score) > 5.0 and np.nanmin(s.score) >= 0.0
    missing = ~np.isfinite(rows(paths.results_db)["offset_px"])
    assert missing.any() and np.isnan(s.score).sum() == missing.sum()
    (first, best) = suggest(view)
    assert first.kind == NO_ESCAPES and first.escapes == 0 and first.false_rejects == 0
    assert view.good.max() < first.threshold < view.bad.min() < 7.5
    assert "max_rotation_deg" in first.why and "rotation > max_rotation_deg" in first.why
    assert best.escapes == 1 and view.bad[0] < best.threshold < view.bad[1]
    flips = view.flips_at(best.threshold)  # the least skewed label would now pass
    assert len(flips.newly_rejected) == 0 and len(flips.newly_passed) == 1
    assert s.score[np.searchsorted(s.part_id, flips.newly_passed[0])] == view.bad[0]


def test_a_minimum_counts_from_below_and_flips_lowest_first(line: tuple[Paths, Path]) -> None:
    paths, recipe = line
    view = load(paths, recipe, "lot.min_confidence").view()
    values = np.sort(view.passable)
    limit = float((values[2] + values[3]) / 2)  # the three least confident would fail
    c = view.counts_at(limit)
    assert c.newly_rejected == 3 and c.passed == len(values) - 3
    flips = view.flips_at(limit)
    s = view.scores
    rejected = s.score[np.searchsorted(s.part_id, flips.newly_rejected)]
    assert list(rejected) == sorted(values[:3])  # the least confident first
    h = view.histogram(bins=10)
    # real confidences (0..1), widened down to the minimum in force (0.5)
    assert h.edges[0] == 0.5 and h.edges[-1] == pytest.approx(values.max())
    assert h.good.sum() + h.defect.sum() + h.unlabelled.sum() == len(values)


def test_apply_a_label_limit_writes_the_next_version_and_the_next_parts_are_judged_by_it(
    tmp_path: Path,
) -> None:
    paths, path = recorded_label_line(tmp_path)
    in_force = load_recipe(path)
    p = find_parameter("label", "label", "max_rotation_deg")
    view = load(paths, path, "max_rotation_deg").view()
    before = view.counts_at(10.0)
    entry = recipe_edit.apply_change(
        path, in_force, with_parameter(in_force, "label", p, 10.0), "skew up to 10° is fine"
    )
    assert entry.version == "2" and "max_rotation_deg" in entry.summary
    applied = load_recipe(path)
    assert applied.version == "2" and applied.tools[0].max_rotation_deg == 10.0
    run_line(applied, paths)  # the same 40 packs again, now under version 2
    conn = sqlite3.connect(paths.results_db)
    second = conn.execute(
        "SELECT i.recipe_version, t.verdict, t.reason FROM inspections i JOIN tool_results t "
        f"ON t.inspection = i.id WHERE i.id > {PARTS} ORDER BY i.id"
    ).fetchall()
    conn.close()
    assert len(second) == PARTS and {v for v, *_ in second} == {"2"}
    both = load(paths, path, "max_rotation_deg")
    s = both.scores
    assert both.versions == ("labels 1", "labels 2") and s.threshold_in_force == 10.0
    assert set(s.threshold[:PARTS].tolist()) == {5.0} and set(s.threshold[PARTS:]) == {10.0}
    # each part of version 2 was judged by 10°: skewed exactly when its rotation is over it
    rotation = np.abs(rows(paths.results_db)["rotation_deg"][PARTS:])
    skewed = np.array(["label skewed (" in why for *_, why in second])
    measured = np.isfinite(rotation)
    np.testing.assert_array_equal(skewed[measured], rotation[measured] > 10.0)
    assert any("> 10.0°)" in why for *_, why in second)
    assert np.any((rotation > 5.0) & (rotation <= 10.0) & ~skewed)  # passed only by the change
    # and the what-if over both versions reproduces every recorded verdict at its own limit
    assert before.threshold == 10.0
    at_each = both.view().counts_at(10.0)
    assert at_each.newly_rejected == 0


def test_limits_that_cannot_be_tuned_say_why(line: tuple[Paths, Path], tmp_path: Path) -> None:
    paths, recipe = line
    with pytest.raises(TuningError, match="decides by counts, formats and patterns"):
        find_parameter("serial", "codes", "min_count")
    with pytest.raises(TuningError, match="decides by its score alone"):
        find_parameter("model", "anomalib", "min_area_px")
    with pytest.raises(TuningError, match="tunable: max_offset_px, max_rotation_deg, min_match"):
        find_parameter("label", "label", "scale")
    tool = load_recipe(recipe).tools[0]
    searched = tool.model_copy(
        update={"fields": [tool.fields[0].model_copy(update={"region": None})]}
    )
    with pytest.raises(TuningError, match="searched on the whole label"):
        recipe_value(searched, find_parameter("label", "label", "lot.min_confidence"))
    in_mm = tool.model_copy(update={"mm_per_px": 0.1, "max_offset_mm": 4.0})
    with pytest.raises(TuningError, match="judges the label's offset in mm"):
        recipe_value(in_mm, find_parameter("label", "label", "max_offset_px"))
    with pytest.raises(TuningError, match=r"recipe 'labels' version '1' \(40 parts\) is not kept"):
        load_parameter_scores(paths.results_db, "label", "min_match", *EVER, recipe_files=[])
    with pytest.raises(TuningError, match="label field 'expiry' is not in the recipe's tool"):
        load(paths, recipe, "expiry.min_confidence")


def test_tune_a_parameter_headless(
    line: tuple[Paths, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    paths, recipe = line
    args = [
        "tune",
        "--db",
        str(paths.results_db),
        "--from",
        "2000-01-01T00:00",
        "--to",
        "2100-01-01T00:00",
        "--tool",
        "label",
        "--labels",
        "truth",
        "--recipe",
        str(recipe),
    ]
    assert main([*args, "--parameter", "max_rotation_deg", "--threshold", "10", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    view = load(paths, recipe, "max_rotation_deg").view()
    assert data["parameter"] == "max_rotation_deg" and data["threshold"] == 5.0
    c = view.counts_at(10.0)
    assert data["candidate"] == {
        "false_rejects": c.false_rejects,
        "escapes": c.escapes,
        "yield": c.yield_,
    }
    assert sum(data["histogram"]["defect"]) == len(view.bad[np.isfinite(view.bad)])
    assert data["suggestions"][0]["escapes"] == 0
    assert main(args) == 2  # the label tool records no score threshold
    assert "--parameter (max_offset_px, max_rotation_deg, min_match" in capsys.readouterr().err
    assert main([*args, "--parameter", "scale"]) == 2
    assert "has no tunable parameter 'scale'" in capsys.readouterr().err
