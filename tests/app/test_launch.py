from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from app.launch import choose_recipe, missing_display
from app.settings import AppSettings
from inspection.paths import demo_recipe, resources_dir


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


def test_no_display_says_what_to_do_instead_of_aborting(tmp_path: Path) -> None:
    # a shell on a line PC over ssh: no DISPLAY, no WAYLAND_DISPLAY, no QT_QPA_PLATFORM
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from app.launch import main; sys.exit(main([]))"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"LINESIDE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        "lineside: no display found (DISPLAY is not set). Use `lineside run --headless` to "
        "inspect without a screen, or start it from a desktop session."
    )
    assert "Reinstalling" not in done.stderr


def test_missing_display_rules() -> None:
    assert missing_display({}, "linux") == "DISPLAY is not set"
    assert missing_display({"QT_QPA_PLATFORM": "xcb"}, "linux") == "DISPLAY is not set"
    assert missing_display({"DISPLAY": ":0"}, "linux") is None
    assert missing_display({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert missing_display({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert missing_display({}, "win32") is None


def test_dark_palette_reaches_combo_popups(qtbot, qapp) -> None:
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QComboBox

    from app import theme
    from app.palette import apply_theme, dark_palette

    assert dark_palette().color(QPalette.ColorRole.Window).name() == theme.BACKGROUND
    old_palette, old_sheet = qapp.palette(), qapp.styleSheet()
    try:
        apply_theme(qapp, resources_dir() / "style" / "operator.qss")
        assert "QComboBox QAbstractItemView" in qapp.styleSheet()
        combo = QComboBox()
        qtbot.addWidget(combo)
        combo.addItems(["Last 6 parts", "Last 6 failed parts"])
        view = combo.view()
        assert view.palette().color(QPalette.ColorRole.Base).lightness() < 60
        assert view.palette().color(QPalette.ColorRole.Text).lightness() > 200
    finally:
        qapp.setStyleSheet(old_sheet)
        qapp.setPalette(old_palette)
