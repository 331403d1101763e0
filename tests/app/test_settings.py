from __future__ import annotations

import json
import logging
from pathlib import Path

from app.settings import AppSettings, load_settings, save_settings


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "config" / "settings.json"
    save_settings(path, AppSettings(last_recipe=Path("/recipes/a.yaml"), window_geometry="AAA="))
    loaded = load_settings(path)
    assert loaded.last_recipe == Path("/recipes/a.yaml")
    assert loaded.window_geometry == "AAA="


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "none.json") == AppSettings()


def test_keeps_valid_fields_and_warns_about_the_rest(tmp_path: Path, caplog) -> None:
    path = tmp_path / "settings.json"
    path.write_text(
        json.dumps({"last_recipe": "/r/line3.yaml", "window_geometry": 42, "theme": "night"}),
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING):
        loaded = load_settings(path)

    assert loaded.last_recipe == Path("/r/line3.yaml")
    assert loaded.window_geometry is None
    assert loaded.unknown == {"theme": "night"}
    assert "window_geometry" in caplog.text and "theme" in caplog.text

    save_settings(path, loaded)  # a newer version's field survives a save
    assert json.loads(path.read_text(encoding="utf-8"))["theme"] == "night"


def test_broken_json_gives_defaults_with_a_warning(tmp_path: Path, caplog) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{not json", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert load_settings(path) == AppSettings()
    assert "not valid JSON" in caplog.text
