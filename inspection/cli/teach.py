"""`lineside train`: teach a defect or label tool from good parts."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from inspection.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    emit,
    recipe_or_demo,
    show_progress,
)
from inspection.paths import user_paths

log = logging.getLogger(__name__)


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

    recipe = recipe_or_demo(args.recipe)
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
        show_progress(done, total)

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
    emit(
        {
            "tool": args.tool,
            "written": str(written),
            "good_images": len(good),
            "bad_images": len(bad),
        },
        args.json,
    )
    return EXIT_OK
