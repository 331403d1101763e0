"""An RTSP camera stand-in: the simulated line's video, H.264 or H.265, served by gst-rtsp-server.

Run as a child process (tests kill it mid-stream and start it again on the same port)::

    python -m inspection.simulators.rtsp_server --port 8554 --width 1280 --height 720 --fps 25

It prints one line ``READY rtsp://127.0.0.1:PORT/stream`` on stdout once it serves, then only logs
(on stderr). Every frame carries its send time (``inspection.simulators.stamp``), written just
before it enters the encoder, so a client can measure the whole way to its decoded frame. Each
client gets its own encoder, so its stream starts with a key frame instead of waiting up to a
second for the next one.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from typing import Any

import numpy as np

from inspection.recipe import SyntheticSourceSettings
from inspection.simulators.peers import simulator_arguments
from inspection.simulators.stamp import STAMP_WIDTH, write_stamp
from inspection.sources.synthetic import SyntheticLine

log = logging.getLogger(__name__)

GST_PACKAGES = (
    "apt: gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good "
    "gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly; pip: pygobject<3.51 "
    "(apt: libgirepository1.0-dev libcairo2-dev pkg-config to build it)"
)
"""What the RTSP simulator needs installed; named in every error about it."""

_ENCODERS = {
    # zerolatency: no lookahead, no B-frames, so a frame leaves the encoder as soon as it enters
    "h264": (
        "x264enc tune=zerolatency speed-preset=ultrafast bframes=0 key-int-max={key} "
        "sliced-threads=false threads=1 "
        "! video/x-h264,profile=constrained-baseline ! rtph264pay name=pay0 pt=96 config-interval=-1"
    ),
    # what some older cameras send; Lineside refuses it (tests the "codec not supported" path)
    "mjpeg": "jpegenc ! rtpjpegpay name=pay0 pt=26",
    "h265": (
        "x265enc tune=zerolatency speed-preset=ultrafast key-int-max={key} "
        "! rtph265pay name=pay0 pt=96 config-interval=-1"
    ),
}


def load_gstreamer() -> tuple[Any, Any, Any]:
    """(Gst, GstRtspServer, GLib), initialised; RuntimeError naming the packages when missing."""
    try:
        import gi

        gi.require_version("Gst", "1.0")
        gi.require_version("GstRtspServer", "1.0")
        from gi.repository import GLib, Gst, GstRtspServer
    except (ImportError, ValueError) as exc:
        raise RuntimeError(
            f"the RTSP simulator needs GStreamer ({exc}); install {GST_PACKAGES}"
        ) from None
    Gst.init(None)
    for element in (
        "appsrc",
        "videoconvert",
        "x264enc",
        "x265enc",
        "rtph264pay",
        "rtph265pay",
        "jpegenc",
        "rtpjpegpay",
    ):
        if Gst.ElementFactory.find(element) is None:
            raise RuntimeError(f"GStreamer element {element} is missing; install {GST_PACKAGES}")
    return Gst, GstRtspServer, GLib


class LineFeed:
    """Renders the simulated line at ``fps`` and pushes each stamped frame into every client's
    encoder (one ``appsrc`` per client)."""

    def __init__(self, gst: Any, width: int, height: int, fps: float, seed: int) -> None:
        self._gst = gst
        self._period = 1.0 / fps
        self._line = SyntheticLine(
            SyntheticSourceSettings(
                type="synthetic", mode="video", width=width, height=height, seed=seed
            )
        )
        self._line.open()
        self._sources: list[Any] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="line-feed", daemon=True)

    def add(self, appsrc: Any) -> None:
        with self._lock:
            self._sources.append(appsrc)

    def remove(self, appsrc: Any) -> None:
        with self._lock:
            if appsrc in self._sources:
                self._sources.remove(appsrc)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2.0)

    def _run(self) -> None:
        due = time.monotonic()
        while not self._stop.is_set():
            frame = self._line.read(timeout_s=1.0)
            assert frame is not None  # an endless line (parts=None) never ends
            image = np.array(frame.image, copy=True)
            with self._lock:
                sources = list(self._sources)
            if image.shape[1] >= STAMP_WIDTH:
                write_stamp(image, time.monotonic_ns())
            data = image.tobytes()
            for appsrc in sources:
                flow = appsrc.emit("push-buffer", self._gst.Buffer.new_wrapped(data))
                if flow != self._gst.FlowReturn.OK:
                    self.remove(appsrc)  # that client has gone
            # Frames keep to a fixed grid, as a camera's sensor clock does, so a receiver can
            # count the missing ones from the send times; a feed a whole period behind skips
            # the frames it missed instead of sending a burst.
            due += self._period
            if time.monotonic() - due > self._period:
                due = time.monotonic()
            self._stop.wait(max(due - time.monotonic(), 0.0))


def serve(args: argparse.Namespace) -> int:
    try:
        gst, rtsp, glib = load_gstreamer()
    except RuntimeError as exc:
        print(f"rtsp_server: {exc}", file=sys.stderr)
        return 2
    feed = LineFeed(gst, args.width, args.height, args.fps, args.seed)
    server = rtsp.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = rtsp.RTSPMediaFactory()
    caps = (
        f"video/x-raw,format=GRAY8,width={args.width},height={args.height},"
        f"framerate={round(args.fps)}/1"
    )
    factory.set_launch(
        # A slow encoder drops the oldest frames like a real camera instead of queueing them.
        f"( appsrc name=src is-live=true format=time do-timestamp=true caps={caps} "
        "max-buffers=2 leaky-type=downstream "
        "! videoconvert ! video/x-raw,format=I420 ! "
        + _ENCODERS[args.codec].format(key=max(round(args.fps), 1))
        + " )"
    )
    factory.set_shared(False)
    factory.set_latency(0)

    def configure(_factory: Any, media: Any) -> None:
        appsrc = media.get_element().get_child_by_name("src")
        feed.add(appsrc)
        media.connect("unprepared", lambda _m: feed.remove(appsrc))

    factory.connect("media-configure", configure)
    if args.user:
        auth = rtsp.RTSPAuth()
        token = rtsp.RTSPToken()
        token.set_string("media.factory.role", "viewer")
        auth.add_basic(rtsp.RTSPAuth.make_basic(args.user, args.password or ""), token)
        server.set_auth(auth)
        permissions = rtsp.RTSPPermissions()
        permissions.add_permission_for_role("viewer", "media.factory.access", True)
        permissions.add_permission_for_role("viewer", "media.factory.construct", True)
        factory.set_permissions(permissions)
    server.get_mount_points().add_factory(args.path, factory)
    if server.attach(None) == 0:
        print(f"rtsp_server: cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 2
    loop = glib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        glib.unix_signal_add(glib.PRIORITY_DEFAULT, sig, loop.quit)
    feed.start()
    print(f"READY rtsp://127.0.0.1:{args.port}{args.path}", flush=True)
    try:
        loop.run()
    finally:
        feed.stop()
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = simulator_arguments(__doc__.splitlines()[0])
    p.add_argument("--codec", choices=sorted(_ENCODERS), default="h264")
    p.add_argument("--path", default="/stream", help="mount point; other paths answer 404")
    p.add_argument("--user", default=None, help="require basic auth with this user name")
    p.add_argument("--password", default=None)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    return serve(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
