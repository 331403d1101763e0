"""Cutting a large image into overlapping tiles, so small defects are seen at full resolution.

Without tiling an image larger than ``long_side`` is shrunk as a whole, and a defect a few pixels
wide in a large frame shrinks below what the backbone can see. With ``tile_px`` the image is cut
into equal tiles of at most ``tile_px`` × ``tile_px`` that overlap by a quarter, each taught and
scored on its own (shrunk only if ``tile_px`` exceeds ``long_side``), and the tiles' maps are put
back together taking the higher score where they overlap. Cost grows with the number of tiles.
"""

from __future__ import annotations

import math

OVERLAP = 0.25
"""Share of a tile shared with its neighbour: a defect on a tile's edge is also well inside one."""


def _starts(size: int, tile: int) -> list[int]:
    if size <= tile:
        return [0]
    step = tile * (1.0 - OVERLAP)
    n = math.ceil((size - tile) / step) + 1
    return [round(i * (size - tile) / (n - 1)) for i in range(n)]


def tiles(h: int, w: int, tile_px: int) -> list[tuple[int, int, int, int]]:
    """(y, x, height, width) of the tiles covering an h × w image; one tile when tile_px ≤ 0.

    Every tile has the same size (min(tile_px, h) × min(tile_px, w)); together they cover every
    pixel, the first starts at (0, 0) and the last ends at (h, w).
    """
    if tile_px <= 0:
        return [(0, 0, h, w)]
    th, tw = min(tile_px, h), min(tile_px, w)
    return [(y, x, th, tw) for y in _starts(h, th) for x in _starts(w, tw)]
