"""One report, every format asked for: the figures once, then each file written under a temporary
name and renamed into place, so a cancelled or failed export never leaves half a file.

``lineside report``, the GUI's Reports page and the automatic export at each shift end all call
``write_report``.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from inspection.jobs import Cancelled, ProgressFn
from inspection.paths import written_in_place
from inspection.recipe.station import REPORT_FORMATS, StationSettings
from inspection.reports.aggregate import build_report
from inspection.reports.figures import ReportPeriod, ShiftReport
from inspection.reports.parts_csv import write_parts_csv, write_summary_csv

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """A written report: its figures and the files made, by format (``csv`` is the parts CSV;
    ``summary_csv`` comes with it)."""

    report: ShiftReport
    files: Mapping[str, Path]


_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]+')


def safe_name(text: str) -> str:
    """``text`` usable as a file name on Windows shares too: no reserved characters, no
    trailing dots or spaces, never empty."""
    cleaned = _UNSAFE.sub("-", text)
    cleaned = re.sub(r"\s+", "_", cleaned.strip())
    cleaned = re.sub(r"[-_]*-[-_]*", "-", cleaned).strip(" .-_")  # "a: b" → "a-b"
    return cleaned or "report"


def report_stem(period: ReportPeriod, station: str) -> str:
    """``lineside-<station>-2026-12-04-Early``, or ``lineside-<station>-2026-12-05_06-00_to_...``."""
    return safe_name(f"lineside-{station}-{period.label}")


def check_formats(formats: Sequence[str]) -> list[str]:
    """The formats, cleaned and in order; ValueError naming an unknown one and the known ones."""
    wanted = list(dict.fromkeys(f.strip().lower() for f in formats if f.strip()))
    unknown = [f for f in wanted if f not in REPORT_FORMATS]
    if unknown:
        raise ValueError(
            f"unknown report format {', '.join(map(repr, unknown))}; "
            f"known formats: {', '.join(REPORT_FORMATS)}"
        )
    if not wanted:
        raise ValueError(f"no report format given; known formats: {', '.join(REPORT_FORMATS)}")
    return wanted


def write_report(
    db_path: Path,
    period: ReportPeriod,
    formats: Sequence[str],
    out_dir: Path,
    *,
    settings: StationSettings,
    station: str | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> ReportFiles:
    """Build the report of ``period`` and write it as ``formats`` (xlsx, csv, pdf) in ``out_dir``.

    ValueError for an unknown format; StorageError when the database cannot be read; OSError
    when ``out_dir`` cannot be written; Cancelled when ``cancel`` is set. Files already finished
    when a later one fails are kept (each is complete); the unfinished one is removed.
    """
    wanted = check_formats(formats)
    steps = 1 + len(wanted)

    def step(n: int, message: str) -> None:
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"report {period.label} cancelled")
        if progress is not None:
            progress(n, steps, message)

    step(0, "reading the figures")
    report = build_report(db_path, period, settings=settings, station=station, cancel=cancel)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = report_stem(period, station or report.station or "all")
    files: dict[str, Path] = {}
    for n, fmt in enumerate(wanted, start=1):
        step(n, f"writing {fmt}")
        target = out_dir / f"{stem}.{fmt}"
        if fmt == "xlsx":
            from inspection.reports.xlsx import write_xlsx

            files["xlsx"] = write_xlsx(report, target)  # which writes its file atomically
        elif fmt == "pdf":
            from inspection.reports.pdf import write_pdf

            files["pdf"] = write_pdf(report, target)  # likewise
        else:
            with written_in_place(target) as tmp:
                write_parts_csv(
                    db_path,
                    period,
                    tmp,
                    station=station,
                    last_row_id=report.last_row_id,
                    tools=[t.tool_id for t in report.tools] or None,
                    timezone=report.timezone,
                    cancel=cancel,
                )
            files["csv"] = target
            summary = out_dir / f"{stem}-summary.csv"
            with written_in_place(summary) as tmp:
                write_summary_csv(report, tmp)
            files["summary_csv"] = summary
    step(steps, "done")
    log.info("report %s written: %s", period.label, ", ".join(str(p) for p in files.values()))
    return ReportFiles(report, files)
