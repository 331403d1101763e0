"""The command line's parser: every command, its options and help."""

from __future__ import annotations

import argparse

from inspection.cli.bench import cmd_bench
from inspection.cli.common import (
    SURFACE_MATERIALS,
)
from inspection.cli.evaluate import cmd_eval
from inspection.cli.line import cmd_cameras, cmd_privacy, cmd_run, cmd_simulate, cmd_trigger
from inspection.cli.quality import cmd_report, cmd_trends, cmd_tune
from inspection.cli.teach import cmd_train
from inspection.reports.plant_command import add_plant_arguments
from inspection.trends.arguments import add_arguments as trends_arguments
from inspection.tuning.arguments import add_arguments as tune_arguments


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
    ev.add_argument(
        "--position-weight",
        type=float,
        help="anomaly: for aligned parts, compare each patch mostly with good patches from its "
        "own place, as a recipe's `position_weight:` (default: 0, off)",
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


def positive_problem(args: argparse.Namespace) -> str | None:
    for name in ("parts", "timeout", "from_line"):
        v = getattr(args, name, None)
        if v is not None and v <= 0:
            return f"--{name} must be positive, got {v}"
    idle = getattr(args, "idle_timeout", None)
    if idle is not None and idle < 0:
        return f"--idle-timeout must be 0 (wait for ever) or positive, got {idle:g}"
    return None
