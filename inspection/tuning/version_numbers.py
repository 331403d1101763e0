"""Recipe version numbers: the one after a version, and their order ("1.9" before "1.10")."""

from __future__ import annotations

import re

# Recipe.version is at most this long (inspection/recipe/document.py).
VERSION_MAX_CHARS = 32


def next_version(version: str) -> str:
    """The version after ``version``: its last dot-separated part counted up, else ``.1`` added.

    "1" → "2", "1.4" → "1.5", "1.09" → "1.10", "2026-03" → "2026-03.1", "v1" → "v1.1",
    "2026-03.1" → "2026-03.2". Only a last part made of digits alone is counted up, so a date
    such as "2026-03" never turns into a different month. A version that would grow past the
    recipe's 32 characters loses characters from the front, keeping the part that changed.
    """
    head, dot, last = version.rpartition(".")
    if last.isdigit() and last.isascii():
        bumped = str(int(last) + 1).zfill(len(last))
        new = f"{head}{dot}{bumped}"
    else:
        new = f"{version}.1"
    return new[-VERSION_MAX_CHARS:]


def version_order(version: str) -> tuple[tuple[int, int, str], ...]:
    """A sort key that counts digit runs as numbers: "1.9" < "1.10" < "2" < "2026-03.1"."""
    return tuple(
        (0, int(part), "") if part.isdigit() and part.isascii() else (1, 0, part)
        for part in re.split(r"(\d+)", version)
        if part
    )
