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
from typing import Any

from inspection.jobs import ProgressFn
from inspection.recipe.station import StationSettings
from inspection.reports.aggregate import build_report
from inspection.reports.export import ReportFiles, write_report
from inspection.reports.figures import ReportPeriod, ShiftReport
from inspection.reports.plant import PlantDatabase, copy_period


@contextlib.contextmanager
def _copied(
    plant: PlantDatabase,
    period: ReportPeriod,
    settings: StationSettings,
    station: str | None,
    progress: ProgressFn | None,
    cancel: threading.Event | None,
) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The period copied into a temporary results database (removed after use), and the
    keywords a station's report code takes to report on it: the stations' line (not this
    PC's), where the records came from and what they lack."""
    with tempfile.TemporaryDirectory(prefix="lineside-plant-report-") as tmp:
        copy = copy_period(
            plant,
            period,
            settings.calendar,
            Path(tmp) / "plant.sqlite",
            station=station,
            progress=progress,
            cancel=cancel,
        )
        yield (
            copy.db_path,
            {
                "settings": settings.model_copy(update={"line": ""}),
                "station": station,
                "progress": progress,
                "cancel": cancel,
                "source": copy.source,
                "notes": copy.notes,
            },
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
) -> ReportFiles:
    """The shift report of ``period`` from the plant database, as ``formats`` in ``out_dir``
    (see ``write_report``); its ``source`` says which database and stations the records came
    from."""
    with _copied(plant, period, settings, station, progress, cancel) as (db_path, keywords):
        return write_report(db_path, period, formats, out_dir, **keywords)


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
    with _copied(plant, period, settings, station, progress, cancel) as (db_path, keywords):
        return build_report(db_path, period, **keywords)
