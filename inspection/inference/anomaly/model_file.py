"""The ``.lsam`` model file: an uncompressed-npz zip of the memory bank, the feature projection
(when the settings ask for one) and a JSON metadata entry.

No pickle: arrays are read with ``allow_pickle=False`` and the metadata is plain JSON, so a model
file from elsewhere cannot run code. The bank is stored as float16 (half the size; the distance
error is far below the spread of good scores). Loading refuses, with the reason, a file that is not
a model, is damaged, was made for another backbone, or for another preprocessing/feature layout.
"""

from __future__ import annotations

import json
import logging
import os
import tokenize
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from inspection.errors import ModelError
from inspection.inference.anomaly.model import AnomalyModel
from inspection.inference.anomaly.settings import PREPROCESSING_VERSION, AnomalySettings

log = logging.getLogger(__name__)

FORMAT = "lineside-anomaly-model"
FORMAT_VERSION = 1
SUFFIX = ".lsam"
FEATURE_DIMS = 40 + 112
"""Patch feature length of the shipped backbone (stride-8 + stride-16 channels)."""


def save_model(model: AnomalyModel, path: Path) -> None:
    """Write ``model`` to ``path`` atomically (a half-written file never replaces a good one)."""
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "backbone_sha256": model.backbone_sha256,
        "settings": model.settings.to_json(),
        "image_size": list(model.image_size),
        "score_scale": model.score_scale,
        "threshold": model.threshold,
        "calibration": dict(model.calibration),
        "provenance": dict(model.provenance),
    }
    blob = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    bank = model.bank.astype(np.float16)
    with tmp.open("wb") as f:
        if model.projection is None:
            np.savez(f, meta=blob, bank=bank)
        else:
            np.savez(f, meta=blob, bank=bank, projection=np.asarray(model.projection, np.float32))
    os.replace(tmp, path)


def load_model(path: Path, backbone_sha256: str) -> AnomalyModel:
    """Read a model written by ``save_model``; ModelError names the file and the reason."""
    meta, bank, projection = _read(path, arrays=True)
    assert bank is not None
    return _model_from(path, meta, bank, projection, backbone_sha256)


def check_usable(path: Path, backbone_sha256: str) -> None:
    """ModelError, with the reason, when the model at ``path`` was made for another file format,
    backbone or preprocessing; read from its metadata alone (the memory bank stays on disk)."""
    meta, _, _ = _read(path, arrays=False)
    _settings_made_for(path, meta, backbone_sha256)


def _read(
    path: Path, *, arrays: bool
) -> tuple[dict[str, Any], np.ndarray | None, np.ndarray | None]:
    """(metadata, bank, projection) of a model file; the arrays only when ``arrays``."""
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    bank = projection = None
    try:
        with np.load(path, allow_pickle=False) as npz:  # members are read when accessed
            names = set(npz.files)
            if not {"meta", "bank"} <= names:
                raise ModelError(f"{path}: not a Lineside anomaly model (entries {sorted(names)})")
            meta_bytes = npz["meta"].tobytes()
            if arrays:
                bank = np.asarray(npz["bank"])
                projection = np.asarray(npz["projection"]) if "projection" in names else None
    except ModelError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise ModelError(f"{path}: damaged model file ({exc})") from None
    except (NotImplementedError, RuntimeError) as exc:
        # zipfile's words for an entry compressed by an unknown method or encrypted
        raise ModelError(f"{path}: not a Lineside anomaly model ({exc})") from None
    except (ValueError, OSError) as exc:
        raise ModelError(f"{path}: not a Lineside anomaly model ({exc})") from None
    except (SyntaxError, tokenize.TokenError) as exc:  # numpy re-reading a damaged array header
        raise ModelError(f"{path}: damaged model file (array header: {exc})") from None
    try:
        meta = json.loads(meta_bytes.decode("utf-8"))
    except (UnicodeDecodeError, RecursionError, ValueError) as exc:  # ValueError: JSON's too
        raise ModelError(f"{path}: damaged model metadata ({type(exc).__name__}: {exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelError(f"{path}: not a Lineside anomaly model (no '{FORMAT}' metadata)")
    return meta, bank, projection


def _settings_made_for(path: Path, meta: dict[str, Any], backbone_sha256: str) -> AnomalySettings:
    """The model's settings, after checking its file format, backbone and preprocessing."""
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelError(
            f"{path}: model file format {version!r}, this Lineside reads format {FORMAT_VERSION}; "
            "teach the tool again"
        )
    made_for = str(meta.get("backbone_sha256", ""))
    if made_for.lower() != backbone_sha256.lower():
        raise ModelError(
            f"{path}: made for another backbone (sha256 {made_for[:16]}…, "
            f"this one is {backbone_sha256[:16]}…); teach the tool again"
        )
    try:
        settings = AnomalySettings.from_json(dict(meta["settings"]))
    except (KeyError, TypeError, ValueError, OverflowError) as exc:  # Overflow: an int past float
        raise ModelError(f"{path}: model metadata is incomplete or wrong ({exc!r:.200})") from None
    if settings.version != PREPROCESSING_VERSION:
        raise ModelError(
            f"{path}: made with preprocessing version {settings.version}, this Lineside uses "
            f"version {PREPROCESSING_VERSION}; teach the tool again"
        )
    return settings


def _model_from(
    path: Path,
    meta: dict[str, Any],
    bank: np.ndarray,
    projection: np.ndarray | None,
    backbone_sha256: str,
) -> AnomalyModel:
    settings = _settings_made_for(path, meta, backbone_sha256)
    try:
        h, w = (int(v) for v in meta["image_size"])
        scale = float(meta["score_scale"])
        threshold = float(meta["threshold"])
        calibration = dict(meta.get("calibration", {}))
        provenance = dict(meta.get("provenance", {}))
    except (KeyError, TypeError, ValueError, OverflowError) as exc:  # Overflow: an int past float
        raise ModelError(f"{path}: model metadata is incomplete or wrong ({exc!r:.200})") from None
    if h < 32 or w < 32 or settings.long_side < 32:
        raise ModelError(f"{path}: made for an input size of {w}×{h} px, which cannot be used")
    for name, array in (("memory bank", bank), ("feature projection", projection)):
        # strings, structures or complex numbers would fail or lose data when cast below
        if array is not None and array.dtype.kind != "f":
            raise ModelError(f"{path}: {name} holds {array.dtype} values, expected floats")
    dims = FEATURE_DIMS
    if projection is not None:
        if projection.ndim != 2 or projection.shape[0] != FEATURE_DIMS or projection.shape[1] < 1:
            raise ModelError(
                f"{path}: feature projection has shape {projection.shape}, expected "
                f"({FEATURE_DIMS}, d) for this backbone's features"
            )
        projection = projection.astype(np.float32)
        if not np.isfinite(projection).all():
            raise ModelError(f"{path}: feature projection holds non-finite values")
        dims = projection.shape[1]
    elif 0 < settings.feature_dims < FEATURE_DIMS:
        raise ModelError(
            f"{path}: made with features projected to {settings.feature_dims} dims, but the file "
            "holds no projection"
        )
    if settings.position_weight > 0:
        dims += 2  # each bank patch's place in its image
    if bank.ndim != 2 or bank.shape[0] < 1 or bank.shape[1] != dims:
        raise ModelError(
            f"{path}: memory bank has shape {bank.shape}, expected (N, {dims}) for this "
            "backbone's features"
        )
    if not (np.isfinite(scale) and scale > 0 and np.isfinite(threshold) and threshold > 0):
        raise ModelError(f"{path}: score scale {scale} / threshold {threshold} must be positive")
    bank32 = bank.astype(np.float32)
    if not np.isfinite(bank32).all():
        raise ModelError(f"{path}: memory bank holds non-finite values")
    return AnomalyModel(
        settings=settings,
        bank=bank32,
        image_size=(h, w),
        backbone_sha256=backbone_sha256.lower(),
        score_scale=scale,
        threshold=threshold,
        calibration=calibration,
        provenance=provenance,
        projection=projection,
    )
