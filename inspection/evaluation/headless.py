"""`lineside run --headless`: run a recipe without a screen and sum up what it decided."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from inspection.evaluation.truth import TruthTally, covered_defects
from inspection.integrations.base import TriggerInput
from inspection.integrations.line_links import open_line_links
from inspection.integrations.local_control import LocalTriggerSocket
from inspection.paths import Paths
from inspection.pipeline.changeover import StationSwitcher
from inspection.pipeline.station import Station
from inspection.recipe import Recipe, SyntheticSourceSettings
from inspection.types import Inspection, StatusUpdate, Verdict

log = logging.getLogger(__name__)

IDLE_S = 30.0  # a headless run with no part for this long ends, saying so


def limit_parts(recipe: Recipe, parts: int | None, *, realtime: bool = False) -> Recipe:
    """The recipe with its simulated cameras ending after ``parts`` parts (and unpaced unless
    ``realtime``), so a headless run is finite and as fast as the machine allows."""
    cams = []
    for cam in recipe.cameras:
        src = cam.source
        if isinstance(src, SyntheticSourceSettings):
            update: dict[str, Any] = {}
            if parts is not None:
                update["parts"] = parts
            if not realtime:
                update["rate_hz"] = 0.0
            cam = cam.model_copy(update={"source": src.model_copy(update=update)})
        cams.append(cam)
    return recipe.model_copy(update={"cameras": cams})


class _Collector:
    """Counts what the station publishes and notices when enough parts are done."""

    def __init__(self, tally: TruthTally, parts: int | None) -> None:
        self.tally = tally
        self.verdicts: Counter[Verdict] = Counter()
        self.alarms: list[str] = []
        self._parts = parts
        self.enough = threading.Event()
        self.first_part: int | None = None
        self.last_part: int | None = None
        self.last_part_at = time.monotonic()

    def on_inspection(self, inspection: Inspection) -> None:
        self.last_part_at = time.monotonic()
        self.verdicts[inspection.verdict] += 1
        if self.first_part is None:
            self.first_part = inspection.part_seq
        self.last_part = inspection.part_seq
        self.tally.add(inspection)
        if self._parts is not None and sum(self.verdicts.values()) >= self._parts:
            self.enough.set()

    def on_status(self, update: StatusUpdate) -> None:
        if update.level == "alarm":
            self.alarms.append(f"{update.source}: {update.message}")


def run_headless(
    recipe: Recipe,
    *,
    parts: int | None,
    paths: Paths | None = None,
    store_results: bool = True,
    realtime: bool = False,
    timeout_s: float | None = None,
    idle_s: float | None = IDLE_S,
    recipe_file: Path | None = None,
) -> dict[str, Any]:
    """Run until the sources end, ``parts`` parts are done, ``timeout_s`` passed or no part came
    for ``idle_s`` (None: wait for ever); returns the summary printed by the CLI. ``problems``
    lists why the run did less than asked: fewer parts inspected, results not recorded."""
    # taught before the part limit applies: teaching needs good parts of its own
    taught = teach_on_first_use(limit_parts(recipe, None), paths) if paths is not None else {}
    recipe = limit_parts(recipe, parts, realtime=realtime)
    collector = _Collector(TruthTally(covered_defects(recipe)), parts)
    switcher: StationSwitcher | None = None
    # the station settings' links to the line (PLC, OPC UA), for the whole run: their
    # changeovers switch the station
    links = (
        open_line_links(
            paths.station_file,
            lambda link, n, f: switcher.changeover(link, n, f) if switcher else None,
        )
        if paths is not None
        else []
    )

    def make_station(recipe: Recipe) -> Station:
        inputs: list[TriggerInput] = []
        if paths is not None:
            inputs.append(LocalTriggerSocket(paths.trigger_socket))
        inputs += links
        built = Station(
            recipe,
            paths=paths,
            store_results=store_results,
            trigger_inputs=inputs,
            line_sinks=links,
        )
        built.add_listener(collector)
        return built

    t0 = time.perf_counter()
    try:
        if links:
            switcher = StationSwitcher(make_station, links)
            station = switcher.start(recipe, recipe_file)
        else:
            station = make_station(recipe)
            station.start()
    except BaseException:
        for link in links:
            link.close()
        raise

    if links:
        idle_s = None  # the line decides when parts come; the run ends on its time limit or ^C

    def current() -> Station:
        return switcher.station if switcher is not None and switcher.station else station

    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    problems: list[str] = []
    try:
        # with a PLC, a station ends only by a changeover (which starts the next): the run
        # goes on until its limits
        while (
            not (collector.enough.wait(0.2) if switcher is not None else station.wait_finished(0.2))
            and not collector.enough.is_set()
        ):
            if deadline is not None and time.monotonic() > deadline:
                log.warning("headless run stopped after its %.0f s time limit", timeout_s)
                problems.append(f"stopped after the {timeout_s:g} s time limit")
                break
            if idle_s is not None and time.monotonic() - collector.last_part_at > idle_s:
                problems.append(
                    f"no part inspected for {idle_s:g} s (cameras: "
                    f"{', '.join(c.id for c in recipe.cameras)}); stopped"
                    + (f"; last alarm: {collector.alarms[-1]}" if collector.alarms else "")
                )
                log.warning("headless run: %s", problems[-1])
                break
    finally:
        if switcher is not None:
            switcher.stop(10.0)  # after a changeover in progress, never beside it
        else:
            station.stop(timeout_s=10.0)
        station = current()
        for link in links:
            link.close()
    elapsed = time.perf_counter() - t0
    snap = station.counters()
    done = sum(collector.verdicts.values())
    recorded = station.recorded() if store_results else None
    if parts is not None and done < parts:
        problems.insert(0, f"inspected {done} of the {parts} parts asked")
    if recorded is not None and recorded < done:
        problems.append(f"{done - recorded} of {done} results not recorded")
    return {
        "recipe": f"{station.recipe.name} v{station.recipe.version}",
        "parts": done,
        "asked": parts,
        "recorded": recorded,
        "problems": problems,
        "pass": collector.verdicts[Verdict.PASS],
        "fail": collector.verdicts[Verdict.FAIL],
        "error": collector.verdicts[Verdict.ERROR],
        "dropped": snap.dropped_total,
        "dropped_by_reason": dict(snap.dropped),
        "frames_in": dict(snap.frames_in),
        # as the operator screen numbers them (part_seq + 1); they go on from the last run
        "part_numbers": {
            "first": None if collector.first_part is None else collector.first_part + 1,
            "last": None if collector.last_part is None else collector.last_part + 1,
        },
        "vs_truth": collector.tally.as_dict(),
        "elapsed_s": round(elapsed, 3),
        "parts_per_s": round(done / elapsed, 2) if elapsed > 0 else None,
        "inspection_ms_median": round(snap.inspection_ms, 3),
        "tool_ms_median": {k: round(v, 3) for k, v in snap.tool_ms.items()},
        "alarms": collector.alarms[:20],
        "taught_on_first_use": {k: str(v) for k, v in taught.items()},
    }


def teach_on_first_use(recipe: Recipe, paths: Paths, good_parts: int = 100) -> dict[str, Path]:
    """Teach untaught tools whose cameras are the simulated line (it knows its good parts).

    On a real camera nobody can vouch for the parts passing by, so those tools stay untaught
    (their parts are ERROR, naming ``lineside train``) until an engineer teaches them.
    """
    from inspection.pipeline.teaching import teach_from_line, untaught_simulated_tools

    tools = untaught_simulated_tools(recipe, paths)
    if not tools:
        return {}
    log.info("teaching %s on %d good simulated parts (first use)", ", ".join(tools), good_parts)
    return teach_from_line(recipe, paths, good_parts=good_parts, tools=tools)
