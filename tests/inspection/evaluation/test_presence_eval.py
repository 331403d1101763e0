"""`lineside eval presence`: the conveyor demo takes exactly one part per passing pack."""

from __future__ import annotations

import json

import pytest

from inspection.cli import main
from inspection.errors import LinesideError
from inspection.evaluation.presence import evaluate_presence
from inspection.paths import demo_recipe
from inspection.recipe import load_recipe


def test_conveyor_demo_inspects_each_pack_once(capsys: pytest.CaptureFixture[str]):
    assert main(["eval", "presence", "--parts", "20", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["one_per_part"] is True
    assert result["inspections"] == 20 and result["missed"] == [] and result["dropped"] == 0
    # the serial tool read the codes of each centred pack: only the simulated code defects fail
    assert result["verdicts"].get("ERROR", 0) == 0


def test_a_recipe_without_presence_trigger_is_refused():
    with pytest.raises(LinesideError, match="has no presence trigger"):
        evaluate_presence(load_recipe(demo_recipe()), 5)
