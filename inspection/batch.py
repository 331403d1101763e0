"""The batch the line is running: lot, product code, ... as the operator (later the PLC/MES) set it.

Tools read it while inspecting (a label's lot must equal the batch's lot); the GUI or a line
integration writes it at batch start. Thread-safe: written rarely, read for every part.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping


class BatchContext:
    """Current batch values by name (``lot``, ``product``, ...); empty until someone sets them."""

    def __init__(
        self,
        values: Mapping[str, str] | None = None,
        on_change: Callable[[dict[str, str], dict[str, str]], None] | None = None,
    ) -> None:
        """``on_change(before, after)`` runs on the setter's thread when a value changed."""
        self._lock = threading.Lock()
        self._values: dict[str, str] = dict(values or {})
        self._on_change = on_change

    def set(self, values: Mapping[str, str], *, replace: bool = False) -> None:
        """Set batch values (``replace`` drops the ones not given)."""
        clean = {str(k).strip(): str(v).strip() for k, v in values.items() if str(k).strip()}
        with self._lock:
            before = dict(self._values)
            if replace:
                self._values = clean
            else:
                self._values.update(clean)
            after = dict(self._values)
        if after != before and self._on_change is not None:
            self._on_change(before, after)

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._values.get(key)

    def snapshot(self) -> dict[str, str]:
        with self._lock:
            return dict(self._values)
