"""The codes a tool read on a part, as texts: how the results database finds a part by its serial
and what the plant database keeps of each part's codes.

It sits beside ``types`` so storage and the ``postgres`` output read codes alike without
importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping

from inspection.types import ToolResult


def codes_read(result: ToolResult) -> list[str]:
    """The texts of the codes a tool read (its ``details["codes"]``), for finding parts."""
    found = result.details.get("codes") if isinstance(result.details, Mapping) else None
    if not isinstance(found, list | tuple):
        return []
    texts = [c.get("text") for c in found if isinstance(c, Mapping)]
    return list(dict.fromkeys(t for t in texts if isinstance(t, str) and t))


def part_codes(results: tuple[ToolResult, ...]) -> list[str]:
    """Every code read on a part by any of its tools, once each, in the order read."""
    return list(dict.fromkeys(c for r in results for c in codes_read(r)))
