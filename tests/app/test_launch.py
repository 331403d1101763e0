from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from app.launch import choose_recipe
from app.settings import AppSettings
from inspection.paths import demo_recipe


def test_headless_commands_never_import_qt(tmp_path: Path) -> None:
    # Qt made unimportable, as on a server without Qt libraries
    script = textwrap.dedent(
        """
        import sys

        class NoQt:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {"PySide6", "shiboken6", "pyqtgraph"}:
                    raise ImportError(f"{name} is not installed here")
                return None

        sys.meta_path.insert(0, NoQt())
        from app.launch import main

        code = main(["--help"])
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in {"PySide6", "pyqtgraph"})
        print("LOADED", loaded)
        sys.exit(code)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={"LINESIDE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stdout
    assert "usage:" in done.stdout  # the headless CLI answered


def test_recipe_choice(tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text("name: x\n", encoding="utf-8")

    assert choose_recipe(mine, AppSettings()) == (mine, None)
    assert choose_recipe(None, AppSettings(last_recipe=mine)) == (mine, None)
    assert choose_recipe(None, AppSettings()) == (demo_recipe(), None)
    path, note = choose_recipe(None, AppSettings(last_recipe=tmp_path / "gone.yaml"))
    assert path == demo_recipe()
    assert note is not None and "gone.yaml" in note
