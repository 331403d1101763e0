"""``lineside report --plant --dsn ...``: the shift report of every station (or ``--station``)
from the plant's PostgreSQL database, in the formats and with the JSON of ``lineside report``.

``cli.cmd_report`` chooses the period and formats as for a station's report, reads the password
named by ``--password-env`` (as the ``postgres`` output reads its own) and hands over here.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the parser is built on every command: the report's modules load when used
    from inspection.recipe.station import StationSettings
    from inspection.reports.export import ReportFiles
    from inspection.reports.figures import ReportPeriod, ShiftReport

log = logging.getLogger(__name__)

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def add_plant_arguments(parser: argparse.ArgumentParser) -> None:
    """``--plant``, ``--dsn``, ``--schema``, ``--password-env`` on ``lineside report``."""
    parser.add_argument(
        "--plant",
        action="store_true",
        help="every station's parts from the plant PostgreSQL database (with --dsn)",
    )
    parser.add_argument(
        "--dsn",
        help="--plant: the plant database, libpq key=value pairs or a postgresql:// URI, e.g. "
        "'host=db.plant dbname=quality user=report' (a password here, or --password-env, "
        "PGPASSWORD or ~/.pgpass)",
    )
    parser.add_argument(
        "--schema", help="--plant: the schema the stations write into (default lineside)"
    )
    parser.add_argument(
        "--password-env",
        metavar="NAME",
        help="--plant: read the database password from environment variable NAME",
    )


def plant_usage_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the plant options given, None when nothing (or no --plant)."""
    if not args.plant:
        flags = (
            ("--dsn", args.dsn),
            ("--schema", args.schema),
            ("--password-env", args.password_env),
        )
        used = [flag for flag, value in flags if value]
        return f"{' and '.join(used)} only go with --plant" if used else None
    if not args.dsn:
        return "--plant needs --dsn, e.g. --dsn 'host=db.plant dbname=quality user=report'"
    if args.db:
        return "--db is this PC's results database, --plant reads the plant database: give one"
    return None


def station_counts(report: ShiftReport) -> dict[str, dict[str, Any]]:
    """The ``stations`` field of ``lineside report --json``: each station's counts."""
    return {
        s.station: {
            "parts": s.parts,
            "pass": s.passed,
            "fail": s.failed,
            "error": s.errors,
            "yield": s.yield_,
        }
        for s in report.per_station
    }


def report_result(written: ReportFiles) -> dict[str, Any]:
    """What ``lineside report --json`` prints for a written report (station's or plant's)."""
    report, files = written.report, written.files
    return {
        "files": {f: str(files[f]) for f in ("xlsx", "csv", "pdf") if f in files},
        "parts": report.parts,
        "pass": report.passed,
        "fail": report.failed,
        "error": report.errors,
        "yield": report.yield_,
        "stations": station_counts(report),
    }


def run_plant_report(
    args: argparse.Namespace,
    period: ReportPeriod,
    formats: Sequence[str],
    out: Path,
    settings: StationSettings,
    password: str | None,
) -> tuple[int, dict[str, Any] | None]:
    """Write the plant report; (exit code, the JSON result or None after an error, which is
    written to stderr, and with ``--json`` as an ``error`` object on stdout)."""
    from inspection.reports.plant import PlantDatabase, PlantDatabaseError
    from inspection.reports.plant_report import write_plant_report

    try:
        plant = PlantDatabase(args.dsn, schema=args.schema or "lineside", password=password)
        written = write_plant_report(
            plant,
            period,
            formats,
            out,
            settings=settings,
            station=args.station,
            progress=lambda done, total, message: log.info("%s (%d/%d)", message, done, total),
        )
    except PlantDatabaseError as exc:
        sys.stderr.write(f"lineside report: {exc}\n")
        if args.json:
            kind = "bad input" if exc.bad_input else "failed"
            print(json.dumps({"error": str(exc), "kind": kind, "command": "report"}))
        return (EXIT_USAGE if exc.bad_input else EXIT_PROBLEMS), None
    except OSError as exc:
        sys.stderr.write(f"lineside report: cannot write the report into {out}: {exc}\n")
        return EXIT_USAGE, None
    return EXIT_OK, {**report_result(written), "source": written.report.source}
