"""Unexpected exceptions anywhere in the GUI process: logged, shown to the user, line kept running.

``sys.excepthook`` catches exceptions escaping Qt slots on the GUI thread, ``threading.excepthook``
those ending a Python thread. Both may fire on any thread, so the dialog is raised through a
queued signal on the GUI thread; while one dialog is open, further errors are logged and counted.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Callable
from types import TracebackType

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

log = logging.getLogger(__name__)


class ErrorReporter(QObject):
    """Shows unexpected errors in a message box; install with ``install_excepthooks``."""

    errorRaised = Signal(str, str)  # summary, traceback text

    def __init__(self, parent_widget: QWidget | None = None) -> None:
        super().__init__()
        self._parent_widget = parent_widget
        self._showing = False
        self._missed = 0
        self.errorRaised.connect(self._show)

    def set_parent_widget(self, widget: QWidget | None) -> None:
        self._parent_widget = widget

    def report(
        self,
        exc_type: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
        where: str = "",
    ) -> None:
        """Log the exception and ask the GUI thread to show it (safe from any thread)."""
        log.error(
            "unexpected error%s", f" in {where}" if where else "", exc_info=(exc_type, exc, tb)
        )
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        summary = f"{exc_type.__name__}: {exc}"
        if where:
            summary = f"{where}: {summary}"
        self.errorRaised.emit(summary, details)

    def _show(self, summary: str, details: str) -> None:
        if self._showing:
            self._missed += 1  # one dialog at a time; the log has every one
            return
        self._showing = True
        try:
            missed, self._missed = self._missed, 0
            extra = f"\n\n({missed} more errors are in the log.)" if missed else ""
            QMessageBox.critical(
                self._parent_widget,
                "Lineside: unexpected error",
                f"{summary}{extra}\n\nThe line keeps running where it can. Details are in the log.",
            )
        finally:
            self._showing = False


def install_excepthooks(reporter: ErrorReporter) -> Callable[[], None]:
    """Route uncaught exceptions to ``reporter``; returns a function restoring the old hooks."""
    old_sys, old_threading = sys.excepthook, threading.excepthook

    def sys_hook(
        exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            old_sys(exc_type, exc, tb)
            return
        reporter.report(exc_type, exc, tb)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        name = args.thread.name if args.thread is not None else "a thread"
        reporter.report(args.exc_type, args.exc_value, args.exc_traceback, f"thread {name}")

    sys.excepthook = sys_hook
    threading.excepthook = thread_hook

    def restore() -> None:
        sys.excepthook = old_sys
        threading.excepthook = old_threading

    return restore
