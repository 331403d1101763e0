"""The automatic report at each shift end: written to the station's report folder, never lost.

A thread of its own wakes a little after each shift of the station's calendar ends (a grace so
the storage writer has committed the shift's last parts) and writes that shift's report into
``settings.reports.folder``, which may be a network share. When the folder cannot be reached or
written, it raises an alarm naming the folder and the shift and tries again every
``settings.reports.retry_s`` until the report is delivered; then an "info" clears the alarm.

What was delivered is remembered in a small JSON state file (written atomically): after a
restart the shifts that ended while the station was stopped (up to 7 days back) are caught up,
in order, and a delivered shift is never written twice. The state keeps a high-water mark (the
end of the newest delivered shift), so a calendar change never produces reports for windows of
the new calendar that lie in the past: it applies from the moment of change, like the stamping.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspection.errors import LinesideError
from inspection.jobs import join_within, run_apart
from inspection.paths import written_in_place
from inspection.recipe.station import ShiftCalendar, ShiftWindow, StationSettings
from inspection.reports.aggregate import shift_period
from inspection.reports.export import WHILE_INSPECTING_SHARE, write_report

log = logging.getLogger(__name__)

GRACE_S = 30.0
"""Seconds after a shift's end before its report is made: the writer batches its commits."""
CATCH_UP_S = 7 * 86400.0
"""Shifts that ended longer ago than this while the exporter was stopped are not caught up."""
MAX_WAIT_S = 60.0
"""The thread looks at the clock at least this often (clock changes, new settings)."""
_KEEP_DELIVERED_S = 8 * 86400.0
_STATE_VERSION = 1

StatusFn = Callable[[str, str], None]


@dataclass(slots=True)
class _State:
    """What the state file holds. ``since``: shifts ending after it are due (high-water mark)."""

    since: float | None = None
    delivered: dict[str, dict[str, Any]] = field(default_factory=dict)


def _load_state(path: Path) -> _State:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return _State()
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        # Starting afresh only risks writing the latest shift again (same file names).
        log.warning("%s: cannot be read (%s); starting from the latest shift", path, exc)
        return _State()
    if not isinstance(data, dict) or not isinstance(data.get("delivered", {}), dict):
        log.warning("%s: not a shift-report state file; starting from the latest shift", path)
        return _State()
    since = data.get("since")
    delivered = {
        str(label): entry
        for label, entry in data.get("delivered", {}).items()
        if isinstance(entry, dict) and isinstance(entry.get("end"), int | float)
    }
    return _State(
        since=float(since) if isinstance(since, int | float) else None, delivered=delivered
    )


def _save_state(path: Path, state: _State) -> None:
    """Atomically: a crash mid-write leaves the previous state, never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(
        {"version": _STATE_VERSION, "since": state.since, "delivered": state.delivered},
        indent=1,
        sort_keys=True,
    )
    with written_in_place(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def _reach(folder: Path) -> None:
    """Make sure the report folder is there; OSError naming what is missing otherwise.

    Only the last level is created: a share that is not mounted must fail, not be replaced by
    a local folder tree nobody looks at."""
    if folder.is_dir():
        return
    if folder.exists():
        raise NotADirectoryError(f"{folder} is a file, not a folder")
    if not folder.parent.is_dir():
        raise FileNotFoundError(f"{folder.parent} cannot be reached (missing or not mounted)")
    folder.mkdir()


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return str(exc) or type(exc).__name__


class ShiftEndExporter:
    """Writes each finished shift's report into the configured folder; see the module docstring."""

    def __init__(
        self,
        db_path: Path,
        settings: StationSettings,
        station: str | None,
        *,
        on_status: StatusFn,
        state_file: Path,
        clock: Callable[[], float] = time.time,
        grace_s: float = GRACE_S,
    ) -> None:
        """``station``: the station name the report covers (None: every station in the
        database). ``on_status(level, message)`` with level "alarm" (a report could not be
        delivered) or "info" (delivered again; clears the alarm), called on the exporter's
        thread."""
        self.db_path = Path(db_path)
        self.station = station
        self.state_file = Path(state_file)
        self._on_status = on_status
        self._clock = clock
        self._grace_s = grace_s
        self._settings = settings
        self._settings_lock = threading.Lock()
        self._pass_lock = threading.Lock()  # one pass at a time (thread, or a test driving it)
        self._state = _load_state(self.state_file)
        self._retry_at: float | None = None
        self._alarm: str | None = None  # the alarm raised and not cleared yet
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("shift-end exporter already started")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="shift-report", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Stop the thread; False (and a log line) if it is still writing after ``timeout_s``."""
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        return join_within(thread, timeout_s, "the shift-end exporter")

    def use_settings(self, settings: StationSettings) -> None:
        """New calendar, folder or formats: applies from the next pass (tried at once)."""
        with self._settings_lock:
            self._settings = settings
        self._retry_at = None  # a new folder deserves a try now, not after the old back-off
        self._wake.set()

    @property
    def settings(self) -> StationSettings:
        with self._settings_lock:
            return self._settings

    def delivered_shifts(self) -> tuple[str, ...]:
        """Labels (``2026-12-04/Early``) of the shifts whose report was delivered, oldest first."""
        with self._pass_lock:
            items = sorted(self._state.delivered.items(), key=lambda kv: float(kv[1]["end"]))
        return tuple(label for label, _ in items)

    # ---- one pass --------------------------------------------------------------------------

    def run_pending(self, now: float) -> list[Path]:
        """Write the report of every shift that ended by ``now - grace`` and is not delivered
        yet, oldest first; the files written. Stops at the first failure (alarm, retried)."""
        settings = self.settings
        folder = settings.reports.folder
        if folder is None:
            return []
        written: list[Path] = []
        with self._pass_lock:
            due = self._due_shifts(settings.calendar, now)
            delivered_now: list[str] = []
            for window in due:
                try:
                    files = self._deliver(window, folder, settings)
                except (OSError, LinesideError, sqlite3.Error, ValueError) as exc:
                    log.warning("shift report %s not written: %s", window.label, exc)
                    self._fail(
                        f"Shift report {window.label} could not be written to {folder}: "
                        f"{_why(exc)}. Retrying every {settings.reports.retry_s:g} s.",
                        now,
                        settings,
                    )
                    return written
                written.extend(files)
                try:
                    self._mark_delivered(window, files, now)
                except OSError as exc:
                    # Written but not remembered: the next pass writes the same files again.
                    self._fail(
                        f"Shift report {window.label} was written to {folder}, but "
                        f"{self.state_file} cannot record it: {_why(exc)}.",
                        now,
                        settings,
                    )
                    return written
                delivered_now.append(window.label)
                log.info("shift report %s written to %s", window.label, folder)
            self._retry_at = None
            if self._alarm is not None and delivered_now:
                self._alarm = None
                self._status(
                    "info", f"Shift report {', '.join(delivered_now)} delivered to {folder}."
                )
        return written

    def _due_shifts(self, calendar: ShiftCalendar, now: float) -> list[ShiftWindow]:
        cutoff = now - self._grace_s
        if self._state.since is None:
            # First start: the latest finished shift and every one after it, not a week of
            # reports from before the folder was configured.
            last = calendar.last_completed(cutoff)
            self._state.since = last.end if last is not None else cutoff
            try:
                _save_state(self.state_file, self._state)
            except OSError as exc:
                log.warning("%s: cannot be written: %s", self.state_file, exc)
        since = self._state.since
        floor = now - CATCH_UP_S
        if since < floor:
            lost = [w.label for w in calendar.windows_between(since, floor)]
            if lost:
                log.warning(
                    "shift reports not caught up (ended more than 7 days ago): %s", ", ".join(lost)
                )
            since = floor
        # Half a second back: the shifts ending at the mark itself (shift ends are whole
        # seconds) stay due until delivered; the delivered ones are filtered out below.
        windows = calendar.windows_between(since - 0.5, cutoff)
        return [w for w in windows if w.label not in self._state.delivered]

    def _deliver(self, window: ShiftWindow, folder: Path, settings: StationSettings) -> list[Path]:
        formats = tuple(settings.reports.formats)
        if not formats:
            raise ValueError("no report format is chosen in the station settings")
        _reach(folder)
        period = shift_period(settings.calendar, window.label)
        # in a child at idle priority, paced: the shift-end report must not slow the next
        # shift's parts (the station is running when its shift ends)
        result = run_apart(
            write_report,
            self.db_path,
            period,
            formats,
            folder,
            settings=settings,
            station=self.station,
            share=WHILE_INSPECTING_SHARE,
        )
        return list(result.files.values())

    def _mark_delivered(self, window: ShiftWindow, files: list[Path], now: float) -> None:
        state = self._state
        state.delivered[window.label] = {
            "end": window.end,
            "delivered_at": now,
            "files": [str(p) for p in files],
        }
        state.since = max(state.since or window.end, window.end)
        # Older entries cannot come due again (the catch-up stops at 7 days).
        state.delivered = {
            label: entry
            for label, entry in state.delivered.items()
            if float(entry["end"]) > now - _KEEP_DELIVERED_S
        }
        _save_state(self.state_file, state)

    def _fail(self, message: str, now: float, settings: StationSettings) -> None:
        self._retry_at = now + settings.reports.retry_s
        if message != self._alarm:  # once per distinct problem, not at every retry
            self._alarm = message
            self._status("alarm", message)

    def _status(self, level: str, message: str) -> None:
        try:
            self._on_status(level, message)
        except Exception:  # the station's alarm book failing must not stop the reports
            log.exception("shift-end exporter: status listener failed")

    # ---- the thread ------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            now = self._clock()
            if self._retry_at is None or now >= self._retry_at:
                try:
                    self.run_pending(now)
                except Exception as exc:  # a bug must not end the thread silently
                    log.exception("shift-end exporter pass failed")
                    settings = self.settings
                    self._fail(
                        f"Shift reports could not be made: {type(exc).__name__}: {exc}. "
                        f"Retrying every {settings.reports.retry_s:g} s.",
                        now,
                        settings,
                    )
            self._wake.wait(self._wait_s(self._clock()))
            self._wake.clear()

    def _wait_s(self, now: float) -> float:
        """Seconds until the next shift end (+ grace), the next retry, or MAX_WAIT_S."""
        settings = self.settings
        until = now + MAX_WAIT_S
        if settings.reports.folder is not None:
            if self._retry_at is not None:
                until = min(until, self._retry_at)
            upcoming = next(
                iter(settings.calendar.windows_between(now - self._grace_s, now + 2 * 86400.0)),
                None,
            )
            if upcoming is not None:
                until = min(until, upcoming.end + self._grace_s)
        return min(max(until - now, 0.05), MAX_WAIT_S)
