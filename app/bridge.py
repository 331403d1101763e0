"""The one place where the core's callbacks become Qt signals (DESIGN §8).

The station calls ``on_inspection`` / ``on_status`` on its own threads. Emitting a signal there is
safe: the receivers live on the GUI thread, so Qt queues the call to them. Frames are never pushed
through here; the live view pulls the newest frame on a timer.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, Signal

from inspection.types import Inspection, StatusUpdate

log = logging.getLogger(__name__)


class StationBridge(QObject):
    """A StationListener that re-emits each inspection and status update as a Qt signal."""

    inspectionReady = Signal(object)  # Inspection
    statusChanged = Signal(object)  # StatusUpdate

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._detached = False

    def detach(self) -> None:
        """Stop emitting; call before the bridge (or its window) goes away.

        A core thread may still be inside a callback during teardown; once this returns, none
        of them emits again, so no signal reaches a deleted C++ object.
        """
        with self._lock:
            self._detached = True

    def on_inspection(self, inspection: Inspection) -> None:
        with self._lock:
            if self._detached:
                return
            self.inspectionReady.emit(inspection)

    def on_status(self, update: StatusUpdate) -> None:
        with self._lock:
            if self._detached:
                return
            self.statusChanged.emit(update)
