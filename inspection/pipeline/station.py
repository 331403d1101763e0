"""A running inspection station: sources → parts → tools → decision → ordered dispatch to sinks.

Threads (DESIGN §4): one acquisition thread per camera, ``recipe.pipeline.workers`` inspection
workers each owning its own tool instances, one dispatcher delivering parts in order, and the
results store's writer. Queues are bounded: live streams drop their oldest frame (counted),
everything else is held back, so no part is ever skipped without a counted reason.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Literal, Protocol, runtime_checkable

from inspection.batch import BatchContext
from inspection.errors import LinesideError, SourceError, StorageError
from inspection.integrations.base import TriggerInput
from inspection.integrations.output_process import OutputProcess
from inspection.integrations.output_runner import OutputState
from inspection.integrations.outputs import build_output
from inspection.paths import Paths, user_paths
from inspection.pipeline.alarms import AlarmBook, AlarmEpisode, RejectRun
from inspection.pipeline.camera_health import CameraHealth
from inspection.pipeline.camera_rate import CameraRate
from inspection.pipeline.counters import Counters, CountersSnapshot
from inspection.pipeline.decide import ShiftLedger
from inspection.pipeline.drift import DriftWarning, DriftWatch
from inspection.pipeline.feed import Feed
from inspection.pipeline.inspect import inspect_part, unfinished_part
from inspection.pipeline.masks import PrivacyMask
from inspection.pipeline.parts import GroupedPart, PartJob
from inspection.pipeline.priority import (
    OUTPUT_NICE,
    behind_the_screen,
    one_thread_per_computation,
)
from inspection.pipeline.recording_watch import NOT_READY_REASON, RecordingWatch
from inspection.pipeline.shift_trend import ShiftTrend, ShiftTrendSnapshot, read_trend_record
from inspection.pipeline.side_by_side import SideBySide
from inspection.pipeline.station_changes import ChangeRecorder
from inspection.pipeline.triggers import EveryFrame, Software, make_part_trigger
from inspection.recipe import Recipe
from inspection.recipe.station import StationSettings, load_station_settings
from inspection.sources.base import (
    BadFrameError,
    BatchAware,
    ResumableLine,
    SoftwareTriggerable,
    Source,
)
from inspection.sources.registry import build_source
from inspection.storage.archive import ImageArchive
from inspection.storage.disk_space import SpaceLimits
from inspection.storage.results import ResultsStore
from inspection.storage.shift_record import read_shift_record, write_count_start
from inspection.tools.base import Tool
from inspection.tools.registry import ToolContext, build_tool
from inspection.tuning.block_keeper import ScoreBlockKeeper
from inspection.types import (
    Frame,
    Inspection,
    StatusLevel,
    StatusUpdate,
)

log = logging.getLogger(__name__)

_POLL_S = 0.1  # how often blocked threads look at their stop flag
_READ_TIMEOUT_S = 0.2
# The reason a part gets when the station stops before any worker inspects it (it is recorded).
_NOT_INSPECTED = "station stopped before inspection"
# ... and when its tools were still at work after the stop had waited all it may.
_STOPPED_DURING = "station stopped during inspection (the tools took longer than the stop allows)"
# Dispatching and committing what the workers left get at least this long, past the stop's own
# time if need be: a stop that ran out of time must still record every part it took.
_RECORD_GRACE_S = 2.0
# A lost camera is retried after 0.25 s, then ever less often, but at least every second: a
# camera that comes back (a switch or the camera rebooted) is inspecting again within ~1 s plus
# its own connection time, and a dead one costs one failed connect a second.
_FIRST_RETRY_S = 0.25
_LAST_RETRY_S = 1.0

QueuePolicy = Literal["drop_oldest", "wait", "record_error"]


class StationListener(Protocol):
    """Receives what the station publishes. Called on core threads: hand over, never block."""

    def on_inspection(self, inspection: Inspection) -> None:
        """Every part, in part order, on the dispatcher thread."""
        ...

    def on_status(self, update: StatusUpdate) -> None:
        """Alarms and notices, from any core thread."""
        ...


@runtime_checkable
class ShowsState(Protocol):
    """A line sink whose link the operator screen shows beside the outputs (the PLC)."""

    def state(self) -> OutputState: ...


class Station:
    """Runs one recipe. ``start`` returns at once; ``stop`` joins every thread with a timeout."""

    def __init__(
        self,
        recipe: Recipe,
        *,
        paths: Paths | None = None,
        store_results: bool = True,
        line_sinks: Sequence[StationListener] = (),
        sources: Sequence[Source] | None = None,
        make_tools: Callable[[], list[Tool]] | None = None,
        trigger_inputs: Sequence[TriggerInput] = (),
    ) -> None:
        """``sources`` replaces the recipe's cameras (same ids, same order) with ready-made
        sources, e.g. frames already in memory for ``lineside bench``; ``make_tools`` replaces
        building the recipe's tools (called once per worker, each worker owns what it returns).
        ``trigger_inputs`` (the local command socket, a PLC input) are started when the recipe
        takes parts by software trigger."""
        self._recipe = recipe
        self._paths = paths
        self._store_results = store_results
        self._line_sinks = tuple(line_sinks)
        self._given_sources = list(sources) if sources is not None else None
        self._make_tools = make_tools or self._build_tools
        self._trigger_inputs = tuple(trigger_inputs)
        self._started_inputs: list[TriggerInput] = []
        self._listeners: list[StationListener] = []
        self._listeners_lock = threading.Lock()
        self._counters = Counters()
        self._trend = ShiftTrend()  # the operator's trend strip: written with the counters
        # what changed while the line ran, for reports (recorded through the running store)
        self._changes = ChangeRecorder(recipe.station, self._status)
        self._batch = BatchContext(on_change=self._changes.batch_changed)
        self._ledger = ShiftLedger()
        self._newest: dict[str, Frame] = {}
        self._threads: list[threading.Thread] = []
        self._running = False
        self._next_part = 0
        self._store: ResultsStore | None = None
        self._scores_keeper: ScoreBlockKeeper | None = None
        self._outputs: list[OutputProcess] = []
        self._outputs_down: set[str] = set()  # outputs whose last news was a failure
        """The recipe's outputs (MQTT, ...): each in a process of its own, with its outbox."""
        self._recorded: int | None = None  # results the last run's store committed
        self._feed: Feed | None = None
        self._sources: list[Source] = []
        self._connected: dict[str, bool] = {}
        self._trigger_lock = threading.Lock()
        self._stopping = threading.Lock()
        self._next_trigger = 1
        self._alarms = AlarmBook(on_change=self._changes.alarm_changed)
        # The ledger and the counters change together, so a new count never splits a part
        # between the old count and the new one.
        self._publish_lock = threading.Lock()
        self._record_restored = False
        self._settings: StationSettings | None = None  # config/station.yaml, read at start
        self._last_simulated: int | None = None  # highest simulated part index published
        self._reject_run = RejectRun(recipe.alarms.consecutive_rejects)  # dispatcher only
        # the recipe's drift alerts: fed on the dispatcher, read and acknowledged by the screen
        self._drift = DriftWatch(recipe, on_warning=self._changes.drift_raised)
        self._camera_rate: CameraRate | None = None  # frames and drops per minute, recorded
        self._recording: RecordingWatch | None = None  # not ready while results go unwritten

    # ---- what the GUI and the CLI use ------------------------------------------------------

    @property
    def recipe(self) -> Recipe:
        return self._recipe

    @property
    def running(self) -> bool:
        return self._running

    def add_listener(self, listener: StationListener) -> None:
        with self._listeners_lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: StationListener) -> None:
        with self._listeners_lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def newest_frame(self, camera: str | None = None) -> Frame | None:
        """The last frame a camera delivered (masks applied), for the live view."""
        cam = camera or self._recipe.cameras[0].id
        return self._newest.get(cam)

    def recorded(self) -> int | None:
        """Results committed to the results database in this run (or the last one, once
        stopped); None when the station records nothing."""
        store = self._store
        return store.stats.committed if store is not None else self._recorded

    def counters(self) -> CountersSnapshot:
        return self._counters.snapshot()

    def shift_trend(self) -> ShiftTrendSnapshot:
        """Yield over the last hour and this shift, top reject reasons (a frozen copy)."""
        return self._trend.snapshot()

    @property
    def batch(self) -> BatchContext:
        """The running batch (lot, product...): set by the operator or the line, read by tools."""
        return self._batch

    def reset_counts(self, reason: str = "operator started a new count") -> int:
        """A new shift or batch: counts start at zero and serials may be seen again. Returns the
        first part number of the new count. Recorded (when results are stored), so a restart
        keeps it; StorageError when that record could not be written (the new count then holds
        only until the application restarts)."""
        with self._publish_lock:
            first_part = self._counters.reset_parts(time.time())
            self._trend.reset()
            self._ledger.reset()
        self._alarms.new_shift()
        if self._store_results:
            write_count_start(
                (self._paths or user_paths()).ensure().results_db,
                self._recipe.station,
                first_part,
                reason=reason,
            )
        self._changes.record("count_reset", f"new count from part {first_part + 1}: {reason}")
        return first_part

    # ---- what changed, for reports ------------------------------------------------------------

    @property
    def station_settings(self) -> StationSettings | None:
        """The station settings in force (None before the first start reads them)."""
        return self._settings

    def use_station_settings(self, settings: StationSettings) -> None:
        """A new shift calendar / line name: parts recorded from now on are stamped with it."""
        self._settings = settings
        self._trend.use_calendar(settings.calendar)
        if self._store is not None:
            self._store.use_calendar(settings.calendar, settings.line)
        recording = self._running and self._store_results
        self._changes.use_settings((self._paths or user_paths()) if recording else None, settings)

    def restore_record(self) -> None:
        """Take up where the station's records stop: part numbers go on, and the current count
        and the serials seen in it come back. Reads the results database once per Station (after
        that the station's own numbers are ahead of its records), so call it off the GUI thread;
        ``start`` calls it. StorageError when the records cannot be read."""
        if not self._store_results or self._record_restored:
            return
        record = read_shift_record((self._paths or user_paths()).results_db, self._recipe.station)
        with self._publish_lock:
            self._record_restored = True
            self._next_part = max(self._next_part, record.next_part)
            self._last_simulated = record.last_simulated_part
            self._counters.restore(
                passed=record.passed,
                failed=record.failed,
                errors=record.errors,
                last_part=max(record.last_part, record.first_part - 1),
                first_part=record.first_part,
                count_started=record.count_started,
            )
            self._ledger.restore(record.serials)
        if record.parts:
            log.info(
                "station %s: count goes on at %d parts (from part %d), next part %d",
                self._recipe.station,
                record.parts,
                record.first_part + 1,
                self._next_part + 1,
            )

    def _restore_trend(self, paths: Paths, settings: StationSettings) -> None:
        """The trend strip's shift figures back from the records, once per Station."""
        self._trend.use_calendar(settings.calendar)
        if self._trend.restored:
            return
        try:
            record = read_trend_record(
                paths.results_db,
                self._recipe.station,
                settings.calendar,
                first_part=self._counters.snapshot().first_part,
            )
        except StorageError as exc:  # the strip starts empty; the line runs on
            self._status(StatusLevel.WARNING, "storage", f"trend strip starts empty: {exc}")
            return
        self._trend.restore(record)

    def camera_connected(self, camera: str) -> bool:
        """Whether the camera is open and (free-running ones) delivering frames; False before
        start and while it is lost."""
        return self._connected.get(camera, False)

    def alarms(self) -> tuple[AlarmEpisode, ...]:
        """The alarms and warnings active now (acknowledged or not), oldest first."""
        return self._alarms.active()

    def alarm_history(self) -> tuple[AlarmEpisode, ...]:
        """This shift's alarm episodes (since the last ``reset_counts``), newest first."""
        return self._alarms.history()

    def acknowledge_alarms(self) -> None:
        """The operator saw the active alarms: silenced, they stay active until their cause
        clears. Cheap, in memory: fine on the GUI thread."""
        self._alarms.acknowledge(time.time())

    def drift_warnings(self) -> tuple[DriftWarning, ...]:
        """The drift warnings nobody acknowledged yet, oldest first (in memory, cheap)."""
        return self._drift.warnings()

    def acknowledge_drift(self, series: str | None = None) -> None:
        """The operator saw the drift warning of ``series`` (None: all of them). Recorded for
        the shift report's Changes sheet."""
        for warning in self._drift.acknowledge(series):
            self._changes.drift_acknowledged(warning)

    def rebaseline_drift(self, series: str | None = None) -> tuple[str, ...]:
        """An engineer re-baselines the drift warnings of ``series`` (None: all): their limits
        are set anew from the next points (recorded for the Changes sheet). In memory, cheap."""
        done = self._drift.rebaseline(series)
        if done:
            self._changes.record(
                "drift_rebaseline",
                f"drift limits re-baselined: {', '.join(done)} (from the next points)",
                series=list(done),
            )
        return done

    def trigger(self) -> int:
        """One part now: cameras in software-trigger mode are told to take a frame, the others
        give their next one. Returns the trigger id. A camera that is down leaves the part as
        ERROR with the reason. LinesideError when the station is not running or not
        software-triggered (its recipe decides)."""
        feed = self._feed
        if not self._running or feed is None:
            raise LinesideError("the station is not running")
        part_trigger = feed.trigger
        if not isinstance(part_trigger, Software):
            raise LinesideError(
                f"recipe {self._recipe.name} takes parts by its {self._recipe.trigger.type} "
                "trigger, not by a software trigger"
            )
        with self._trigger_lock:
            trigger_id = self._next_trigger
            self._next_trigger += 1
            t_ns = time.monotonic_ns()
            unavailable: dict[str, str] = {}
            commanded: list[tuple[str, SoftwareTriggerable]] = []
            for src, cam in zip(self._sources, self._recipe.cameras, strict=True):
                on_command = getattr(cam.source, "trigger", "free_run") == "software"
                if not self._connected.get(src.camera, False):
                    unavailable[src.camera] = f"camera {src.camera} not connected at the trigger"
                elif on_command and isinstance(src, SoftwareTriggerable):
                    commanded.append((src.camera, src))
            # registered before the cameras are told, so their answers find the trigger waiting
            part_trigger.fire(trigger_id, t_ns, unavailable)
            for name, triggerable in commanded:
                try:
                    triggerable.fire_trigger(trigger_id)
                except SourceError as exc:
                    for part in part_trigger.on_bad_frame(
                        name, -1, f"camera {name} trigger failed: {exc}"
                    ):
                        self._enqueue(feed, part, "record_error")
        return trigger_id

    def wait_finished(self, timeout_s: float) -> bool:
        """True once every camera's stream ended and each of its parts was dispatched."""
        return self._feed is not None and self._feed.finished.wait(timeout_s)

    # ---- start / stop ----------------------------------------------------------------------

    def start(self) -> None:
        """Build tools and sources (raising ToolError/SourceError before any thread starts), then go."""
        if self._running:
            return
        recipe = self._recipe
        self.restore_record()
        one_thread_per_computation()  # the workers and tools share the cores out themselves
        workers_tools = [self._make_tools() for _ in range(recipe.pipeline.workers)]
        built = self._given_sources or [build_source(cam) for cam in recipe.cameras]
        for src in built:
            if isinstance(src, BatchAware):  # values the operator set already take precedence
                known = src.batch_info()
                self._batch.set({k: v for k, v in known.items() if self._batch.get(k) is None})
            if isinstance(src, ResumableLine) and self._last_simulated is not None:
                src.resume_after(self._last_simulated)
        masks = {cam.id: PrivacyMask(cam.privacy_masks) for cam in recipe.cameras}
        health = {cam.id: cam.health for cam in recipe.cameras}
        sources = [(src, masks.get(src.camera, PrivacyMask([]))) for src in built]
        self._sources = list(built)
        self._connected = {src.camera: False for src in built}
        # built before any thread starts: an output that cannot work (a password variable not
        # set) stops the start with its reason, like a tool or a camera; started with the line
        if self._store_results and self._settings is None:
            # the station's line names its records and its plant outputs' rows
            self._settings = load_station_settings((self._paths or user_paths()).station_file)
        self._outputs = [
            build_output(
                out,
                station=recipe.station,
                recipe=f"{recipe.name} v{recipe.version}",
                line=self._settings.line if self._settings is not None else "",
                outbox_folder=(self._paths or user_paths()).ensure().data / "outbox",
                on_state=self._on_output_state,
            )
            for out in recipe.outputs
        ]
        if self._store_results:
            paths = (self._paths or user_paths()).ensure()
            settings = self._settings or load_station_settings(paths.station_file)
            self._settings = settings
            self._restore_trend(paths, settings)
            storage = settings.storage
            self._store = ResultsStore(
                paths.results_db,
                archive=ImageArchive(paths.archive, recipe.archive),
                batch_wait_s=0.0,  # batches fill by themselves under load; waiting only adds latency
                status_callback=lambda msg: self._status(StatusLevel.ALARM, "storage", msg),
                warning_callback=lambda msg: self._status(StatusLevel.WARNING, "disk", msg),
                calendar=settings.calendar,
                line=settings.line,
                queue_max_bytes=storage.queue_max_mb * 1024 * 1024,
                space_limits=SpaceLimits(
                    int(storage.min_free_gb * 1e9), storage.min_free_percent / 100.0
                ),
            )
            self._store.start()
            self._recording = RecordingWatch(self._store.unwritten_for_s, storage.record_within_s)
            self._camera_rate = CameraRate(recipe.station, self._store.record_camera_interval)
            self._changes.store = self._store
            self._changes.start_exporter(paths, settings)
            self._changes.recipe_started(recipe)
            # the Tuning page's cache of closed part blocks, built as the line closes them
            self._scores_keeper = ScoreBlockKeeper(paths.results_db)
            self._scores_keeper.start()
            for said in self._drift.load_limits(paths.results_db):
                log.info("drift %s", said)
        else:
            self._drift.load_limits(None)
        self._start_outputs()
        self._feed = Feed(
            cameras=[c.id for c in recipe.cameras],
            queue_size=recipe.pipeline.queue_size,
            trigger=make_part_trigger(recipe),
            # part numbers go on across stop/start, so records and the PLC never see one twice
            first_part=self._next_part,
        )
        self._running = True
        feed = self._feed
        self._threads = [
            threading.Thread(
                target=self._acquire,
                args=(feed, src, mask, CameraHealth(src.camera, health[src.camera])),
                name=f"acq-{src.camera}",
                daemon=True,
            )
            for src, mask in sources
        ]
        self._threads.append(
            threading.Thread(
                target=self._watch_triggers, args=(feed,), name="parts-timer", daemon=True
            )
        )
        self._threads += [
            threading.Thread(target=self._work, args=(feed, tools), name=f"worker-{i}", daemon=True)
            for i, tools in enumerate(workers_tools)
        ]
        self._threads.append(
            threading.Thread(target=self._dispatch, args=(feed,), name="dispatcher", daemon=True)
        )
        for t in self._threads:
            t.start()
        if isinstance(self._feed.trigger, Software):
            for trigger_input in self._trigger_inputs:
                try:
                    trigger_input.start(self.trigger)
                except (LinesideError, OSError) as exc:
                    self._status(
                        StatusLevel.ALARM, "trigger", f"{trigger_input.name} not started: {exc}"
                    )
                    continue
                self._started_inputs.append(trigger_input)
        self._status(StatusLevel.INFO, "station", f"recipe {recipe.name} v{recipe.version} running")

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop acquiring, inspect what is already queued, dispatch it, commit it, join threads.
        Two callers at once (a PLC changeover and the program ending): the second waits for the
        first, then finds the station stopped."""
        with self._stopping:
            self._stop(timeout_s)

    def _stop(self, timeout_s: float) -> None:
        if not self._running or self._feed is None:
            return
        feed = self._feed
        deadline = time.monotonic() + timeout_s

        def left() -> float:
            return max(deadline - time.monotonic(), 0.05)

        for trigger_input in self._started_inputs:
            trigger_input.stop(left())
        self._started_inputs = []
        feed.stop_acquiring.set()
        self._join(
            [t for t in self._threads if t.name.startswith("acq-") or t.name == "parts-timer"],
            left(),
        )
        for part in feed.trigger.flush():
            self._enqueue(feed, part, "wait")
        feed.stop_workers.set()
        workers = [t for t in self._threads if t.name.startswith("worker-")]
        # the queue is inspected for half the time left; what is still queued then is recorded
        # as not inspected, so a stop with slow tools and a full queue loses no part
        self._join(workers, left() / 2, quiet=True)
        feed.stop_inspecting.set()
        self._join(workers, left())
        in_hand, queued = feed.give_up()
        for jobs, reason in ((in_hand, _STOPPED_DURING), (queued, _NOT_INSPECTED)):
            for job in jobs:
                feed.reorder.put(unfinished_part(job, reason, self._recipe))
        if in_hand:
            log.warning("%d part(s) recorded as ERROR: %s", len(in_hand), _STOPPED_DURING)
        feed.stop_dispatch.set()

        def recording_left() -> float:
            return max(left(), _RECORD_GRACE_S)

        self._join([t for t in self._threads if t.name == "dispatcher"], recording_left())
        self._drift.join(left())  # limits a baseline set are being stored
        self._changes.stop_exporter(left())
        for output in self._outputs:  # after the dispatcher: every result is handed over
            output.stop(left())
        if self._scores_keeper is not None:
            self._scores_keeper.stop(left())
            self._scores_keeper = None
        if self._camera_rate is not None:
            self._camera_rate.flush(time.time())
            self._camera_rate = None
        if self._store is not None:
            self._store.stop(recording_left())
            self._recorded = self._store.stats.committed
            self._store = None
        self._recording = None
        self._threads = []
        self._next_part = feed.issued
        self._running = False
        self._status(StatusLevel.INFO, "station", "stopped")

    def _join(
        self, threads: Sequence[threading.Thread], timeout_s: float, *, quiet: bool = False
    ) -> None:
        deadline = time.monotonic() + timeout_s
        for t in threads:
            t.join(max(deadline - time.monotonic(), 0.0))
            if t.is_alive() and not quiet:
                log.warning("thread %s did not stop within %.1f s", t.name, timeout_s)

    def _build_tools(self) -> list[Tool]:
        paths = self._paths or user_paths()
        context = ToolContext(
            recipe_name=self._recipe.name,
            models_dir=paths.models / self._recipe.name,
            threads=self._recipe.pipeline.tool_threads,
            batch=self._batch,
        )
        return [build_tool(t, self._recipe.camera_for(t), context) for t in self._recipe.tools]

    # ---- acquisition (one thread per camera) -----------------------------------------------

    def _acquire(self, feed: Feed, source: Source, mask: PrivacyMask, health: CameraHealth) -> None:
        cam = source.camera
        backoff = _FIRST_RETRY_S
        opened = False
        # "camera connected" (INFO, same source) is what clears a camera alarm. It is said on
        # every connection, not only after a loss this thread saw: a restarted station or a
        # replaced camera must clear what was raised before, too. A free-running camera says it
        # once it really delivers again (see CameraHealth.delivering), a triggered one once open.
        announce = False
        try:
            while not feed.stop_acquiring.is_set():
                if not opened:
                    try:
                        source.open()
                    except SourceError as exc:
                        self._status(
                            StatusLevel.ALARM, cam, f"camera {cam} cannot be opened: {exc}"
                        )
                        feed.stop_acquiring.wait(backoff)
                        backoff = min(backoff * 2, _LAST_RETRY_S)
                        continue
                    opened = True
                    backoff = _FIRST_RETRY_S
                    health.opened(time.monotonic_ns())
                    # a free-running camera counts as connected once it delivers; a triggered
                    # one sends nothing until it is triggered
                    self._connected[cam] = not source.live
                    announce = source.live
                    if not source.live:
                        self._status(StatusLevel.INFO, cam, f"camera {cam} connected")
                problem = ""
                try:
                    frame = source.read(_READ_TIMEOUT_S)
                except TimeoutError:
                    problem = (source.live and health.idle(time.monotonic_ns())) or ""
                    if not problem:
                        continue
                    frame = None
                except BadFrameError as exc:
                    self._counters.frame_in(cam)
                    for part in feed.trigger.on_bad_frame(cam, exc.seq, str(exc)):
                        self._enqueue(feed, part, self._policy(feed, source))
                    continue
                except SourceError as exc:
                    problem = f"camera {cam} lost: {exc}"
                    frame = None
                if frame is not None and source.live:
                    problem = health.frame(frame, time.monotonic_ns()) or ""
                if problem:
                    self._connected[cam] = False
                    self._status(StatusLevel.ALARM, cam, problem)
                    source.close()
                    opened = False
                    continue
                if frame is None:
                    log.info("camera %s: end of stream", cam)
                    break
                self._counters.frame_in(cam, frame.t_ns)
                if (rate := self._camera_rate) is not None:
                    rate.frame(cam, frame.seq, time.time())
                self._connected[cam] = True
                if announce and health.delivering():
                    announce = False
                    self._status(StatusLevel.INFO, cam, f"camera {cam} connected")
                if mask:
                    frame = dataclasses.replace(frame, image=mask.apply(frame.image))
                self._newest[cam] = frame
                for part in feed.trigger.on_frame(cam, frame):
                    self._enqueue(feed, part, self._policy(feed, source))
        except Exception:  # a dead acquisition thread would stop the line silently
            log.exception("camera %s: acquisition failed", cam)
            self._status(StatusLevel.ALARM, cam, f"camera {cam} stopped after an internal error")
        finally:
            self._connected[cam] = False
            if opened:
                source.close()
            if feed.stop_acquiring.is_set() and self._alarms.is_active(cam):
                # a stopped station watches no camera: its alarm ends here, in the shift's list
                self._status(StatusLevel.INFO, cam, f"camera {cam} no longer watched: stopped")
            if feed.camera_ended(cam) and not feed.stop_acquiring.is_set():
                for part in feed.trigger.flush():  # parts still missing a camera's frame
                    self._enqueue(feed, part, "wait")

    def _watch_triggers(self, feed: Feed) -> None:
        """Parts whose cameras did not all answer in time leave as ERROR, even when no camera
        delivers anything at all (every camera down)."""
        while not feed.stop_acquiring.wait(0.05):
            if (rate := self._camera_rate) is not None:
                rate.tick(time.time())  # a minute without frames is recorded too, as 0 fps
            self._check_recording()
            try:
                for part in feed.trigger.poll():
                    self._enqueue(feed, part, "record_error")
            except Exception:  # this thread's death would hold parts forever
                log.exception("part trigger timer failed")
                self._status(StatusLevel.ALARM, "station", "part trigger timer failed")
                return

    def _check_recording(self) -> None:
        watch, store = self._recording, self._store
        if watch is None or store is None:
            return
        change = watch.check(store.stats.last_error)
        if change is not None:
            level = StatusLevel.INFO if change.ready else StatusLevel.ALARM
            self._status(level, "recording", change.message)

    @property
    def ready(self) -> bool:
        """False while results cannot be recorded: parts are then not inspected (ERROR)."""
        watch = self._recording
        return self._running and (watch is None or watch.ready)

    @property
    def ready_for_parts(self) -> bool:
        """A part triggered now would be inspected: ``ready``, and every camera connected (the
        PLC's Ready signal)."""
        return self.ready and all(self._connected.values())

    @staticmethod
    def _policy(feed: Feed, source: Source) -> QueuePolicy:
        """What to do with a part when the line is behind (DESIGN §3)."""
        if isinstance(feed.trigger, EveryFrame):
            return "drop_oldest" if source.live else "wait"
        # A passing part or a trigger cannot be held back, and waiting here would blind the
        # camera that watches for the next part: it is recorded, as ERROR, instead.
        return "record_error"

    def _enqueue(self, feed: Feed, part: GroupedPart, policy: QueuePolicy) -> None:
        """Number the part and queue it. ``drop_oldest``: a live stream's oldest part is dropped
        (counted); ``wait``: back-pressure; ``record_error``: the part is recorded as ERROR."""
        with feed.issue_lock:
            first = next(iter(part.frames.values()), None)
            job = PartJob(
                part_seq=feed.issue(),
                frames=dict(part.frames),
                errors=tuple(part.errors.values()),
                captured_ns=first.t_ns if first is not None else part.first_ns,
                queued_ns=time.monotonic_ns(),
                wall_time=time.time(),
                trigger_id=part.trigger_id,
                # a software trigger's part starts at the trigger (GroupedPart.first_ns)
                triggered_ns=part.first_ns if part.trigger_id is not None else 0,
            )
            if (watch := self._recording) is not None and not watch.ready:
                self._counters.dropped("not ready: results cannot be recorded")
                feed.reorder.put(unfinished_part(job, NOT_READY_REASON, self._recipe))
                return
            while True:
                try:
                    feed.jobs.put(job, timeout=_POLL_S if policy == "wait" else 0)
                    return
                except queue.Full:
                    pass
                if policy == "drop_oldest":
                    try:
                        old: PartJob = feed.jobs.get_nowait()
                    except queue.Empty:
                        continue
                    feed.reorder.skip(old.part_seq)
                    self._counters.dropped("line behind: oldest live frame dropped")
                    if (rate := self._camera_rate) is not None:
                        for camera in old.frames:
                            rate.dropped(camera, time.time())
                elif policy == "record_error":
                    self._counters.dropped("line behind: part recorded as ERROR uninspected")
                    feed.reorder.put(
                        unfinished_part(job, "line behind: part not inspected", self._recipe)
                    )
                    return
                elif feed.stop_acquiring.is_set() and feed.stop_workers.is_set():
                    # stopping with no worker left to take it: record it, never lose it
                    feed.reorder.put(unfinished_part(job, _NOT_INSPECTED, self._recipe))
                    return

    # ---- inspection workers ----------------------------------------------------------------

    def _work(self, feed: Feed, tools: list[Tool]) -> None:
        behind_the_screen()  # before SideBySide starts its threads, which inherit it
        side_by_side = (
            SideBySide(len(tools), f"{threading.current_thread().name}-tool")
            if self._recipe.pipeline.tools_side_by_side
            else None
        )
        me = threading.get_ident()
        try:
            while True:
                try:
                    job: PartJob = feed.jobs.get(timeout=_POLL_S)
                except queue.Empty:
                    if feed.stop_workers.is_set():
                        return
                    continue
                if not feed.take(me, job):  # the stop has stopped waiting for the workers
                    feed.reorder.put(unfinished_part(job, _NOT_INSPECTED, self._recipe))
                    return
                if feed.stop_inspecting.is_set():
                    inspection = unfinished_part(job, _NOT_INSPECTED, self._recipe)
                else:
                    # side by side only on cores no other part needs: with parts waiting or
                    # in other workers' hands, a part's tools would take those parts' cores,
                    # and every part would come later (13 parts/s on the demo: p50 193 ms
                    # side by side against 111 ms one after another)
                    at_once = side_by_side if side_by_side is not None and feed.alone(me) else None
                    try:
                        inspection = inspect_part(job, tools, self._recipe, at_once)
                    except Exception as exc:  # never lose a part: it becomes ERROR with the cause
                        log.exception("part %d: inspection failed", job.part_seq)
                        inspection = unfinished_part(job, f"inspection failed: {exc}", self._recipe)
                if not feed.hand_back(me, inspection):
                    return  # the stop recorded this part as ERROR meanwhile, and went on
        finally:
            if side_by_side is not None:
                side_by_side.close()
            for tool in tools:
                try:
                    tool.close()
                except Exception:
                    log.exception("tool %s did not close cleanly", tool.tool_id)

    # ---- dispatcher: part order, then sinks ------------------------------------------------

    def _dispatch(self, feed: Feed) -> None:
        while True:
            inspection = feed.reorder.pop(_POLL_S)
            if inspection is None:
                if feed.all_dispatched():
                    if feed.stop_dispatch.is_set():
                        return
                    if feed.streams_ended():
                        feed.finished.set()
                continue
            self._publish(inspection)

    def _publish(self, inspection: Inspection) -> None:
        with self._publish_lock:
            inspection = self._ledger.check(inspection)
            inspection = dataclasses.replace(
                inspection,
                lot=self._batch.get("lot") or "",
                timing=dataclasses.replace(inspection.timing, dispatched_ns=time.monotonic_ns()),
            )
            self._counters.part_done(inspection)
            self._trend.part_done(inspection)
            truth = inspection.truth
            if truth is not None and (
                self._last_simulated is None or truth.part_index > self._last_simulated
            ):
                self._last_simulated = truth.part_index
        self._drift.part_done(inspection)  # may record a warning: outside the publish lock
        run_alarm = self._reject_run.add(inspection.verdict)
        if run_alarm is not None:
            # the screen's count goes up with every reject; the log hears of the run when it
            # starts, each time it grows by as much again, and when it ends
            limit = self._reject_run.limit
            quiet = run_alarm.level is StatusLevel.ALARM and self._reject_run.run % limit != 0
            self._status(run_alarm.level, run_alarm.source, run_alarm.message, quiet=quiet)
        if self._store is not None:
            # the line hears of a part only once its record is committed
            try:
                self._store.submit(inspection, on_committed=self._tell_line)
            except StorageError as exc:
                # not recorded, so not reported: the line's own timeout rejects the part
                self._status(StatusLevel.ALARM, "storage", str(exc))
        else:
            self._tell_line(inspection)
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            self._call(listener.on_inspection, inspection)

    def _tell_line(self, inspection: Inspection) -> None:
        for sink in self._line_sinks:
            self._call(sink.on_inspection, inspection)
        for output in self._outputs:  # a hand-over to its queue: never waits for the network
            self._call(output.on_inspection, inspection)

    def _start_outputs(self) -> None:
        """Open each output's outbox and start it; one that cannot (its file) stops the start
        with the reason, and what was started for this run is stopped again."""
        try:
            for output in self._outputs:
                # behind the inspection workers: an output waits for the CPU they leave (its
                # outbox keeps what waits), never the other way round. Each in its own process,
                # all starting side by side
                output.launch(on_thread=lambda: behind_the_screen(OUTPUT_NICE))
            for output in self._outputs:
                output.ready()
        except LinesideError:
            for output in self._outputs:
                output.stop(2.0)
            self._outputs = []
            self._changes.stop_exporter(2.0)
            if self._scores_keeper is not None:
                self._scores_keeper.stop(2.0)
                self._scores_keeper = None
            if self._store is not None:
                self._store.stop(5.0)
                self._store = None
            raise

    def outputs(self) -> list[OutputState]:
        """Each output's state now (connected, buffering with N waiting, failed and why), the
        line sinks' that have one (the PLC link) first."""
        links = [sink.state() for sink in self._line_sinks if isinstance(sink, ShowsState)]
        return links + [output.state() for output in self._outputs]

    def post_status(self, level: StatusLevel, source: str, message: str) -> None:
        """A link to the line (the PLC) tells the operator something: shown like the station's
        own alarms and notices. Thread-safe and cheap."""
        self._status(level, source, message)

    def _on_output_state(self, state: OutputState) -> None:
        # on the output's thread; the alarm book (and so the operator screen) hears the changes
        # (a notice only when it comes back: "buffering" and "connected" alternate under load)
        source = f"output:{state.output_id}"
        if state.state == "failed":
            self._outputs_down.add(state.output_id)
            self._status(StatusLevel.WARNING, source, state.describe())
        elif state.state in {"connected", "buffering"} and state.output_id in self._outputs_down:
            self._outputs_down.discard(state.output_id)
            self._status(StatusLevel.INFO, source, f"{state.link} reached again")

    def _call(self, fn: Callable[[Inspection], None], inspection: Inspection) -> None:
        try:
            fn(inspection)
        except Exception as exc:  # one failing sink must not stop the others or the line
            log.exception("result sink %r failed", fn)
            self._status(StatusLevel.WARNING, "sink", f"a result receiver failed: {exc}")

    def _status(
        self, level: StatusLevel, source: str, message: str, *, quiet: bool = False
    ) -> None:
        """Publish a status; ``quiet``: a refresh of an alarm already logged (debug level)."""
        update = StatusUpdate(level=level, source=source, message=message, t_ns=time.monotonic_ns())
        if quiet:
            log.debug("%s: %s", source, message)
        else:
            (log.warning if level is StatusLevel.ALARM else log.info)("%s: %s", source, message)
        # the book first: a screen woken by this update reads the book and finds it there
        self._alarms.update(update, time.time())
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener.on_status(update)
            except Exception:
                log.exception("status listener failed")
        if level is not StatusLevel.INFO and not quiet:
            for output in self._outputs:  # the plant hears warnings and alarms too
                output.on_status(update)
