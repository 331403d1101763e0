"""`lineside eval`: measure a tool on a labelled folder or a generated set."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inspection.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    emit,
    recipe_or_demo,
    show_progress,
)
from inspection.errors import LinesideError
from inspection.paths import user_paths


def cmd_eval(args: argparse.Namespace) -> int:
    if args.what == "presence":
        from inspection.evaluation.presence import evaluate_presence
        from inspection.paths import resources_dir

        recipe = recipe_or_demo(args.recipe or str(resources_dir() / "recipes" / "conveyor.yaml"))
        result = evaluate_presence(recipe, args.parts, progress=show_progress)
        emit(result, args.json)
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
                data, formats, plain=args.plain, add_on=args.add_on, progress=show_progress
            )
        except ValueError as exc:  # unknown format names
            sys.stderr.write(f"lineside eval codes: {exc}\n")
            return EXIT_USAGE
        emit(result, args.json)
        return EXIT_OK
    data = Path(args.data)
    if not data.is_dir():
        sys.stderr.write(f"lineside eval {args.what}: --data {data}: no such folder\n")
        return EXIT_USAGE
    if args.what == "anomaly":
        from inspection.evaluation.anomaly import evaluate_anomaly, recipe_settings

        try:
            chosen = recipe_settings(
                pool=args.pool,
                score=args.score,
                score_patches=args.score_patches,
                position_weight=args.position_weight,
            )
        except ValueError as exc:
            sys.stderr.write(f"lineside eval anomaly: {exc}\n")
            return EXIT_USAGE
        result = evaluate_anomaly(data, settings=chosen, progress=show_progress)
        emit(result, args.json)
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
    # how either set is read: as a label field with these options would read it
    reading = {
        "by_position": args.by_position,
        "misprints": args.misprints,
        "alphabet": args.alphabet,
        "progress": show_progress,
    }
    try:
        if args.generate is not None:
            result = evaluate_generated_ocr(
                args.generate,
                args.count,
                seed=args.seed,
                prints=prints or ("solid", "dot_matrix"),
                **reading,
            )
        else:
            data = Path(args.data)
            if not data.is_dir():
                sys.stderr.write(f"lineside eval ocr: --data {data}: no such folder\n")
                return EXIT_USAGE
            result = evaluate_ocr(data, prints=prints or ("solid",), **reading)
    except ValueError as exc:
        sys.stderr.write(f"lineside eval ocr: {exc}\n")
        return EXIT_USAGE
    emit(result, args.json)
    return EXIT_OK


def _eval_drift(args: argparse.Namespace) -> int:
    """``lineside eval drift``: false warnings of the recipe's drift alerts on a steady line."""
    from inspection.evaluation.drift import evaluate_drift

    if args.versions < 1 or args.days <= 0 or args.parts < 30:
        sys.stderr.write(
            "lineside eval drift: --versions ≥ 1, --days > 0 and --parts ≥ 30 are needed\n"
        )
        return EXIT_USAGE
    recipe = recipe_or_demo(args.recipe)
    try:
        result = evaluate_drift(
            recipe,
            user_paths().ensure(),
            parts=args.parts,
            parts_per_s=args.parts_per_s,
            versions=args.versions,
            days=args.days,
            progress=show_progress,
        )
    except LinesideError as exc:
        sys.stderr.write(f"lineside eval drift: {exc}\n")
        return EXIT_USAGE
    emit(result, args.json)
    return EXIT_OK
