"""Cameras through a vendor's GenTL producer (.cti), read with harvesters.

The producer is a shared library loaded into this process; it runs its own transport threads, and
``read`` fetches the buffers it filled. Feature setting and pixel conversion are shared with GigE
cameras (``inspection.sources.genicam``).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from inspection.errors import SourceError
from inspection.recipe import GenTLSourceSettings
from inspection.sources.base import BadFrameError
from inspection.sources.genicam import (
    CameraInfo,
    FeatureError,
    FrameNumbers,
    PendingTriggers,
    PixelFormatError,
    apply_settings,
    current_pixel_format,
    fire_software_trigger,
    to_image,
)
from inspection.types import Frame

log = logging.getLogger(__name__)


def list_gentl_cameras(producer: Path) -> list[CameraInfo]:
    """The cameras a GenTL producer sees now; SourceError when the file is not a producer."""
    harvester = _load_producer(producer, "scan")
    try:
        return [_info(d) for d in harvester.device_info_list]
    finally:
        harvester.reset()


class GenTLCamera:
    """A GenTL camera as a Source (see ``inspection.sources.base.Source``)."""

    def __init__(self, settings: GenTLSourceSettings, camera: str = "cam1") -> None:
        self.camera = camera
        self.live = settings.trigger == "free_run"
        self.settings = settings
        self.info: CameraInfo | None = None
        self._numbers = FrameNumbers()
        self._pending = PendingTriggers()
        self._lock = threading.Lock()  # open/close against fire_trigger from another thread
        self._harvester: Any = None
        self._acquirer: Any = None

    @property
    def lost_frames(self) -> int:
        """Frames the camera numbered but never delivered, since this source was made."""
        return self._numbers.lost

    def open(self) -> None:
        self.close()
        s = self.settings
        harvester = _load_producer(s.producer, self.camera)
        try:
            found = [_info(d) for d in harvester.device_info_list]
            info = _choose(found, s.serial_number, s.producer, self.camera)
            gentl = _gentl()
            try:
                acquirer = harvester.create({"serial_number": info.serial})
            except gentl.GenericException as exc:
                raise SourceError(
                    f"camera {self.camera}: cannot open {info.device_id} through {s.producer}: "
                    f"{_reason(exc)}"
                ) from None
        except BaseException:
            harvester.reset()
            raise
        with self._lock:
            self._harvester, self._acquirer, self.info = harvester, acquirer, info
        try:
            features = _NodeMapFeatures(acquirer.remote_device.node_map)
            apply_settings(features, s, self.camera)
            fmt = current_pixel_format(features, self.camera)
            acquirer.num_buffers = s.buffers
            acquirer.start()
        except gentl.GenericException as exc:
            self.close()
            raise SourceError(
                f"camera {self.camera}: {info.device_id} refused to start: {_reason(exc)}"
            ) from None
        except BaseException:
            self.close()
            raise
        self._numbers.new_stream()
        self._pending.clear()
        log.info(
            "camera %s: GenTL camera %s (%s) open (%s, trigger %s)",
            self.camera,
            info.device_id,
            s.producer.name,
            fmt,
            s.trigger,
        )

    def read(self, timeout_s: float) -> Frame:
        acquirer = self._acquirer
        if acquirer is None:
            raise SourceError(f"camera {self.camera}: read() before open()")
        gentl = _gentl()
        try:
            buffer = acquirer.fetch(timeout=max(timeout_s, 0.001))
        except gentl.TimeoutException:
            raise TimeoutError(f"camera {self.camera}: no frame within {timeout_s:.3f} s") from None
        except gentl.GenericException as exc:
            raise SourceError(
                f"camera {self.camera}: lost {self._device_name}: {_reason(exc)}"
            ) from None
        arrival_ns = time.monotonic_ns()
        with buffer:
            frame_id = int(buffer.module.frame_id)
            seq = self._numbers.take(frame_id)
            trigger_id = self._trigger_id(frame_id)
            if not buffer.module.is_complete():
                raise BadFrameError(
                    f"camera {self.camera}: frame {frame_id} from {self._device_name} is "
                    "incomplete",
                    camera=self.camera,
                    seq=seq,
                )
            payload = buffer.payload
            if payload is None or not payload.components:
                raise BadFrameError(
                    f"camera {self.camera}: frame {frame_id} carries no image",
                    camera=self.camera,
                    seq=seq,
                )
            component = payload.components[0]
            try:
                image = to_image(
                    np.asarray(component.data),
                    int(component.width),
                    int(component.height),
                    str(component.data_format),
                    self.settings.color,
                )
            except PixelFormatError as exc:
                raise BadFrameError(
                    f"camera {self.camera}: frame {frame_id}: {exc}", camera=self.camera, seq=seq
                ) from None
        return Frame(
            camera=self.camera,
            seq=seq,
            t_ns=arrival_ns,
            image=image,
            trigger_id=trigger_id,
            source_name=f"{self.info.device_id if self.info else 'gentl'}#{frame_id}",
        )

    def _trigger_id(self, frame_id: int) -> int | None:
        if self.settings.trigger == "free_run":
            return None
        if self.settings.trigger == "hardware":
            return frame_id
        trigger_id = self._pending.pop()
        if trigger_id is None:
            log.warning("camera %s: frame %d came without a trigger", self.camera, frame_id)
            return frame_id
        return trigger_id

    def fire_trigger(self, trigger_id: int) -> None:
        """Take one frame now (TriggerSoftware); ``read`` delivers it with ``trigger_id``."""
        with self._lock:
            acquirer = self._acquirer
            features = (
                _NodeMapFeatures(acquirer.remote_device.node_map) if acquirer is not None else None
            )
            fire_software_trigger(
                features, self._pending, self.settings, self.camera, self._device_name, trigger_id
            )

    def close(self) -> None:
        with self._lock:
            harvester, acquirer = self._harvester, self._acquirer
            self._harvester = self._acquirer = None
        if acquirer is not None:
            gentl = _gentl()
            try:
                acquirer.stop()
            except gentl.GenericException as exc:
                log.warning("camera %s: stopping acquisition: %s", self.camera, _reason(exc))
            acquirer.destroy()
        if harvester is not None:
            harvester.reset()
        self._pending.clear()

    @property
    def _device_name(self) -> str:
        return self.info.device_id if self.info is not None else "(not open)"


class _NodeMapFeatures:
    """``genicam.Features`` over a GenApi node map; GenApi errors become FeatureError."""

    def __init__(self, node_map: Any) -> None:
        self._map = node_map
        self._genapi = _genapi()

    def _node(self, name: str) -> Any:
        try:
            return self._map.get_node(name)
        except self._genapi.LogicalErrorException:
            return None

    def has(self, name: str) -> bool:
        node = self._node(name)
        if node is None:
            return False
        mode = node.node.get_access_mode()
        return bool(mode not in (self._genapi.EAccessMode.NI, self._genapi.EAccessMode.NA))

    def enum_values(self, name: str) -> list[str]:
        node = self._node(name)
        if node is None:
            raise FeatureError(f"no {name} feature")
        return [str(v) for v in node.symbolics]

    def get_enum(self, name: str) -> str:
        try:
            return str(self._map.get_node(name).value)
        except self._genapi.GenericException as exc:
            raise FeatureError(_reason(exc)) from None

    def set_enum(self, name: str, value: str) -> None:
        self._set(name, value)

    def set_number(self, name: str, value: float) -> None:
        node = self._map.get_node(name)
        self._set(name, round(value) if isinstance(node, self._genapi.IInteger) else float(value))

    def set_bool(self, name: str, value: bool) -> None:
        self._set(name, value)

    def execute(self, name: str) -> None:
        try:
            self._map.get_node(name).execute()
        except self._genapi.GenericException as exc:
            raise FeatureError(_reason(exc)) from None

    def _set(self, name: str, value: object) -> None:
        try:
            self._map.get_node(name).value = value
        except self._genapi.GenericException as exc:
            raise FeatureError(_reason(exc)) from None


def _load_producer(producer: Path, camera: str) -> Any:
    """A harvester with the producer loaded and its cameras listed; SourceError says why not."""
    if not producer.is_file():
        raise SourceError(f"camera {camera}: GenTL producer {producer} does not exist")
    try:
        from harvesters.core import Harvester
    except ImportError:
        raise SourceError("GenTL cameras need the harvesters and genicam packages (pip)") from None
    gentl = _gentl()
    harvester = Harvester()
    # harvesters logs a traceback for a file it cannot load; the SourceError says it once.
    harvester_log = logging.getLogger("harvesters.core")
    level = harvester_log.level
    harvester_log.setLevel(logging.CRITICAL)
    try:
        harvester.add_file(str(producer), check_existence=True, check_validity=True)
        harvester.update()
    except (OSError, gentl.GenericException, AttributeError) as exc:
        harvester.reset()
        raise SourceError(
            f"camera {camera}: {producer} is not a loadable GenTL producer: {_reason(exc)}"
        ) from None
    finally:
        harvester_log.setLevel(level)
    return harvester


def _info(device: Any) -> CameraInfo:
    return CameraInfo(
        device_id=str(device.id_),
        vendor=str(device.vendor or ""),
        model=str(device.model or ""),
        serial=str(device.serial_number or ""),
        address=str(device.parent.id_ if device.parent is not None else ""),
    )


def _choose(found: list[CameraInfo], serial: str | None, producer: Path, camera: str) -> CameraInfo:
    if not found:
        raise SourceError(f"camera {camera}: producer {producer} finds no camera")
    if serial is None:
        return found[0]
    for info in found:
        if info.serial == serial:
            return info
    seen = ", ".join(f"{i.serial} ({i.device_id})" for i in found)
    raise SourceError(
        f"camera {camera}: no camera with serial number {serial!r} through {producer}; "
        f"cameras seen: {seen}"
    )


def _reason(exc: BaseException) -> str:
    return str(exc).strip() or type(exc).__name__


def _gentl() -> Any:
    from genicam import gentl

    return gentl


def _genapi() -> Any:
    from genicam import genapi

    return genapi
