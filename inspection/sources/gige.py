"""GigE Vision cameras through Aravis (PyGObject): discovery, features, stream, software trigger.

Aravis runs its own receive thread per stream and a heartbeat thread per device; ``read`` pops the
buffers that thread completed. Aravis's heartbeat takes up to ~6 s to report a camera that vanished,
far beyond the operator's one-second alarm, so silence on the stream is checked with a GVCP
register read of our own (one small datagram, answered in under a millisecond by a live camera).
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import socket
import struct
import threading
import time
import traceback
from typing import Any

import numpy as np

from inspection.errors import SourceError
from inspection.recipe import GigESourceSettings
from inspection.sources.base import BadFrameError
from inspection.sources.genicam import (
    PIXEL_FORMAT_CODES,
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

GVCP_PORT = 3956
_CCP_REGISTER = 0x0A00  # control channel privilege: every GigE Vision camera has it
_READREG_CMD, _READREG_ACK = 0x0080, 0x0081
_POP_SLICE_S = 0.05
_PROBE_TIMEOUT_S = 0.15
_PROBE_ATTEMPTS = 2
_IDLE_PROBE_S = 0.5
"""A triggered camera may stay silent for hours; it is asked whether it is there this often."""
_MAX_STAMP_AGE_NS = 10_000_000_000


def gvcp_alive(sock: socket.socket, timeout_s: float, attempts: int = 1) -> bool:
    """Whether the camera answers a GVCP register read, within ``timeout_s`` per attempt.

    sock: UDP socket connected to the camera's GVCP port (3956). Any answer counts, an error
    acknowledge too (a camera held exclusively by another program is still there). An ICMP
    "port unreachable" (nothing listens: the camera restarted or is gone) counts as no answer.
    """
    for _ in range(attempts):
        request_id = secrets.randbelow(0xFFFF) + 1
        packet = struct.pack(">BBHHHI", 0x42, 0x01, _READREG_CMD, 4, request_id, _CCP_REGISTER)
        deadline = time.monotonic() + timeout_s
        try:
            sock.send(packet)
            while (left := deadline - time.monotonic()) > 0:
                sock.settimeout(left)
                answer = sock.recv(512)
                if len(answer) >= 8:
                    _status, command, _length, ack_id = struct.unpack(">HHHH", answer[:8])
                    if command == _READREG_ACK and ack_id == request_id:
                        return True
        except ConnectionRefusedError:
            return False
        except TimeoutError:
            continue
    return False


def discover_gige() -> list[CameraInfo]:
    """GigE Vision cameras that answer a discovery broadcast on any network interface.

    Takes about one second (Aravis's fixed discovery window). SourceError when Aravis is missing.
    """
    return _discover(load_aravis()[0])


class GigECamera:
    """A GigE Vision camera as a Source (see ``inspection.sources.base.Source``)."""

    def __init__(self, settings: GigESourceSettings, camera: str = "cam1") -> None:
        self.camera = camera
        self.live = settings.trigger == "free_run"
        self.settings = settings
        self.info: CameraInfo | None = None
        self._numbers = FrameNumbers()
        self._pending = PendingTriggers()
        self._lock = threading.Lock()  # open/close against fire_trigger from another thread
        self._lost = threading.Event()  # set by Aravis's heartbeat thread
        self._camera: Any = None
        self._device: Any = None
        self._stream: Any = None
        self._lost_handler = 0
        self._probe: socket.socket | None = None
        self._probe_after_s = _IDLE_PROBE_S
        self._last_sign_of_life = 0.0
        self._gone = False

    @property
    def lost_frames(self) -> int:
        """Frames the camera numbered but never delivered, since this source was made."""
        return self._numbers.lost

    def stream_statistics(self) -> dict[str, int]:
        """Aravis's counters for the open stream (n_completed_buffers, n_failures,
        n_missing_frames, n_missing_packets, n_resent_packets, ...); empty when closed."""
        stream = self._stream
        if stream is None:
            return {}
        return {
            stream.get_info_name(i): int(stream.get_info_uint64(i))
            for i in range(stream.get_n_infos())
            if stream.get_info_type(i).name == "guint64"
        }

    def open(self) -> None:
        aravis, glib = load_aravis()
        self.close()
        if _is_ipv4(self.settings.device):
            # Named by address: connect straight away. A discovery broadcast takes Aravis a
            # fixed second, which would make every reconnect a second slower.
            camera, info = self._connect_by_address(aravis, glib, str(self.settings.device))
        else:
            info = _choose(_discover(aravis), self.settings.device, self.camera)
            try:
                camera = aravis.Camera.new(info.device_id)
            except glib.Error as exc:
                raise SourceError(
                    f"camera {self.camera}: cannot connect to GigE camera {info.device_id} at "
                    f"{info.address}: {exc.message}"
                ) from None
        with self._lock:
            self._camera = camera
            self._device = camera.get_device()
            self.info = info
            self._gone = False
            self._lost.clear()
        try:
            self._configure(aravis, glib, camera, info)
        except BaseException as exc:
            # The error's frames hold the camera and its device (here, in _configure, in the
            # feature calls): left there, they would be finalised at some later garbage
            # collection, on whatever thread runs it, and Aravis's finaliser asks the camera
            # for control back, seconds of retries once it is gone. Released now, in close().
            del camera
            _forget_locals(exc)
            self.close()
            raise

    def _connect_by_address(self, aravis: Any, glib: Any, address: str) -> tuple[Any, CameraInfo]:
        try:
            camera = aravis.Camera.new(address)
        except glib.Error as exc:
            raise SourceError(
                f"camera {self.camera}: no GigE camera answers at {address}: {exc.message}"
            ) from None
        if camera is None:
            raise SourceError(f"camera {self.camera}: no GigE camera answers at {address}")
        info = CameraInfo(
            device_id=camera.get_device_id() or address,
            vendor=camera.get_vendor_name() or "",
            model=camera.get_model_name() or "",
            serial=camera.get_device_serial_number() or "",
            address=address,
        )
        return camera, info

    def _configure(self, aravis: Any, glib: Any, camera: Any, info: CameraInfo) -> None:
        s = self.settings
        features = _AravisFeatures(self._device, glib)
        apply_settings(features, s, self.camera)
        fmt = current_pixel_format(features, self.camera)
        try:
            if s.packet_size is not None:
                camera.gv_set_packet_size(s.packet_size)
            else:
                camera.gv_auto_packet_size()
            rate = camera.get_frame_rate() if self.live else 0.0
            stream = camera.create_stream(None, None)
            if stream is None:
                raise SourceError(f"camera {self.camera}: Aravis could not create a stream")
            # One frame's worth of kernel socket buffer: a burst of GVSP packets is not dropped
            # while the receive thread is descheduled.
            stream.set_property("socket-buffer", aravis.GvStreamSocketBuffer.AUTO)
            payload = camera.get_payload()
            for _ in range(s.buffers):
                stream.push_buffer(aravis.Buffer.new_allocate(payload))
            self._lost_handler = self._device.connect("control-lost", self._on_control_lost)
            probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            probe.connect((info.address, GVCP_PORT))
            self._probe = probe
            camera.start_acquisition()
        except glib.Error as exc:
            raise SourceError(
                f"camera {self.camera}: GigE camera {info.device_id} refused to start: "
                f"{exc.message}"
            ) from None
        self._stream = stream
        # A free-running camera silent for three frame periods (at least 0.3 s) is asked.
        self._probe_after_s = max(3.0 / rate, 0.3) if rate > 0 else _IDLE_PROBE_S
        self._last_sign_of_life = time.monotonic()
        self._numbers.new_stream()
        self._pending.clear()
        log.info(
            "camera %s: GigE camera %s at %s open (%s, %d×%d, trigger %s)",
            self.camera,
            info.device_id,
            info.address,
            fmt,
            camera.get_region().width,
            camera.get_region().height,
            s.trigger,
        )

    def _on_control_lost(self, _device: Any) -> None:
        self._lost.set()

    def read(self, timeout_s: float) -> Frame:
        # The stream is looked up on self on every turn, never kept in a local: a SourceError's
        # traceback (kept by whoever logs it) would otherwise keep a lost device alive, and its
        # late clean-up would take control away from the reconnected one.
        if self._stream is None:
            raise SourceError(f"camera {self.camera}: read() before open()")
        deadline = time.monotonic() + max(timeout_s, 0.0)
        while True:
            self._check_alive()
            left = deadline - time.monotonic()
            buffer = self._stream.timeout_pop_buffer(int(max(min(left, _POP_SLICE_S), 0.0) * 1e6))
            if buffer is not None:
                self._last_sign_of_life = time.monotonic()
                return self._frame(buffer)
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"camera {self.camera}: no frame from {self._device_name} within "
                    f"{timeout_s:.3f} s"
                )

    def _check_alive(self) -> None:
        if self._lost.is_set():
            self._gone = True
            raise SourceError(
                f"camera {self.camera}: lost control of GigE camera {self._device_name} "
                "(heartbeat not answered)"
            )
        silent = time.monotonic() - self._last_sign_of_life
        if silent < self._probe_after_s or self._probe is None:
            return
        if not gvcp_alive(self._probe, _PROBE_TIMEOUT_S, _PROBE_ATTEMPTS):
            self._gone = True
            raise SourceError(
                f"camera {self.camera}: GigE camera {self._device_name} no longer answers "
                f"({silent:.1f} s without a frame)"
            )
        self._last_sign_of_life = time.monotonic()

    @property
    def _device_name(self) -> str:
        info = self.info
        return f"{info.device_id} at {info.address}" if info is not None else "(not open)"

    def _frame(self, buffer: Any) -> Frame:
        s = self.settings
        try:
            frame_id = int(buffer.get_frame_id())
            seq = self._numbers.take(frame_id)
            trigger_id: int | None = None
            if s.trigger == "software":
                trigger_id = self._pending.pop()
                if trigger_id is None:
                    log.warning("camera %s: frame %d came without a trigger", self.camera, frame_id)
                    trigger_id = frame_id
            elif s.trigger == "hardware":
                trigger_id = frame_id
            status = buffer.get_status()
            if status.value_nick != "success":
                raise BadFrameError(
                    f"camera {self.camera}: frame {frame_id} from {self._device_name} is "
                    f"incomplete ({status.value_nick})",
                    camera=self.camera,
                    seq=seq,
                )
            code = int(buffer.get_image_pixel_format())
            fmt = PIXEL_FORMAT_CODES.get(code)
            if fmt is None:
                raise BadFrameError(
                    f"camera {self.camera}: frame {frame_id} has pixel format 0x{code:08x}, "
                    "which Lineside cannot convert",
                    camera=self.camera,
                    seq=seq,
                )
            width, height = buffer.get_image_width(), buffer.get_image_height()
            data = np.frombuffer(buffer.get_data(), dtype=np.uint8)
            t_ns = _arrival_ns(int(buffer.get_system_timestamp()))
        finally:
            self._stream.push_buffer(buffer)
        try:
            image = to_image(data, width, height, fmt, s.color)
        except PixelFormatError as exc:
            raise BadFrameError(
                f"camera {self.camera}: frame {frame_id}: {exc}", camera=self.camera, seq=seq
            ) from None
        return Frame(
            camera=self.camera,
            seq=seq,
            t_ns=t_ns,
            image=image,
            trigger_id=trigger_id,
            source_name=f"{self.info.device_id if self.info else 'gige'}#{frame_id}",
        )

    def fire_trigger(self, trigger_id: int) -> None:
        """Take one frame now (TriggerSoftware); ``read`` delivers it with ``trigger_id``."""
        with self._lock:
            device = self._device
            features = (
                _AravisFeatures(device, load_aravis()[1])
                if device is not None and not self._gone
                else None
            )
            fire_software_trigger(
                features, self._pending, self.settings, self.camera, self._device_name, trigger_id
            )

    def close(self) -> None:
        with self._lock:
            camera, device, stream = self._camera, self._device, self._stream
            self._camera = self._device = self._stream = None
            probe, self._probe = self._probe, None
        if probe is not None:
            probe.close()
        if camera is None:
            return
        if not self._gone:
            _, glib = load_aravis()
            try:
                camera.stop_acquisition()
                # Explicitly, so that a wrapper kept alive somewhere cannot release control
                # later, from under the next connection.
                device.leave_control()
            except glib.Error as exc:
                log.warning("camera %s: stopping acquisition: %s", self.camera, exc.message)
        if self._lost_handler:
            device.disconnect(self._lost_handler)
            self._lost_handler = 0
        self._pending.clear()
        # Dropping the last references finalises the stream (joining Aravis's receive thread)
        # and the device (its heartbeat thread) now, not at some later garbage collection.
        del camera, device, stream


class _AravisFeatures:
    """``genicam.Features`` over an Aravis device; GLib errors become FeatureError."""

    def __init__(self, device: Any, glib: Any) -> None:
        self._device = device
        self._glib = glib

    def has(self, name: str) -> bool:
        node = self._device.get_feature(name)
        try:
            return node is not None and bool(node.is_available())
        except self._glib.Error:
            return False

    def enum_values(self, name: str) -> list[str]:
        try:
            return list(self._device.dup_available_enumeration_feature_values_as_strings(name))
        except self._glib.Error as exc:
            raise FeatureError(exc.message) from None

    def get_enum(self, name: str) -> str:
        try:
            return str(self._device.get_string_feature_value(name))
        except self._glib.Error as exc:
            raise FeatureError(exc.message) from None

    def set_enum(self, name: str, value: str) -> None:
        try:
            self._device.set_string_feature_value(name, value)
        except self._glib.Error as exc:
            raise FeatureError(exc.message) from None

    def set_number(self, name: str, value: float) -> None:
        aravis = load_aravis()[0]
        try:
            if isinstance(self._device.get_feature(name), aravis.GcInteger):
                self._device.set_integer_feature_value(name, round(value))
            else:
                self._device.set_float_feature_value(name, float(value))
        except self._glib.Error as exc:
            raise FeatureError(exc.message) from None

    def set_bool(self, name: str, value: bool) -> None:
        try:
            self._device.set_boolean_feature_value(name, value)
        except self._glib.Error as exc:
            raise FeatureError(exc.message) from None

    def execute(self, name: str) -> None:
        try:
            self._device.execute_command(name)
        except self._glib.Error as exc:
            raise FeatureError(exc.message) from None


def load_aravis() -> tuple[Any, Any]:
    """The Aravis and GLib modules; imported on first use so a station without GigE cameras
    never loads them. SourceError names the package to install."""
    try:
        import gi
    except ImportError:
        raise SourceError(
            "GigE cameras need PyGObject (pip package pygobject) and Aravis "
            "(Debian package gir1.2-aravis-0.8)"
        ) from None
    try:
        gi.require_version("Aravis", "0.8")
        from gi.repository import Aravis, GLib
    except (ValueError, ImportError):
        raise SourceError(
            "GigE cameras need Aravis 0.8 (Debian package gir1.2-aravis-0.8)"
        ) from None
    return Aravis, GLib


def _discover(aravis: Any) -> list[CameraInfo]:
    aravis.update_device_list()
    return [
        CameraInfo(
            device_id=aravis.get_device_id(i) or "",
            vendor=aravis.get_device_vendor(i) or "",
            model=aravis.get_device_model(i) or "",
            serial=aravis.get_device_serial_nbr(i) or "",
            address=aravis.get_device_address(i) or "",
        )
        for i in range(aravis.get_n_devices())
        if aravis.get_device_protocol(i) == "GigEVision"
    ]


def _is_ipv4(text: str | None) -> bool:
    if not text:
        return False
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


def _choose(found: list[CameraInfo], wanted: str | None, camera: str) -> CameraInfo:
    """The camera the recipe names by device id, serial number or IP address (default: first)."""
    if not found:
        raise SourceError(f"camera {camera}: no GigE Vision camera found on any network interface")
    if wanted is None:
        return found[0]
    for info in found:
        if wanted in (info.device_id, info.serial, info.address):
            return info
    seen = ", ".join(f"{i.device_id} ({i.address})" for i in found)
    raise SourceError(f"camera {camera}: GigE device {wanted!r} not found; cameras seen: {seen}")


def _forget_locals(exc: BaseException) -> None:
    """Clear the variables of the finished frames in the traceback of ``exc`` and of the
    exceptions it chains; the traceback itself (files, lines) stays for the log."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        e = pending.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        traceback.clear_frames(e.__traceback__)
        pending += [e.__cause__, e.__context__]


def _arrival_ns(system_stamp_ns: int) -> int:
    """Aravis's arrival stamp (wall clock, taken by its receive thread) on the monotonic clock;
    the pop itself may come later when the reader is busy."""
    now_mono = time.monotonic_ns()
    age = time.time_ns() - system_stamp_ns
    if system_stamp_ns <= 0 or not 0 <= age <= _MAX_STAMP_AGE_NS:
        return now_mono
    return now_mono - age
