"""A label field's ``print:`` setting: solid by default, dot_matrix accepted, anything else
refused with the field's name and the recipe path."""

from __future__ import annotations

from typing import Any

import pytest

from inspection.errors import RecipeError
from inspection.recipe import TextFieldSettings, parse_recipe


def recipe(fields: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": "r",
        "cameras": [{"id": "cam1", "source": {"type": "synthetic"}}],
        "tools": [{"type": "label", "id": "label", "fields": fields}],
    }


def test_print_is_solid_unless_set() -> None:
    assert TextFieldSettings(name="lot").print == "solid"
    r = parse_recipe(recipe([{"name": "lot"}, {"name": "expiry", "print": "dot_matrix"}]))
    fields = r.tools[0].fields  # type: ignore[union-attr]
    assert [f.print for f in fields] == ["solid", "dot_matrix"]


@pytest.mark.parametrize("bad", ["dots", "DOT_MATRIX", 3, None])
def test_an_unknown_print_names_the_field_and_the_choices(bad: object) -> None:
    fields = [{"name": "lot"}, {"name": "expiry", "print": bad}]
    with pytest.raises(RecipeError) as err:
        parse_recipe(recipe(fields), where="line.yaml")
    message = str(err.value)
    assert message.startswith("line.yaml: tools[0].fields[1].print: ")
    assert "text field 'expiry': print must be 'solid' or 'dot_matrix'" in message
    assert repr(bad) in message
