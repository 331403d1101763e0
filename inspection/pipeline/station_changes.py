"""What changed while the line ran, recorded beside its parts for a report's Changes sheet (the
recipe version started, batch changes, alarms and their downtime, new counts, a new calendar),
and the automatic report at each shift end. The station owns one ``ChangeRecorder``."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from inspection.errors import StorageError
from inspection.paths import Paths
from inspection.pipeline.alarms import AlarmEpisode
from inspection.pipeline.drift import DriftWarning
from inspection.recipe import Recipe
from inspection.recipe.station import StationSettings
from inspection.reports.shift_end import ShiftEndExporter
from inspection.storage.batch import StationEvent
from inspection.storage.results import ResultsStore
from inspection.types import StatusLevel

log = logging.getLogger(__name__)

StatusFn = Callable[[StatusLevel, str, str], None]
"""The station's ``_status(level, source, message)``."""


class ChangeRecorder:
    """Records changes through the running results store (nothing while none runs: a stopped
    station's changes show in its next start) and runs the shift-end report export."""

    def __init__(self, station: str, status: StatusFn) -> None:
        self.station = station
        self._status = status
        self.store: ResultsStore | None = None
        self.exporter: ShiftEndExporter | None = None

    def record(self, kind: str, text: str, **details: object) -> None:
        store = self.store
        if store is None or not store.is_running:
            return
        event = StationEvent(
            station=self.station, wall_time=time.time(), kind=kind, text=text, details=details
        )
        try:
            store.record_event(event)
        except StorageError as exc:
            log.warning("change not recorded (%s): %s", text, exc)

    def drift_raised(self, warning: DriftWarning, new: bool) -> None:
        """A drift warning: recorded with its rule and points when it is raised (a warning
        that goes on only grows on the screen)."""
        if not new:
            log.debug("drift %s goes on: %s", warning.series, warning.rule_name)
            return
        log.warning("drift warning: %s", warning.text)
        self.record(
            "drift",
            f"drift warning: {warning.text}",
            series=warning.series,
            rule=warning.rule,
            rule_name=warning.rule_name,
            direction=warning.direction,
            points=[list(p) for p in zip(warning.times, warning.values, strict=True)],
            parts=list(warning.parts),
            parts_per_point=list(warning.counts),
            centre=warning.centre,
            ucl=warning.ucl,
            lcl=warning.lcl,
        )

    def drift_acknowledged(self, warning: DriftWarning) -> None:
        log.info("drift warning acknowledged: %s", warning.text)
        self.record(
            "drift_acknowledged",
            f"drift warning acknowledged: {warning.text}",
            series=warning.series,
            rule=warning.rule,
            raised_at=warning.raised_at,
        )

    def recipe_started(self, recipe: Recipe) -> None:
        thresholds = {
            t.id: getattr(t, "threshold", None)
            for t in recipe.tools
            if getattr(t, "threshold", None) is not None
        }
        self.record(
            "recipe",
            f"recipe {recipe.name} version {recipe.version} started",
            recipe=recipe.name,
            version=recipe.version,
            thresholds=thresholds,
        )

    def batch_changed(self, before: dict[str, str], after: dict[str, str]) -> None:
        changed = ", ".join(
            f"{k} {before.get(k, '') or '-'} → {v}" for k, v in after.items() if before.get(k) != v
        )
        self.record("batch", f"batch changed: {changed}", before=before, after=after)

    def alarm_changed(self, episode: AlarmEpisode) -> None:
        if episode.cleared_at is not None:
            downtime = max(episode.cleared_at - episode.raised_at, 0.0)
            self.record(
                "alarm_cleared",
                f"{episode.source}: cleared after {downtime:.0f} s ({episode.first_message})",
                source=episode.source,
                level=str(episode.level),
                raised_at=episode.raised_at,
                downtime_s=downtime,
                episode=episode.episode_id,
            )
        elif episode.occurrences == 1 and episode.acknowledged_at is None:
            self.record(
                "alarm",
                f"{episode.source}: {episode.first_message}",
                source=episode.source,
                level=str(episode.level),
                episode=episode.episode_id,
            )

    # ---- each shift's report ---------------------------------------------------------------

    def start_exporter(self, paths: Paths, settings: StationSettings) -> None:
        """Deliver each finished shift's report when the settings name a folder."""
        if self.exporter is not None or settings.reports.folder is None:
            return
        self.exporter = ShiftEndExporter(
            paths.results_db,
            settings,
            self.station,
            on_status=self._report_status,
            state_file=paths.data / "shift_reports.json",
        )
        self.exporter.start()

    def use_settings(self, paths: Paths | None, settings: StationSettings) -> None:
        """New settings: the running exporter takes them, or one starts (``paths`` given: the
        station runs and records)."""
        if self.exporter is not None:
            self.exporter.use_settings(settings)
        elif paths is not None:
            self.start_exporter(paths, settings)
        self.record("calendar", "station settings changed (shift calendar, line)")

    def stop_exporter(self, timeout_s: float) -> None:
        if self.exporter is not None:
            self.exporter.stop(timeout_s)
            self.exporter = None

    def _report_status(self, level: str, message: str) -> None:
        # an undelivered report is an alarm until it is delivered: it is never silently lost
        self._status(
            StatusLevel.ALARM if level == "alarm" else StatusLevel.INFO, "shift report", message
        )
