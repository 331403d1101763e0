"""The ``lineside tune`` options, apart from the command so building the parser loads no numpy or
database code."""

from __future__ import annotations

import argparse

DEFAULT_BINS = 50


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--tool",
        required=True,
        metavar="ID",
        help="the tool to tune (one that records a score and its threshold, e.g. surface)",
    )
    p.add_argument(
        "--parameter",
        metavar="NAME",
        help="the limit to tune (default: the tool's score threshold): anomaly min_area_px; "
        "label max_offset_px, max_rotation_deg, min_match, <field>.min_confidence (a field "
        "read in its own region); see inspection/tuning/parameters.py for each rule",
    )
    p.add_argument(
        "--recipe",
        metavar="FILE",
        help="a recipe file whose kept versions say the limits in force (looked for besides "
        "the user's recipe folder and the shipped recipes; parameters other than the threshold "
        "read them)",
    )
    p.add_argument(
        "--from", dest="from_", metavar="ISO", help="start local time (default: the current shift)"
    )
    p.add_argument("--to", metavar="ISO", help="end local time, not included (default: now)")
    p.add_argument(
        "--threshold",
        type=float,
        metavar="X",
        help="a candidate threshold (or value of --parameter) to compare with the one in force "
        "(by default a part is rejected when its score is at or above the threshold)",
    )
    p.add_argument(
        "--labels",
        choices=["db", "truth"],
        default="db",
        help="db: the labels engineers gave (default); truth: the simulated line's ground truth "
        "(a part with a defect of the kind the tool is meant to catch is a defect, any other "
        "good; the kinds per tool type are COVERED_BY_TOOL_TYPE in "
        "inspection/evaluation/truth.py, the same list `lineside run` checks against)",
    )
    p.add_argument(
        "--max-escapes",
        type=int,
        default=1,
        metavar="N",
        help="suggest the best yield with at most N labelled bad parts passing (default 1)",
    )
    p.add_argument("--bins", type=int, default=DEFAULT_BINS, help="histogram bins (default 50)")
    p.add_argument("--db", help="results database (default: this user's)")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
