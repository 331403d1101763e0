"""Teaching a recipe's tools from good parts: the defect model and the label reference.

Good parts come from a folder of images or from the recipe's own camera. From the simulated line
only parts its ground truth calls good are used; from a real camera every part shown counts as
good, so the operator presents good parts while teaching. Frames and image files get the
camera's privacy masks first, exactly as at inspection, and each tool learns from its own ROI,
which must fit every image (``teaching_images``).

Teaching never destroys a model file it cannot use: it is set aside beside itself first
(``set_aside``). A model file the recipe names itself (``model:``) is never taught over on first
use: the station refuses it with the reason until an engineer mends or re-teaches it.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from inspection.errors import LinesideError, ModelError, RecipeError
from inspection.inference.anomaly.fit import FitCancelled, fit
from inspection.inference.anomaly.model_file import check_usable, save_model
from inspection.inference.backbone import FeatureBackbone
from inspection.inference.manifest import backbone_manifest_path, load_manifest
from inspection.inference.session import SessionSettings
from inspection.jobs import Cancelled
from inspection.paths import Paths
from inspection.pipeline.masks import PrivacyMask
from inspection.pipeline.set_aside import set_aside
from inspection.pipeline.teaching_images import (
    camera_mask,
    image_from_file,
    name_of,
    refuse_misfits,
    roi_misfit,
)
from inspection.recipe import (
    SIMULATED_SURFACE_DEFECTS,
    AnomalyToolSettings,
    LabelToolSettings,
    Recipe,
    SyntheticSourceSettings,
    ToolSettings,
)
from inspection.sources.base import BadFrameError
from inspection.sources.registry import build_source
from inspection.tools.anomaly import model_path, model_settings, retaught_path
from inspection.tools.base import crop
from inspection.tools.fixture import PartPose, cut_aligned, locate_part
from inspection.tools.label import teach_label_tool
from inspection.tools.registry import ToolContext
from inspection.types import PartTruth, Region

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
TEACHABLE = ("anomaly", "label")


def tool_context(recipe: Recipe, paths: Paths) -> ToolContext:
    """The context the station gives this recipe's tools (so teaching writes where they read)."""
    return ToolContext(
        recipe_name=recipe.name,
        models_dir=paths.models / recipe.name,
        threads=max(2, recipe.pipeline.tool_threads),
    )


def find_tool(recipe: Recipe, tool_id: str) -> ToolSettings:
    for t in recipe.tools:
        if t.id == tool_id:
            return t
    raise RecipeError(
        f"recipe {recipe.name}: no tool {tool_id!r}; its tools are {[t.id for t in recipe.tools]}"
    )


def untaught_tools(recipe: Recipe, paths: Paths) -> list[str]:
    """Ids of the recipe's anomaly and label tools that have no model or reference yet."""
    from inspection.tools.label import reference_path

    ctx = tool_context(recipe, paths)
    out = []
    for t in recipe.tools:
        if isinstance(t, AnomalyToolSettings):
            p = model_path(t, ctx)
            if p is None or not p.is_file():
                out.append(t.id)
        elif isinstance(t, LabelToolSettings) and not reference_path(t, ctx).is_file():
            out.append(t.id)
    return out


def untaught_simulated_tools(recipe: Recipe, paths: Paths) -> list[str]:
    """Untaught tools that watch the simulated line: it knows its good parts, so they can be
    taught at once (on a real line an engineer must present good parts).

    A simulated-line model in Lineside's models folder that this version cannot use (damaged,
    taught on another backbone or feature layout) counts as untaught too, so an update does not
    leave the demo rejecting every part; teaching sets the old file aside. A file the recipe
    names itself is the engineer's: it is left alone, and the station refuses it with the reason."""
    simulated = {c.id for c in recipe.cameras if isinstance(c.source, SyntheticSourceSettings)}
    watching = [t for t in recipe.tools if recipe.camera_for(t) in simulated]
    untaught = set(untaught_tools(recipe, paths))
    ctx = tool_context(recipe, paths)
    backbone_sha256: str | None = None
    for t in watching:
        if t.id in untaught or not isinstance(t, AnomalyToolSettings):
            continue
        p = model_path(t, ctx)
        assert p is not None  # untaught_tools counted a tool without a model file
        if backbone_sha256 is None:
            backbone_sha256 = load_manifest(backbone_manifest_path()).sha256
        try:
            check_usable(p, backbone_sha256)
        except ModelError as exc:
            if t.model is not None:
                log.warning(
                    "tool %s: %s; the recipe names this file, so it is not taught again on its "
                    "own: mend it, or teach the tool (lineside train / Teach good parts)",
                    t.id,
                    exc,
                )
                continue
            log.warning("tool %s: %s; teaching it again from the simulated line", t.id, exc)
            untaught.add(t.id)
    return [t.id for t in watching if t.id in untaught]


def frames_from_camera(
    recipe: Recipe,
    camera: str,
    count: int,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    max_frames: int | None = None,
    want: Callable[[PartTruth], bool] = lambda truth: truth.is_good,
    what: str = "good parts",
) -> list[np.ndarray]:
    """``count`` good frames from the recipe's camera (masks applied).

    Frames the source knows to be defective (simulated line's truth) are skipped — or, with
    ``want``, whatever that says of a part's truth is kept; unreadable frames are skipped and
    logged. Gives up after ``max_frames`` frames (default 20 × count).
    """
    cam = next((c for c in with_realtime_off(recipe).cameras if c.id == camera), None)
    if cam is None:
        raise RecipeError(f"recipe {recipe.name}: no camera {camera!r}")
    source = build_source(cam)
    mask = PrivacyMask(cam.privacy_masks)
    limit = max_frames or 20 * count
    images: list[np.ndarray] = []
    seen = 0
    source.open()
    try:
        while len(images) < count and seen < limit:
            if cancel is not None and cancel.is_set():
                raise Cancelled("teaching cancelled; nothing was changed")
            try:
                frame = source.read(1.0)
            except TimeoutError:
                continue
            except BadFrameError as exc:
                log.warning("teaching: skipped an unreadable frame: %s", exc)
                seen += 1
                continue
            if frame is None:
                break
            seen += 1
            if frame.truth is not None and not want(frame.truth):
                continue
            images.append(mask.apply(np.array(frame.image, copy=True)) if mask else frame.image)
            if progress is not None:
                progress(len(images), count, f"collecting good parts from camera {camera}")
    finally:
        source.close()
    if len(images) < count:
        raise LinesideError(
            f"camera {camera} gave only {len(images)} {what} of the {count} asked for "
            f"({seen} frames read)"
        )
    return images


def teach_anomaly(
    recipe: Recipe,
    tool_id: str,
    paths: Paths,
    images: Sequence[np.ndarray | Path],
    *,
    bad_images: Sequence[np.ndarray | Path] = (),
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    target: Path | None = None,
) -> Path:
    """Fit the defect tool ``tool_id`` on good ``images`` (whole frames, masked, or files, masked
    here as at acquisition; its ROI is cut here) and write the model where the tool reads it, or
    to ``target`` (a re-taught model kept beside the one in force until it is applied). Returns
    the model file's path.

    RecipeError, naming them, when the ROI does not fit some images (nothing is written); a
    model at the target that cannot be used is set aside, not overwritten."""
    settings = find_tool(recipe, tool_id)
    if not isinstance(settings, AnomalyToolSettings):
        raise RecipeError(
            f"tool {tool_id!r} is a {settings.type} tool, not a defect (anomaly) tool"
        )
    ctx = tool_context(recipe, paths)
    target = target or model_path(settings, ctx)
    if target is None:
        raise LinesideError(f"tool {tool_id!r}: nowhere to keep its model")
    roi = settings.region()
    align = settings.align == "part"
    reference: PartPose | None = None
    mask = camera_mask(recipe, settings)
    misfits: list[tuple[str, str]] = []

    def cut(items: Sequence[np.ndarray | Path], frames: str) -> list[np.ndarray | Path]:
        nonlocal reference
        out: list[np.ndarray | Path] = []
        for i, item in enumerate(items):
            if cancel is not None and cancel.is_set():  # reading a folder of files takes a while
                raise Cancelled("teaching cancelled; nothing was changed")
            image = item if isinstance(item, np.ndarray) else _read(item, mask)
            if image is None:
                continue
            if roi is not None:
                # an aligned ROI moves with the part: only one off the frame is known wrong
                size = roi_misfit(roi, image, whole=not align)
                if size is not None:
                    misfits.append((name_of(item, i, frames), size))
                    continue
            if not align:
                out.append(image if roi is None else np.ascontiguousarray(crop(image, roi)[0]))
                continue
            pose = locate_part(image)
            if pose is None:
                log.warning("teaching %s: no part found to align to; image skipped", tool_id)
                continue
            reference = reference or pose  # the first good part sets the pose all are taught in
            h, w = image.shape[:2]
            out.append(cut_aligned(image, pose, reference, roi or Region(x=0, y=0, w=w, h=h)))
        return out

    def fit_progress(done: int, total: int) -> None:
        if progress is not None:
            progress(done, total, f"teaching {tool_id}")

    good, bad = cut(images, "good frame"), cut(bad_images, "bad frame")
    if roi is not None:
        refuse_misfits(tool_id, roi, misfits)
    backbone = FeatureBackbone(SessionSettings(threads=ctx.threads))
    try:
        model = fit(
            good,
            backbone,
            settings=model_settings(settings),
            progress=fit_progress,
            cancel=cancel,
            bad_images=bad,
            recipe_name=recipe.name,
            tool_id=tool_id,
        )
    except FitCancelled as exc:
        raise Cancelled(str(exc)) from None
    if reference is not None:
        model = dataclasses.replace(
            model, provenance={**model.provenance, "fixture": reference.to_json()}
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_file():
        try:
            check_usable(target, backbone.sha256)
        except ModelError as exc:
            set_aside(target, str(exc))
    save_model(model, target)
    log.info("defect tool %s taught on %d images → %s", tool_id, len(images), target)
    return target


def _read(path: Path, mask: PrivacyMask) -> np.ndarray | None:
    try:
        return image_from_file(path, mask)
    except LinesideError as exc:
        log.warning("teaching: skipped %s", exc)
        return None


def label_image_from_file(recipe: Recipe, tool_id: str, path: Path) -> np.ndarray:
    """A good part's image file for teaching the label tool ``tool_id``, with its camera's
    privacy masks applied as at acquisition; SourceError names the file if it cannot be used."""
    return image_from_file(path, camera_mask(recipe, find_tool(recipe, tool_id)))


def teach_label(recipe: Recipe, tool_id: str, paths: Paths, image: np.ndarray) -> Path:
    """Teach the label tool ``tool_id`` from one good part's frame; returns the reference file."""
    settings = find_tool(recipe, tool_id)
    if not isinstance(settings, LabelToolSettings):
        raise RecipeError(f"tool {tool_id!r} is a {settings.type} tool, not a label tool")
    return teach_label_tool(settings, tool_context(recipe, paths), image)


def teach_from_line(
    recipe: Recipe,
    paths: Paths,
    *,
    good_parts: int = 100,
    tools: Sequence[str] | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    beside: bool = False,
) -> dict[str, Path]:
    """Teach the given (default: every untaught) anomaly and label tools from good parts seen by
    their cameras; returns tool id → file written. Nothing is written if cancelled.

    ``beside``: a defect tool that has a model keeps it; the new one is written beside it
    (``retaught_path``), to be re-scored and applied as a recipe version."""
    wanted = list(tools) if tools is not None else untaught_tools(recipe, paths)
    frames: dict[str, list[np.ndarray]] = {}
    bad_frames: dict[str, list[np.ndarray]] = {}
    simulated = {c.id for c in recipe.cameras if isinstance(c.source, SyntheticSourceSettings)}
    written: dict[str, Path] = {}
    for tool_id in wanted:
        settings = find_tool(recipe, tool_id)
        if settings.type not in TEACHABLE:
            raise RecipeError(f"tool {tool_id!r} ({settings.type}) is not taught from good parts")
        camera = recipe.camera_for(settings)
        if camera not in frames:
            frames[camera] = frames_from_camera(
                recipe, camera, good_parts, progress=progress, cancel=cancel
            )
        if (
            isinstance(settings, AnomalyToolSettings)
            and camera in simulated
            and camera not in bad_frames
        ):
            # the simulated line also knows its defective parts: labelled bad examples let the
            # threshold sit between good and bad instead of guessing from good parts alone
            bad_frames[camera] = frames_from_camera(
                recipe,
                camera,
                max(good_parts // 3, 3),
                progress=progress,
                cancel=cancel,
                want=lambda t: bool(set(t.defects) & set(SIMULATED_SURFACE_DEFECTS)),
                what="parts with surface defects",
            )
    for tool_id in wanted:
        settings = find_tool(recipe, tool_id)
        camera = recipe.camera_for(settings)
        images = frames[camera]
        if isinstance(settings, AnomalyToolSettings):
            written[tool_id] = teach_anomaly(
                recipe,
                tool_id,
                paths,
                images,
                bad_images=bad_frames.get(camera, []),
                progress=progress,
                cancel=cancel,
                target=beside_target(recipe, settings, paths) if beside else None,
            )
        else:
            written[tool_id] = teach_label(recipe, tool_id, paths, images[0])
    return written


def beside_target(recipe: Recipe, settings: AnomalyToolSettings, paths: Paths) -> Path | None:
    """Where a defect tool is taught beside its model in force (None: it has none yet, so the
    first model goes where the tool reads it)."""
    in_force = model_path(settings, tool_context(recipe, paths))
    return retaught_path(in_force) if in_force is not None and in_force.is_file() else None


def with_realtime_off(recipe: Recipe) -> Recipe:
    """The recipe with simulated cameras unpaced: teaching need not wait for the line's rate."""
    cams = [
        c.model_copy(update={"source": c.source.model_copy(update={"rate_hz": 0.0})})
        if isinstance(c.source, SyntheticSourceSettings)
        else c
        for c in recipe.cameras
    ]
    return recipe.model_copy(update={"cameras": cams})


__all__ = [
    "find_tool",
    "frames_from_camera",
    "label_image_from_file",
    "teach_anomaly",
    "teach_from_line",
    "teach_label",
    "tool_context",
    "untaught_simulated_tools",
    "untaught_tools",
    "with_realtime_off",
]
