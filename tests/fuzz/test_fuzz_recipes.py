"""Fuzzed recipes through the real loader: refused with RecipeError naming where, or accepted.

Each example is the demo recipe with a few random mutations at random places (keys dropped,
values of the wrong type or out of range, unknown keys, unicode, other camera or tool kinds), or
its YAML text with bytes flipped, cut or inserted. Any other exception escaping is a bug.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from support.fuzz_support import BYTE_DAMAGES, damage_bytes, fuzz_settings, outcome

from inspection.errors import RecipeError
from inspection.paths import demo_recipe
from inspection.recipe import load_recipe, parse_recipe
from inspection.recipe.sources import SOURCE_TYPES
from inspection.recipe.station import load_station_settings
from inspection.recipe.tools import TOOL_TYPES

FUZZ = fuzz_settings()
DEMO_TEXT = demo_recipe().read_text(encoding="utf-8")
DEMO: dict[str, Any] = yaml.safe_load(DEMO_TEXT)

Path_ = tuple[str | int, ...]


def _places(node: Any, at: Path_ = ()) -> list[Path_]:
    """Every key path in the document (the root too)."""
    out = [at]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _places(v, (*at, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _places(v, (*at, i))
    return out


ODD_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
ODD_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | ODD_TEXT
    | st.sampled_from(["", "0", "-1", "1e309", "nan", "^(", "[", "*", "../../etc", "\x00", "é😀"])
    | st.sampled_from(sorted({*SOURCE_TYPES, *TOOL_TYPES})),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ODD_TEXT, inner, max_size=4),
    max_leaves=8,
)


def _parent(doc: Any, at: Path_) -> Any:
    for k in at[:-1]:
        doc = doc[k]
    return doc


@st.composite
def mutated_demo(draw: st.DrawFn) -> Any:
    doc: Any = copy.deepcopy(DEMO)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        places = _places(doc)
        at = draw(st.sampled_from(places))
        how = draw(st.sampled_from(["drop", "replace", "add_key", "scale", "duplicate"]))
        if not at:  # the root itself
            if how == "replace":
                doc = draw(ODD_VALUES)
            continue
        parent = _parent(doc, at)
        if not isinstance(parent, dict | list):
            continue
        key = at[-1]
        if how == "drop":
            del parent[key]
        elif how == "replace":
            parent[key] = draw(ODD_VALUES)
        elif how == "add_key" and isinstance(parent[key], dict):
            parent[key][draw(ODD_TEXT)] = draw(ODD_VALUES)
        elif (
            how == "scale"
            and isinstance(parent[key], int | float)
            and not isinstance(parent[key], bool)
        ):
            parent[key] = parent[key] * draw(
                st.sampled_from([-1, 0, 1000, 10**9, -(10**9), 0.5, float("inf")])
            )
        elif how == "duplicate" and isinstance(parent[key], list) and parent[key]:
            parent[key].append(copy.deepcopy(parent[key][0]))
    return doc


def _check_message(exc: RecipeError, where: str) -> None:
    outcome("refused")
    assert str(exc).startswith(where), f"message does not name {where!r}: {exc}"


@FUZZ
@given(doc=mutated_demo())
def test_mutated_recipe_dicts_are_refused_cleanly_or_accepted(doc: Any) -> None:
    try:
        parse_recipe(doc, "fuzz.yaml")
        outcome("accepted")
    except RecipeError as exc:
        _check_message(exc, "fuzz.yaml")


@FUZZ
@given(doc=mutated_demo())
def test_mutated_recipe_files_are_refused_cleanly_or_accepted(doc: Any, tmp_path: Path) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    try:
        load_recipe(path)
        outcome("accepted")
    except RecipeError as exc:
        _check_message(exc, str(path))


@st.composite
def damaged_text(draw: st.DrawFn) -> bytes:
    data = bytearray(DEMO_TEXT.encode("utf-8"))
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        i = draw(st.integers(min_value=0, max_value=max(len(data) - 1, 0)))
        how = draw(st.sampled_from(BYTE_DAMAGES))
        damage_bytes(draw, data, how, i, cut_max=40, insert_max=12)
    return bytes(data)


@FUZZ
@given(text=damaged_text())
def test_damaged_recipe_text_is_refused_cleanly_or_accepted(text: bytes, tmp_path: Path) -> None:
    path = tmp_path / "damaged.yaml"
    path.write_bytes(text)
    try:
        load_recipe(path)
        outcome("accepted")
    except RecipeError as exc:
        _check_message(exc, str(path))


@pytest.mark.parametrize(
    "text",
    [
        "[" * 5000,  # nesting past Python's recursion limit
        "{a: " * 3000,
        DEMO_TEXT.replace("seed: 7", "seed: " + "1" * 5000),  # past the int-from-text limit
        "name: " + "9" * 5000,
    ],
    ids=["deep-list", "deep-map", "huge-seed", "huge-name"],
)
def test_hostile_recipe_text_is_refused_naming_the_file(text: str, tmp_path: Path) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RecipeError, match=f"^{re.escape(str(path))}: not valid YAML"):
        load_recipe(path)
    # the station's own settings file is read the same way
    with pytest.raises(RecipeError, match=f"^{re.escape(str(path))}: not valid YAML"):
        load_station_settings(path)
