"""The detector tool: the user's own YOLO detection model finds defects in a region.

Verdicts, in the operator's words: FAIL when a kept detection's class is one of ``fail_classes``
(default: any detection fails the part) with a reason like "scratch ×2 (best 0.91)"; PASS
otherwise. Boxes are reported in frame pixels as red overlays labelled "class 0.91".

For tuning the confidence on recorded parts (``inspection/tuning/parameters.py``) the tool also
records ``fail_confidence``: the highest confidence of a failing class's detection down to
``RECORD_FLOOR`` (0.0 when there is none), so a lower confidence than the one in force can be
replayed. It is the best score of a failing class anywhere in the image (the first box NMS would
keep of it at a lower confidence), read from the model's output beside the detections: these are
found at the thresholds in force, as before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping

import numpy as np

from inspection.errors import ToolError
from inspection.inference.adapters.detections import Detection
from inspection.inference.adapters.yolo import YoloDetector
from inspection.recipe import DetectorToolSettings
from inspection.tools.base import crop, tool_result
from inspection.tools.registry import ToolContext
from inspection.types import Frame, Overlay, Region, ToolResult, Verdict

log = logging.getLogger(__name__)

RECORD_FLOOR = 0.05
"""The lowest confidence ``fail_confidence`` looks down to (a class whose own threshold is lower
looks down to that): a confidence under it cannot be replayed on recorded parts."""


class DetectorTool:
    """Runs one YOLO ONNX model on the ROI; ModelError / ToolError at build when it cannot."""

    tool_type = "detector"

    def __init__(self, settings: DetectorToolSettings, camera: str, context: ToolContext) -> None:
        self.settings = settings
        self.tool_id = settings.id
        self.camera = camera
        self._roi = settings.region()
        self._model = YoloDetector(
            settings.model,
            sha256=settings.sha256,
            class_names=settings.class_names,
            threads=context.threads,
        )
        names = self._model.class_names
        self._check_names("class_confidence", settings.class_confidence, names)
        self._check_names("fail_classes", settings.fail_classes or [], names)
        self._thresholds = np.array(
            [settings.class_confidence.get(n, settings.confidence) for n in names], np.float32
        )
        # float32 like the thresholds the decoder compares in, so "at or above" agrees with it
        self._floors = np.minimum(self._thresholds, np.float32(RECORD_FLOOR))
        self._fail = set(settings.fail_classes) if settings.fail_classes is not None else None

    def _check_names(self, field: str, given: Iterable[str], names: tuple[str, ...]) -> None:
        unknown = [n for n in given if n not in names]
        if unknown:
            raise ToolError(
                f"tool {self.tool_id!r}: {field} names {unknown}, which the model does not "
                f"detect; its classes are {list(names)}"
            )

    def inspect(self, frame: Frame) -> ToolResult:
        """Detect in ``frame`` (uint8 (H, W) grey or (H, W, 3) BGR) and judge the detections."""
        t0 = time.perf_counter_ns()
        image = np.asarray(frame.image)
        patch, region = crop(image, self._roi)
        if region.is_empty:
            h, w = image.shape[:2]
            r = self._roi
            where = f"({r.x}, {r.y}, {r.w}×{r.h}) " if r is not None else ""
            return tool_result(
                self,
                Verdict.ERROR,
                f"ROI {where}lies outside the frame ({w}×{h} px)",
                t0,
                roi=region,
            )
        found_in_roi, best = self._model.detect_scored(patch, self._thresholds, self.settings.iou)
        found = [_shifted(d, region) for d in found_in_roi]
        failing_best = [
            float(best[i])
            for i, name in enumerate(self._model.class_names)
            if (self._fail is None or name in self._fail) and best[i] >= self._floors[i]
        ]
        return self._judge(found, max(failing_best, default=0.0), region, t0)

    def _fails(self, d: Detection) -> bool:
        return self._fail is None or d.class_name in self._fail

    def _judge(
        self, found: list[Detection], fail_confidence: float, region: Region, t0: int
    ) -> ToolResult:
        fails = [self._fails(d) for d in found]
        failing = [d for d, f in zip(found, fails, strict=True) if f]
        reasons: list[str] = []
        for name in dict.fromkeys(d.class_name for d in failing):
            hits = [d for d in failing if d.class_name == name]
            reasons.append(f"{name} ×{len(hits)} (best {max(d.confidence for d in hits):.2f})")
        overlays = tuple(
            Overlay(
                points=_corners(d.box),
                label=f"{d.class_name} {d.confidence:.2f}",
                ok=not f,
            )
            for d, f in zip(found, fails, strict=True)
        )
        return tool_result(
            self,
            Verdict.FAIL if failing else Verdict.PASS,
            "; ".join(reasons),
            t0,
            roi=region,
            measurements={
                "detections": float(len(found)),
                "best_confidence": max((d.confidence for d in found), default=0.0),
                # down to the floor, kept or not: what a lower confidence would find
                "fail_confidence": fail_confidence,
            },
            details={
                "detections": [
                    {
                        "class": d.class_name,
                        "confidence": round(d.confidence, 4),
                        "box": [round(v, 1) for v in d.box],
                        "fails": f,
                    }
                    for d, f in zip(found, fails, strict=True)
                ]
            },
            overlays=overlays,
        )

    def model_hashes(self) -> Mapping[str, str]:
        return {self.tool_id: self._model.sha256}

    def close(self) -> None:
        self._model.close()


def _shifted(d: Detection, region: Region) -> Detection:
    x0, y0, x1, y1 = d.box
    return Detection(
        class_index=d.class_index,
        class_name=d.class_name,
        confidence=d.confidence,
        box=(x0 + region.x, y0 + region.y, x1 + region.x, y1 + region.y),
    )


def _corners(box: tuple[float, float, float, float]) -> np.ndarray:
    """float32 (4, 2) corners of an x0, y0, x1, y1 box, clockwise from the top-left."""
    x0, y0, x1, y1 = box
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)
