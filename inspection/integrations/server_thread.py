"""An asyncio server (pymodbus, asyncua) on a thread of its own, for the station's servers.

``start`` returns once the server listens, or raises what stopped it from listening; a server
that fails later is reported through ``on_crash``. Other threads reach the loop with ``call``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any

log = logging.getLogger(__name__)

Serve = Callable[[Future[None]], Coroutine[Any, Any, None]]
"""Serves until done; sets its future's result once it listens."""


class ServerThread:
    def __init__(self, name: str, serve: Serve, on_crash: Callable[[Exception], None]) -> None:
        self.name = name
        self._serve = serve
        self._on_crash = on_crash
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout_s: float) -> None:
        """Start and wait until the server listens; its exception when it cannot."""
        started: Future[None] = Future()
        self._thread = threading.Thread(
            target=self._run, args=(started,), name=self.name, daemon=True
        )
        self._thread.start()
        try:
            started.result(timeout_s)
        except BaseException:
            self._thread.join(1.0)
            self._thread = None
            raise

    def call(self, coroutine: Coroutine[Any, Any, Any]) -> Future[Any] | None:
        """Run ``coroutine`` on the server's loop (any thread); None when it is not running."""
        loop = self.loop
        if loop is None or loop.is_closed():
            coroutine.close()
            return None
        return asyncio.run_coroutine_threadsafe(coroutine, loop)

    def join(self, timeout_s: float) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout_s)

    def _run(self, started: Future[None]) -> None:
        loop = asyncio.new_event_loop()
        self.loop = loop
        try:
            loop.run_until_complete(self._serve(started))
        except Exception as exc:
            if not started.done():
                started.set_exception(exc)
            else:
                log.exception("%s stopped", self.name)
                self._on_crash(exc)
        finally:
            self.loop = None
            loop.close()
