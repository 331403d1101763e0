"""A TCP forwarder on 127.0.0.1 that a test opens, closes and cuts: the cable between the station
and its broker. Closed, it refuses (accepts and drops at once); ``cut`` drops the connections
that are up, as a pulled cable does, so the broker sees the station vanish."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable


class TcpGate:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.1)
        self.port = int(self._server.getsockname()[1])
        self._open = threading.Event()
        self._open.set()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, name="tcp-gate", daemon=True)
        self._acceptor.start()

    def open(self) -> None:
        self._open.set()

    def close(self) -> None:
        """Refuse new connections and cut the ones that are up."""
        self._open.clear()
        self.cut()

    def cut(self) -> None:
        # shut down, not closed: the pumps close a pair once both have let go, so a pump still
        # in a send never writes into a new connection that was given the same descriptor
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for a, b in pairs:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self._stop.set()
        self.cut()
        self._acceptor.join(5)
        for t in self._threads:
            t.join(5)
        self._server.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self._open.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=2)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            pumping = [2]  # the pumps of this pair still running; the last one closes it
            for src, dst, from_station in ((client, upstream, True), (upstream, client, False)):
                t = threading.Thread(
                    target=self._pump,
                    args=(src, dst, pumping, self._lock, from_station),
                    daemon=True,
                )
                t.start()
                self._threads.append(t)

    def _pump(
        self,
        src: socket.socket,
        dst: socket.socket,
        pumping: list[int],
        lock: threading.Lock,
        from_station: bool,
    ) -> None:
        passing = self._passing(dst, from_station)
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                passing(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
            with lock:
                pumping[0] -= 1
                last = pumping[0] == 0
            if last:
                src.close()
                dst.close()

    def _passing(self, dst: socket.socket, from_station: bool) -> Callable[[bytes], None]:
        """What a pump does with the bytes it read: passes them on as they are."""
        return dst.sendall


PUBREL = 6
"""MQTT control packet type of a PUBREL (the third packet of a QoS 2 delivery)."""


class MqttGate(TcpGate):
    """A ``TcpGate`` that reads what the station sends as MQTT packets and, while ``dropping``
    holds a packet type, swallows the station's packets of that type (``dropped`` counts them),
    e.g. a broker that took a QoS 2 result (PUBREC) but never heard the station release it."""

    def __init__(self, target_port: int) -> None:
        self.dropping: int | None = None
        self.dropped = 0
        super().__init__(target_port)

    def _passing(self, dst: socket.socket, from_station: bool) -> Callable[[bytes], None]:
        if not from_station:
            return dst.sendall
        pending = bytearray()

        def packets(data: bytes) -> None:
            pending.extend(data)
            while (end := _packet_end(pending)) is not None:
                packet = bytes(pending[:end])
                del pending[:end]
                if self.dropping is not None and packet[0] >> 4 == self.dropping:
                    self.dropped += 1
                else:
                    dst.sendall(packet)

        return packets


def _packet_end(data: bytearray) -> int | None:
    """Where the first whole MQTT packet in ``data`` ends (fixed header: a type byte, then the
    remaining length in 7-bit groups), or None while it is not all there."""
    length, shift = 0, 0
    for at in range(1, min(len(data), 5)):
        length |= (data[at] & 0x7F) << shift
        if not data[at] & 0x80:
            end = at + 1 + length
            return end if end <= len(data) else None
        shift += 7
    return None
