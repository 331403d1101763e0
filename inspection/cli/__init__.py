"""The headless commands: run, simulate, eval, train, trigger, bench. No Qt is imported here, ever.

Exit codes: 0 ok, 1 ran but found problems, 2 bad usage or input. With ``--json`` the result is
one JSON object on stdout; logs go to stderr.

One room per kind of command: ``line`` (run, simulate, cameras, trigger, privacy), ``evaluate``
(eval), ``teach`` (train), ``bench``, ``quality`` (report, trends, tune); ``parser`` names them
all and ``common`` holds what they share.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence

from inspection.cli.common import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, SURFACE_MATERIALS
from inspection.cli.parser import build_parser, positive_problem
from inspection.errors import LinesideError, RecipeError

__all__ = [
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "EXIT_USAGE",
    "SURFACE_MATERIALS",
    "build_parser",
    "main",
]


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
    problem = positive_problem(args)
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
