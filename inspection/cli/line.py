"""Commands that run or reach the line: run, simulate, cameras, trigger, privacy."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from inspection.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    SURFACE_MATERIALS,
    emit,
    recipe_or_demo,
    show_progress,
)
from inspection.errors import LinesideError
from inspection.paths import demo_recipe, user_paths


def cmd_run(args: argparse.Namespace) -> int:
    if not args.headless:
        sys.stderr.write(
            "lineside run: the GUI is `lineside` with no arguments; use --headless here\n"
        )
        return EXIT_USAGE
    from inspection.evaluation.headless import run_headless

    recipe = recipe_or_demo(args.recipe)
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
    emit(result, args.json)
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
        emit(summaries[0] if len(summaries) == 1 else {"sets": summaries}, args.json)
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
    summary = write_simulation(settings, Path(args.out), args.parts, progress=show_progress)
    emit(summary, args.json)
    return EXIT_OK


def cmd_cameras(args: argparse.Namespace) -> int:
    if args.action == "scan":
        from inspection.sources.gige import discover_gige

        found = [dataclasses.asdict(info) for info in discover_gige()]
        emit({"gige": found}, args.json)
        return EXIT_OK
    from inspection.sources.probe import probe_camera

    recipe = recipe_or_demo(args.recipe)
    cameras = [c for c in recipe.cameras if args.camera in (None, c.id)]
    if not cameras:
        known = ", ".join(c.id for c in recipe.cameras)
        sys.stderr.write(f"lineside cameras: no camera {args.camera!r} in the recipe ({known})\n")
        return EXIT_USAGE
    results = {}
    for cam in cameras:
        r = probe_camera(cam, timeout_s=args.timeout or 5.0)
        results[cam.id] = {"ok": r.ok, "message": r.message, "frames": r.frames, "fps": r.fps}
    emit({"cameras": results}, args.json)
    return EXIT_OK if all(r["ok"] for r in results.values()) else EXIT_PROBLEMS


def cmd_trigger(args: argparse.Namespace) -> int:
    from inspection.integrations.local_control import send_trigger

    trigger_id = send_trigger(user_paths().trigger_socket, timeout_s=args.timeout or 2.0)
    emit({"trigger_id": trigger_id}, args.json)
    return EXIT_OK


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
    emit(result, args.json)
    return EXIT_OK
