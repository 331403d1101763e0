"""Nothing leaves the machine: the switches third-party libraries read when they load.

onnxruntime (1.32) looks up an event-collection host every few seconds from about 9 s after it
loads, even in a plain script; ``ort.disable_telemetry_events()`` does not stop it, the
environment variable set before the library loads does. So every entry point (the ``lineside``
command, the headless CLI, the tests) calls ``keep_offline`` first; processes it starts inherit
the environment. ``tests/integration/test_nothing_leaves.py`` proves it in a network namespace.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import MutableMapping

log = logging.getLogger(__name__)

OFFLINE_ENVIRONMENT: dict[str, str] = {
    "ORT_DISABLE_TELEMETRY": "1",  # onnxruntime: no telemetry events, no look-ups
}


def keep_offline(environ: MutableMapping[str, str] | None = None) -> None:
    """Set the switches in ``environ`` (default: this process's), before the libraries load."""
    env = os.environ if environ is None else environ
    env.update(OFFLINE_ENVIRONMENT)
    if environ is None and "onnxruntime" in sys.modules:
        # read at load: too late for this process, still right for the ones it starts
        log.warning("onnxruntime was loaded before its telemetry was switched off")
