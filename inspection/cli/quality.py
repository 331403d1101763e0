"""The quality engineer's commands: report, trends, tune."""

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
)
from inspection.errors import LinesideError
from inspection.paths import user_paths

log = logging.getLogger(__name__)


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
    emit(result, args.json)
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
        emit(result, args.json)
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
