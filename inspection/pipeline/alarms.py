"""The station's alarm book: which alarms are active now, and this shift's alarm episodes.

An *episode* runs from the first WARNING/ALARM a source reports until the same source reports
INFO (its cause cleared: "camera cam1 connected"). The book, not the screen, is the record: the
operator screen shows ``active()``, the shift's alarm list shows ``history()``, and a screen
that appears later (a new window, a restarted GUI) sees the same truth.

Acknowledging silences an episode; it stays active (and visible as "acknowledged, still
active") until its cause clears. A continuing problem is reported again and again, often in
different words (every reconnect attempt names its own network error), so a new occurrence
keeps the acknowledgement. Only an escalation (a WARNING episode getting an ALARM) re-arms it:
that is news the operator has not seen.

``RejectRun`` turns N rejected parts in a row into an alarm of its own (source ``rejects``).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from inspection.types import StatusLevel, StatusUpdate, Verdict

log = logging.getLogger(__name__)

HISTORY_LIMIT = 1000
REJECT_RUN_SOURCE = "rejects"

_SEVERITY = {StatusLevel.INFO: 0, StatusLevel.WARNING: 1, StatusLevel.ALARM: 2}


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmEpisode:
    """One alarm from raised to cleared. Times are UNIX seconds; None while it has not happened.

    ``message`` is the latest report, ``first_message`` the one that raised it; ``occurrences``
    counts the reports it got; ``cleared_by`` is the message of the INFO that cleared it.
    """

    episode_id: int
    source: str
    level: StatusLevel
    message: str
    first_message: str
    raised_at: float
    last_at: float
    cleared_at: float | None = None
    acknowledged_at: float | None = None
    occurrences: int = 1
    cleared_by: str = ""

    @property
    def active(self) -> bool:
        return self.cleared_at is None

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None


AlarmListener = Callable[[AlarmEpisode], None]


class AlarmBook:
    """Thread-safe: core threads ``update``, the GUI thread reads and acknowledges.

    ``on_change`` is called (outside the lock, on the caller's thread) whenever an episode
    opens, is acknowledged, re-arms, escalates or closes; plain repetitions do not call it.
    """

    def __init__(self, on_change: AlarmListener | None = None, limit: int = HISTORY_LIMIT) -> None:
        self._on_change = on_change
        self._limit = max(limit, 1)
        self._lock = threading.Lock()
        self._open: dict[str, AlarmEpisode] = {}  # by source
        self._shift: OrderedDict[int, AlarmEpisode] = OrderedDict()  # by id, oldest first
        self._next_id = 1

    def update(self, update: StatusUpdate, wall_time: float) -> AlarmEpisode | None:
        """Apply one status update; returns the episode it opened, refreshed or closed, if any."""
        changed: AlarmEpisode | None = None
        with self._lock:
            current = self._open.get(update.source)
            if update.level is StatusLevel.INFO:
                if current is None:
                    return None
                episode = dataclasses.replace(
                    current, cleared_at=wall_time, cleared_by=update.message
                )
                del self._open[update.source]
                changed = episode
            elif current is None:
                episode = AlarmEpisode(
                    episode_id=self._next_id,
                    source=update.source,
                    level=update.level,
                    message=update.message,
                    first_message=update.message,
                    raised_at=wall_time,
                    last_at=wall_time,
                )
                self._next_id += 1
                self._open[update.source] = episode
                changed = episode
            else:
                escalated = _SEVERITY[update.level] > _SEVERITY[current.level]
                episode = dataclasses.replace(
                    current,
                    level=update.level if escalated else current.level,
                    message=update.message,
                    last_at=wall_time,
                    occurrences=current.occurrences + 1,
                    acknowledged_at=None if escalated else current.acknowledged_at,
                )
                self._open[update.source] = episode
                if escalated:
                    changed = episode
            self._keep(episode)
        if episode.cleared_at is not None:
            log.info(
                "alarm cleared: %s: %s after %.0f s (%d reports): %s",
                episode.source,
                episode.first_message,
                episode.cleared_at - episode.raised_at,
                episode.occurrences,
                episode.cleared_by,
            )
        elif changed is not None:
            what = "raised" if episode.occurrences == 1 else "escalated"
            log.info("alarm %s: %s: %s", what, episode.source, episode.message)
        if changed is not None:
            self._notify([changed])
        return episode

    def acknowledge(self, wall_time: float) -> tuple[AlarmEpisode, ...]:
        """The operator saw the active alarms: they stay active, silenced. Returns those it
        acknowledged now (the ones not acknowledged before)."""
        done: list[AlarmEpisode] = []
        with self._lock:
            for source, episode in list(self._open.items()):
                if episode.acknowledged:
                    continue
                episode = dataclasses.replace(episode, acknowledged_at=wall_time)
                self._open[source] = episode
                self._keep(episode)
                done.append(episode)
        for episode in done:
            log.info("operator acknowledged %s: %s", episode.source, episode.message)
        self._notify(done)
        return tuple(done)

    def active(self) -> tuple[AlarmEpisode, ...]:
        """Episodes not cleared yet, oldest first."""
        with self._lock:
            return tuple(sorted(self._open.values(), key=lambda e: e.episode_id))

    def is_active(self, source: str) -> bool:
        with self._lock:
            return source in self._open

    def history(self) -> tuple[AlarmEpisode, ...]:
        """This shift's episodes (the last ``limit``), newest first, active and cleared."""
        with self._lock:
            return tuple(reversed(self._shift.values()))

    def new_shift(self) -> None:
        """A new shift's list: cleared episodes leave it, active ones stay (and stay active)."""
        with self._lock:
            self._shift = OrderedDict(
                (e.episode_id, e) for e in sorted(self._open.values(), key=lambda e: e.episode_id)
            )

    def _keep(self, episode: AlarmEpisode) -> None:
        """Record the episode's newest state in the shift list (under the lock)."""
        self._shift[episode.episode_id] = episode
        if len(self._shift) <= self._limit:
            return
        # forget the oldest cleared episodes; an active one is never forgotten
        for episode_id in list(self._shift):
            if len(self._shift) <= self._limit:
                break
            if self._shift[episode_id].cleared_at is not None:
                del self._shift[episode_id]

    def _notify(self, episodes: Iterable[AlarmEpisode]) -> None:
        if self._on_change is None:
            return
        for episode in episodes:
            try:
                self._on_change(episode)
            except Exception:  # a failing recorder must not silence the alarm itself
                log.exception("alarm listener failed for %s", episode.source)


class RejectRun:
    """Counts rejected parts in a row; an ALARM when the run reaches ``limit``, INFO when a part
    passes again. ``limit`` ≤ 0 switches it off.

    FAIL and ERROR both count: the line rejects both, and a run of parts nobody could inspect
    (a dirty lens, a tool that keeps failing) needs someone at the line just as much. The
    message says how many of each. Not thread-safe: call it from the dispatcher only.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.fails = 0
        self.errors = 0
        self._alarmed = False

    @property
    def run(self) -> int:
        return self.fails + self.errors

    def add(self, verdict: Verdict, t_ns: int | None = None) -> StatusUpdate | None:
        """Note one part's verdict (in part order); the status to publish, if any.

        At and beyond ``limit`` every further reject refreshes the alarm with the new count (the
        book counts them as occurrences of one episode)."""
        if self.limit <= 0:
            return None
        t = time.monotonic_ns() if t_ns is None else t_ns
        if verdict is Verdict.PASS:
            run, alarmed = self.run, self._alarmed
            self.fails = self.errors = 0
            self._alarmed = False
            if not alarmed:
                return None
            return StatusUpdate(
                level=StatusLevel.INFO,
                source=REJECT_RUN_SOURCE,
                message=f"a part passed after {run} rejects in a row",
                t_ns=t,
            )
        if verdict is Verdict.FAIL:
            self.fails += 1
        else:
            self.errors += 1
        if self.run < self.limit:
            return None
        self._alarmed = True
        return StatusUpdate(
            level=StatusLevel.ALARM,
            source=REJECT_RUN_SOURCE,
            message=f"{self.run} rejects in a row ({self._mix()}) — check the line",
            t_ns=t,
        )

    def _mix(self) -> str:
        kinds = [f"{n} {name}" for n, name in ((self.fails, "FAIL"), (self.errors, "ERROR")) if n]
        return ", ".join(kinds)
