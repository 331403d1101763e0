"""Tuning the defect tool's minimum region area on parts the real anomaly tool recorded on the
simulated line: counts at an area equal numpy on the same database, under the stated rule (a part
fails when its score reaches the recorded threshold and its largest region has at least the
minimum; a pass whose regions were all under the minimum in force is rejected below it)."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from support.rescore_line import make_paths, recipe_doc, run_station

from inspection.evaluation.truth import COVERED_BY_TOOL_TYPE
from inspection.paths import Paths
from inspection.pipeline import teaching
from inspection.recipe import dump_recipe, parse_recipe
from inspection.tuning.parameter_scores import load_parameter_scores
from inspection.tuning.parameters import find_parameter, with_parameter
from inspection.tuning.suggest import suggest

MIN_AREA = 40
PARTS = 30


@pytest.fixture(scope="module")
def line(tmp_path_factory: pytest.TempPathFactory) -> tuple[Paths, Path]:
    paths = make_paths(tmp_path_factory.mktemp("area-line"))
    doc = recipe_doc(7, parts=PARTS)
    doc["tools"][0]["min_area_px"] = MIN_AREA
    recipe = parse_recipe(doc, "rescore.yaml")
    good = teaching.frames_from_camera(recipe, "cam1", 6)
    teaching.teach_anomaly(recipe, "surface", paths, good)
    path = paths.config / "recipes" / "rescore.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_recipe(recipe), encoding="utf-8")
    run_station(recipe, paths)
    return paths, path


def numpy_on_db(db: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(largest region as the rule counts it, recorded pass, has a surface defect) per part."""
    conn = sqlite3.connect(db)
    found = conn.execute(
        "SELECT t.verdict, t.score, t.threshold, m.value, i.truth FROM tool_results t "
        "JOIN inspections i ON i.id = t.inspection LEFT JOIN tool_measures m "
        "ON m.inspection = t.inspection AND m.tool_id = t.tool_id AND m.measure = 'max_region_px' "
        "WHERE t.tool_id = 'surface' ORDER BY t.inspection"
    ).fetchall()
    conn.close()
    largest = []
    for verdict, score, threshold, region, _ in found:
        if verdict == "FAIL":
            largest.append(region)
        elif score >= threshold:
            largest.append(MIN_AREA - 1)  # its regions were under the minimum in force
        else:
            largest.append(-math.inf)  # under the threshold: no area makes it fail
    passed = np.array([r[0] == "PASS" for r in found])
    caught = COVERED_BY_TOOL_TYPE["anomaly"]  # a pack's other defects are other tools' to catch
    bad = np.array([bool(caught & set(json.loads(r[4])["defects"])) for r in found])
    return np.array(largest, dtype=float), passed, bad


def test_counts_at_a_minimum_area_equal_numpy_on_the_database(line: tuple[Paths, Path]) -> None:
    paths, path = line
    loaded = load_parameter_scores(
        paths.results_db, "surface", "min_area_px", 0.0, 4e9, labels="truth", recipe_files=[path]
    )
    view = loaded.view()
    assert view.in_force == MIN_AREA and view.parts == PARTS
    largest, passed, bad = numpy_on_db(paths.results_db)
    assert (~passed).any() and (passed & (largest == MIN_AREA - 1)).any()  # both kinds recorded
    for area in (0, 1, 20.5, 39, 40, 46, 100, 301, 1000, 10_000):
        fails = largest >= max(math.ceil(area), 1)
        c = view.counts_at(area)
        assert c.passed == int((~fails).sum()), area
        assert c.false_rejects == int((~bad & fails).sum()), area
        assert c.escapes == int((bad & ~fails).sum()), area
        assert c.newly_rejected == int((passed & fails).sum()), area
        assert c.newly_passed == int((~passed & ~fails).sum()), area
    now = view.counts_at(MIN_AREA)
    assert now.newly_rejected == now.newly_passed == 0
    assert view.counts_at(MIN_AREA - 1).newly_rejected == int((largest == MIN_AREA - 1).sum())
    for s in suggest(view):  # a whole number of px, counted as the tool would
        assert s.threshold == int(s.threshold)


def test_a_minimum_area_is_applied_as_a_whole_number() -> None:
    recipe = parse_recipe(recipe_doc(7, parts=PARTS), "rescore.yaml")
    changed = with_parameter(
        recipe, "surface", find_parameter("surface", "anomaly", "min_area_px"), 50.2
    )
    assert changed.tools[0].min_area_px == 51  # 50.2 px counts as 51: areas are whole pixels
