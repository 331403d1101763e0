"""The plant's shift report, shown or written: the period copied from the plant database
(``plant.py``) into a temporary results database, then built by the station's own report code,
unchanged (``aggregate.build_report``, ``export.write_report``). Its line is the stations', not
this PC's setting. Used by ``lineside report --plant`` and the Reports page."""

from __future__ import annotations

import contextlib
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from inspection.jobs import ProgressFn
from inspection.recipe.station import ShiftCalendar, StationSettings
from inspection.reports.aggregate import build_report
from inspection.reports.export import ReportFiles, write_report
from inspection.reports.figures import ReportPeriod, ShiftReport
from inspection.reports.plant import PlantCopy, PlantDatabase, copy_period


@contextlib.contextmanager
def _copied(
    plant: PlantDatabase,
    period: ReportPeriod,
    calendar: ShiftCalendar,
    station: str | None,
    progress: ProgressFn | None,
    cancel: threading.Event | None,
) -> Iterator[PlantCopy]:
    """The period copied into a temporary results database, removed after use."""
    with tempfile.TemporaryDirectory(prefix="lineside-plant-report-") as tmp:
        yield copy_period(
            plant,
            period,
            calendar,
            Path(tmp) / "plant.sqlite",
            station=station,
            progress=progress,
            cancel=cancel,
        )


def write_plant_report(
    plant: PlantDatabase,
    period: ReportPeriod,
    formats: Sequence[str],
    out_dir: Path,
    *,
    settings: StationSettings,
    station: str | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> tuple[ReportFiles, PlantCopy]:
    """The shift report of ``period`` from the plant database, as ``formats`` in ``out_dir``
    (see ``write_report``); its line is the stations' (not this PC's setting)."""
    with _copied(plant, period, settings.calendar, station, progress, cancel) as copy:
        written = write_report(
            copy.db_path,
            period,
            formats,
            out_dir,
            settings=settings.model_copy(update={"line": ""}),
            station=station,
            progress=progress,
            cancel=cancel,
            source=copy.source,
            notes=copy.notes,
        )
    return written, copy


def export_plant_report(
    plant: PlantDatabase,
    period: ReportPeriod,
    formats: Sequence[str],
    out_dir: Path,
    *,
    settings: StationSettings,
    station: str | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> ReportFiles:
    """``write_plant_report``'s files alone (what the Reports page's export job returns)."""
    return write_plant_report(
        plant,
        period,
        formats,
        out_dir,
        settings=settings,
        station=station,
        progress=progress,
        cancel=cancel,
    )[0]


def build_plant_report(
    plant: PlantDatabase,
    period: ReportPeriod,
    *,
    settings: StationSettings,
    station: str | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> ShiftReport:
    """The figures of ``period`` from the plant database (what the Reports page shows)."""
    with _copied(plant, period, settings.calendar, station, progress, cancel) as copy:
        return build_report(
            copy.db_path,
            period,
            settings=settings.model_copy(update={"line": ""}),
            station=station,
            progress=progress,
            cancel=cancel,
            source=copy.source,
            notes=copy.notes,
        )
