"""Tuning a detector's confidence on parts the real detector tool judged and the results store
recorded: the what-if's counts at a confidence equal numpy on the recorded ``fail_confidence``
and the verdicts the tool itself gives at that confidence; the confidence in force reproduces the
record; Apply writes it as the next version; what cannot be replayed is refused in words."""

from __future__ import annotations

import dataclasses
import json
import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from support import detector_parts as dp

from inspection.cli import main
from inspection.errors import RecipeError
from inspection.recipe import load_recipe
from inspection.tools.detector import RECORD_FLOOR
from inspection.tuning import recipe_edit
from inspection.tuning.labels import set_label
from inspection.tuning.parameter_scores import load_parameter_scores, tunable_parameters
from inspection.tuning.parameters import (
    default_parameter,
    find_parameter,
    recipe_value,
    with_parameter,
)
from inspection.tuning.scores import TuningError
from inspection.tuning.suggest import NO_ESCAPES, suggest
from inspection.types import Verdict

EVER = (0.0, 4e9)
IN_FORCE = 0.3
GREYS = [int(g) for g in np.linspace(0, 255, 41)]  # scratch scores 0..1, dent half of it


@pytest.fixture(scope="module")
def line(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(results database, recipe file, model): 41 parts judged at confidence 0.3, labelled
    defect from grey 120 up (and one darker part labelled defect: a scratch the model sees
    faintly)."""
    root = tmp_path_factory.mktemp("detector-line")
    model = dp.brightness_model(root / "m.onnx")
    recipe = dp.write_recipe(root / "recipes", model, confidence=IN_FORCE)
    db = root / "results.db"
    dp.record(db, dp.judge(model, GREYS, confidence=IN_FORCE))
    for part, grey in enumerate(GREYS, start=1):
        set_label(db, part, "defect" if grey >= 120 or grey == 38 else "good")
    return db, recipe, model


def recorded(db: Path) -> dict[str, np.ndarray]:
    """Straight from the rows: fail_confidence, recorded pass and labelled defect per part."""
    conn = sqlite3.connect(db)
    found = conn.execute(
        "SELECT t.verdict, m.value FROM tool_results t LEFT JOIN tool_measures m "
        "ON m.inspection = t.inspection AND m.tool_id = t.tool_id "
        "AND m.measure = 'fail_confidence' WHERE t.tool_id = 'det' ORDER BY t.inspection"
    ).fetchall()
    labels = dict(conn.execute("SELECT inspection, label FROM part_labels ORDER BY id"))
    conn.close()
    return {
        "value": np.array([v for _, v in found], dtype=float),
        "passed": np.array([v == "PASS" for v, _ in found]),
        "bad": np.array([labels.get(i) == "defect" for i in range(1, len(found) + 1)]),
    }


def load(db: Path, recipe: Path):
    return load_parameter_scores(db, "det", "confidence", *EVER, labels="db", recipe_files=[recipe])


def test_counts_at_a_confidence_equal_numpy_and_the_tool_at_that_confidence(
    line: tuple[Path, Path, Path],
) -> None:
    db, recipe, model = line
    view = load(db, recipe).view()
    r = recorded(db)
    value, bad, good = r["value"], r["bad"], ~r["bad"]
    # under the confidence in force and over the floor: recorded, though not kept as detections
    hidden = (value >= RECORD_FLOOR) & (value < IN_FORCE)
    assert hidden.sum() >= 5 and (value == 0.0).sum() >= 1 and bad.any() and good.any()
    assert view.in_force == IN_FORCE and view.parts == len(GREYS)
    for confidence in (RECORD_FLOOR, 0.1, 0.2, 0.25, IN_FORCE, 0.45, 0.6, 0.9, 1.0):
        fails = value >= confidence
        c = view.counts_at(confidence)
        assert c.passed == int((~fails).sum()), confidence
        assert c.false_rejects == int((good & fails).sum()), confidence
        assert c.escapes == int((bad & ~fails).sum()), confidence
        assert c.newly_rejected == int((r["passed"] & fails).sum()), confidence
        assert c.newly_passed == int((~r["passed"] & ~fails).sum()), confidence
        # and that is what the tool itself decides when run at that confidence
        again = dp.judge(model, GREYS, confidence=confidence)
        np.testing.assert_array_equal([a.verdict is Verdict.FAIL for a in again], fails)
    now = view.counts_at(IN_FORCE)
    assert (now.newly_rejected, now.newly_passed) == (0, 0)
    assert now.passed == int(r["passed"].sum())
    # under the floor nothing more is recorded: counted as at the floor
    at_floor = view.counts_at(RECORD_FLOOR)
    assert view.counts_at(0.01) == dataclasses.replace(at_floor, threshold=0.01)


def test_suggestions_and_the_listing(line: tuple[Path, Path, Path]) -> None:
    db, recipe, _ = line
    view = load(db, recipe).view()
    r = recorded(db)
    seen = r["value"][r["bad"] & (r["value"] >= RECORD_FLOOR)]
    first = suggest(view)[0]
    assert first.kind == NO_ESCAPES and first.threshold == pytest.approx(seen.min())
    assert first.counts.escapes == 0 and first.threshold < IN_FORCE  # the faint scratch
    listed = {t.tool_id: t.parameters for t in tunable_parameters(db, *EVER)}
    assert listed == {"det": ("confidence",)}
    assert default_parameter("detector") == "confidence"
    assert (
        "best failing detection's confidence >= confidence"
        in find_parameter("det", "detector", "confidence").rule
    )


def test_apply_writes_the_confidence_as_the_next_version(
    line: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, original, model = line
    path = dp.write_recipe(tmp_path / "recipes", model, confidence=IN_FORCE)
    in_force = load_recipe(path)
    p = find_parameter("det", "detector", "confidence")
    entry = recipe_edit.apply_change(
        path, in_force, with_parameter(in_force, "det", p, 0.12), "catch faint scratches"
    )
    applied = load_recipe(path)
    assert entry.version == applied.version == "2" and "confidence" in entry.summary
    assert applied.tools[0].confidence == 0.12
    with pytest.raises(RecipeError, match=r"under the recording floor 0\.05"):
        with_parameter(in_force, "det", p, 0.01)
    assert load_recipe(original).tools[0].confidence == IN_FORCE


def test_a_failing_class_with_its_own_confidence_is_refused(
    line: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    db, _, model = line
    own = dp.write_recipe(
        tmp_path / "own", model, confidence=IN_FORCE, class_confidence={"dent": 0.4}
    )
    with pytest.raises(TuningError, match=r"det\.confidence in recipe det 1: .*dent 0\.4"):
        load(db, own)
    p = find_parameter("det", "detector", "confidence")
    settings = load_recipe(own).tools[0]
    only_scratch = settings.model_copy(update={"fail_classes": ["scratch"]})
    assert recipe_value(only_scratch, p) == IN_FORCE  # dent never fails the part: no matter
    both = settings.model_copy(update={"fail_classes": ["scratch", "dent"]})
    with pytest.raises(TuningError, match="class_confidence"):
        recipe_value(both, p)


def test_parts_recorded_before_fail_confidence_are_refused(
    line: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, recipe, model = line
    results = dp.judge(model, GREYS[:6], confidence=IN_FORCE)
    old = [dp.without(r, "fail_confidence") for r in results]
    db = tmp_path / "old.db"
    dp.record(db, old)
    with pytest.raises(TuningError, match="no part in the range records fail_confidence"):
        load(db, recipe)
    dp.record(db, results, first=len(old))
    with pytest.raises(TuningError, match=r"6 of the 12 parts .* before the tool recorded"):
        load(db, recipe)
    newer = dp.T0 + 10 * len(old)
    loaded = load_parameter_scores(
        db, "det", "confidence", newer, math.inf, labels="db", recipe_files=[recipe]
    )
    assert loaded.view().parts == len(results)


def test_tune_the_confidence_headless(
    line: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, recipe, model = line
    args = ["tune", "--db", str(db), "--from", "2000-01-01T00:00", "--to", "2100-01-01T00:00"]
    args += ["--tool", "det", "--labels", "db"]
    tune = [*args, "--recipe", str(recipe), "--parameter", "confidence"]
    assert main([*tune, "--threshold", "0.12", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    r = recorded(db)
    fails = r["value"] >= 0.12
    assert data["parameter"] == "confidence" and data["threshold"] == IN_FORCE
    assert data["candidate"] == {
        "false_rejects": int((~r["bad"] & fails).sum()),
        "escapes": int((r["bad"] & ~fails).sum()),
        "yield": float((~fails).mean()),
    }
    assert main([*args, "--recipe", str(recipe)]) == 2  # no score threshold: says what to use
    assert "--parameter (confidence)" in capsys.readouterr().err
    own = dp.write_recipe(tmp_path, model, confidence=IN_FORCE, class_confidence={"scratch": 0.5})
    assert main([*args, "--recipe", str(own), "--parameter", "confidence"]) == 2
    assert "failing classes scratch 0.5 have their own confidence" in capsys.readouterr().err
