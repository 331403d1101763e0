"""Ultralytics YOLOv8/11 detection models exported to ONNX (``model.export(format="onnx")``).

The layout it accepts, checked at load: one input (1, 3, H, W) float RGB 0..1 (letterboxed with
grey 114 to the model's fixed size, or to the ``imgsz`` of its metadata when the input is
size-dynamic); one output (1, 4 + C, N): box centre x, centre y, width, height in input pixels,
then C class scores (sigmoid, no objectness). Exports made with ``nms=True`` have another layout
and are refused.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from inspection.errors import ModelError
from inspection.inference.adapters.detections import (
    MAX_DETECTIONS,
    Detection,
    best_class_scores,
    decode_yolo,
)
from inspection.inference.adapters.metadata import (
    exported_with_nms,
    parse_imgsz,
    parse_names,
    parse_stride,
)
from inspection.inference.adapters.preprocess import letterbox, to_nchw, to_rgb
from inspection.inference.session import SessionSettings, describe_io, make_session, sha256_file

log = logging.getLogger(__name__)

_FLOAT_TYPES: dict[str, type[np.floating]] = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
}


def _fixed(dim: object) -> int | None:
    return dim if isinstance(dim, int) and dim > 0 else None


class YoloDetector:
    """One loaded YOLO detection model; belongs to one worker thread (its session is not shared).

    ``class_names`` overrides the names in the model's metadata; without either, classes are
    called ``class_<i>``. Raises ModelError naming the file and the reason when the model cannot
    be used.
    """

    def __init__(
        self,
        path: Path,
        *,
        sha256: str | None = None,
        class_names: Sequence[str] | None = None,
        threads: int = 1,
    ) -> None:
        self.path = path
        where = str(path)
        session = make_session(path, sha256=sha256, settings=SessionSettings(threads=threads))
        self.sha256 = sha256.lower() if sha256 is not None else sha256_file(path)
        ins, outs = describe_io(session)
        try:
            props: dict[str, str] = dict(session.get_modelmeta().custom_metadata_map or {})
        except UnicodeDecodeError as exc:  # a damaged file's metadata strings
            raise ModelError(
                f"{where}: the model's metadata is not readable text ({exc})"
            ) from None
        if exported_with_nms(props, where):
            raise ModelError(
                f"{where}: exported with nms=True (boxes already suppressed); export again "
                "without nms so the output is (1, 4 + classes, anchors)"
            )
        self._input_name, self.input_size, self._dtype = self._check_input(session, ins, props)
        self.stride = parse_stride(props["stride"], where) if "stride" in props else None
        self._session = session
        head = self._check_output(outs)
        n_classes = head.shape[0] - 4
        if class_names is not None:
            names, origin = tuple(class_names), "the recipe's class_names"
        elif "names" in props:
            names, origin = parse_names(props["names"], where), "the model's metadata 'names'"
        else:
            names, origin = tuple(f"class_{i}" for i in range(n_classes)), ""
        if len(names) != n_classes:
            raise ModelError(
                f"{where}: {origin} lists {len(names)} classes {list(names)[:8]} but the model "
                f"outputs {n_classes} class scores"
            )
        self.class_names: tuple[str, ...] = names
        log.info(
            "loaded detector %s: input %s, %d classes %s",
            path.name,
            self.input_size,
            n_classes,
            list(names)[:8],
        )

    def _check_input(
        self, session: Any, ins: list[tuple[str, list[object]]], props: dict[str, str]
    ) -> tuple[str, tuple[int, int], type[np.floating]]:
        where = str(self.path)
        if len(ins) != 1:
            raise ModelError(
                f"{where}: has {len(ins)} inputs {[n for n, _ in ins]}; a YOLO detection export "
                "has exactly one image input"
            )
        name, shape = ins[0]
        if len(shape) != 4 or shape[1] != 3:
            raise ModelError(
                f"{where}: input {name!r} has shape {shape}; expected (1, 3, height, width)"
            )
        batch = _fixed(shape[0])
        if batch is not None and batch != 1:
            raise ModelError(f"{where}: input {name!r} takes batches of {batch}; expected 1")
        dtype = _FLOAT_TYPES.get(session.get_inputs()[0].type)
        if dtype is None:
            raise ModelError(
                f"{where}: input {name!r} is {session.get_inputs()[0].type}; expected float"
            )
        h, w = _fixed(shape[2]), _fixed(shape[3])
        if h is not None and w is not None:
            if "imgsz" in props and parse_imgsz(props["imgsz"], where) != (h, w):
                log.warning(
                    "%s: metadata imgsz %s disagrees with the input shape; using %s",
                    where,
                    props["imgsz"],
                    (h, w),
                )
            return name, (h, w), dtype
        if "imgsz" not in props:
            raise ModelError(
                f"{where}: input {name!r} has a dynamic size {shape} and the model's metadata has "
                "no 'imgsz'; export with a fixed imgsz or dynamic=False"
            )
        size = parse_imgsz(props["imgsz"], where)
        stride = parse_stride(props["stride"], where) if "stride" in props else 1
        if size[0] % stride or size[1] % stride:
            raise ModelError(f"{where}: metadata imgsz {size} is not a multiple of stride {stride}")
        return name, size, dtype

    def _check_output(self, outs: list[tuple[str, list[object]]]) -> np.ndarray:
        """Validates the declared output and the real one of a warm-up run; returns its head."""
        where = str(self.path)
        if len(outs) != 1:
            raise ModelError(
                f"{where}: has {len(outs)} outputs {[n for n, _ in outs]}; a YOLO detection "
                "export has one (segmentation and pose models are not detectors)"
            )
        name, shape = outs[0]
        if len(shape) != 3:
            raise ModelError(
                f"{where}: output {name!r} has shape {shape}; expected (1, 4 + classes, anchors)"
            )
        zeros = np.zeros((1, 3, *self.input_size), dtype=self._dtype)
        try:
            out = np.asarray(self._session.run(None, {self._input_name: zeros})[0])
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"{where}: warm-up run failed ({exc})") from None
        if out.ndim != 3 or out.shape[0] != 1 or out.shape[1] < 5:
            raise ModelError(
                f"{where}: output {name!r} came out {tuple(out.shape)}; expected "
                "(1, 4 + classes, anchors) with at least one class"
            )
        return out[0]

    def detect(self, image: np.ndarray, thresholds: np.ndarray, iou: float) -> list[Detection]:
        """Objects in ``image`` (uint8 (H, W) grey or (H, W, 3) BGR), boxes in its pixels.

        thresholds: float (C,) minimum confidence per class; iou: NMS overlap limit.
        """
        return self.detect_scored(image, thresholds, iou)[0]

    def detect_scored(
        self, image: np.ndarray, thresholds: np.ndarray, iou: float
    ) -> tuple[list[Detection], np.ndarray]:
        """``detect``, and float32 (C,) each class's best score in the image whatever the
        thresholds (``best_class_scores``): what a lower confidence would have found."""
        boxed, lb = letterbox(to_rgb(image), self.input_size)
        out = self._session.run(None, {self._input_name: to_nchw(boxed, dtype=self._dtype)})[0]
        head = np.asarray(out)[0]
        boxes, scores, classes = decode_yolo(head, thresholds, iou, MAX_DETECTIONS)
        boxes = lb.to_source(boxes)
        found = [
            Detection(
                class_index=int(c),
                class_name=self.class_names[int(c)],
                confidence=float(s),
                box=(float(b[0]), float(b[1]), float(b[2]), float(b[3])),
            )
            for b, s, c in zip(boxes, scores, classes, strict=True)
        ]
        return found, best_class_scores(head)

    def close(self) -> None:
        self._session = None
