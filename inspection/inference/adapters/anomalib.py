"""anomalib anomaly models exported to ONNX, 1.x and 2.x.

What is supported, precisely:

* Input: one (1, 3, H, W) float RGB image, resized (stretched) to the model's fixed H × W, or to the
  ``Resize`` of metadata.json, or left at the crop's size when the input is size-dynamic. Pixels are
  0..1; when metadata.json carries an albumentations ``Normalize`` (anomalib 1.0 exports, whose graph
  expects normalised input), (x − mean) / std is applied here. Otherwise normalisation is taken to be
  inside the graph, as anomalib ≥ 1.1 (``InferenceModel`` with its transform) and 2.x (the
  pre-processor is part of the exported model) do.
* Outputs, found by name and then by shape: an anomaly map (1, 1, h, w) or (1, h, w) ("anomaly_map",
  or 1.x's single "output") and/or a score (1,), (1, 1) or () ("pred_score"). Boolean outputs
  ("pred_label", "pred_mask") are recognised and not used: the verdict comes from Lineside's own
  threshold. Without a score output the score is the map's maximum, as anomalib's inferencers do.
* Scales: with metadata.json min-max statistics (``pred_scores.min/max``, ``anomaly_maps.min/max``)
  scores and maps are normalised as anomalib does (threshold → 0.5, clipped to 0..1). With only
  ``image_threshold`` / ``pixel_threshold`` they stay raw and those thresholds apply. Without
  metadata.json the outputs are taken as already normalised (anomalib 2.x post-processor), 0.5.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from inspection.errors import ModelError
from inspection.inference.adapters.metadata import (
    AnomalibMetadata,
    min_max_normalise,
    read_anomalib_metadata,
)
from inspection.inference.adapters.preprocess import to_nchw, to_rgb
from inspection.inference.session import SessionSettings, describe_io, make_session, sha256_file

log = logging.getLogger(__name__)

NORMALISED_THRESHOLD = 0.5
_MAP_NAMES = ("anomaly_map", "anomaly_maps")
_SCORE_NAMES = ("pred_score", "pred_scores", "anomaly_score")
_IGNORED_NAMES = ("pred_label", "pred_labels", "pred_mask", "pred_masks", "pred_boxes")
_DYNAMIC_PROBE = 64
"""Side (px) of the warm-up image for size-dynamic inputs."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AnomalyPrediction:
    """One image's anomaly score and map on the adapter's scale (see ``AnomalibModel.normalised``).

    anomaly_map: float32 (H, W) in the pixels of the image given to ``predict``, or None.
    """

    score: float
    anomaly_map: np.ndarray | None


def _is_map(shape: tuple[int, ...]) -> bool:
    return (len(shape) == 4 and shape[:2] == (1, 1)) or (len(shape) == 3 and shape[0] == 1)


def _is_score(shape: tuple[int, ...]) -> bool:
    return len(shape) <= 2 and all(d == 1 for d in shape)


class AnomalibModel:
    """One loaded anomalib ONNX model (+ optional metadata.json); owned by one worker thread.

    ``image_threshold`` / ``pixel_threshold`` are the model's own, on the scale ``predict``
    returns (0.5 when that scale is normalised). Raises ModelError with the reason at load.
    """

    def __init__(
        self,
        path: Path,
        *,
        sha256: str | None = None,
        metadata: Path | None = None,
        threads: int = 1,
    ) -> None:
        self.path = path
        where = str(path)
        self.metadata: AnomalibMetadata | None = (
            read_anomalib_metadata(metadata) if metadata is not None else None
        )
        session = make_session(path, sha256=sha256, settings=SessionSettings(threads=threads))
        self.sha256 = sha256.lower() if sha256 is not None else sha256_file(path)
        self._session = session
        ins, _ = describe_io(session)
        if len(ins) != 1:
            raise ModelError(
                f"{where}: has {len(ins)} inputs {[n for n, _ in ins]}; an anomalib export has "
                "one image input"
            )
        name, shape = ins[0]
        if len(shape) != 4 or shape[1] != 3 or (isinstance(shape[0], int) and shape[0] > 1):
            raise ModelError(f"{where}: input {name!r} has shape {shape}; expected (1, 3, H, W)")
        if session.get_inputs()[0].type != "tensor(float)":
            raise ModelError(
                f"{where}: input {name!r} is {session.get_inputs()[0].type}; expected float32"
            )
        self._input_name = name
        h, w = shape[2], shape[3]
        meta_size = self.metadata.input_size if self.metadata is not None else None
        self.input_size: tuple[int, int] | None = (
            (h, w) if isinstance(h, int) and isinstance(w, int) and h > 0 and w > 0 else meta_size
        )
        self._map_index, self._score_index = self._find_outputs()
        md = self.metadata
        self.score_normalised = md is None or md.normalises_score
        self.map_normalised = md is None or md.normalises_map
        if md is None:
            self.image_threshold = self.pixel_threshold = NORMALISED_THRESHOLD
        else:
            raw_pixel = md.pixel_threshold if md.pixel_threshold is not None else md.image_threshold
            self.image_threshold = (
                NORMALISED_THRESHOLD if md.normalises_score else md.image_threshold
            )
            self.pixel_threshold = NORMALISED_THRESHOLD if md.normalises_map else raw_pixel
        log.info(
            "loaded anomalib model %s: input %s, map %s, score %s, thresholds %.4g / %.4g",
            path.name,
            self.input_size or "dynamic",
            self._map_index is not None,
            self._score_index is not None,
            self.image_threshold,
            self.pixel_threshold,
        )

    @property
    def has_map(self) -> bool:
        return self._map_index is not None

    def _find_outputs(self) -> tuple[int | None, int | None]:
        """Indices of the map and score outputs, from a warm-up run's real names and shapes."""
        where = str(self.path)
        probe = np.zeros((1, 3, *(self.input_size or (_DYNAMIC_PROBE,) * 2)), np.float32)
        try:
            results = self._session.run(None, {self._input_name: probe})
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"{where}: warm-up run failed ({exc})") from None
        names = [o.name for o in self._session.get_outputs()]
        layout = [
            (n, tuple(np.asarray(r).shape), np.asarray(r).dtype)
            for n, r in zip(names, results, strict=True)
        ]
        maps: list[int] = []
        scores: list[int] = []
        for i, (n, shape, dtype) in enumerate(layout):
            lower = n.lower()
            if lower in _IGNORED_NAMES or dtype == np.bool_:
                continue
            if lower in _MAP_NAMES or (lower not in _SCORE_NAMES and _is_map(shape)):
                if not _is_map(shape):
                    raise ModelError(
                        f"{where}: output {n!r} has shape {shape}; an anomaly map is (1, 1, H, W) or (1, H, W)"
                    )
                maps.append(i)
            elif lower in _SCORE_NAMES or _is_score(shape):
                if not _is_score(shape):
                    raise ModelError(
                        f"{where}: output {n!r} has shape {shape}; a score is (1,) or (1, 1)"
                    )
                scores.append(i)
            else:
                raise ModelError(
                    self._unknown(layout, f"output {n!r} is neither a map nor a score")
                )
        if len(maps) > 1 or len(scores) > 1 or not (maps or scores):
            raise ModelError(self._unknown(layout, "expected one anomaly map and/or one score"))
        return (maps[0] if maps else None), (scores[0] if scores else None)

    def _unknown(self, layout: list[tuple[str, tuple[int, ...], Any]], why: str) -> str:
        shown = ", ".join(f"{n} {list(s)}" for n, s, _ in layout)
        return f"{self.path}: unknown anomalib output layout ({shown}): {why}"

    def predict(self, image: np.ndarray) -> AnomalyPrediction:
        """Score and map of ``image`` (uint8 (H, W) grey or (H, W, 3) BGR)."""
        rgb = to_rgb(image)
        src_h, src_w = rgb.shape[:2]
        if self.input_size is not None and self.input_size != (src_h, src_w):
            rgb = cv2.resize(rgb, self.input_size[::-1], interpolation=cv2.INTER_LINEAR)
        md = self.metadata
        tensor = to_nchw(
            rgb,
            mean=md.mean if md is not None else None,
            std=md.std if md is not None else None,
        )
        results = self._session.run(None, {self._input_name: tensor})
        amap: np.ndarray | None = None
        if self._map_index is not None:
            raw = np.asarray(results[self._map_index], dtype=np.float32)
            amap = raw.reshape(raw.shape[-2:])
        if self._score_index is not None:
            score = float(np.asarray(results[self._score_index], dtype=np.float32).reshape(-1)[0])
        else:
            assert amap is not None  # _find_outputs guarantees a map or a score
            score = float(amap.max())
        if md is not None:
            if md.normalises_score and md.score_min is not None and md.score_max is not None:
                score = float(
                    min_max_normalise(
                        np.asarray(score, np.float32),
                        md.image_threshold,
                        md.score_min,
                        md.score_max,
                    )
                )
            if amap is not None and md.map_min is not None and md.map_max is not None:
                thr = md.pixel_threshold if md.pixel_threshold is not None else md.image_threshold
                amap = min_max_normalise(amap, thr, md.map_min, md.map_max)
        if amap is not None and amap.shape != (src_h, src_w):
            amap = cv2.resize(amap, (src_w, src_h), interpolation=cv2.INTER_LINEAR)
        return AnomalyPrediction(score=score, anomaly_map=amap)

    def close(self) -> None:
        self._session = None
