"""The Qt binding itself must not corrupt reference counts.

PySide6 6.12.0's ``SignalInstance.emit`` returns ``True`` without taking a reference. pyqtgraph
emits from Python on every repaint, so on Python 3.11 (where True is not immortal) the GUI died
with "Fatal Python error: bool_dealloc" within a minute of live view. 6.11.3 is fine.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    changed = Signal()


def test_signal_emit_keeps_the_refcount_of_true(qtbot) -> None:
    emitter = _Emitter()
    emitter.changed.connect(lambda: None)
    before = sys.getrefcount(True)
    for _ in range(200):
        emitter.changed.emit()
    lost = before - sys.getrefcount(True)
    assert lost < 50, (
        f"each signal emit dropped a reference to True ({lost} in 200 emits): this PySide6 "
        "crashes the GUI after a few thousand emits; pin PySide6-Essentials/shiboken6 6.11.3"
    )
