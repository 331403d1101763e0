"""Source kinds by their recipe ``type:``; each kind's module is imported only when used, so a
station without GigE cameras never loads Aravis, one without RTSP never loads FFmpeg."""

from __future__ import annotations

import importlib

from inspection.errors import SourceError
from inspection.recipe import CameraSettings
from inspection.sources.base import Source

# type → (module, class); every class is built as ``Class(settings, camera=camera_id)``
SOURCE_KINDS: dict[str, tuple[str, str]] = {
    "synthetic": ("inspection.sources.synthetic", "SyntheticLine"),
    "folder": ("inspection.sources.folder", "FolderSource"),
    "gige": ("inspection.sources.gige", "GigECamera"),
    "gentl": ("inspection.sources.gentl", "GenTLCamera"),
    "rtsp": ("inspection.sources.rtsp", "RtspCamera"),
    "http": ("inspection.sources.http", "HttpCamera"),
    "usb": ("inspection.sources.usb", "UsbCamera"),
    "video": ("inspection.sources.video", "VideoFile"),
}


def build_source(cam: CameraSettings) -> Source:
    """The source a camera's recipe entry describes (not opened yet).

    SourceError names the camera when the kind is unknown or its libraries are not installed.
    """
    kind = SOURCE_KINDS.get(cam.source.type)
    if kind is None:
        raise SourceError(f"camera {cam.id!r}: no source of type {cam.source.type!r}")
    module_name, class_name = kind
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SourceError(
            f"camera {cam.id!r}: {cam.source.type} cameras need a library that is not "
            f"installed here ({exc.name or exc})"
        ) from None
    source: Source = getattr(module, class_name)(cam.source, camera=cam.id)
    return source
