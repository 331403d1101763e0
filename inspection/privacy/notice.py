"""The facts of the notice "What this station records", from the recipe in use and the station's
settings, and the plain sentences every writer (Markdown, PDF, the app's page) prints.

Nothing here is typed in by hand for one station: cameras, masks, what is kept and for how long,
and what leaves the machine are read from the configuration, so the notice changes when the
configuration does. What the software never does (face recognition, per-person figures) is a
fact of the software and stated as such.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import inspection
from inspection.paths import Paths
from inspection.privacy.pictures import CameraPicture, camera_picture
from inspection.recipe import CameraSettings, MqttOutputSettings, Recipe
from inspection.recipe.station import StationSettings
from inspection.sources.urls import redact

TITLE = "What this station records"
NOTHING_LEAVES = "Nothing leaves this machine: no outputs are configured."
OUTPUT_FIELDS = ("outputs", "sinks")
"""Recipe fields that would send results elsewhere; read by introspection, so a recipe model
that gains one is listed here without this module changing."""
_WHERE_FIELDS = (
    "url",
    "host",
    "port",
    "address",
    "endpoint",
    "broker",
    "topic",
    "path",
    "folder",
    "table",
)

SOURCE_KINDS = {
    "synthetic": "the simulated line (no real camera)",
    "folder": "pictures read from a folder",
    "gige": "GigE Vision camera",
    "gentl": "industrial camera (GenTL)",
    "rtsp": "network camera (RTSP video)",
    "http": "network camera (HTTP)",
    "usb": "USB camera",
    "video": "a video file",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class MaskArea:
    """One privacy mask: its number on the drawing, its corners (frame pixels), its share."""

    number: int
    corners: tuple[tuple[float, float], ...]
    share: float
    """Fraction (0..1) of the picture it blacks out."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraFacts:
    camera: str
    kind: str
    """In plain words, e.g. "USB camera"."""
    where: str
    """Where its pictures come from (device, address without password, folder); "" for the
    simulated line."""
    masks: tuple[MaskArea, ...]
    picture: CameraPicture


@dataclass(frozen=True, slots=True, kw_only=True)
class StorageFacts:
    """What the recipe's archive settings keep, where, and for how long."""

    failed_parts: bool
    pass_every: int
    """1 in N passed parts keep their pictures; 0: none."""
    roi_crops_only: bool
    retention_days: float
    image_folder: Path
    results_db: Path


@dataclass(frozen=True, slots=True, kw_only=True)
class Output:
    """Something that leaves the machine: what goes, and where to."""

    what: str
    where: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    heading: str
    sentences: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PrivacyNotice:
    """Everything the notice states, at ``generated_at`` (UNIX seconds)."""

    station: str
    line: str
    recipe_name: str
    recipe_version: str
    recipe_file: Path | None
    generated_at: float
    cameras: tuple[CameraFacts, ...]
    storage: StorageFacts
    outputs: tuple[Output, ...]
    user_accounts: bool
    software_version: str

    @property
    def subtitle(self) -> str:
        place = f"Station {self.station}" + (f" · line {self.line}" if self.line else "")
        return f"{place} · recipe {self.recipe_name} version {self.recipe_version}"

    @property
    def footer(self) -> str:
        made = dt.datetime.fromtimestamp(self.generated_at).strftime("%Y-%m-%d %H:%M")
        source = f" from {self.recipe_file}" if self.recipe_file is not None else ""
        return (
            f"Made by Lineside {self.software_version} on {made}{source} and the station's "
            "settings. When they change, this page changes: print it again."
        )

    def sections(self) -> tuple[Section, ...]:
        """The notice in plain sentences, section by section (cameras first)."""
        return (
            Section(heading="Cameras and privacy masks", sentences=_camera_sentences(self)),
            Section(heading="What is stored and for how long", sentences=_storage_sentences(self)),
            Section(heading="What leaves this machine", sentences=_output_sentences(self)),
            Section(heading="Who can see what", sentences=_access_sentences(self)),
            Section(heading="What this software never does", sentences=NEVER),
        )


INTRO = (
    "This station checks products with cameras. It inspects products, not people. This page "
    "says what it records, for how long, where it goes and who can see it."
)
NEVER = (
    "No face recognition: the software does not detect, recognise or identify people.",
    "No figure per person: no timing, speed, output or productivity of anyone. Counts and times "
    "belong to parts, shifts and the line, never to a person.",
)


# ---- building the facts ------------------------------------------------------------------


def build_notice(
    recipe: Recipe,
    settings: StationSettings,
    paths: Paths,
    *,
    recipe_file: Path | None = None,
    frames: Mapping[str, np.ndarray] | None = None,
    use_cameras: bool = True,
    timeout_s: float = 3.0,
    cancel: threading.Event | None = None,
    now: Callable[[], float] = time.time,
) -> PrivacyNotice:
    """The notice for ``recipe`` run with ``settings`` on the station whose folders are ``paths``.

    ``frames``: pictures already at hand per camera id (the running station's newest, masked);
    the other cameras are asked for one within ``timeout_s`` each unless ``use_cameras`` is
    False, and drawn on a blank frame when none comes.
    """
    frames = frames or {}
    cameras = tuple(
        _camera_facts(
            cam,
            camera_picture(
                cam,
                frame=frames.get(cam.id),
                timeout_s=timeout_s,
                use_camera=use_cameras,
                cancel=cancel,
            ),
        )
        for cam in recipe.cameras
    )
    archive = recipe.archive
    storage = StorageFacts(
        failed_parts=archive.failed,
        pass_every=archive.pass_every,
        roi_crops_only=archive.roi_crops_only,
        retention_days=archive.retention_days,
        image_folder=paths.archive,
        results_db=paths.results_db,
    )
    return PrivacyNotice(
        station=recipe.station,
        line=settings.line,
        recipe_name=recipe.name,
        recipe_version=recipe.version,
        recipe_file=recipe_file,
        generated_at=now(),
        cameras=cameras,
        storage=storage,
        outputs=configured_outputs(recipe, settings),
        user_accounts=user_accounts_exist(),
        software_version=inspection.__version__,
    )


def _camera_facts(cam: CameraSettings, picture: CameraPicture) -> CameraFacts:
    masks = tuple(
        MaskArea(number=i, corners=tuple(poly), share=share)
        for i, (poly, share) in enumerate(
            zip(cam.privacy_masks, picture.mask_shares, strict=True), start=1
        )
    )
    return CameraFacts(
        camera=cam.id,
        kind=SOURCE_KINDS.get(cam.source.type, cam.source.type),
        where=_camera_where(cam),
        masks=masks,
        picture=picture,
    )


def _camera_where(cam: CameraSettings) -> str:
    src = cam.source
    url = getattr(src, "url", None)
    if isinstance(url, str):
        return redact(url)
    for name in ("path", "device", "serial_number"):
        value = getattr(src, name, None)
        if value is not None:
            return f"{name.replace('_', ' ')} {value}"
    return ""


def configured_outputs(recipe: Recipe, settings: StationSettings) -> tuple[Output, ...]:
    """What is sent or written outside Lineside's own folders: the recipe's outputs (when its
    model has such a section) and the station's automatic shift reports."""
    found: list[Output] = []
    for name in OUTPUT_FIELDS:
        if name not in type(recipe).model_fields:
            continue
        entries = getattr(recipe, name) or ()
        for entry in entries if isinstance(entries, list | tuple) else (entries,):
            found.append(_describe_output(entry, recipe.station))
    folder = settings.reports.folder
    if folder is not None:
        formats = ", ".join(settings.reports.formats)
        found.append(
            Output(
                what=f"the shift report ({formats}) at the end of each shift: counts, reject "
                "reasons and pictures of the first rejected parts",
                where=f"folder {folder} (if this is a network share, the reports leave this "
                "machine)",
            )
        )
    return tuple(found)


def _describe_output(entry: object, station: str) -> Output:
    kind = str(getattr(entry, "type", type(entry).__name__))
    where = [
        f"{name} {redact(str(value)) if name == 'url' else value}"
        for name in _WHERE_FIELDS
        if (value := getattr(entry, name, None)) not in (None, "")
    ]
    if isinstance(entry, MqttOutputSettings):
        where.append(f"topics {entry.site}/{entry.line}/{station}/result, status and alarm")
    return Output(what=f"inspection results ({kind} output)", where=", ".join(where) or kind)


def user_accounts_exist() -> bool:
    """Whether this Lineside has user accounts (the ``users`` room); it does not yet."""
    return importlib.util.find_spec("inspection.users") is not None


# ---- the sentences -------------------------------------------------------------------------


def _percent(share: float) -> str:
    return "less than 1 %" if 0 < share < 0.01 else f"{share * 100:.0f} %"


def _camera_sentences(notice: PrivacyNotice) -> tuple[str, ...]:
    out = [
        "Masked areas are blacked out the moment a picture is taken, before anything shows, "
        "checks or stores it."
    ]
    for cam in notice.cameras:
        where = f" ({cam.where})" if cam.where else ""
        head = f"Camera {cam.camera}: {cam.kind}{where}."
        if not cam.masks:
            out.append(f"{head} No masked areas: the whole picture is used.")
            continue
        areas = "; ".join(
            f"area {m.number} ({len(m.corners)} corners, {_percent(m.share)} of the picture)"
            for m in cam.masks
        )
        count = "1 masked area" if len(cam.masks) == 1 else f"{len(cam.masks)} masked areas"
        out.append(f"{head} {count}: {areas}.")
    return tuple(out)


def _days(days: float) -> str:
    return "1 day" if days == 1 else f"{days:g} days"


def _storage_sentences(notice: PrivacyNotice) -> tuple[str, ...]:
    s = notice.storage
    out = [
        "For every part: its result (PASS, FAIL or ERROR) and the reasons, the measurements of "
        "each check, codes and text read from the part, the time, shift and lot, and the recipe "
        "version. No name or other detail of a person is recorded with it.",
        f"These part records are kept on this machine in {s.results_db}. They are not deleted "
        "automatically.",
    ]
    kept: list[str] = []
    if s.failed_parts:
        kept.append("every failed part (FAIL or ERROR)")
    if s.pass_every == 1:
        kept.append("every passed part")
    elif s.pass_every > 1:
        kept.append(f"1 in {s.pass_every} passed parts")
    if not kept:
        out.append("Pictures: none are kept.")
        return tuple(out)
    what = (
        "only the checked areas of the picture (crops)"
        if s.roi_crops_only
        else "the whole camera picture, with masked areas black"
    )
    out.append(f"Pictures are kept of {' and '.join(kept)}: {what}.")
    out.append(
        f"They are kept in {s.image_folder} on this machine for {_days(s.retention_days)}, then "
        "deleted automatically (checked when the station starts and every hour while it runs)."
    )
    return tuple(out)


def _output_sentences(notice: PrivacyNotice) -> tuple[str, ...]:
    out = (
        [f"{o.what[0].upper()}{o.what[1:]} goes to {o.where}." for o in notice.outputs]
        if notice.outputs
        else [NOTHING_LEAVES]
    )
    out.append("No usage data is sent, and there are no update checks and no model downloads.")
    return tuple(out)


def _access_sentences(notice: PrivacyNotice) -> tuple[str, ...]:
    if notice.user_accounts:
        # the users room exists but this notice does not read its roles yet: say so, never guess
        return (
            "This Lineside has user accounts; their roles are not listed on this page yet. Ask "
            "the station's administrator who may open which screen.",
        )
    return (
        "There are no user accounts yet: every screen is open to whoever is at the station.",
        "That includes the live camera picture (masked), the results of every part, and the "
        "stored pictures of parts (History page).",
        "Anyone who can open this computer's files can also read the folders named above.",
    )
