"""`lineside privacy`: the notice from the command line, its exit codes, and no Qt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.privacy_recipe import write_masked_recipe

from inspection.cli import EXIT_OK, EXIT_USAGE, main
from inspection.paths import user_paths


def test_writes_markdown_beside_its_pictures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = write_masked_recipe(tmp_path)
    out = tmp_path / "notice" / "station.md"
    code = main(["privacy", "--format", "md", "--recipe", str(recipe), "--out", str(out), "--json"])
    assert code == EXIT_OK
    result = json.loads(capsys.readouterr().out)
    assert result["files"] == [str(out), str(out.with_name("station-door.png"))]
    assert result["cameras"]["door"]["masks"] == 2
    assert result["outputs"] == []
    assert "## Cameras and privacy masks" in out.read_text(encoding="utf-8")


def test_default_is_a_pdf_of_the_recipe_the_station_last_opened(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = write_masked_recipe(tmp_path)
    paths = user_paths().ensure()
    paths.settings_file.write_text(json.dumps({"last_recipe": str(recipe)}), encoding="utf-8")
    assert main(["privacy", "--blank", "--json"]) == EXIT_OK
    result = json.loads(capsys.readouterr().out)
    assert result["recipe"] == str(recipe)
    pdf = paths.reports / "privacy-notice.pdf"
    assert result["files"] == [str(pdf)]
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert result["cameras"]["door"]["picture"].startswith("no frame available")


def test_a_bad_recipe_is_refused_with_exit_2_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = write_masked_recipe(tmp_path, extra="archive:\n  retention_days: -1\n")
    out = tmp_path / "n.pdf"
    assert main(["privacy", "--recipe", str(recipe), "--out", str(out)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "archive.retention_days" in err and str(recipe) in err
    assert not out.exists()
    assert main(["privacy", "--recipe", str(tmp_path / "missing.yaml")]) == EXIT_USAGE
    assert "no such recipe file" in capsys.readouterr().err


def test_bad_usage_and_an_unwritable_place_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = write_masked_recipe(tmp_path)
    assert main(["privacy", "--format", "docx", "--recipe", str(recipe)]) == EXIT_USAGE
    assert main(["privacy", "--timeout", "0", "--recipe", str(recipe)]) == EXIT_USAGE
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    code = main(["privacy", "--blank", "--recipe", str(recipe), "--out", str(blocker / "n.pdf")])
    assert code == EXIT_USAGE
    assert "cannot write" in capsys.readouterr().err


def test_the_command_never_loads_qt(tmp_path: Path) -> None:
    recipe = write_masked_recipe(tmp_path)
    script = (
        "import sys; from inspection.cli import main; "
        f"code = main(['privacy', '--blank', '--recipe', {str(recipe)!r}, "
        f"'--out', {str(tmp_path / 'n.pdf')!r}]); "
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'shiboken6', 'pyqtgraph', 'app')); "
        "print(code, loaded)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
        env=os.environ.copy(),
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "0 []"
