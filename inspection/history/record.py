"""One part's full record: the row, each tool's result, timings, models, image and overlays.

The overlays are rebuilt from what the tools wrote in their details (defect regions, code
corners, detections), because the drawn polygons themselves are not stored. A tool that records
no positions (the label tool keeps its OCR fields' text but not their boxes) gets none.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspection.history.pages import ROW_COLUMNS, PartRow, codes_of, part_row
from inspection.storage.schema import finite_or_none, headline_score
from inspection.types import Inspection, Verdict

Point = tuple[float, float]

TIMING_COLUMNS = ("queued_ms", "started_ms", "decided_ms", "dispatched_ms", "stored_ms")
"""Milliseconds from capture to each stage (None where the part never reached it)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OverlayShape:
    """A polygon to draw over the part's image, in image pixels (x right, y down)."""

    tool_id: str
    points: tuple[Point, ...]
    label: str
    ok: bool
    camera: str = ""
    """The camera whose image it belongs on, when the tool said so ("" = the first image)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolRecord:
    """One tool's result on the part, as recorded (measurements and details decoded)."""

    tool_id: str
    tool_type: str
    verdict: Verdict
    reason: str
    measurements: Mapping[str, float]
    details: Mapping[str, Any]
    duration_ms: float | None
    score: float | None
    threshold: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PartRecord:
    """Everything recorded about one part. ``image`` is the archived file (absolute) or None;
    ``images`` every archived file of the part (one per camera, or ROI crops)."""

    part: PartRow
    recipe_name: str
    model_hashes: Mapping[str, str]
    timings_ms: Mapping[str, float | None]
    line: str
    tools: tuple[ToolRecord, ...]
    image: Path | None
    image_exists: bool
    images: tuple[Path, ...]
    overlays: tuple[OverlayShape, ...]
    image_note: str = ""
    """Why the image the archive policy kept is not there ("not archived: disk full",
    "image removed: disk space low ..."); "" otherwise."""


def _json(value: Any, default: Any) -> Any:
    if not isinstance(value, str):
        return default
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return default


def part_record(
    conn: sqlite3.Connection, inspection_id: str, archive_root: Path | None
) -> PartRecord | None:
    """The record of the part with this inspection id; None when no such part is stored."""
    row = conn.execute(
        f"SELECT {ROW_COLUMNS}, recipe_name, model_hashes, line, "
        f"{', '.join(TIMING_COLUMNS)}, image_note FROM inspections WHERE inspection_id = ?",
        (inspection_id,),
    ).fetchone()
    if row is None:
        return None
    n = len(ROW_COLUMNS.split(","))
    rowid = int(row[0])
    part = part_row(row, codes_of(conn, [rowid]).get(rowid, ()))
    tools = tuple(
        ToolRecord(
            tool_id=str(t[0]),
            tool_type=str(t[1]),
            verdict=Verdict(t[2]),
            reason=str(t[3] or ""),
            measurements=_json(t[4], {}),
            details=_json(t[5], {}),
            duration_ms=finite_or_none(t[6]),
            score=finite_or_none(t[7]),
            threshold=finite_or_none(t[8]),
        )
        for t in conn.execute(
            "SELECT tool_id, tool_type, verdict, reason, measurements, details, duration_ms, "
            "score, threshold FROM tool_results WHERE inspection = ? ORDER BY id",
            (rowid,),
        )
    )
    image, images = _archived(archive_root, part.image_path)
    return PartRecord(
        part=part,
        recipe_name=str(row[n]),
        model_hashes=_json(row[n + 1], {}),
        line=str(row[n + 2] or ""),
        timings_ms={c: finite_or_none(row[n + 3 + i]) for i, c in enumerate(TIMING_COLUMNS)},
        tools=tools,
        image=image,
        image_exists=image is not None and image.is_file(),
        images=images,
        overlays=tuple(s for t in tools for s in overlays_of(t)),
        image_note=str(row[n + 3 + len(TIMING_COLUMNS)] or ""),
    )


def _archived(root: Path | None, image_path: str | None) -> tuple[Path | None, tuple[Path, ...]]:
    if root is None or not image_path:
        return None, ()
    first = root / image_path
    # every file of one part starts with "<inspection id>__" (inspection.storage.archive)
    stem = first.name.split("__", 1)[0]
    try:
        found = tuple(sorted(first.parent.glob(f"{stem}__*")))
    except OSError:
        found = ()
    return first, found or ((first,) if first.is_file() else ())


def _box(x0: float, y0: float, x1: float, y1: float) -> tuple[Point, ...]:
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def _points(value: Any) -> tuple[Point, ...] | None:
    if not isinstance(value, Sequence) or len(value) < 3:
        return None
    try:
        pts = tuple((float(p[0]), float(p[1])) for p in value)
    except (TypeError, ValueError, IndexError):
        return None
    return pts if all(math.isfinite(c) for p in pts for c in p) else None


def overlays_of(tool: ToolRecord) -> list[OverlayShape]:
    """The shapes ``tool``'s details let us draw again: defect regions, codes, detections."""
    d = tool.details
    camera = str(d.get("camera", "")) if isinstance(d, Mapping) else ""
    passed = tool.verdict is Verdict.PASS
    out: list[OverlayShape] = []

    def add(points: tuple[Point, ...] | None, label: str, ok: bool) -> None:
        if points is not None:
            out.append(
                OverlayShape(tool_id=tool.tool_id, points=points, label=label, ok=ok, camera=camera)
            )

    for r in d.get("regions", ()) if isinstance(d.get("regions"), list) else ():
        if not isinstance(r, Mapping):
            continue
        try:
            x, y, w, h = (float(r[k]) for k in ("x", "y", "w", "h"))
        except (KeyError, TypeError, ValueError):
            continue
        peak = finite_or_none(r.get("peak"))
        # a region on a part the tool passed stayed below the part's threshold: not a finding
        add(_box(x, y, x + w, y + h), "" if peak is None else f"{peak:.2f}", passed)
    for c in d.get("codes", ()) if isinstance(d.get("codes"), list) else ():
        if not isinstance(c, Mapping):
            continue
        text = str(c.get("text", "")) if c.get("content") != "binary" else "binary"
        add(_points(c.get("position")), text if len(text) <= 40 else text[:39] + "…", passed)
    for det in d.get("detections", ()) if isinstance(d.get("detections"), list) else ():
        if not isinstance(det, Mapping):
            continue
        box = det.get("box")
        if isinstance(box, Sequence) and len(box) == 4:
            try:
                x0, y0, x1, y1 = (float(v) for v in box)
            except (TypeError, ValueError):
                continue
            conf = finite_or_none(det.get("confidence"))
            label = f"{det.get('class', '?')}" + ("" if conf is None else f" {conf:.2f}")
            add(_box(x0, y0, x1, y1), label, not det.get("fails", False))
    return out


def record_from_inspection(inspection: Inspection) -> PartRecord:
    """The record of a part still in memory (shown before its row is committed): the same
    facts as ``part_record`` gives once it is stored, overlays taken from the tools directly."""
    t = inspection.timing

    def since(stamp: int) -> float | None:
        return (stamp - t.captured_ns) / 1e6 if t.captured_ns and stamp else None

    tools = tuple(
        ToolRecord(
            tool_id=r.tool_id,
            tool_type=r.tool_type,
            verdict=r.verdict,
            reason=r.reason,
            measurements=dict(r.measurements),
            details=dict(r.details),
            duration_ms=r.duration_ns / 1e6 if r.duration_ns else None,
            score=headline_score(r),
            threshold=finite_or_none(r.measurements.get("threshold")),
        )
        for r in inspection.tool_results
    )
    overlays = tuple(
        OverlayShape(
            tool_id=r.tool_id,
            points=tuple((float(x), float(y)) for x, y in o.points.reshape(-1, 2)),
            label=o.label,
            ok=o.ok,
            camera=r.camera,
        )
        for r in inspection.tool_results
        for o in r.overlays
    )
    codes = tuple(
        dict.fromkeys(
            str(c.get("text"))
            for r in inspection.tool_results
            for c in (r.details.get("codes") or ())
            if isinstance(c, Mapping) and c.get("text")
        )
    )
    part = PartRow(
        id=0,
        inspection_id=inspection.inspection_id,
        part_number=inspection.part_seq + 1,
        wall_time=inspection.wall_time,
        station=inspection.station,
        verdict=inspection.verdict,
        reason=inspection.reason,
        recipe_version=inspection.recipe_version,
        lot=inspection.lot,
        production_day="",
        shift="",
        codes=codes,
        image_path=None,
    )
    return PartRecord(
        part=part,
        recipe_name=inspection.recipe_name,
        model_hashes=dict(inspection.model_hashes),
        timings_ms={
            "queued_ms": since(t.queued_ns),
            "started_ms": since(t.started_ns),
            "decided_ms": since(t.decided_ns),
            "dispatched_ms": since(t.dispatched_ns),
            "stored_ms": None,
        },
        line="",
        tools=tools,
        image=None,
        image_exists=False,
        images=(),
        overlays=overlays,
    )
