"""The part's verdict from its tools' results, and the shift-wide duplicate check."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Sequence

from inspection.types import Inspection, ToolResult, Verdict


def decide(results: Sequence[ToolResult]) -> tuple[Verdict, str]:
    """PASS only when there were tools and every one ran and passed.

    ERROR (could not be fully inspected) outranks FAIL; the reason lists every finding as
    ``tool: reason`` so the operator sees all of them, not only the first.
    """
    if not results:
        return Verdict.ERROR, "no inspection tool ran on this part"
    errors = [r for r in results if r.verdict is Verdict.ERROR]
    fails = [r for r in results if r.verdict is Verdict.FAIL]
    if errors:
        return Verdict.ERROR, "; ".join(f"{r.tool_id}: {r.reason}" for r in errors + fails)
    if fails:
        return Verdict.FAIL, "; ".join(f"{r.tool_id}: {r.reason}" for r in fails)
    return Verdict.PASS, ""


class ShiftLedger:
    """Values that must not repeat within a shift (serials), checked in part order.

    Used only from the dispatcher thread, which sees parts in order, so the first part carrying a
    serial always keeps it and a later one is the duplicate, however many workers ran.
    """

    def __init__(self) -> None:
        self._first_seen: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()  # reset() may come from the GUI's command

    def reset(self) -> None:
        with self._lock:
            self._first_seen.clear()

    def restore(self, seen: Iterable[tuple[str, str, int]]) -> None:
        """Take up the serials of the shift so far: (tool id, key, part number), in part order."""
        with self._lock:
            for tool_id, key, part_seq in seen:
                self._first_seen.setdefault((tool_id, key), part_seq)

    def check(self, inspection: Inspection) -> Inspection:
        """The inspection, or a new one failed with "duplicate serial" if a key was seen before."""
        changed: list[ToolResult] = []
        any_dup = False
        with self._lock:
            for r in inspection.tool_results:
                dups = []
                for key in r.unique_keys:
                    first = self._first_seen.setdefault((r.tool_id, key), inspection.part_seq)
                    if first != inspection.part_seq:
                        dups.append(f"duplicate serial {key!r} (first seen on part {first + 1})")
                if dups and r.verdict is Verdict.PASS:
                    r = dataclasses.replace(r, verdict=Verdict.FAIL, reason="; ".join(dups))
                    any_dup = True
                elif dups:
                    r = dataclasses.replace(r, reason="; ".join([r.reason, *dups]))
                    any_dup = True
                changed.append(r)
        if not any_dup:
            return inspection
        results = tuple(changed)
        verdict, reason = decide(results)
        return dataclasses.replace(inspection, tool_results=results, verdict=verdict, reason=reason)
