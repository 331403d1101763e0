"""What exported models say about themselves: Ultralytics metadata_props and anomalib metadata.json.

Ultralytics writes each metadata value as ``str(value)`` of a Python object (``names`` is
``"{0: 'scratch', 1: 'dent'}"``, ``imgsz`` is ``"[640, 640]"``, ``stride`` is ``"32"``); those are
read with ``ast.literal_eval``, never ``eval``. anomalib 1.x writes ``metadata.json`` beside its
ONNX with ``image_threshold``, ``pixel_threshold``, min-max statistics (``pred_scores.min`` /
``.max``, ``anomaly_maps.min`` / ``.max``) and, up to 1.0, the albumentations ``transform``.
"""

from __future__ import annotations

import ast
import json
import logging
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inspection.errors import ModelError

log = logging.getLogger(__name__)

_LARGEST_FLOAT = sys.float_info.max


def _literal(text: str, key: str, where: str) -> Any:
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise ModelError(
            f"{where}: metadata {key!r} is not a Python literal: {text[:80]!r}"
        ) from None


def parse_names(text: str, where: str) -> tuple[str, ...]:
    """Class names from Ultralytics' ``names`` metadata: ``"{0: 'a', 1: 'b'}"`` or ``"['a', 'b']"``."""
    value = _literal(text, "names", where)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    if isinstance(value, dict) and value:
        keys = sorted(value)
        if keys != list(range(len(keys))) or not all(isinstance(v, str) for v in value.values()):
            raise ModelError(
                f"{where}: metadata 'names' must map 0, 1, 2, … to class names, got {text[:80]!r}"
            )
        return tuple(value[k] for k in keys)
    raise ModelError(
        f"{where}: metadata 'names' must be a dict or list of class names, got {text[:80]!r}"
    )


def parse_imgsz(text: str, where: str) -> tuple[int, int]:
    """(height, width) from Ultralytics' ``imgsz`` metadata: ``"[480, 640]"`` or ``"640"``."""
    value = _literal(text, "imgsz", where)
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value, value]
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        return int(value[0]), int(value[1])
    raise ModelError(f"{where}: metadata 'imgsz' must be a size like [640, 640], got {text[:80]!r}")


def parse_stride(text: str, where: str) -> int:
    """The model's largest stride from Ultralytics' ``stride`` metadata (``"32"``)."""
    value = _literal(text, "stride", where)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    raise ModelError(f"{where}: metadata 'stride' must be a positive whole number, got {text!r}")


def exported_with_nms(props: Mapping[str, str], where: str) -> bool:
    """True when Ultralytics' ``args`` metadata says the graph already ran NMS (another layout)."""
    text = props.get("args")
    if text is None:
        return False
    try:
        args = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        log.warning("%s: metadata 'args' is not a Python literal; ignored", where)
        return False
    return isinstance(args, dict) and bool(args.get("nms", False))


@dataclass(frozen=True, slots=True, kw_only=True)
class AnomalibMetadata:
    """The facts of an anomalib 1.x ``metadata.json`` Lineside uses (raw score units).

    ``score_min``/``score_max`` and ``map_min``/``map_max`` enable anomalib's min-max normalisation
    (threshold moved to 0.5); ``mean``/``std`` (RGB, on 0..1 pixels) and ``input_size`` (height,
    width) come from an albumentations ``Normalize`` / ``Resize`` in ``transform`` when present.
    """

    image_threshold: float
    pixel_threshold: float | None = None
    score_min: float | None = None
    score_max: float | None = None
    map_min: float | None = None
    map_max: float | None = None
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    input_size: tuple[int, int] | None = None

    @property
    def normalises_score(self) -> bool:
        return self.score_min is not None and self.score_max is not None

    @property
    def normalises_map(self) -> bool:
        return self.map_min is not None and self.map_max is not None


def _number(data: Mapping[str, Any], key: str, where: str) -> float | None:
    if key not in data:
        return None
    value = data[key]
    # anomalib turns 0-d tensors into floats but 1-element tensors into one-item lists
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    # an int past float's range (JSON allows any) is not finite either: OverflowError otherwise
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, int) and abs(value) > _LARGEST_FLOAT)
        or not math.isfinite(value)
    ):
        raise ModelError(f"{where}: {key!r} must be a finite number, got {value!r:.60}")
    return float(value)


def _pair(data: Mapping[str, Any], prefix: str, where: str) -> tuple[float | None, float | None]:
    lo, hi = _number(data, f"{prefix}.min", where), _number(data, f"{prefix}.max", where)
    if (lo is None) != (hi is None):
        missing = f"{prefix}.max" if hi is None else f"{prefix}.min"
        raise ModelError(f"{where}: has {prefix} min-max statistics but lacks {missing!r}")
    if lo is not None and hi is not None and not hi > lo:
        raise ModelError(f"{where}: {prefix}.max ({hi}) must be greater than {prefix}.min ({lo})")
    return lo, hi


def _albumentations(transform: object, where: str) -> dict[str, Any]:
    """Normalize / Resize parameters found anywhere in an albumentations ``to_dict()`` tree."""
    found: dict[str, Any] = {}
    stack = [transform]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            kind = str(node.get("__class_fullname__", "")).rsplit(".", 1)[-1]
            if kind == "Normalize":
                mean, std = node.get("mean"), node.get("std")
                try:
                    max_pixel = float(node.get("max_pixel_value", 255.0))
                    # albumentations applies (x - mean·max) / (std·max) on 0..max pixels, which is
                    # (x/255 - mean) / std for the usual max of 255
                    scale = max_pixel / 255.0
                    found["mean"] = tuple(float(v) * scale for v in mean)  # type: ignore[union-attr]
                    found["std"] = tuple(float(v) * scale for v in std)  # type: ignore[union-attr]
                except (TypeError, ValueError, OverflowError):
                    raise ModelError(
                        f"{where}: transform Normalize has unreadable mean/std/max_pixel_value "
                        f"{mean!r}/{std!r}/{node.get('max_pixel_value')!r}"[:300]
                    ) from None
                if len(found["mean"]) != 3 or len(found["std"]) != 3 or 0.0 in found["std"]:
                    raise ModelError(
                        f"{where}: transform Normalize needs 3 means and 3 non-zero stds"
                    )
            elif kind == "Resize":
                h, w = node.get("height"), node.get("width")
                if isinstance(h, int) and isinstance(w, int) and h > 0 and w > 0:
                    found["input_size"] = (h, w)
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
    return found


def read_anomalib_metadata(path: Path) -> AnomalibMetadata:
    """Read anomalib's ``metadata.json``; ModelError names the file and what is wrong or missing."""
    where = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{where}: metadata file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"{where}: metadata cannot be read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ModelError(
            f"{where}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except (RecursionError, ValueError) as exc:  # nesting or a number past Python's limits
        raise ModelError(f"{where}: not valid JSON ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict):
        raise ModelError(f"{where}: expected a JSON object, got {type(data).__name__}")
    image_threshold = _number(data, "image_threshold", where)
    if image_threshold is None:
        raise ModelError(
            f"{where}: lacks 'image_threshold' (keys present: {sorted(data)[:12]}); "
            "export the model after training so anomalib writes its thresholds"
        )
    score_min, score_max = _pair(data, "pred_scores", where)
    map_min, map_max = _pair(data, "anomaly_maps", where)
    pixel_threshold = _number(data, "pixel_threshold", where)
    if map_min is not None and pixel_threshold is None:
        raise ModelError(f"{where}: has anomaly_maps statistics but lacks 'pixel_threshold'")
    transform = _albumentations(data.get("transform"), where) if "transform" in data else {}
    return AnomalibMetadata(
        image_threshold=image_threshold,
        pixel_threshold=pixel_threshold,
        score_min=score_min,
        score_max=score_max,
        map_min=map_min,
        map_max=map_max,
        mean=transform.get("mean"),
        std=transform.get("std"),
        input_size=transform.get("input_size"),
    )


def min_max_normalise(values: np.ndarray, threshold: float, lo: float, hi: float) -> np.ndarray:
    """anomalib's min-max normalisation: threshold → 0.5, range scaled by (max − min), clipped 0..1.

    float32, same shape as ``values``.
    """
    return np.clip((np.asarray(values, np.float32) - threshold) / (hi - lo) + 0.5, 0.0, 1.0)
