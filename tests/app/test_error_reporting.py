from __future__ import annotations

import threading

from PySide6.QtWidgets import QMessageBox

from app.error_reporting import ErrorReporter, install_excepthooks


def test_an_exception_in_a_thread_is_logged_and_shown(qtbot, monkeypatch, caplog) -> None:
    shown: list[str] = []

    def record(parent, title, text, *args, **kwargs):
        shown.append(text)
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "critical", staticmethod(record))
    reporter = ErrorReporter()
    restore = install_excepthooks(reporter)
    try:

        def boom() -> None:
            raise ValueError("sensor value out of range")

        t = threading.Thread(target=boom, name="export-job")
        t.start()
        t.join(5)
        qtbot.waitUntil(lambda: len(shown) == 1)
    finally:
        restore()

    assert "sensor value out of range" in shown[0]
    assert "export-job" in shown[0]
    assert "sensor value out of range" in caplog.text


def test_hooks_are_restored(qtbot) -> None:
    import sys

    before = (sys.excepthook, threading.excepthook)
    restore = install_excepthooks(ErrorReporter())
    assert sys.excepthook is not before[0]
    restore()
    assert (sys.excepthook, threading.excepthook) == before


def test_errors_while_a_dialog_is_open_are_counted(qtbot, monkeypatch) -> None:
    n = 3
    shown: list[str] = []
    reporter = ErrorReporter()

    def record(parent, title, text, *args, **kwargs):
        if not shown:  # more errors arrive while the first dialog is up
            for i in range(n):
                reporter._show(f"error {i}", "")
        shown.append(text)
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "critical", staticmethod(record))
    reporter._show("first", "")
    reporter._show("next", "")

    assert len(shown) == 2
    assert f"{n} more errors" in shown[1]
