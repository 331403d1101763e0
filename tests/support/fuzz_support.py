"""Shared settings for the fuzz tests (tests/fuzz): bounded by default, longer on demand."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, event, settings

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
