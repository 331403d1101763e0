from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Slot

from app.bridge import StationBridge
from inspection.types import StatusLevel, StatusUpdate, Verdict


class _Receiver(QObject):
    """Lives on the GUI thread and notes on which thread each signal arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.got: list[tuple[object, int]] = []

    @Slot(object)
    def take(self, payload: object) -> None:
        self.got.append((payload, threading.get_ident()))


def _emit_from_thread(fn: object, payload: object) -> None:
    t = threading.Thread(target=fn, args=(payload,), name="fake-dispatcher")  # type: ignore[arg-type]
    t.start()
    t.join(5)
    assert not t.is_alive()


def test_inspection_from_core_thread_arrives_on_gui_thread(qtbot, make_inspection) -> None:
    bridge = StationBridge()
    receiver = _Receiver()
    bridge.inspectionReady.connect(receiver.take)
    inspection = make_inspection(Verdict.FAIL, "no code found", seq=3)

    with qtbot.waitSignal(bridge.inspectionReady, timeout=2000):
        _emit_from_thread(bridge.on_inspection, inspection)
    qtbot.waitUntil(lambda: len(receiver.got) == 1)

    payload, thread_id = receiver.got[0]
    assert payload is inspection
    assert thread_id == threading.main_thread().ident


def test_status_from_core_thread_arrives_on_gui_thread(qtbot) -> None:
    bridge = StationBridge()
    receiver = _Receiver()
    bridge.statusChanged.connect(receiver.take)
    update = StatusUpdate(level=StatusLevel.ALARM, source="cam1", message="camera cam1 lost")

    _emit_from_thread(bridge.on_status, update)
    qtbot.waitUntil(lambda: len(receiver.got) == 1)

    assert receiver.got[0] == (update, threading.main_thread().ident)


def test_detached_bridge_emits_nothing(qtbot, make_inspection) -> None:
    bridge = StationBridge()
    receiver = _Receiver()
    bridge.inspectionReady.connect(receiver.take)
    bridge.detach()

    with qtbot.assertNotEmitted(bridge.inspectionReady):
        bridge.on_inspection(make_inspection(Verdict.PASS))
    assert receiver.got == []
