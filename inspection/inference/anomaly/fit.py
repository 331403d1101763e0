"""Teaching: good images in, a calibrated AnomalyModel out (progress reported, cancel honoured).

A share of the good images (``settings.holdout``, at least 2) never enters the memory bank; they
are scored like new parts to set the score scale and the threshold (calibration.py). Images that
cannot be read or are not 8-bit grey/colour are skipped and listed; fewer than MIN_IMAGES usable
images is an error naming every skipped file. Good images of different sizes switch the model to
the "mixed" size policy (settings.py), stored with it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

import inspection
from inspection.errors import LinesideError
from inspection.image_size import file_too_large
from inspection.inference.anomaly import calibration
from inspection.inference.anomaly.coreset import CoresetCancelled, greedy_coreset
from inspection.inference.anomaly.features import place_columns, principal_axes
from inspection.inference.anomaly.model import (
    AnomalyModel,
    embed,
    grid_centres,
    raw_image_score,
)
from inspection.inference.anomaly.nearest import NearestBank
from inspection.inference.anomaly.settings import AnomalySettings
from inspection.inference.anomaly.tiling import tiles
from inspection.inference.backbone import FeatureBackbone

log = logging.getLogger(__name__)

MIN_IMAGES = 5
"""Fewest usable good images: 3 for the bank and 2 held out to calibrate the threshold."""

ImageInput = np.ndarray | Path | str
Progress = Callable[[int, int], None]


class FitCancelled(LinesideError):
    """Teaching was cancelled by the user; no model was made."""


@dataclass(frozen=True, slots=True)
class _Loaded:
    name: str
    image: np.ndarray


def read_image(path: Path) -> np.ndarray:
    """uint8 (H, W) grey or (H, W, 3) BGR from an image file; ValueError says why not."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise ValueError(f"cannot be read ({exc.strerror or exc})") from None
    too_big = file_too_large(path) if data.size else None
    if too_big is not None:  # refused from the header: an absurd image is never decoded
        raise ValueError(too_big)
    image = cv2.imdecode(data, cv2.IMREAD_ANYCOLOR) if data.size else None
    if image is None:
        raise ValueError("not a readable image")
    return image


def image_problem(image: object) -> str | None:
    """Why ``image`` cannot be taught or scored (uint8 (H, W) or (H, W, 1|3), ≥ 32 px), else None."""
    if not isinstance(image, np.ndarray):
        return f"is a {type(image).__name__}, not an image array"
    if image.dtype != np.uint8:
        return f"has pixel type {image.dtype} (expected uint8)"
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3)):
        return f"has shape {image.shape} (expected height × width [× 3])"
    if min(image.shape[:2]) < 32:
        return f"is {image.shape[1]}×{image.shape[0]} px (at least 32×32 needed)"
    return None


def fit(
    images: Iterable[ImageInput],
    backbone: FeatureBackbone,
    *,
    settings: AnomalySettings | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    bad_images: Iterable[ImageInput] = (),
    recipe_name: str = "",
    tool_id: str = "",
) -> AnomalyModel:
    """Teach a model on good ``images`` (arrays or image files; uint8 grey or BGR; one size, or
    mixed sizes taught at one working scale).

    ``bad_images`` (optional, labelled defective) switch the threshold to best-F1 calibration.
    ``progress(done, total)`` is called after each step; ``cancel`` raises FitCancelled.
    """
    st = settings or AnomalySettings()
    items = list(images)
    bad_items = list(bad_images)
    total = 2 * len(items) + 1 + len(bad_items)
    done = 0

    def step(n: int = 1) -> None:
        nonlocal done
        if cancel is not None and cancel.is_set():
            raise FitCancelled("teaching cancelled; no model was made")
        done += n
        if progress is not None:
            progress(min(done, total), total)

    loaded, skipped = _load_all(items, step)
    sizes = Counter(x.image.shape[:2] for x in loaded)
    size = sizes.most_common(1)[0][0] if loaded else (0, 0)
    if len(sizes) > 1 and st.sizes == "one":
        # A folder of parts of many sizes (tiles, crops): one working scale for all, stated in
        # the model's settings, rather than teaching on the few that share the commonest size
        longer = np.median([max(x.image.shape[:2]) for x in loaded])
        st = dataclasses.replace(st, sizes="mixed", scale=round(st.long_side / float(longer), 4))
        log.info(
            "teaching: %d image sizes (%s to %s px): every image resized by %.3g (the median "
            "image's longer side to %d px), aspect kept, padded",
            len(sizes),
            _size_text(min(sizes, key=lambda hw: hw[0] * hw[1])),
            _size_text(max(sizes, key=lambda hw: hw[0] * hw[1])),
            st.scale,
            st.long_side,
        )
    usable = loaded
    if len(usable) < MIN_IMAGES:
        listing = "".join(f"\n  skipped {s}" for s in skipped)
        raise LinesideError(
            f"need at least {MIN_IMAGES} usable good images, got {len(usable)} "
            f"of {len(items)}{listing}"
        )
    for s in skipped:
        log.warning("teaching: skipped %s", s)

    rng = np.random.default_rng(st.seed)
    n_hold = max(2, round(st.holdout * len(usable)))
    order = rng.permutation(len(usable))
    held = [usable[i] for i in sorted(order[:n_hold])]
    taught = [usable[i] for i in sorted(order[n_hold:])]

    grids = []
    places = []  # each patch's centre in its whole image, for position_weight
    for x in taught:
        h, w = x.image.shape[:2]
        for y0, x0, th, tw in tiles(h, w, st.tile_px):
            grid, prepared = embed(backbone, x.image[y0 : y0 + th, x0 : x0 + tw], st)
            grids.append(grid.reshape(-1, grid.shape[-1]))
            if st.position_weight > 0:
                where = grid_centres(grid, prepared) + np.asarray([y0, x0], np.int32)
                places.append(place_columns(where, (h, w), st.position_weight))
        step()
    feats = np.concatenate(grids)
    del grids
    projection = None
    if 0 < st.feature_dims < feats.shape[1]:
        projection = principal_axes(feats, st.feature_dims)
        feats = feats @ projection
    if st.position_weight > 0:  # appended after the projection: places are not appearance
        feats = np.concatenate([feats, np.concatenate(places)], axis=1)
    k = min(st.bank_max, max(st.bank_min, math.ceil(st.coreset_ratio * feats.shape[0])))
    try:
        idx = greedy_coreset(feats, k, seed=st.seed, cancel=cancel)
    except CoresetCancelled:
        raise FitCancelled("teaching cancelled; no model was made") from None
    bank = np.ascontiguousarray(feats[idx])
    del feats
    step()
    log.info("memory bank: %d patches of %d dims from %d images", *bank.shape, len(taught))

    nearest = NearestBank(bank, st.knn)

    def raw_score(image: np.ndarray) -> float:
        return raw_image_score(backbone, nearest, image, st, projection)

    raw_good = []
    for x in held:
        raw_good.append(raw_score(x.image))
        step()
    scale = calibration.score_scale(raw_good)
    good = [r / scale for r in raw_good]
    bad_loaded, bad_skipped = _load_all(bad_items, step)
    fits = [x for x in bad_loaded if st.sizes == "mixed" or x.image.shape[:2] == size]
    bad = [raw_score(x.image) / scale for x in fits]
    bad_skipped += [
        f"{x.name}: size {_size_text(x.image.shape[:2])} differs from the taught {_size_text(size)}"
        for x in bad_loaded
        if x not in fits
    ]
    cal = calibration.from_labelled(good, bad) if bad else calibration.from_good(good)
    step(total - done)
    return AnomalyModel(
        settings=st,
        bank=bank,
        image_size=(int(size[0]), int(size[1])),
        backbone_sha256=backbone.sha256,
        score_scale=scale,
        threshold=cal.threshold,
        projection=projection,
        calibration={"method": cal.method, **cal.details},
        provenance={
            "images": len(usable),
            "image_sizes": len(sizes),
            "bank_images": len(taught),
            "held_out_images": len(held),
            "bad_images": len(bad),
            "skipped": skipped + [f"bad {s}" for s in bad_skipped],
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "recipe": recipe_name,
            "tool_id": tool_id,
            "lineside_version": inspection.__version__,
        },
    )


def _size_text(hw: tuple[int, ...]) -> str:
    return f"{hw[1]}×{hw[0]}"


def _load_all(
    items: Sequence[ImageInput], step: Callable[[], None]
) -> tuple[list[_Loaded], list[str]]:
    loaded: list[_Loaded] = []
    skipped: list[str] = []
    for i, item in enumerate(items):
        if isinstance(item, str | Path):
            name = str(item)
            try:
                image: object = read_image(Path(item))
            except ValueError as exc:
                skipped.append(f"{name}: {exc}")
                step()
                continue
        else:
            name, image = f"image #{i}", item
        problem = image_problem(image)
        if problem is not None:
            skipped.append(f"{name}: {problem}")
        else:
            assert isinstance(image, np.ndarray)
            loaded.append(
                _Loaded(name, image[:, :, 0] if image.ndim == 3 and image.shape[2] == 1 else image)
            )
        step()
    return loaded, skipped
