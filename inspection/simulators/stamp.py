"""A send time written into a frame's pixels, so latency can be measured through any codec.

The stamp is a row of black/white cells in the frame's top-left corner: a start pattern, then the
64 bits of ``time.monotonic_ns()`` (one clock for every process on this machine), most significant
first. Cells are big enough to survive H.264 and JPEG at ordinary quality.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CELL = 16
_START = (1, 0, 1, 1, 0, 1, 0, 0)
_BITS = 64
STAMP_WIDTH = CELL * (len(_START) + _BITS)


def write_stamp(image: np.ndarray, t_ns: int) -> None:
    """Write ``t_ns`` into the top ``CELL`` rows of ``image`` (uint8 grey or BGR), in place.

    The image must be at least ``STAMP_WIDTH`` px wide.
    """
    if image.shape[1] < STAMP_WIDTH or image.shape[0] < CELL:
        raise ValueError(f"a stamp needs a frame of at least {STAMP_WIDTH}×{CELL} px")
    bits = list(_START) + [(t_ns >> (_BITS - 1 - i)) & 1 for i in range(_BITS)]
    for i, bit in enumerate(bits):
        image[:CELL, i * CELL : (i + 1) * CELL] = 255 if bit else 0


def read_stamp(image: np.ndarray) -> int | None:
    """The ``t_ns`` written by ``write_stamp``, or None when the frame carries no stamp."""
    if image.shape[1] < STAMP_WIDTH or image.shape[0] < CELL:
        return None
    grey = image if image.ndim == 2 else image.mean(axis=2)
    half = CELL // 2
    centres = grey[half - 2 : half + 2, :STAMP_WIDTH].reshape(4, -1, CELL)[
        :, :, half - 2 : half + 2
    ]
    bits = (centres.mean(axis=(0, 2)) >= 128).astype(int)
    if tuple(bits[: len(_START)]) != _START:
        return None
    value = 0
    for b in bits[len(_START) :]:
        value = (value << 1) | int(b)
    return value


def missing_on_grid(sent_ns: Sequence[int], period_s: float) -> int:
    """Frames a simulator sent between the first and last of ``sent_ns`` (stamps read back) that
    never arrived: the simulators send on a fixed grid of ``period_s``."""
    sent = sorted(set(sent_ns))
    if len(sent) < 2:
        return 0
    on_grid = round((sent[-1] - sent[0]) / (period_s * 1e9)) + 1
    return max(on_grid - len(sent), 0)
