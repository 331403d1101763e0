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
from inspection.reports.aggregate import build_report, newest_row_id, stations_in
from inspection.reports.figures import ReportPeriod, ShiftReport
from inspection.reports.parts_csv import write_parts_csv, write_summary_csv
from inspection.storage.queries import open_reader

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """A written report: its figures and the files made, by format (``csv`` is the parts CSV;
    ``summary_csv`` comes with it)."""

    report: ShiftReport
    files: Mapping[str, Path]


# A report made while the line inspects runs this share of the time (``run_apart(share=...)``):
# at idle priority it takes no CPU time the line wants, but it still competes for the memory
# bandwidth and caches of a 2-core PC. Measured with ``lineside bench --report``.
WHILE_INSPECTING_SHARE = 0.3

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
    source: str = "",
    notes: Sequence[str] = (),
) -> ReportFiles:
    """Build the report of ``period`` and write it as ``formats`` (xlsx, csv, pdf) in ``out_dir``.

    ValueError for an unknown format; StorageError when the database cannot be read; OSError
    when ``out_dir`` cannot be written; Cancelled when ``cancel`` is set. Files already finished
    when a later one fails are kept (each is complete); the unfinished one is removed.
    ``source`` and ``notes``: see ``build_report``.
    """
    wanted = check_formats(formats)
    steps = 1 + len(wanted)

    def step(n: int, message: str) -> None:
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"report {period.label} cancelled")
        if progress is not None:
            progress(n, steps, message)

    step(0, "reading the figures")
    last_row_id, stations = _snapshot(db_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = report_stem(period, station or ", ".join(stations) or "all")
    # The parts CSV (every part) takes as long as the figures: it is written on a thread of its
    # own meanwhile, from the same rows (bounded by last_row_id). Both spend most of their time
    # inside SQLite, which runs without the GIL, so on two cores they overlap.
    parts_csv = (
        _PartsCsv(db_path, period, out_dir / f"{stem}.csv", station, last_row_id, settings)
        if "csv" in wanted
        else None
    )
    try:
        report = build_report(
            db_path,
            period,
            settings=settings,
            station=station,
            last_row_id=last_row_id,
            cancel=cancel,
            source=source,
            notes=notes,
        )
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
                assert parts_csv is not None
                files["csv"] = parts_csv.result(cancel)
                summary = out_dir / f"{stem}-summary.csv"
                with written_in_place(summary) as tmp:
                    write_summary_csv(report, tmp)
                files["summary_csv"] = summary
    finally:
        if parts_csv is not None:
            parts_csv.stop()
    step(steps, "done")
    log.info("report %s written: %s", period.label, ", ".join(str(p) for p in files.values()))
    return ReportFiles(report, files)


def _snapshot(db_path: Path) -> tuple[int, list[str]]:
    """The newest part's row id (every file of one report stops there) and the stations."""
    conn = open_reader(db_path)
    try:
        return newest_row_id(conn), stations_in(conn)
    finally:
        conn.close()


class _PartsCsv:
    """The parts CSV, written on its own thread into a temporary file renamed when complete."""

    def __init__(
        self,
        db_path: Path,
        period: ReportPeriod,
        target: Path,
        station: str | None,
        last_row_id: int,
        settings: StationSettings,
    ) -> None:
        self._target = target
        self._halt = threading.Event()
        self._error: BaseException | None = None
        self._handed_over = False
        self._written = False

        def write() -> None:
            try:
                with written_in_place(target) as tmp:
                    write_parts_csv(
                        db_path,
                        period,
                        tmp,
                        station=station,
                        last_row_id=last_row_id,
                        timezone=settings.calendar.timezone,
                        cancel=self._halt,
                    )
                self._written = True
            except BaseException as exc:  # handed to the caller by result()
                self._error = exc

        self._thread = threading.Thread(target=write, name="report-parts-csv", daemon=True)
        self._thread.start()

    def result(self, cancel: threading.Event | None) -> Path:
        """Wait for the file; Cancelled when ``cancel`` is set meanwhile; the thread's error."""
        while True:
            self._thread.join(0.1)
            if cancel is not None and cancel.is_set():
                self.stop()
                raise Cancelled("parts CSV cancelled")
            if not self._thread.is_alive():
                break
        if self._error is not None:
            raise self._error
        self._handed_over = True
        return self._target

    def stop(self) -> None:
        """Stop writing and wait for the thread. A file finished but never handed over (the
        report was cancelled or failed before it came to the CSV) is removed: a report stopped
        before its CSV step leaves no CSV, as when the CSV was written in turn."""
        self._halt.set()
        self._thread.join()
        if self._written and not self._handed_over:
            self._target.unlink(missing_ok=True)
