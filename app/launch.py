"""The ``lineside`` console entry point: the GUI with no arguments, else the headless commands.

Nothing here imports Qt at module level: ``lineside run --headless`` and friends must work on a
machine without Qt libraries, so PySide6 and pyqtgraph are imported inside the GUI branch only.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from app.settings import AppSettings, load_settings, save_settings
from inspection.paths import Paths, demo_recipe, resources_dir, user_paths

log = logging.getLogger(__name__)

EXIT_OK, EXIT_USAGE = 0, 2


def main(argv: Sequence[str] | None = None) -> int:
    """``lineside [gui [--recipe R]]`` opens the GUI; any other command goes to the headless CLI."""
    import multiprocessing

    from inspection.offline import keep_offline

    keep_offline()  # before anything loads onnxruntime
    # reports run in spawned child processes (inspection.jobs.run_apart); a frozen build must
    # let such a child be a child, not a second Lineside
    multiprocessing.freeze_support()
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] == "gui":
        return _gui(args[1:])
    if args[0] == "bench" and "--gui" in args[1:]:
        from app.gui_bench import main as gui_bench  # Qt: the headless bench must not load it

        return gui_bench(args[1:])
    from inspection.cli import main as cli_main

    return cli_main(args)


def _parse_gui_args(argv: Sequence[str]) -> argparse.Namespace | int:
    parser = argparse.ArgumentParser(prog="lineside gui", description="Open the operator screen.")
    parser.add_argument(
        "--recipe", type=Path, help="recipe file (default: the last one, else the demo)"
    )
    parser.add_argument("--stopped", action="store_true", help="open without starting the station")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    try:
        return parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)


def configure_logging(paths: Paths, verbose: bool) -> None:
    """stderr plus a rotating file in the user's log folder."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    try:
        paths.logs.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                paths.logs / "lineside-gui.log", maxBytes=5_000_000, backupCount=3, encoding="utf-8"
            )
        )
    except OSError as exc:
        sys.stderr.write(f"lineside: no log file in {paths.logs}: {exc}\n")
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )


def choose_recipe(explicit: Path | None, settings: AppSettings) -> tuple[Path, str | None]:
    """The recipe to open: the one asked for, else the last one, else the demo.

    Returns the path and, when the last recipe had to be skipped, why (to tell the user).
    """
    if explicit is not None:
        return explicit, None
    last = settings.last_recipe
    if last is not None:
        if last.is_file():
            return last, None
        return demo_recipe(), f"The last recipe {last} is gone; the demo recipe was opened instead."
    return demo_recipe(), None


NO_DISPLAY = (
    "lineside: no display found ({why}). Use `lineside run --headless` to inspect without a "
    "screen, or start it from a desktop session."
)


def missing_display(env: Mapping[str, str], platform: str = sys.platform) -> str | None:
    """Why the GUI cannot open a window here (None when it can, as far as we can tell).

    On Linux Qt aborts with "Reinstalling the application may fix this problem" when its
    default (xcb) plugin has no display to talk to; this says what is missing before Qt is
    loaded. Another platform plugin (offscreen, wayland, vnc, eglfs…) is the user's explicit
    choice and left alone.
    """
    if not platform.startswith("linux"):
        return None
    qpa = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    if qpa not in ("", "xcb"):
        return None
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return "DISPLAY is not set"


def _gui(argv: Sequence[str]) -> int:
    parsed = _parse_gui_args(argv)
    if isinstance(parsed, int):
        return parsed
    why = missing_display(os.environ)
    if why is not None:
        sys.stderr.write(NO_DISPLAY.format(why=why) + "\n")
        return EXIT_USAGE
    paths = user_paths()
    configure_logging(paths, parsed.verbose)

    import pyqtgraph as pg
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from app.error_reporting import ErrorReporter, install_excepthooks
    from app.line_changeover import open_links, station_factory
    from app.main_window import MainWindow
    from app.palette import apply_theme
    from inspection.integrations.line_links import LineLink

    pg.setConfigOptions(imageAxisOrder="row-major")
    qt_app = QApplication.instance() or QApplication(sys.argv[:1])
    qt_app.setApplicationName("Lineside")
    apply_theme(qt_app, resources_dir() / "style" / "operator.qss")

    reporter = ErrorReporter()
    restore_hooks = install_excepthooks(reporter)
    settings_file = paths.settings_file
    settings = load_settings(settings_file)

    links: list[LineLink] = []  # the station settings' PLC and OPC UA links, opened below
    window = MainWindow(station_factory(paths, lambda: links), settings, teach_on_first_use=True)
    reporter.set_parent_widget(window)
    opened, links_problem = open_links(window, paths)
    links += opened

    def remember(path: Path) -> None:
        # a small JSON file, written only when the user opens a recipe
        settings.last_recipe = path.resolve()
        try:
            save_settings(settings_file, settings)
        except OSError as exc:
            log.warning("settings %s not saved: %s", settings_file, exc)

    window.recipeOpened.connect(remember)
    recipe_path, note = choose_recipe(parsed.recipe, settings)
    if settings.window_geometry:
        window.show()
    else:
        # first start on a line PC: use the whole screen (also where no window manager maximises)
        screen = qt_app.primaryScreen()
        if screen is not None:
            window.setGeometry(screen.availableGeometry())
        window.showMaximized()
    if note:
        log.warning("%s", note)
        QTimer.singleShot(0, lambda: QMessageBox.warning(window, "Recipe", note))
    if links_problem:
        QTimer.singleShot(0, lambda: QMessageBox.warning(window, "Line", links_problem))
    if not window.open_recipe(recipe_path, start=not parsed.stopped):
        if parsed.recipe is None and recipe_path != demo_recipe():
            window.open_recipe(demo_recipe(), start=not parsed.stopped)
        elif parsed.recipe is not None:
            restore_hooks()
            return EXIT_USAGE
    try:
        code = qt_app.exec()
    finally:
        restore_hooks()
        window.control.shutdown()  # already done by a normal close; bounded either way
        for link in links:
            link.close()
    try:
        save_settings(settings_file, settings)  # the window geometry of this session
    except OSError as exc:
        log.warning("settings %s not saved: %s", settings_file, exc)
    return int(code)


if __name__ == "__main__":
    raise SystemExit(main())
