"""The label tool: is the label there, is it put on straight and in place, does its print say
what it must (lot, expiry, product), and is the print still good.

Verdicts, in the operator's words: FAIL "label missing", "label skewed (9.5° > 4.0°)",
"label shifted (55 px > 40 px)", "label does not match the reference (match 0.31 < 0.50)", or a
field's reason ("lot reads 'L2507E', batch is 'L2507D'"); ERROR when the tool has not been
taught or a batch value a rule needs is not set. Fields with a region are read by recognition
alone on their straightened boxes (one batch); the others by detection + recognition on the
straightened label, stopping once every one of them has been seen. A dot-printed field not read
right is read again from further preparations of its print (``label_rules.may_read_again`` says
when: never to overturn a near miss of an expected value).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from inspection.errors import ModelError, ToolError
from inspection.inference.ocr import OcrEngine, TextLine
from inspection.inference.session import sha256_file
from inspection.recipe import LabelToolSettings, TextFieldSettings
from inspection.tools.base import to_gray, tool_result
from inspection.tools.label_locate import (
    LabelPose,
    LabelReference,
    find_label,
    load_reference,
    match_score,
    pose_matrix,
    save_reference,
    straighten,
    teach_label,
)
from inspection.tools.label_print import prepare_print, prepare_print_again
from inspection.tools.label_quality import print_quality
from inspection.tools.label_rules import (
    FieldReport,
    FieldRules,
    distance_to_expected,
    expected_by_position,
    judge_line,
    may_read_again,
)
from inspection.tools.registry import ToolContext
from inspection.types import Frame, Overlay, Region, ToolResult, Verdict

log = logging.getLogger(__name__)

# Room around a field's region (share of its height) for the label being found a little off.
_FIELD_PAD = 0.2


def reference_path(settings: LabelToolSettings, context: ToolContext) -> Path:
    """Where this tool's taught reference lives (``.png``; its pose in the ``.json`` beside)."""
    if settings.reference is not None:
        return Path(settings.reference)
    if context.models_dir is None:
        raise ToolError(
            f"label tool {settings.id!r}: no 'reference' file set and no model folder to keep one in"
        )
    return Path(context.models_dir) / f"{settings.id}.label.png"


def teach_label_tool(settings: LabelToolSettings, context: ToolContext, image: np.ndarray) -> Path:
    """Teach the label from ``image`` (a good part; uint8 grey or BGR) and write the reference;
    returns the reference image's path. Raises ToolError when no label is found in the ROI."""
    roi = settings.region()
    reference = teach_label(image, roi)
    path = reference_path(settings, context)
    save_reference(reference, path)
    w, h = reference.size
    for f in settings.fields:
        r = f.region
        if r is not None and (r.x + r.w > w or r.y + r.h > h):
            log.warning(
                "label tool %s: field %s region (%d, %d, %d×%d) reaches outside the taught "
                "label of %d×%d px",
                settings.id, f.name, r.x, r.y, r.w, r.h, w, h,
            )  # fmt: skip
    log.info("label tool %s taught: %d×%d px label, written to %s", settings.id, w, h, path)
    return path


class LabelTool:
    """One label on one camera; instances belong to one worker (the OCR engine is not shared)."""

    tool_type = "label"

    def __init__(
        self,
        settings: LabelToolSettings,
        camera: str,
        context: ToolContext,
        *,
        today: Callable[[], date] | None = None,
    ) -> None:
        """``today``: the clock date rules use (tests inject one; default: the local date)."""
        if settings.max_offset_mm is not None and settings.mm_per_px is None:
            raise ToolError(f"label tool {settings.id!r}: max_offset_mm needs mm_per_px")
        self.settings = settings
        self.tool_id = settings.id
        self.camera = camera
        self._roi = settings.region()
        self._path = reference_path(settings, context)
        self._rules = FieldRules(context.batch, today)
        self._reference: LabelReference | None = None
        self._stamp: tuple[int, int] | None = None
        self._hash = ""
        self._refresh()
        self._ocr = (
            OcrEngine(threads=context.threads, alphabet=settings.alphabet)
            if settings.fields
            else None
        )

    # ---- Tool protocol -----------------------------------------------------------------

    def model_hashes(self) -> Mapping[str, str]:
        self._refresh()
        return {self.tool_id: self._hash} if self._hash else {}

    def close(self) -> None:
        self._ocr = None

    def inspect(self, frame: Frame) -> ToolResult:
        """Check the label in ``frame`` (uint8 (H, W) grey or (H, W, 3) BGR)."""
        t0 = time.perf_counter_ns()
        self._refresh()
        reference = self._reference
        if reference is None:
            return self._result(
                Verdict.ERROR, f"label tool '{self.tool_id}' has not been taught yet", t0
            )
        gray = np.ascontiguousarray(to_gray(np.asarray(frame.image)))
        try:
            pose = find_label(gray, self._roi, reference.size)
        except ToolError as exc:  # the ROI misses this frame: a setup fault, not a finding
            return self._result(Verdict.ERROR, str(exc), t0, roi=self._roi)
        if pose is None:
            return self._result(Verdict.FAIL, "label missing", t0, roi=self._roi)
        return self._judge(gray, pose, reference, t0)

    # ---- the checks --------------------------------------------------------------------

    def _judge(
        self, gray: np.ndarray, pose: LabelPose, reference: LabelReference, t0: int
    ) -> ToolResult:
        s = self.settings
        offset = math.hypot(
            pose.centre[0] - reference.centre[0], pose.centre[1] - reference.centre[1]
        )
        match = match_score(gray, pose, reference)
        measurements: dict[str, float] = {
            "offset_px": offset,
            "rotation_deg": pose.angle_deg,
            "match": match,
            "scale": pose.scale,
        }
        findings: list[str] = []
        if abs(pose.angle_deg) > s.max_rotation_deg:
            findings.append(
                f"label skewed ({abs(pose.angle_deg):.1f}° > {s.max_rotation_deg:.1f}°)"
            )
        if s.mm_per_px is not None:
            measurements["offset_mm"] = offset * s.mm_per_px
        if s.max_offset_mm is not None and s.mm_per_px is not None:
            if offset * s.mm_per_px > s.max_offset_mm:
                findings.append(
                    f"label shifted ({offset * s.mm_per_px:.1f} mm > {s.max_offset_mm:.1f} mm)"
                )
        elif offset > s.max_offset_px:
            findings.append(f"label shifted ({offset:.0f} px > {s.max_offset_px:.0f} px)")
        if match < s.min_match:
            findings.append(
                f"label does not match the reference (match {match:.2f} < {s.min_match:.2f})"
            )
        reports, boxes = self._read_fields(gray, pose, reference, measurements)
        errors = [r.reason for r in reports if r.verdict is Verdict.ERROR]
        findings += [r.reason for r in reports if r.verdict is Verdict.FAIL]
        verdict = Verdict.ERROR if errors else Verdict.FAIL if findings else Verdict.PASS
        geometry_ok = not any(f.startswith("label ") for f in findings)
        overlays = [Overlay(points=pose.corners, label=self.tool_id, ok=geometry_ok)]
        for report, box in zip(reports, boxes, strict=True):
            if box is not None:
                overlays.append(
                    Overlay(
                        points=box,
                        label=f"{report.name}: {report.value}",
                        ok=report.verdict is Verdict.PASS,
                    )
                )
        details: dict[str, Any] = {
            "fields": [r.as_dict() for r in reports],
            "offset_px": round(offset, 2),
            "rotation_deg": round(pose.angle_deg, 3),
            "match": round(match, 4),
            "scale": round(pose.scale, 4),
        }
        return self._result(
            verdict,
            "; ".join(errors + findings),
            t0,
            measurements=measurements,
            details=details,
            overlays=tuple(overlays),
        )

    def _read_fields(
        self,
        gray: np.ndarray,
        pose: LabelPose,
        reference: LabelReference,
        measurements: dict[str, float],
    ) -> tuple[list[FieldReport], list[np.ndarray | None]]:
        """Each field's report and its box in frame px (float32 (4, 2); None if not found)."""
        fields = self.settings.fields
        if not fields or self._ocr is None:
            return [], []
        to_frame = pose_matrix(pose, reference.size)
        reports: dict[str, FieldReport] = {}
        boxes: dict[str, np.ndarray | None] = {}
        placed = [f for f in fields if f.region is not None]
        if placed:
            regions = [_padded(f) for f in placed]
            crops = [straighten(gray, pose, reference.size, r) for r in regions]
            reports.update(self._recognize(placed, crops))
            for f, r, c in zip(placed, regions, crops, strict=True):
                boxes[f.name] = _corners(r, to_frame)
                _quality(f.name, c, measurements)
        searched = [f for f in fields if f.region is None]
        if searched:
            label = straighten(gray, pose, reference.size)
            found: dict[str, tuple[FieldReport, np.ndarray | None]] = {}
            # dot-printed fields are searched on the label with its dots joined (once per kind)
            for kind in dict.fromkeys(f.print for f in searched):
                group = [f for f in searched if f.print == kind]
                found.update(self._search(prepare_print(label, kind), group))
                # a field of dot print not read right is looked for again, prepared anew
                failed = [f for f in group if may_read_again(self._rules, f, found[f.name][0])]
                for again in prepare_print_again(label, kind) if failed else ():
                    for name, (report, box) in self._search(again, failed).items():
                        if report.verdict is Verdict.PASS:
                            found[name] = (report, box)
                    failed = [f for f in failed if found[f.name][0].verdict is not Verdict.PASS]
                    if not failed:
                        break
            for name, (report, box) in found.items():
                reports[name] = report
                if box is not None:
                    x0, y0 = np.floor(box.min(axis=0)).astype(int)
                    x1, y1 = np.ceil(box.max(axis=0)).astype(int)
                    region = Region(x=int(x0), y=int(y0), w=int(x1 - x0), h=int(y1 - y0))
                    region = region.clip(label.shape[1], label.shape[0])
                    if region.w >= 4 and region.h >= 4:
                        field_img = label[
                            region.y : region.y + region.h, region.x : region.x + region.w
                        ]
                        _quality(name, field_img, measurements)
                    boxes[name] = (box @ to_frame[:, :2].T + to_frame[:, 2]).astype(np.float32)
                else:
                    boxes[name] = None
        for name, report in reports.items():
            measurements[f"{name}_confidence"] = report.confidence
        ordered = [reports[f.name] for f in fields]
        return ordered, [boxes.get(f.name) for f in fields]

    def _recognize(
        self, fields: list[TextFieldSettings], crops: list[np.ndarray]
    ) -> dict[str, FieldReport]:
        """Fields with a region, read from their crops in one batch; a dot-printed field not read
        right is read again from each further preparation in turn, and passes once one reads it."""
        assert self._ocr is not None
        ready = [prepare_print(c, f.print) for f, c in zip(fields, crops, strict=True)]
        expect = expected_by_position(self._rules, fields)
        reports: dict[str, FieldReport] = {}
        for f, line in zip(fields, self._ocr.recognize(ready, expect=expect), strict=True):
            reports[f.name] = judge_line(self._rules, f, line)
        pending = [
            (f, prepare_print_again(c, f.print))
            for f, c in zip(fields, crops, strict=True)
            if may_read_again(self._rules, f, reports[f.name])
        ]
        while pending:
            todo = [
                (f, preps, image)
                for f, preps in pending
                if (image := next(preps, None)) is not None
            ]
            images = [image for _, _, image in todo]
            lines = self._ocr.recognize(images, expect=expect) if todo else []
            pending = []
            for (f, preps, _), line in zip(todo, lines, strict=True):
                report = judge_line(self._rules, f, line)
                if report.verdict is Verdict.PASS:
                    reports[f.name] = report
                else:
                    pending.append((f, preps))
        return reports

    def _search(
        self, label: np.ndarray, fields: list[TextFieldSettings]
    ) -> dict[str, tuple[FieldReport, np.ndarray | None]]:
        """Fields without a region: read the label's lines until each field has passed on one;
        a field that never passes gets the line that came closest."""
        assert self._ocr is not None
        best: dict[str, tuple[tuple[int, float, float], FieldReport, np.ndarray | None]] = {}
        pending = {f.name for f in fields}

        def consider(line: TextLine) -> bool:
            for f in fields:
                report = judge_line(self._rules, f, line)
                rank = (
                    report.verdict is Verdict.PASS,
                    -distance_to_expected(self._rules, f, line.text),
                    line.confidence,
                )
                if f.name not in best or rank > best[f.name][0]:
                    best[f.name] = (rank, report, line.box)
                if report.verdict is Verdict.PASS:
                    pending.discard(f.name)
            return not pending

        self._ocr.read(label, accept=consider, expect=expected_by_position(self._rules, fields))
        out: dict[str, tuple[FieldReport, np.ndarray | None]] = {}
        for f in fields:
            if f.name in best:
                out[f.name] = (best[f.name][1], best[f.name][2])
            else:
                out[f.name] = (self._rules.judge(f, "", 0.0), None)
        return out

    # ---- plumbing ----------------------------------------------------------------------

    def _refresh(self) -> None:
        """(Re)load the reference when its file appeared or changed (teaching while running)."""
        try:
            st = self._path.stat()
        except OSError:
            self._reference, self._stamp, self._hash = None, None, ""
            return
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return
        try:
            reference = load_reference(self._path)
        except ModelError:
            if self._stamp is None:
                raise
            log.exception("label tool %s: new reference unusable, keeping the old", self.tool_id)
            return
        self._reference, self._stamp, self._hash = reference, stamp, sha256_file(self._path)
        log.info(
            "label tool %s: reference %s loaded (%d×%d px)",
            self.tool_id,
            self._path,
            *reference.size,
        )

    def _result(
        self,
        verdict: Verdict,
        reason: str,
        t0: int,
        *,
        roi: Region | None = None,
        measurements: Mapping[str, float] | None = None,
        details: Mapping[str, Any] | None = None,
        overlays: tuple[Overlay, ...] = (),
    ) -> ToolResult:
        return tool_result(
            self,
            verdict,
            reason,
            t0,
            roi=roi or self._roi,
            measurements=measurements,
            details=details,
            overlays=overlays,
        )


def _padded(field: TextFieldSettings) -> Region:
    assert field.region is not None
    r = field.region
    pad = max(2, round(_FIELD_PAD * r.h))
    return Region(x=r.x - pad, y=r.y - pad, w=r.w + 2 * pad, h=r.h + 2 * pad)


def _corners(region: Region, to_frame: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = region.x, region.y, region.x + region.w, region.y + region.h
    pts = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)
    return (pts @ to_frame[:, :2].T + to_frame[:, 2]).astype(np.float32)


def _quality(name: str, field_img: np.ndarray, measurements: dict[str, float]) -> None:
    q = print_quality(field_img)
    measurements[f"{name}_contrast"] = q.contrast
    measurements[f"{name}_sharpness"] = q.sharpness
