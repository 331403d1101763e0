"""`lineside eval anomaly`: how well the defect tool's model does on an MVTec-AD-layout folder.

Layout: ``train/good/`` (fit on these, default settings or a recipe's choice: ``recipe_settings``), ``test/good/`` and ``test/<defect>/``
(scored; every subfolder of ``test/``), optional ``ground_truth/<defect>/<stem>_mask.png``. Other
top-level folders (``test_nomask`` ...) are not part of the layout and are ignored. Files that are
not readable images are listed in ``unreadable_files`` and skipped.

Figures: ``image_auroc`` (image max score, defect = positive), ``pixel_auroc`` over all pixels of
every test image at its own resolution (good images count as all-good pixels; null when no defect
image has a mask), ``f1_at_threshold`` (image F1 with the model's own calibrated threshold),
``fit_s`` (wall time of teaching), ``median_ms`` (median time to score one test image, loading
excluded; numpy's matrix products on one thread, as on a running station), ``roi256_ms`` (median time to score a 256 × 256 px ROI cut from a test image with the
same memory bank, projection and settings: backbone plus search plus map, what the defect tool
spends per 256² ROI), ``roi256_backbone_ms`` (the backbone's share of it) and
``roi256_brute_ms`` (the same ROI with the bank searched by brute force; ``nearest``). Fewer than
fit.MIN_IMAGES usable training images is a LinesideError.
"""

from __future__ import annotations

import dataclasses
import logging
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from pydantic import ValidationError
from threadpoolctl import threadpool_limits

from inspection.errors import LinesideError
from inspection.inference.anomaly.fit import fit, image_problem, read_image
from inspection.inference.anomaly.model import AnomalyModel, AnomalyScorer
from inspection.inference.anomaly.preprocess import content_size, prepare
from inspection.inference.anomaly.settings import AnomalySettings
from inspection.inference.backbone import FeatureBackbone
from inspection.inference.session import SessionSettings
from inspection.recipe import AnomalyToolSettings
from inspection.tools.anomaly import model_settings

log = logging.getLogger(__name__)

ROI_SIDE = 256
ROI_REPEATS = 30
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm"})


def auroc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """Area under the ROC curve (rank-based, ties count half); None without both classes.

    scores: any real (N,); labels: bool/0-1 (N,), True = positive (defect).
    """
    s = np.asarray(scores, np.float64).ravel()
    y = np.asarray(labels).astype(bool).ravel()
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(s, kind="mergesort")
    _, inverse, counts = np.unique(s[order], return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    mid_rank = ends - (counts - 1) / 2.0  # 1-based average rank of each tie group
    ranks = np.empty_like(s)
    ranks[order] = mid_rank[inverse]
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def recipe_settings(**chosen: float | str | None) -> AnomalySettings:
    """Model settings as a defect tool's recipe entry with these options (None: not given)
    would teach them; a value the recipe would refuse is a ValueError naming it."""
    given = {k: v for k, v in chosen.items() if v is not None}
    try:
        tool = AnomalyToolSettings.model_validate({"type": "anomaly", "id": "eval", **given})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ValueError(problems) from None
    return model_settings(tool)


def _images(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file())


def evaluate_anomaly(
    data_dir: Path,
    *,
    settings: AnomalySettings | None = None,
    threads: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Fit on ``data_dir/train/good`` and score ``data_dir/test``; JSON-ready figures (see module)."""
    train_dir, test_dir = data_dir / "train" / "good", data_dir / "test"
    if not train_dir.is_dir() or not test_dir.is_dir():
        raise LinesideError(
            f"{data_dir}: not an MVTec-AD layout folder (need train/good/ and test/ inside)"
        )
    train = [p for p in _images(train_dir) if p.suffix.lower() in IMAGE_SUFFIXES]
    unreadable = [str(p) for p in _images(train_dir) if p.suffix.lower() not in IMAGE_SUFFIXES]
    cases: list[tuple[Path, str]] = []
    for sub in sorted(d for d in test_dir.iterdir() if d.is_dir()):
        for p in _images(sub):
            if p.suffix.lower() in IMAGE_SUFFIXES:
                cases.append((p, sub.name))
            else:
                unreadable.append(str(p))
    total = len(train) + len(cases)

    def fit_progress(done: int, of: int) -> None:
        if progress is not None:
            progress(round(done * len(train) / max(of, 1)), total)

    backbone = FeatureBackbone(SessionSettings(threads=threads))
    t0 = time.perf_counter()
    model = fit(train, backbone, settings=settings, progress=fit_progress)
    fit_s = time.perf_counter() - t0
    unreadable += [s.split(": ", 1)[0] for s in model.provenance.get("skipped", [])]
    scorer = AnomalyScorer(model, backbone)

    scores: list[float] = []
    labels: list[bool] = []
    times: list[float] = []
    pix_scores: list[np.ndarray] = []
    pix_labels: list[np.ndarray] = []
    masks_found = 0
    roi_source: np.ndarray | None = None
    roi_is_good = False
    per_defect: dict[str, dict[str, int]] = {}
    for i, (path, defect) in enumerate(cases):
        if progress is not None:
            progress(len(train) + i, total)
        try:
            image = read_image(path)
        except ValueError as exc:
            unreadable.append(f"{path}: {exc}")
            continue
        problem = image_problem(image)
        if (
            problem is None
            and model.settings.sizes == "one"
            and image.shape[:2] != model.image_size
        ):
            h, w = model.image_size
            problem = f"is {image.shape[1]}×{image.shape[0]} px, the model was taught on {w}×{h}"
        if problem is not None:
            unreadable.append(f"{path}: {problem}")
            continue
        if roi_source is None or (defect == "good" and not roi_is_good):
            # a good part's ROI: the search's time depends on how far a ROI is from the bank
            roi_source, roi_is_good = image, defect == "good"
        t = time.perf_counter()
        with threadpool_limits(limits=1, user_api="blas"):
            scored = scorer.score(image)
        times.append((time.perf_counter() - t) * 1000.0)
        bad = defect != "good"
        mask = _mask(data_dir, defect, path, image.shape[:2]) if bad else None
        masks_found += mask is not None
        scores.append(scored.score)
        labels.append(bad)
        pix_scores.append(scored.map.ravel())
        pix_labels.append(
            mask.ravel() if mask is not None else np.zeros(scored.map.size, dtype=bool)
        )
        counts = per_defect.setdefault(defect, {"images": 0, "flagged": 0})
        counts["images"] += 1
        counts["flagged"] += int(scored.score >= model.threshold)
    roi_ms = roi_timing(model, backbone, roi_source) if roi_source is not None else {}
    if progress is not None:
        progress(total, total)
    s, y = np.asarray(scores), np.asarray(labels, bool)
    pixel = (
        auroc(np.concatenate(pix_scores), np.concatenate(pix_labels))
        if masks_found and pix_scores
        else None
    )
    return {
        "data": str(data_dir),
        "image_auroc": _round(auroc(s, y)),
        "pixel_auroc": _round(pixel),
        "f1_at_threshold": _round(_f1(s >= model.threshold, y)) if s.size else None,
        "threshold": round(model.threshold, 4),
        "calibration": model.calibration.get("method"),
        "fit_s": round(fit_s, 3),
        "median_ms": round(statistics.median(times), 2) if times else None,
        "roi256_ms": roi_ms.get("total_ms"),
        "roi256_backbone_ms": roi_ms.get("backbone_ms"),
        "roi256_brute_ms": roi_ms.get("brute_ms"),
        "images": len(scores),
        "train_images": int(model.provenance.get("images", 0)),
        "image_sizes": model.settings.sizes,
        "bank_patches": int(model.bank.shape[0]),
        "defects": per_defect,
        "masks": masks_found,
        "unreadable_files": unreadable,
    }


def roi_timing(
    model: AnomalyModel, backbone: FeatureBackbone, image: np.ndarray, repeats: int = ROI_REPEATS
) -> dict[str, float]:
    """Median ms to score a ROI_SIDE² centre cut of ``image`` (uint8, a good part's where there
    is one), brought first to the model's working scale (enlarged if still smaller than a ROI).

    The model's bank, projection and settings are used as they are, only the image size is
    ROI_SIDE²: the cost a defect tool taught on ROIs of that size, with a bank of that size,
    pays per part. The ROI is cut at the scale the model was taught at because the search's
    time depends on it: patches like the taught ones are found by visiting a few cells of the
    bank (``nearest``), patches unlike any (another scale, a defect) by visiting all of them.
    Returns total_ms (backbone + features + search + map), backbone_ms, and brute_ms (the same
    with the bank searched by brute force, interleaved with the others), numpy's matrix
    products on one thread as on a running station.
    """
    st = model.settings
    h, w = image.shape[:2]
    ch, cw = content_size(h, w, st.long_side, scale=st.scale if st.sizes == "mixed" else 0.0)
    if (ch, cw) != (h, w):
        image = cv2.resize(image, (cw, ch), interpolation=cv2.INTER_AREA)
    h, w = image.shape[:2]
    if min(h, w) < ROI_SIDE:  # the content does not change the cost, only the size does
        f = ROI_SIDE / min(h, w)
        image = cv2.resize(image, (max(ROI_SIDE, round(w * f)), max(ROI_SIDE, round(h * f))))
        h, w = image.shape[:2]
    y, x = (h - ROI_SIDE) // 2, (w - ROI_SIDE) // 2
    roi = np.ascontiguousarray(image[y : y + ROI_SIDE, x : x + ROI_SIDE])
    one_size = dataclasses.replace(model.settings, sizes="one")  # a ROI: one size, as on a line
    roi_model = dataclasses.replace(model, image_size=(ROI_SIDE, ROI_SIDE), settings=one_size)
    scorer = AnomalyScorer(roi_model, backbone)
    brute = AnomalyScorer(roi_model, backbone, cells=False)
    prepared = prepare(roi, model.settings.long_side, backbone.multiple, model.settings.border_px)
    total: list[float] = []
    net: list[float] = []
    whole: list[float] = []
    with threadpool_limits(limits=1, user_api="blas"):  # as a running station (pipeline.priority)
        for i in range(repeats + 2):  # the first two warm caches and are not counted
            t0 = time.perf_counter()
            scorer.score(roi)
            t1 = time.perf_counter()
            backbone.features(prepared.image)
            t2 = time.perf_counter()
            brute.score(roi)
            t3 = time.perf_counter()
            if i >= 2:
                total.append((t1 - t0) * 1000.0)
                net.append((t2 - t1) * 1000.0)
                whole.append((t3 - t2) * 1000.0)
    return {
        "total_ms": round(statistics.median(total), 2),
        "backbone_ms": round(statistics.median(net), 2),
        "brute_ms": round(statistics.median(whole), 2),
    }


def _mask(data_dir: Path, defect: str, image: Path, shape: tuple[int, ...]) -> np.ndarray | None:
    """bool (H, W) ground truth of a defect image, None when it has no (usable) mask."""
    path = data_dir / "ground_truth" / defect / f"{image.stem}_mask.png"
    if not path.is_file():
        return None
    mask = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if mask is None:
        log.warning("%s: mask cannot be read; image scored without it", path)
        return None
    if mask.shape != shape[:2]:
        mask = cv2.resize(mask, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    return mask > 0


def _f1(predicted: np.ndarray, truth: np.ndarray) -> float:
    tp = int(np.count_nonzero(predicted & truth))
    fp = int(np.count_nonzero(predicted & ~truth))
    fn = int(np.count_nonzero(~predicted & truth))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)
