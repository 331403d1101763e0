"""The headless commands: run, simulate, eval, train, trigger, bench. No Qt is imported here, ever.

Exit codes: 0 ok, 1 ran but found problems, 2 bad usage or input. With ``--json`` the result is
one JSON object on stdout; logs go to stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from inspection.errors import LinesideError, RecipeError
from inspection.paths import demo_recipe, user_paths
from inspection.reports.plant_command import add_plant_arguments
from inspection.trends.arguments import add_arguments as trends_arguments
from inspection.tuning.arguments import add_arguments as tune_arguments

log = logging.getLogger(__name__)

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
SURFACE_MATERIALS = ("metal", "fabric", "tiles", "solar")
"""`simulate surfaces` materials (inspection.evaluation.surfaces.MATERIALS, kept light here)."""


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _emit(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(_json_safe(result)) + "\n")
    else:
        sys.stdout.write(json.dumps(_json_safe(result), indent=2) + "\n")
    sys.stdout.flush()


def _progress(done: int, total: int) -> None:
    """A progress line on stderr (stdout stays machine-readable)."""
    if total and (done == total or done % max(total // 20, 1) == 0):
        sys.stderr.write(f"\r{done}/{total} ({100 * done // total} %)")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _load(path: str | None) -> Any:
    from inspection.recipe import load_recipe

    return load_recipe(path or demo_recipe())


# ---- commands ----------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    if not args.headless:
        sys.stderr.write(
            "lineside run: the GUI is `lineside` with no arguments; use --headless here\n"
        )
        return EXIT_USAGE
    from inspection.evaluation.headless import run_headless

    recipe = _load(args.recipe)
    result = run_headless(
        recipe,
        recipe_file=Path(args.recipe) if args.recipe else demo_recipe(),
        parts=args.parts,
        paths=user_paths().ensure() if not args.no_store else None,
        store_results=not args.no_store,
        realtime=args.realtime,
        timeout_s=args.timeout,
        idle_s=args.idle_timeout or None,
    )
    _emit(result, args.json)
    for problem in result["problems"]:
        sys.stderr.write(f"lineside run: {problem}\n")
    truth = result["vs_truth"]
    failed = result["error"] or truth["fp"] or truth["fn"] or result["problems"]
    return EXIT_PROBLEMS if failed else EXIT_OK


def cmd_simulate(args: argparse.Namespace) -> int:
    if args.what == "surfaces":
        from inspection.evaluation.surfaces import write_surface_set

        out = Path(args.out)
        materials = [args.material] if args.material != "all" else list(SURFACE_MATERIALS)
        summaries = [
            write_surface_set(m, out / m if len(materials) > 1 else out, seed=args.seed)
            for m in materials
        ]
        _emit(summaries[0] if len(summaries) == 1 else {"sets": summaries}, args.json)
        return EXIT_OK
    from inspection.recipe import SyntheticSourceSettings
    from inspection.sources.synthetic import write_simulation

    settings = SyntheticSourceSettings(
        type="synthetic",
        seed=args.seed,
        mode=args.mode,
        width=args.width,
        height=args.height,
        defect_rate=args.defect_rate,
        color=args.color,
    )
    summary = write_simulation(settings, Path(args.out), args.parts, progress=_progress)
    _emit(summary, args.json)
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    if args.what == "presence":
        from inspection.evaluation.presence import evaluate_presence
        from inspection.paths import resources_dir

        recipe = _load(args.recipe or str(resources_dir() / "recipes" / "conveyor.yaml"))
        result = evaluate_presence(recipe, args.parts, progress=_progress)
        _emit(result, args.json)
        return EXIT_OK if result["one_per_part"] else EXIT_PROBLEMS
    if args.what == "drift":
        return _eval_drift(args)
    if args.what == "ocr":
        return _eval_ocr(args)
    if args.data is None:
        sys.stderr.write(f"lineside eval {args.what}: --data is required\n")
        return EXIT_USAGE
    if args.what == "codes":
        from inspection.evaluation.codes import evaluate_codes

        data = Path(args.data)
        if not data.is_dir():
            sys.stderr.write(f"lineside eval codes: --data {data}: no such folder\n")
            return EXIT_USAGE
        formats = (
            [f.strip() for f in args.formats.split(",") if f.strip()] if args.formats else None
        )
        try:
            result = evaluate_codes(
                data, formats, plain=args.plain, add_on=args.add_on, progress=_progress
            )
        except ValueError as exc:  # unknown format names
            sys.stderr.write(f"lineside eval codes: {exc}\n")
            return EXIT_USAGE
        _emit(result, args.json)
        return EXIT_OK
    data = Path(args.data)
    if not data.is_dir():
        sys.stderr.write(f"lineside eval {args.what}: --data {data}: no such folder\n")
        return EXIT_USAGE
    if args.what == "anomaly":
        from inspection.evaluation.anomaly import evaluate_anomaly, recipe_settings

        try:
            chosen = recipe_settings(
                pool=args.pool, score=args.score, score_patches=args.score_patches
            )
        except ValueError as exc:
            sys.stderr.write(f"lineside eval anomaly: {exc}\n")
            return EXIT_USAGE
        result = evaluate_anomaly(data, settings=chosen, progress=_progress)
        _emit(result, args.json)
        if not result["images"]:
            sys.stderr.write(
                f"lineside eval anomaly: no test image of {data} was scored "
                f"({len(result['unreadable_files'])} unreadable or skipped)\n"
            )
            return EXIT_PROBLEMS
        return EXIT_OK
    sys.stderr.write(f"lineside eval: nothing to evaluate for {args.what!r}\n")
    return EXIT_USAGE


def _eval_ocr(args: argparse.Namespace) -> int:
    """``lineside eval ocr``: a labelled folder (--data) or a generated set (--generate), read
    once per --print setting."""
    from inspection.evaluation.ocr import evaluate_generated_ocr, evaluate_ocr

    if (args.data is None) == (args.generate is None):
        sys.stderr.write("lineside eval ocr: give either --data or --generate\n")
        return EXIT_USAGE
    prints = [p.strip() for p in (args.print or "").split(",") if p.strip()]
    try:
        if args.generate is not None:
            result = evaluate_generated_ocr(
                args.generate,
                args.count,
                seed=args.seed,
                prints=prints or ("solid", "dot_matrix"),
                by_position=args.by_position,
                misprints=args.misprints,
                alphabet=args.alphabet,
                progress=_progress,
            )
        else:
            data = Path(args.data)
            if not data.is_dir():
                sys.stderr.write(f"lineside eval ocr: --data {data}: no such folder\n")
                return EXIT_USAGE
            result = evaluate_ocr(
                data,
                prints=prints or ("solid",),
                by_position=args.by_position,
                misprints=args.misprints,
                alphabet=args.alphabet,
                progress=_progress,
            )
    except ValueError as exc:
        sys.stderr.write(f"lineside eval ocr: {exc}\n")
        return EXIT_USAGE
    _emit(result, args.json)
    return EXIT_OK


def _eval_drift(args: argparse.Namespace) -> int:
    """``lineside eval drift``: false warnings of the recipe's drift alerts on a steady line."""
    from inspection.errors import LinesideError
    from inspection.evaluation.drift import evaluate_drift

    if args.versions < 1 or args.days <= 0 or args.parts < 30:
        sys.stderr.write(
            "lineside eval drift: --versions ≥ 1, --days > 0 and --parts ≥ 30 are needed\n"
        )
        return EXIT_USAGE
    recipe = _load(args.recipe)
    try:
        result = evaluate_drift(
            recipe,
            user_paths().ensure(),
            parts=args.parts,
            parts_per_s=args.parts_per_s,
            versions=args.versions,
            days=args.days,
            progress=_progress,
        )
    except LinesideError as exc:
        sys.stderr.write(f"lineside eval drift: {exc}\n")
        return EXIT_USAGE
    _emit(result, args.json)
    return EXIT_OK


def _image_files(folder: Path) -> list[Path]:
    from inspection.sources.folder import IMAGE_SUFFIXES

    files = sorted(p for p in folder.rglob("*") if p.is_file())
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    others = [p.name for p in files if p.suffix.lower() not in IMAGE_SUFFIXES]
    if others:
        log.warning(
            "%s: %d files that are not images skipped: %s",
            folder,
            len(others),
            ", ".join(others[:10]),
        )
    return images


def cmd_train(args: argparse.Namespace) -> int:
    from inspection.pipeline import teaching
    from inspection.recipe import AnomalyToolSettings

    recipe = _load(args.recipe)
    paths = user_paths().ensure()
    tool = teaching.find_tool(recipe, args.tool)
    if tool.type not in teaching.TEACHABLE:
        sys.stderr.write(f"lineside train: tool {args.tool!r} ({tool.type}) is not taught\n")
        return EXIT_USAGE
    if args.beside and not isinstance(tool, AnomalyToolSettings):
        sys.stderr.write(
            f"lineside train: --beside is for defect tools; {args.tool!r} is a {tool.type} tool\n"
        )
        return EXIT_USAGE

    def progress(done: int, total: int, message: str) -> None:
        _progress(done, total)

    if args.good is not None:
        good_dir = Path(args.good)
        if not good_dir.is_dir():
            sys.stderr.write(f"lineside train: --good {good_dir}: no such folder\n")
            return EXIT_USAGE
        good: list[Any] = list(_image_files(good_dir))
        bad: list[Any] = list(_image_files(Path(args.bad))) if args.bad else []
    else:
        good = teaching.frames_from_camera(
            recipe, recipe.camera_for(tool), args.from_line, progress=progress
        )
        bad = []
    if not good:
        sys.stderr.write("lineside train: no good images to learn from\n")
        return EXIT_USAGE
    if tool.type == "anomaly":
        written = teaching.teach_anomaly(
            recipe,
            args.tool,
            paths,
            good,
            bad_images=bad,
            progress=progress,
            target=(
                teaching.beside_target(recipe, tool, paths)
                if args.beside and isinstance(tool, AnomalyToolSettings)
                else None
            ),
        )
    else:
        # a file gets the camera's privacy masks, as a frame gets them at acquisition
        first = (
            good[0]
            if not isinstance(good[0], Path)
            else teaching.label_image_from_file(recipe, args.tool, good[0])
        )
        written = teaching.teach_label(recipe, args.tool, paths, first)
    _emit(
        {
            "tool": args.tool,
            "written": str(written),
            "good_images": len(good),
            "bad_images": len(bad),
        },
        args.json,
    )
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    from inspection.evaluation.bench import bench

    if args.gui:  # the GUI bench needs Qt, which this module never loads
        sys.stderr.write("lineside: bench --gui needs the GUI entry point `lineside`\n")
        return EXIT_USAGE
    if args.soak is not None:
        from inspection.evaluation.soak import soak

        if not args.soak > 0:
            sys.stderr.write("lineside bench: --soak HOURS must be > 0\n")
            return EXIT_USAGE
        figures = soak(
            _load(args.recipe),
            args.soak,
            user_paths().ensure(),
            progress=lambda m: log.info("bench soak: %s", m),
        )
        _emit(figures, args.json)
        return EXIT_OK if figures["goal_met"] else EXIT_PROBLEMS
    if args.links:
        from inspection.evaluation.links_bench import bench_links

        if args.link_parts < 1:
            sys.stderr.write("lineside bench: --link-parts must be at least 1\n")
            return EXIT_USAGE
        if not args.outage_s > 0 or not args.phase_s > 0:
            sys.stderr.write("lineside bench: --outage-s and --phase-s must be > 0\n")
            return EXIT_USAGE
        figures = bench_links(
            args.link_parts,
            outage_s=args.outage_s,
            phase_s=args.phase_s,
            mqtt_qos=args.mqtt_qos,
            say=lambda m: log.info("bench links: %s", m),
        )
        _emit(figures, args.json)
        return EXIT_OK
    if args.tune:
        from inspection.evaluation.tune_bench import cmd_bench_tune

        return cmd_bench_tune(args.json, parts_per_s=args.tune_parts_per_s)
    if args.report:
        import tempfile

        from inspection.evaluation.report_bench import bench_report, summary_text

        if not args.hours > 0 or args.history_rows < 0:
            sys.stderr.write("lineside bench: --hours must be > 0 and --history-rows >= 0\n")
            return EXIT_USAGE
        # Scratch databases (GBs for 10 million parts) go to the temp folder, then away.
        with tempfile.TemporaryDirectory(prefix="lineside-bench-report-") as tmp:
            figures = bench_report(
                Path(tmp),
                hours=args.hours,
                history_rows=args.history_rows,
                progress=lambda m: log.info("bench report: %s", m),
            )
        if args.json:
            _emit(figures, True)
        else:
            sys.stdout.write(summary_text(figures))
        return EXIT_OK
    if args.sources:
        from inspection.evaluation.sources_bench import bench_sources

        figures = bench_sources(args.seconds, progress=lambda m: log.info("bench sources: %s", m))
        if args.sources_only:
            _emit({"sources": figures}, args.json)
            return EXIT_OK

    recipe = _load(args.recipe)
    workers = [int(w) for w in args.workers.split(",")]
    result = bench(
        recipe, parts=args.parts, workers=workers, progress=lambda m: log.info("bench: %s", m)
    )
    if args.sources:
        result["sources"] = figures
    _emit(result, args.json)
    return EXIT_OK


def cmd_cameras(args: argparse.Namespace) -> int:
    if args.action == "scan":
        from inspection.sources.gige import discover_gige

        found = [dataclasses.asdict(info) for info in discover_gige()]
        _emit({"gige": found}, args.json)
        return EXIT_OK
    from inspection.sources.probe import probe_camera

    recipe = _load(args.recipe)
    cameras = [c for c in recipe.cameras if args.camera in (None, c.id)]
    if not cameras:
        known = ", ".join(c.id for c in recipe.cameras)
        sys.stderr.write(f"lineside cameras: no camera {args.camera!r} in the recipe ({known})\n")
        return EXIT_USAGE
    results = {}
    for cam in cameras:
        r = probe_camera(cam, timeout_s=args.timeout or 5.0)
        results[cam.id] = {"ok": r.ok, "message": r.message, "frames": r.frames, "fps": r.fps}
    _emit({"cameras": results}, args.json)
    return EXIT_OK if all(r["ok"] for r in results.values()) else EXIT_PROBLEMS


def cmd_trigger(args: argparse.Namespace) -> int:
    from inspection.integrations.local_control import send_trigger

    trigger_id = send_trigger(user_paths().trigger_socket, timeout_s=args.timeout or 2.0)
    _emit({"trigger_id": trigger_id}, args.json)
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    import time

    from inspection.recipe.station import load_station_settings
    from inspection.reports.aggregate import last_shift_period, range_period, shift_period
    from inspection.reports.export import check_formats, write_report
    from inspection.reports.plant_command import plant_usage_problem, report_result

    paths = user_paths()
    settings = load_station_settings(paths.station_file)
    try:
        if args.shift:
            period = shift_period(settings.calendar, args.shift)
        elif args.last_shift:
            period = last_shift_period(settings.calendar, time.time())
        elif not args.to:
            raise ValueError(
                "--from needs --to (e.g. --from 2026-12-05T06:00 --to 2026-12-05T14:00)"
            )
        else:
            period = range_period(settings.calendar, args.from_, args.to)
        if args.to and not args.from_:
            raise ValueError("--to goes with --from, not with --shift or --last-shift")
        formats = check_formats(args.format.split(","))
        problem = plant_usage_problem(args)
        if problem:
            raise ValueError(problem)
    except ValueError as exc:
        sys.stderr.write(f"lineside report: {exc}\n")
        return EXIT_USAGE
    if args.plant:
        return _plant_report(args, period, formats, settings)
    db = Path(args.db) if args.db else paths.results_db
    if not db.is_file():
        sys.stderr.write(f"lineside report: results database {db} does not exist (see --db)\n")
        return EXIT_USAGE
    out = Path(args.out) if args.out else paths.reports
    try:
        written = write_report(
            db,
            period,
            formats,
            out,
            settings=settings,
            station=args.station,
            progress=lambda done, total, message: log.info("%s (%d/%d)", message, done, total),
        )
    except OSError as exc:
        sys.stderr.write(f"lineside report: cannot write the report into {out}: {exc}\n")
        return EXIT_USAGE
    result = report_result(written)
    _emit(result, args.json)
    return EXIT_OK


def _plant_report(args: argparse.Namespace, period: Any, formats: list[str], settings: Any) -> int:
    """``lineside report --plant``: the password as the ``postgres`` output reads its own."""
    from inspection.integrations.credentials import password_of
    from inspection.reports.plant_command import run_plant_report

    try:
        password = password_of("--password-env", None, args.password_env, "PostgreSQL password")
    except LinesideError as exc:
        sys.stderr.write(f"lineside report: {exc}\n")
        return EXIT_USAGE
    out = Path(args.out) if args.out else user_paths().reports
    code, result = run_plant_report(args, period, formats, out, settings, password)
    if result is not None:
        _emit(result, args.json)
    return code


def cmd_trends(args: argparse.Namespace) -> int:
    from inspection.recipe.station import load_station_settings
    from inspection.trends.command import cmd_trends as run_trends

    paths = user_paths()
    settings = load_station_settings(paths.station_file)
    return run_trends(args, Path(args.db) if args.db else paths.results_db, settings.calendar)


def cmd_tune(args: argparse.Namespace) -> int:
    from inspection.recipe.station import load_station_settings
    from inspection.tuning.command import cmd_tune as run_tune

    paths = user_paths()
    settings = load_station_settings(paths.station_file)
    return run_tune(args, Path(args.db) if args.db else paths.results_db, settings.calendar)


def cmd_privacy(args: argparse.Namespace) -> int:
    """``lineside privacy``: the notice "What this station records" as PDF or Markdown."""
    from inspection.privacy import build_notice, recipe_in_use
    from inspection.privacy.notice_md import write_notice_md
    from inspection.privacy.notice_pdf import write_notice_pdf
    from inspection.recipe import load_recipe
    from inspection.recipe.station import load_station_settings

    paths = user_paths()
    recipe_file = Path(args.recipe) if args.recipe else recipe_in_use(paths)
    recipe = load_recipe(recipe_file)  # RecipeError: exit 2, naming file and field
    settings = load_station_settings(paths.station_file)
    out = Path(args.out) if args.out else paths.reports / f"privacy-notice.{args.format}"
    notice = build_notice(
        recipe,
        settings,
        paths,
        recipe_file=recipe_file.resolve(),
        use_cameras=not args.blank,
        timeout_s=args.timeout or 3.0,
    )
    writer = write_notice_pdf if args.format == "pdf" else write_notice_md
    try:
        written = writer(notice, out)
    except LinesideError as exc:
        sys.stderr.write(f"lineside privacy: {exc}\n")
        return EXIT_USAGE
    files = written if isinstance(written, list) else [written]
    result = {
        "files": [str(f) for f in files],
        "recipe": str(recipe_file),
        "cameras": {
            c.camera: {"masks": len(c.masks), "picture": c.picture.note} for c in notice.cameras
        },
        "outputs": [f"{o.what} -> {o.where}" for o in notice.outputs],
    }
    _emit(result, args.json)
    return EXIT_OK


# ---- parsing -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lineside",
        description="Lineside inspection station. With no arguments (or `gui [--recipe R]`) it "
        "opens the operator screen; the commands below run without a screen.",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="inspect parts with a recipe")
    run.add_argument("--headless", action="store_true", help="no screen (required here)")
    run.add_argument("--recipe", help="recipe YAML (default: the demo recipe)")
    run.add_argument("--parts", type=int, help="stop after this many parts")
    run.add_argument("--realtime", action="store_true", help="keep the simulated camera's pace")
    run.add_argument("--no-store", action="store_true", help="do not record results")
    run.add_argument("--timeout", type=float, help="give up after this many seconds")
    run.add_argument(
        "--idle-timeout",
        type=float,
        default=30.0,
        help="end the run when no part came for this many seconds (0: wait for ever; a "
        "station with a PLC link in its station settings waits for its PLC)",
    )
    run.add_argument("--json", action="store_true", help="one JSON object on stdout")
    run.set_defaults(fn=cmd_run)

    sim = sub.add_parser(
        "simulate",
        help="write simulated-line frames and ground truth, or (surfaces) generated surface "
        "sets in the MVTec AD layout for `eval anomaly`",
    )
    sim.add_argument("what", nargs="?", choices=["line", "surfaces"], default="line")
    sim.add_argument("--out", required=True, help="output folder")
    sim.add_argument(
        "--material",
        choices=[*SURFACE_MATERIALS, "all"],
        default="all",
        help="surfaces: which material (all: one subfolder each)",
    )
    sim.add_argument("--parts", type=int, default=100)
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--mode", choices=["triggered", "video"], default="triggered")
    sim.add_argument("--width", type=int, default=1280)
    sim.add_argument("--height", type=int, default=1024)
    sim.add_argument("--defect-rate", type=float, default=0.25)
    sim.add_argument("--color", action="store_true")
    sim.add_argument("--json", action="store_true")
    sim.set_defaults(fn=cmd_simulate)

    ev = sub.add_parser("eval", help="measure a tool on a labelled folder")
    ev.add_argument(
        "what",
        choices=["codes", "anomaly", "ocr", "presence", "drift"],
        help="which tool to evaluate (presence: the presence trigger on the simulated conveyor; "
        "drift: the recipe's drift warnings on a steady simulated line)",
    )
    ev.add_argument("--data", help="folder with images and expected results")
    ev.add_argument(
        "--recipe",
        help="presence: recipe with a presence trigger (default: conveyor); drift: default demo",
    )
    ev.add_argument(
        "--parts", type=int, default=1000, help="presence, drift: simulated parts to inspect"
    )
    ev.add_argument("--versions", type=int, default=50, help="drift: recipe versions replayed")
    ev.add_argument("--days", type=float, default=7.0, help="drift: days of running per version")
    ev.add_argument(
        "--parts-per-s", type=float, help="drift: the line's rate (default: the simulated camera's)"
    )
    ev.add_argument("--formats", help="code formats to search, comma-separated (default: all)")
    ev.add_argument(
        "--plain",
        action="store_true",
        help='codes: also one plain zxing-cpp call per image, same fields, under "plain"',
    )
    ev.add_argument(
        "--add-on",
        choices=["ignore", "read", "require"],
        default="ignore",
        help="codes: EAN-2/EAN-5 add-ons (label files then include them when read/require)",
    )
    ev.add_argument(
        "--generate",
        choices=["dot_matrix"],
        help="ocr: read a generated set instead of --data (dot_matrix: lot/expiry codes printed "
        "by dot-matrix and inkjet coders)",
    )
    ev.add_argument("--count", type=int, default=300, help="ocr --generate: images to render")
    ev.add_argument("--seed", type=int, default=1, help="ocr --generate: the set's seed")
    ev.add_argument(
        "--print",
        help="ocr: print settings to read each image with, comma-separated (solid, dot_matrix; "
        "default: solid for --data, both for --generate)",
    )
    ev.add_argument(
        "--by-position",
        action="store_true",
        help="ocr: also read each line by position against the expected text, as a label "
        "field with `read_by_position: true` does",
    )
    ev.add_argument(
        "--alphabet",
        choices=("latin", "all"),
        default="latin",
        help="ocr: the characters the recogniser may read, as a label tool's `alphabet:` "
        "(default latin)",
    )
    ev.add_argument(
        "--misprints",
        action="store_true",
        help="ocr: also read each image against its text with one character misprinted, and "
        "count the misprints that passed (misprints_passed)",
    )
    ev.add_argument(
        "--pool",
        type=int,
        help="anomaly: patch neighbourhood, as a defect tool's recipe `pool:` (default: the tool's)",
    )
    ev.add_argument(
        "--score",
        choices=["patches", "map_max"],
        help="anomaly: how an image's score is made, as a recipe's `score:` (default: map_max)",
    )
    ev.add_argument(
        "--score-patches",
        type=int,
        help="anomaly: with --score patches, the mean of the N highest patch scores, as a "
        "recipe's `score_patches:` (default: (pool + 1)²)",
    )
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(fn=cmd_eval)

    tr = sub.add_parser("train", help="teach a defect or label tool from good parts")
    tr.add_argument("--recipe", help="recipe YAML (default: the demo recipe)")
    tr.add_argument("--tool", required=True, help="id of the tool to teach")
    src = tr.add_mutually_exclusive_group(required=True)
    src.add_argument("--good", help="folder of good-part images")
    src.add_argument(
        "--from-line", type=int, metavar="N", help="take N good parts from the recipe's camera"
    )
    tr.add_argument("--bad", help="folder of defective-part images (sharper threshold)")
    tr.add_argument(
        "--beside",
        action="store_true",
        help="defect tool: keep the model in force and write the new one beside it "
        "(<tool>.retaught.lsam), to re-score and apply as a recipe version",
    )
    tr.add_argument("--json", action="store_true")
    tr.set_defaults(fn=cmd_train)

    cams = sub.add_parser("cameras", help="scan for GigE cameras, or test a recipe's cameras")
    cams.add_argument(
        "action",
        choices=["scan", "test"],
        help="scan: GigE Vision cameras on every network interface; test: connect to the "
        "recipe's cameras and read a few frames",
    )
    cams.add_argument("--recipe", help="test: recipe YAML (default: the demo recipe)")
    cams.add_argument("--camera", help="test: only this camera id")
    cams.add_argument("--timeout", type=float, help="test: seconds per camera (default 5)")
    cams.add_argument("--json", action="store_true")
    cams.set_defaults(fn=cmd_cameras)

    tg = sub.add_parser(
        "trigger", help="take one part now on the running software-triggered station"
    )
    tg.add_argument("--timeout", type=float, help="seconds to wait for the station's answer")
    tg.add_argument("--json", action="store_true")
    tg.set_defaults(fn=cmd_trigger)

    b = sub.add_parser("bench", help="measure pipeline throughput and overhead")
    b.add_argument("--recipe", help="recipe YAML (default: the demo recipe)")
    b.add_argument("--parts", type=int, default=300)
    b.add_argument("--workers", default="1,2", help="worker counts to run, comma-separated")
    b.add_argument(
        "--sources",
        action="store_true",
        help="also measure the camera kinds (GigE, RTSP, HTTP) against their simulators",
    )
    b.add_argument(
        "--sources-only", action="store_true", help="with --sources: skip the pipeline bench"
    )
    b.add_argument("--seconds", type=float, default=10.0, help="--sources: seconds per camera")
    b.add_argument(
        "--report",
        action="store_true",
        help="time shift and day reports on a generated day, History's first page on many "
        "parts, and the line's slowdown while a report is written",
    )
    b.add_argument(
        "--hours", type=float, default=24.0, help="--report: hours of production to generate"
    )
    b.add_argument(
        "--history-rows",
        type=int,
        default=10_000_000,
        help="--report: parts in the database History's first page is timed on",
    )
    b.add_argument(
        "--links",
        action="store_true",
        help="trigger-to-OK/NG on a PLC over Modbus TCP, against peers started on 127.0.0.1",
    )
    b.add_argument("--link-parts", type=int, default=1000, help="--links: PLC handshakes to time")
    b.add_argument(
        "--outage-s",
        type=float,
        default=60.0,
        help="--links: how long MQTT and PostgreSQL are away",
    )
    b.add_argument(
        "--phase-s",
        type=float,
        default=60.0,
        help="--links: seconds of the line with and without outputs (the slowdown)",
    )
    b.add_argument(
        "--mqtt-qos",
        type=int,
        choices=(1, 2),
        default=1,
        help="--links: the MQTT output's QoS (1: at least once, the default; 2: exactly once)",
    )
    b.add_argument(
        "--tune",
        action="store_true",
        help="time a threshold move over 1,000,000 scores and loading a week of one tool's scores",
    )
    b.add_argument(
        "--tune-parts-per-s",
        type=float,
        default=10.0,
        help="--tune: the generated week's part rate (default 10, the station's full rate: "
        "6,048,000 parts, ~14 GB in the temp folder)",
    )
    b.add_argument(
        "--soak",
        type=float,
        metavar="HOURS",
        help="run the recipe at its cameras' rate for HOURS (e.g. 0.05), recording results, "
        "and report memory, open files, threads and throughput over time",
    )
    b.add_argument("--gui", action="store_true", help="the screen under load (`lineside` only)")
    b.add_argument("--json", action="store_true")
    b.set_defaults(fn=cmd_bench)

    rp = sub.add_parser("report", help="write a shift report (xlsx, csv, pdf) from the results")
    which = rp.add_mutually_exclusive_group(required=True)
    which.add_argument("--shift", metavar="DAY/NAME", help="one shift, e.g. 2026-12-04/Early")
    which.add_argument(
        "--from", dest="from_", metavar="ISO", help="start local time, e.g. 2026-12-05T06:00"
    )
    which.add_argument("--last-shift", action="store_true", help="the latest shift that ended")
    rp.add_argument("--to", metavar="ISO", help="with --from: end local time (not included)")
    rp.add_argument(
        "--format", default="xlsx,csv,pdf", help="comma-separated: xlsx, csv, pdf (default all)"
    )
    rp.add_argument("--out", help="folder for the files (default: the data folder's reports)")
    rp.add_argument("--station", help="only this station (default: every station)")
    rp.add_argument("--db", help="results database (default: this user's)")
    add_plant_arguments(rp)
    rp.add_argument("--json", action="store_true", help="one JSON object on stdout")
    rp.set_defaults(fn=cmd_report)

    td = sub.add_parser("trends", help="a series over time, its control limits and rule breaks")
    trends_arguments(td)
    td.set_defaults(fn=cmd_trends)

    tn = sub.add_parser("tune", help="a tool's recorded scores against its threshold and another")
    tune_arguments(tn)
    tn.set_defaults(fn=cmd_tune)

    pv = sub.add_parser(
        "privacy",
        help='the notice "What this station records" for the people on the line (pdf or md)',
    )
    pv.add_argument("--format", choices=["pdf", "md"], default="pdf")
    pv.add_argument("--recipe", help="recipe YAML (default: the one the station last opened)")
    pv.add_argument(
        "--out", help="file to write (default: the data folder's reports/privacy-notice.FORMAT)"
    )
    pv.add_argument(
        "--timeout", type=float, help="seconds to wait for each camera's picture (default 3)"
    )
    pv.add_argument(
        "--blank", action="store_true", help="draw the masks on blank frames, not camera pictures"
    )
    pv.add_argument("--json", action="store_true", help="one JSON object on stdout")
    pv.set_defaults(fn=cmd_privacy)
    return p


def _positive(args: argparse.Namespace) -> str | None:
    for name in ("parts", "timeout", "from_line"):
        v = getattr(args, name, None)
        if v is not None and v <= 0:
            return f"--{name} must be positive, got {v}"
    idle = getattr(args, "idle_timeout", None)
    if idle is not None and idle < 0:
        return f"--idle-timeout must be 0 (wait for ever) or positive, got {idle:g}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    from inspection.offline import keep_offline

    keep_offline()  # before any command loads onnxruntime
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    problem = _positive(args)
    if problem:
        sys.stderr.write(f"lineside {args.command}: {problem}\n")
        return EXIT_USAGE
    try:
        return int(args.fn(args))
    except LinesideError as exc:
        # bad input (a recipe, a file named on the command line) is 2; a failure while it
        # ran is 1. With --json the error is the one object on stdout, so a caller reads it.
        bad_input = isinstance(exc, RecipeError)
        sys.stderr.write(f"lineside {args.command}: {exc}\n")
        if getattr(args, "json", False):
            kind = "bad input" if bad_input else "failed"
            print(json.dumps({"error": str(exc), "kind": kind, "command": args.command}))
        return EXIT_USAGE if bad_input else EXIT_PROBLEMS
    except KeyboardInterrupt:
        return EXIT_PROBLEMS


if __name__ == "__main__":
    raise SystemExit(main())
