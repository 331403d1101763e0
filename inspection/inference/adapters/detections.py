"""Decoding the Ultralytics YOLOv8/11 detection head: best class per anchor, thresholds, NMS."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

MAX_DETECTIONS = 300
"""Ultralytics' default ``max_det``: more boxes than this on one part is noise, not findings."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Detection:
    """One object found: class, confidence 0..1, box x0, y0, x1, y1 in the pixels of the given image."""

    class_index: int
    class_name: str
    confidence: float
    box: tuple[float, float, float, float]


def nms(
    boxes: np.ndarray, scores: np.ndarray, iou: float, max_keep: int | None = None
) -> np.ndarray:
    """Indices of the boxes kept by greedy non-maximum suppression, best score first.

    boxes: float (N, 4) x0, y0, x1, y1; scores: float (N,). A box is dropped when its overlap
    (intersection over union) with a better kept box is above ``iou``; at most ``max_keep`` kept.
    """
    order = np.argsort(-scores, kind="stable")
    x0, y0, x1, y1 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    keep: list[int] = []
    while order.size and (max_keep is None or len(keep) < max_keep):
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        iw = np.clip(np.minimum(x1[i], x1[rest]) - np.maximum(x0[i], x0[rest]), 0, None)
        ih = np.clip(np.minimum(y1[i], y1[rest]) - np.maximum(y0[i], y0[rest]), 0, None)
        inter = iw * ih
        union = areas[i] + areas[rest] - inter
        overlap = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        order = rest[overlap <= iou]
    return np.asarray(keep, dtype=np.int64)


def decode_yolo(
    head: np.ndarray, thresholds: np.ndarray, iou: float, max_det: int = MAX_DETECTIONS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes, scores and classes kept from one image's YOLO head output.

    head: float (4 + C, N): centre x, centre y, width, height in model input px, then C class
    scores (already sigmoid, no objectness). thresholds: float (C,) minimum score per class.
    Returns float32 (K, 4) x0, y0, x1, y1; float32 (K,) scores; int64 (K,) classes, best first,
    after class-wise NMS at ``iou`` and at most ``max_det`` boxes.
    """
    head = np.asarray(head, dtype=np.float32)
    scores_all = head[4:]
    classes = scores_all.argmax(axis=0)
    scores = scores_all[classes, np.arange(head.shape[1])]
    # NaN scores fail the comparison and are dropped with the low ones
    candidates = np.flatnonzero(scores >= thresholds[classes])
    empty = (np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))
    if candidates.size == 0:
        return empty
    cx, cy, w, h = head[:4, candidates]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    scores, classes = scores[candidates], classes[candidates]
    finite = np.isfinite(boxes).all(axis=1)
    boxes, scores, classes = boxes[finite], scores[finite], classes[finite]
    if boxes.shape[0] == 0:
        return empty
    # class-wise in one pass: each class is moved to its own far-off patch of the plane, so boxes
    # of different classes never overlap, and the loop stops after max_det boxes, not N
    span = float(np.abs(boxes).max()) * 2 + 1
    shifted = boxes + (classes.astype(np.float32) * span)[:, None]
    keep = nms(shifted, scores, iou, max_keep=max_det)
    return boxes[keep], scores[keep], classes[keep].astype(np.int64)


def best_class_scores(head: np.ndarray) -> np.ndarray:
    """float32 (C,): each class's highest score in one image's YOLO head output (as
    ``decode_yolo`` reads it), over the anchors whose best class it is and whose box is finite;
    0 where there is none. It is the confidence of the first box ``decode_yolo`` keeps of that
    class at any threshold at or below it (NMS visits the best box first and never suppresses
    it), found without decoding at that threshold."""
    head = np.asarray(head, dtype=np.float32)
    scores_all = head[4:]
    n_classes = scores_all.shape[0]
    best = np.zeros(n_classes, np.float32)
    if head.shape[1] == 0:
        return best
    classes = scores_all.argmax(axis=0)
    scores = scores_all[classes, np.arange(head.shape[1])]
    cx, cy, w, h = head[:4]
    ok = np.isfinite(scores) & np.isfinite(cx) & np.isfinite(cy) & np.isfinite(w) & np.isfinite(h)
    np.maximum.at(best, classes[ok], scores[ok])
    return best
