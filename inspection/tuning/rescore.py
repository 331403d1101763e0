"""Re-score: run a re-taught defect model on the archived images of a period, before applying it.

A job (``fn(progress, cancel)`` of ``inspection.jobs``): it reads the period's parts of one tool
once through a read-only connection (closed before the first image is scored, so the writer never
waits on it), then runs the tool, built from the recipe's settings but with the new model file, on
each part's archived image of the tool's camera. Nothing is written: not the results database, not
the recipe, not the model in force. Applying the new model is a recipe change of its own.

Which image (rescore_images.py): the tool camera's whole frame as archived, else this tool's ROI
crop; a part with neither, a missing file or an image that does not decode is skipped and counted
with its reason, never a crash.

Yield on the re-scored parts: a part passes when every tool passes it; the other tools' recorded
verdicts stand. These parts are the archived ones (every reject, 1 in N passes), so their yield is
not the line's; the flips are what matter.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspection.jobs import Cancelled
from inspection.paths import Paths
from inspection.recipe import AnomalyToolSettings, Recipe
from inspection.storage.schema import finite_or_none, headline_score
from inspection.tools.anomaly import model_path, retaught_path
from inspection.tools.base import Tool, run_guarded
from inspection.tools.registry import ToolContext, build_tool
from inspection.tuning.rescore_images import (
    ALIGNED_CROP,
    NO_FILE,
    OTHER_CROPS,
    UNREADABLE,
    archived_image_file,
    image_for,
    readable_archived,
)
from inspection.tuning.scores import TuningError, range_reader
from inspection.types import Frame, Verdict

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
RESCORABLE = ("anomaly",)
"""Tool types taught from good parts on this station: the ones a re-taught model exists for."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RescoredPart:
    """One part's recorded and new result of the tool. Scores and thresholds in the model's
    score units (None: none, e.g. a tool ERROR); verdicts are the tool's, not the part's."""

    inspection_id: str
    part_id: int
    wall_time: float
    old_score: float | None
    old_threshold: float | None
    old_verdict: Verdict
    new_score: float | None
    new_threshold: float | None
    new_verdict: Verdict
    new_reason: str
    others_pass: bool
    """The part passes when this tool passes it (no other tool rejected it)."""
    part_passed: bool
    """The part's recorded verdict was PASS."""

    @property
    def flip(self) -> str:
        """Which way the tool's verdict flipped: "newly rejected", "newly passed" or ""."""
        was, now = self.old_verdict is Verdict.PASS, self.new_verdict is Verdict.PASS
        if was and not now:
            return "newly rejected"
        if now and not was:
            return "newly passed"
        return ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SkippedPart:
    inspection_id: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RescoreSummary:
    """``rescored``: parts scored again; ``no_image``: parts of the period with no archived
    image; ``skipped``: parts with an image that could not be scored, by reason; yields are on
    the re-scored parts (NaN when none)."""

    rescored: int
    no_image: int
    skipped: Mapping[str, int]
    newly_rejected: int
    newly_passed: int
    old_yield: float
    new_yield: float

    def line(self) -> str:
        """The summary in one sentence for a screen or a log."""
        skipped = sum(self.skipped.values())
        why = "; ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))
        return (
            f"{self.rescored} parts re-scored, {self.no_image} without an archived image"
            + (f", {skipped} skipped ({why})" if skipped else "")
            + f"; {self.newly_rejected} newly rejected, {self.newly_passed} newly passed; "
            f"yield on these parts {_pct(self.old_yield)} → {_pct(self.new_yield)}"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RescoreResult:
    tool_id: str
    model_path: Path
    start: float
    end: float
    parts: tuple[RescoredPart, ...]
    skipped: tuple[SkippedPart, ...]
    summary: RescoreSummary

    @property
    def newly_rejected(self) -> tuple[RescoredPart, ...]:
        return tuple(p for p in self.parts if p.flip == "newly rejected")

    @property
    def newly_passed(self) -> tuple[RescoredPart, ...]:
        return tuple(p for p in self.parts if p.flip == "newly passed")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Recorded:
    part_id: int
    inspection_id: str
    wall_time: float
    image_path: str
    part_verdict: str
    tool_verdict: Verdict
    score: float | None
    threshold: float | None


# ---- which model ---------------------------------------------------------------------------


def rescorable_settings(recipe: Recipe, tool_id: str) -> AnomalyToolSettings:
    """The recipe's settings of ``tool_id``; TuningError when no such tool or it has no taught
    model to re-score with."""
    for t in recipe.tools:
        if t.id == tool_id:
            if not isinstance(t, AnomalyToolSettings):
                raise TuningError(
                    f"tool {tool_id!r} is a {t.type} tool; re-scoring needs a model taught from "
                    f"good parts ({', '.join(RESCORABLE)} tools)"
                )
            return t
    raise TuningError(
        f"recipe {recipe.name}: no tool {tool_id!r}; its tools are {[t.id for t in recipe.tools]}"
    )


def model_in_force(recipe: Recipe, tool_id: str, paths: Paths) -> Path | None:
    """The model file the station reads for ``tool_id`` (the recipe's ``model:``, else the
    station's model folder, as the station's tool context says)."""
    settings = rescorable_settings(recipe, tool_id)
    return model_path(settings, ToolContext(models_dir=paths.models / recipe.name))


def retaught_models(in_force: Path) -> list[Path]:
    """Model files beside ``in_force`` made for the same tool (``<stem>.*<suffix>``), newest
    first; the one in force is not among them."""
    folder = in_force.parent
    if not folder.is_dir():
        return []
    found = [
        p
        for p in folder.glob(f"{in_force.stem}.*{in_force.suffix}")
        if p.is_file() and p.resolve() != in_force.resolve() and not p.name.startswith(".")
    ]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


# ---- re-scoring ----------------------------------------------------------------------------


def rescore(
    db: Path,
    archive_dir: Path,
    recipe: Recipe,
    tool_id: str,
    model_path: Path,
    start: float,
    end: float,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    threads: int = 1,
) -> RescoreResult:
    """Score the archived images of ``tool_id``'s parts recorded in [start, end) (UNIX s) with
    the model file ``model_path``; the recorded and new results side by side. Reads only.

    Progress once per part; Cancelled between parts when ``cancel`` is set. TuningError when the
    tool cannot be re-scored or the period has no parts; ModelError when the model is unusable.
    """
    settings = rescorable_settings(recipe, tool_id)
    if not Path(model_path).is_file():
        raise TuningError(f"model file {model_path} does not exist")
    camera = recipe.camera_for(settings)
    recorded, no_image, others_failed = _load_recorded(db, tool_id, start, end)
    # the new model; the recipe's other settings (ROI, override threshold, minimum area) stand
    new_settings = settings.model_copy(update={"model": Path(model_path)})
    tool = build_tool(new_settings, camera, ToolContext(recipe_name=recipe.name, threads=threads))
    parts: list[RescoredPart] = []
    skipped: list[SkippedPart] = []
    total = len(recorded)
    try:
        for done, rec in enumerate(recorded):
            if cancel is not None and cancel.is_set():
                raise Cancelled("re-scoring cancelled; nothing was changed")
            image, why = image_for(archive_dir, rec.image_path, rec.inspection_id, camera, settings)
            if image is None:
                skipped.append(SkippedPart(inspection_id=rec.inspection_id, reason=why))
            else:
                parts.append(_rescored(tool, rec, image, others_failed))
            if progress is not None:
                progress(done + 1, total, f"re-scoring {tool_id}: part {done + 1} of {total}")
    finally:
        tool.close()
    return RescoreResult(
        tool_id=tool_id,
        model_path=Path(model_path),
        start=start,
        end=end,
        parts=tuple(parts),
        skipped=tuple(skipped),
        summary=summarise(parts, skipped, no_image),
    )


def summarise(
    parts: Sequence[RescoredPart], skipped: Sequence[SkippedPart], no_image: int
) -> RescoreSummary:
    n = len(parts)
    old_pass = sum(p.part_passed for p in parts)
    new_pass = sum(p.others_pass and p.new_verdict is Verdict.PASS for p in parts)
    return RescoreSummary(
        rescored=n,
        no_image=no_image,
        skipped=dict(Counter(s.reason for s in skipped)),
        newly_rejected=sum(p.flip == "newly rejected" for p in parts),
        newly_passed=sum(p.flip == "newly passed" for p in parts),
        old_yield=old_pass / n if n else math.nan,
        new_yield=new_pass / n if n else math.nan,
    )


def _rescored(
    tool: Tool, rec: _Recorded, image: np.ndarray, others_failed: set[int]
) -> RescoredPart:
    frame = Frame(camera=tool.camera, seq=rec.part_id, t_ns=0, image=image)
    result = run_guarded(tool, frame)
    threshold = finite_or_none(result.measurements.get("threshold"))
    if threshold is None:
        threshold = getattr(tool, "threshold", None)
    if rec.part_verdict == "PASS":
        others_pass = True
    else:
        # a rejected part passes with this tool's say-so only when no other tool rejected it,
        # and when the part's ERROR (if any) came from this tool
        others_pass = rec.part_id not in others_failed and (
            rec.part_verdict == "FAIL" or rec.tool_verdict is not Verdict.PASS
        )
    return RescoredPart(
        inspection_id=rec.inspection_id,
        part_id=rec.part_id,
        wall_time=rec.wall_time,
        old_score=rec.score,
        old_threshold=rec.threshold,
        old_verdict=rec.tool_verdict,
        new_score=headline_score(result),
        new_threshold=threshold,
        new_verdict=result.verdict,
        new_reason=result.reason,
        others_pass=others_pass,
        part_passed=rec.part_verdict == "PASS",
    )


_RECORDED_SQL = (
    "SELECT i.id, i.inspection_id, i.wall_time, i.image_path, i.verdict, t.verdict, t.score, "
    "t.threshold FROM tool_results t JOIN inspections i ON i.id = t.inspection "
    "WHERE t.tool_id = ? AND t.inspection BETWEEN ? AND ? AND i.image_path IS NOT NULL "
    "ORDER BY t.inspection"
)
_WITHOUT_IMAGE_SQL = (
    "SELECT COUNT(*) FROM tool_results t JOIN inspections i ON i.id = t.inspection "
    "WHERE t.tool_id = ? AND t.inspection BETWEEN ? AND ? AND i.image_path IS NULL"
)
_OTHER_REJECTED_SQL = (
    "SELECT 1 FROM tool_results WHERE inspection = ? AND tool_id <> ? AND verdict <> 'PASS' LIMIT 1"
)


def _load_recorded(
    db: Path, tool_id: str, start: float, end: float
) -> tuple[list[_Recorded], int, set[int]]:
    """The tool's recorded parts of the period that have an archived image; how many parts of
    the period have none; the ids of those rejected parts another tool rejected too. One
    read-only connection, closed before any image is scored."""
    with range_reader(db, start, end, what="period") as (conn, lo, hi):
        rows = conn.execute(_RECORDED_SQL, (tool_id, lo, hi)).fetchall()
        no_image = int(conn.execute(_WITHOUT_IMAGE_SQL, (tool_id, lo, hi)).fetchone()[0])
        if not rows and not no_image:
            raise TuningError(f"no results of tool {tool_id!r} in the period")
        # per rejected part (an index seek each): the archived parts are few beside the range
        others_failed = {
            int(r[0])
            for r in rows
            if r[4] != "PASS"
            and conn.execute(_OTHER_REJECTED_SQL, (r[0], tool_id)).fetchone() is not None
        }
    recorded = [
        _Recorded(
            part_id=int(r[0]),
            inspection_id=str(r[1]),
            wall_time=float(r[2]),
            image_path=str(r[3]),
            part_verdict=str(r[4]),
            tool_verdict=Verdict(r[5]),
            score=finite_or_none(r[6]),
            threshold=finite_or_none(r[7]),
        )
        for r in rows
    ]
    return recorded, no_image, others_failed


def _pct(x: float) -> str:
    return "–" if math.isnan(x) else f"{100 * x:.1f} %"


__all__ = [
    "ALIGNED_CROP",
    "NO_FILE",
    "OTHER_CROPS",
    "RESCORABLE",
    "UNREADABLE",
    "RescoreResult",
    "RescoreSummary",
    "RescoredPart",
    "SkippedPart",
    "archived_image_file",
    "model_in_force",
    "readable_archived",
    "rescorable_settings",
    "rescore",
    "retaught_models",
    "retaught_path",
    "summarise",
]
