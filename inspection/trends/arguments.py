"""The ``lineside trends`` options, apart from the command so building the parser loads no
numpy or database code."""

from __future__ import annotations

import argparse

RULE_CODES = ("WE1", "WE2", "WE3", "WE4", "N5", "N6", "N7", "N8")  # rules.ALL_RULES
DEFAULT_BASELINE_PARTS = 100


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--series",
        required=True,
        metavar="TOOL.MEASURE",
        help="e.g. surface.score, label.lot_contrast, station.yield, station.reason:<reason>",
    )
    p.add_argument(
        "--from", dest="from_", metavar="ISO", help="start local time (default: the current shift)"
    )
    p.add_argument("--to", metavar="ISO", help="end local time, not included (default: now)")
    p.add_argument("--max-points", type=int, default=2000, help="points at most (default 2000)")
    p.add_argument(
        "--interval",
        type=float,
        metavar="S",
        help="station series: seconds per "
        "interval (default: the shortest of 1, 5, 10, 15, 30, 60 min that fits)",
    )
    p.add_argument("--station", help="only this station (default: every station)")
    p.add_argument("--db", help="results database (default: this user's)")
    p.add_argument(
        "--rules",
        default=",".join(RULE_CODES),
        help=f"comma-separated rules to check (default all: {','.join(RULE_CODES)})",
    )
    p.add_argument(
        "--baseline-parts",
        type=int,
        default=DEFAULT_BASELINE_PARTS,
        metavar="N",
        help="good parts (or intervals) in a computed baseline (default 100)",
    )
    p.add_argument(
        "--save-limits",
        action="store_true",
        help="compute limits from the first "
        "N good parts of the recipe version in force (or --baseline-from/--baseline-to) "
        "and store them for that version",
    )
    p.add_argument(
        "--baseline-from", metavar="ISO", help="with --save-limits: baseline window start"
    )
    p.add_argument("--baseline-to", metavar="ISO", help="with --save-limits: baseline window end")
    p.add_argument(
        "--max-violations",
        type=int,
        default=500,
        help="newest violations listed at most (default 500; violations_total counts them all)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
