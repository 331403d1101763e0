"""Source kinds by their recipe ``type:``; each kind's module is imported only when used."""

from __future__ import annotations

from collections.abc import Callable

from inspection.errors import SourceError
from inspection.recipe import CameraSettings
from inspection.sources.base import Source


def _synthetic(cam: CameraSettings) -> Source:
    from inspection.recipe import SyntheticSourceSettings
    from inspection.sources.synthetic import SyntheticLine

    assert isinstance(cam.source, SyntheticSourceSettings)
    return SyntheticLine(cam.source, camera=cam.id)


def _folder(cam: CameraSettings) -> Source:
    from inspection.recipe import FolderSourceSettings
    from inspection.sources.folder import FolderSource

    assert isinstance(cam.source, FolderSourceSettings)
    return FolderSource(cam.source, camera=cam.id)


SOURCE_KINDS: dict[str, Callable[[CameraSettings], Source]] = {
    "synthetic": _synthetic,
    "folder": _folder,
}


def build_source(cam: CameraSettings) -> Source:
    """The source a camera's recipe entry describes (not opened yet)."""
    factory = SOURCE_KINDS.get(cam.source.type)
    if factory is None:
        raise SourceError(f"camera {cam.id!r}: no source of type {cam.source.type!r}")
    return factory(cam)
