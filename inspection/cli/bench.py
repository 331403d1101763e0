"""`lineside bench`: the station's speed, and its links', reports' and sources' figures."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from inspection.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    emit,
    recipe_or_demo,
)
from inspection.paths import user_paths

log = logging.getLogger(__name__)


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
            recipe_or_demo(args.recipe),
            args.soak,
            user_paths().ensure(),
            progress=lambda m: log.info("bench soak: %s", m),
        )
        emit(figures, args.json)
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
        emit(figures, args.json)
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
            emit(figures, True)
        else:
            sys.stdout.write(summary_text(figures))
        return EXIT_OK
    if args.sources:
        from inspection.evaluation.sources_bench import bench_sources

        figures = bench_sources(args.seconds, progress=lambda m: log.info("bench sources: %s", m))
        if args.sources_only:
            emit({"sources": figures}, args.json)
            return EXIT_OK

    recipe = recipe_or_demo(args.recipe)
    workers = [int(w) for w in args.workers.split(",")]
    result = bench(
        recipe, parts=args.parts, workers=workers, progress=lambda m: log.info("bench: %s", m)
    )
    if args.sources:
        result["sources"] = figures
    emit(result, args.json)
    return EXIT_OK
