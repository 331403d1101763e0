"""Shared settings for the fuzz tests (tests/fuzz): bounded by default, longer on demand."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st

DEFAULT_EXAMPLES = 200


def fuzz_settings(examples: int = DEFAULT_EXAMPLES) -> settings:
    """``examples`` per test so the suite stays fast; ``LINESIDE_FUZZ_EXAMPLES`` raises it for a
    longer hunt (the same tests, e.g. 5000 each)."""
    wanted = int(os.environ.get("LINESIDE_FUZZ_EXAMPLES", examples))
    return settings(
        max_examples=wanted,
        # CI tries the same examples every run, so its verdict on a commit is never a coin toss;
        # elsewhere each run explores new ones (what they find becomes a test of its own)
        derandomize=os.environ.get("CI", "").lower() == "true",
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,  # no .hypothesis folder written into the tree
    )


def outcome(name: str) -> None:
    """Counted in ``--hypothesis-show-statistics``: how often inputs were accepted or refused."""
    event(name)


BYTE_DAMAGES = ("flip", "cut", "insert", "truncate")
"""What ``damage_bytes`` does to a file; each fuzz test adds damages of its own format."""


def damage_bytes(
    draw: st.DrawFn, data: bytearray, how: str, i: int, *, cut_max: int, insert_max: int
) -> bool:
    """Damage ``data`` in place at ``i`` as ``how`` says, one of ``BYTE_DAMAGES``: a bit
    flipped, up to ``cut_max`` bytes cut, up to ``insert_max`` random bytes inserted, or the
    rest cut off. False (nothing done) for any other ``how``: the caller's own damages."""
    if how == "flip":
        if data:
            data[i] ^= 1 << draw(st.integers(min_value=0, max_value=7))
    elif how == "cut":
        del data[i : i + draw(st.integers(min_value=1, max_value=cut_max))]
    elif how == "insert":
        data[i:i] = draw(st.binary(min_size=1, max_size=insert_max))
    elif how == "truncate":
        del data[i:]
    else:
        return False
    return True
