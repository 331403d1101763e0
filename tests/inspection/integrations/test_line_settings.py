"""The links to the line in the station settings: they survive the settings screen saving the
file, and bad settings are refused with the field named."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspection.errors import RecipeError
from inspection.recipe.station import load_station_settings, save_station_settings

GOOD = """
plc:
  role: client
  host: 10.0.0.5
  recipes: {1: recipes/a.yaml, 7: /abs/b.yaml}
opcua:
  port: 4841
  users:
    - {name: mes, password_env: MES_PW, role: operator}
  recipes: {2: recipes/c.yaml}
"""


def test_a_save_keeps_the_links(tmp_path: Path) -> None:
    path = tmp_path / "station.yaml"
    path.write_text(GOOD, encoding="utf-8")
    settings = load_station_settings(path)
    save_station_settings(path, settings)
    again = load_station_settings(path)
    assert again == settings
    assert again.plc is not None and again.plc.recipes[7] == Path("/abs/b.yaml")
    resolved = again.plc.resolved(tmp_path)
    assert resolved.recipes[1] == tmp_path / "recipes/a.yaml"
    assert resolved.number_of(tmp_path / "recipes" / "a.yaml") == 1
    assert again.opcua is not None and again.opcua.users[0].password_env == "MES_PW"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("plc: {recipes: {0: a.yaml}}", "recipe numbers must be 1-999: 0"),
        ("plc: {host: 'tcp://10.0.0.5'}", "host is a name or address alone"),
        ("plc: {control_address: 95}", "control registers 95-105 and status registers 100-109"),
        ("opcua: {port: 4840}", "no one could sign in"),
        ("opcua: {users: [{name: a}]}", "give password or password_env"),
        ("opcua: {anonymous: true, certificate: c.der}", "certificate and private_key go together"),
    ],
)
def test_bad_link_settings_are_refused_with_the_field(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "station.yaml"
    path.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(RecipeError, match=says):
        load_station_settings(path)
