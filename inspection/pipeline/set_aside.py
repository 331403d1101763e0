"""Keeping a model file teaching is about to replace because it cannot be used.

Teaching never destroys an engineer's file: a model that will not load (damaged, or made for
another backbone or preprocessing) is renamed beside itself to
``<name>.corrupt-<UTC time>`` with ``<that name>.reason.txt`` saying why, before the new model
takes its place. Someone can still open it, send it in, or put it back.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

SET_ASIDE = "corrupt"
REASON_SUFFIX = ".reason.txt"


def set_aside(path: Path, reason: str, *, now: datetime | None = None) -> Path:
    """Rename ``path`` to ``<name>.corrupt-<YYYYmmddTHHMMSSZ>`` (``-2``, ``-3`` … when taken),
    write ``reason`` beside it, and return the new path. OSError when the folder is read-only."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = path.with_name(f"{path.name}.{SET_ASIDE}-{stamp}")
    n = 2
    while kept.exists():
        kept = path.with_name(f"{path.name}.{SET_ASIDE}-{stamp}-{n}")
        n += 1
    os.replace(path, kept)  # a rename within one folder: the bytes stay as they were
    note = kept.with_name(kept.name + REASON_SUFFIX)
    note.write_text(
        f"{path}\nset aside {stamp} by Lineside teaching, which wrote a new model in its place, "
        f"because it cannot be used:\n{reason}\n",
        encoding="utf-8",
    )
    log.warning("model %s cannot be used (%s); kept as %s", path, reason, kept)
    return kept


__all__ = ["REASON_SUFFIX", "SET_ASIDE", "set_aside"]
