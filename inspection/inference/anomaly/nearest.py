"""Distance from patch features to their nearest memory-bank patches: the defect tool's search.

Brute force is one float32 matrix product of every query with every bank patch. For a large
bank most of that work is wasted: a good part's patch lies close to a few bank patches and far
from the rest. So the bank is also cut into cells (k-means, made when the model is loaded) and
each query is compared only with the cells that could hold a closer patch than one it already
has. A cell is skipped when the triangle inequality proves it cannot:

    ‖q − b‖ ≥ ‖q − c‖ − r     for every patch b of a cell with centre c and radius r,

so the answer is the brute-force answer (up to float32 rounding), never an approximation.

The cells pay when the bank is dense next to where good parts' patches fall: many taught
parts that look alike, as on a line making one product (the demo's surface tool searches ~5×
faster). They do not pay when a query's nearest patch is about as far as a cell is wide: a
small or varied set of good images, or a query far from the whole bank (a defect, or a part
unlike the taught ones), which visits every cell. When most queries would, the search goes back
to brute force, and the next searches skip the cells (1, 2, 4 … up to ``MAX_SKIP`` of them,
while they keep not paying), so a bank they do not suit costs about what brute force does.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

CELL_SIZE = 128
"""Bank patches per cell (about): fewer, larger cells prune less; more cells cost more loops."""
MIN_BANK = 2048
"""Smaller banks are searched by brute force: the cells' bookkeeping would cost more."""
MIN_QUERIES = 64
"""Fewer queries than this go by brute force, for the same reason."""
KMEANS_ROUNDS = 8
"""Rounds of k-means for the cells; their quality only changes speed, never the answer."""
SLACK = 1e-3
"""Relative and absolute margin on the skip test, so float32 rounding never skips the cell that
holds the true nearest patch."""
BRUTE_SHARE = 0.6
"""When the cells left to visit hold more than this share of all query-patch pairs, brute force."""
MAX_SKIP = 64
"""After searches where the cells did not pay, up to this many go straight to brute force."""


class NearestBank:
    """Distance from patch features to their nearest memory-bank patches (float32); belongs to
    one thread (it keeps count of whether the cells pay).

    ‖q − b‖² = ‖q‖² + (−2b·q + ‖b‖²): the bracket for every bank patch comes out of one matrix
    product of [q, 1] with the stacked [−2bᵀ; ‖b‖²], so the (N, M) block is written once and read
    once (by the minimum) instead of three times. With ``knn`` 1 and a bank of at least
    ``MIN_BANK`` patches the search goes cell by cell (module docstring); with ``knn`` > 1 it is
    brute force.
    """

    def __init__(self, bank: np.ndarray, knn: int = 1, *, cells: bool = True) -> None:
        bank = np.asarray(bank, np.float32)
        self._stacked = _stacked(bank)
        self._dims = bank.shape[1]
        self._knn = max(1, min(knn, bank.shape[0]))
        self._cells = (
            _Cells(bank) if cells and self._knn == 1 and bank.shape[0] >= MIN_BANK else None
        )
        self._skip = 0  # searches left that go straight to brute force
        self._misses = 0  # searches in a row where the cells did not pay

    def distances(self, feats: np.ndarray, chunk: int = 256) -> np.ndarray:
        """float32 (N,) distance of each row of ``feats`` (N, D) to the bank (mean over k-NN)."""
        q, q_sq = self._queries(feats)
        if self._cells is None or q.shape[0] < MIN_QUERIES or not np.isfinite(q_sq).all():
            return self._brute(q, q_sq, chunk)
        if self._skip > 0:
            self._skip -= 1
            return self._brute(q, q_sq, chunk)
        found = self._cells.nearest(q, q_sq)
        if found is not None:
            self._misses = 0
            return found
        self._skip = min(MAX_SKIP, 1 << self._misses)
        self._misses += 1
        return self._brute(q, q_sq, chunk)

    def _queries(self, feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """[feats, 1] (N, D + 1) float32 and ‖feats‖² (N,)."""
        n = feats.shape[0]
        q = np.empty((n, self._dims + 1), np.float32)
        q[:, : self._dims] = feats
        q[:, self._dims] = 1.0
        return q, _sq(q[:, : self._dims])

    def _brute(self, q: np.ndarray, q_sq: np.ndarray, chunk: int) -> np.ndarray:
        # queries go in chunks whose (chunk, M) block stays in cache
        n = q.shape[0]
        out = np.empty(n, np.float32)
        for s in range(0, n, chunk):
            d = q[s : s + chunk] @ self._stacked
            if self._knn == 1:
                best = d.min(axis=1) + q_sq[s : s + chunk]
                out[s : s + len(d)] = np.sqrt(np.maximum(best, 0.0))
            else:
                part = np.partition(d, self._knn - 1, axis=1)[:, : self._knn]
                part += q_sq[s : s + chunk, None]
                out[s : s + len(d)] = np.sqrt(np.maximum(part, 0.0)).mean(axis=1)
        return out


def _stacked(points: np.ndarray) -> np.ndarray:
    """float32 (D + 1, M) [−2pᵀ; ‖p‖²] of points (M, D): [q, 1] @ it + ‖q‖² is ‖q − p‖²."""
    return np.ascontiguousarray(np.vstack([-2.0 * points.T, _sq(points)[None, :]]), np.float32)


class _Cells:
    """The bank cut into k-means cells: each cell's patches stacked, its centre and radius."""

    def __init__(self, bank: np.ndarray, seed: int = 0) -> None:
        m = bank.shape[0]
        k = max(2, round(m / CELL_SIZE))
        rng = np.random.default_rng(seed)
        centres = bank[np.sort(rng.choice(m, k, replace=False))].astype(np.float32)
        for _ in range(KMEANS_ROUNDS):
            order, bounds = _groups(_owners(bank, centres), k)
            filled = bounds[1:] > bounds[:-1]
            sums = np.add.reduceat(bank[order], bounds[:-1][filled], axis=0, dtype=np.float64)
            counts = (bounds[1:] - bounds[:-1])[filled]
            centres[filled] = (sums / counts[:, None]).astype(np.float32)
        order, bounds = _groups(_owners(bank, centres), k)
        self.cells: list[np.ndarray] = []
        kept: list[int] = []
        radii: list[float] = []
        for j in range(k):
            members = bank[order[bounds[j] : bounds[j + 1]]]
            if len(members) == 0:
                continue
            kept.append(j)
            # in float64: a patch must never lie outside its cell's ball (SLACK covers the rest)
            radii.append(np.sqrt(((members.astype(np.float64) - centres[j]) ** 2).sum(1).max()))
            self.cells.append(_stacked(members))
        self.centres = _stacked(centres[kept])
        self.radii = np.asarray(radii, np.float32)
        self.sizes = np.asarray([c.shape[1] for c in self.cells], np.float64)
        self.last_share = 0.0
        """Share of all query-patch pairs the last search compared (1.0: as brute force)."""
        log.debug("memory bank of %d patches cut into %d cells", m, len(self.cells))

    def nearest(self, q: np.ndarray, q_sq: np.ndarray) -> np.ndarray | None:
        """float32 (N,) nearest distances of queries [q, 1] (N, D + 1) with norms² ``q_sq``;
        None when brute force is cheaper for these queries (most of them far from the bank)."""
        n = q.shape[0]
        k = len(self.cells)
        to_centre = np.sqrt(np.maximum(q @ self.centres + q_sq[:, None], 0.0))
        home = np.argmin(to_centre, axis=1)
        # first each query's own cell gives a patch, and so an upper bound on its distance
        best = np.empty(n, np.float32)
        order, bounds = _groups(home, k)
        for j in range(k):
            if bounds[j] == bounds[j + 1]:
                continue
            rows = order[bounds[j] : bounds[j + 1]]
            best[rows] = (q[rows] @ self.cells[j]).min(axis=1)
        bound = np.sqrt(np.maximum(best + q_sq, 0.0))
        # then every other cell that could hold a closer patch
        visit = to_centre - self.radii[None, :] <= bound[:, None] * (1.0 + SLACK) + SLACK
        visit[np.arange(n), home] = False
        own = float(self.sizes[home].sum())
        pairs = float((visit * self.sizes[None, :]).sum()) + own
        self.last_share = pairs / (n * float(self.sizes.sum()))
        if self.last_share > BRUTE_SHARE:
            return None
        for cell in np.flatnonzero(visit.any(axis=0)):
            rows = np.flatnonzero(visit[:, cell])
            best[rows] = np.minimum(best[rows], (q[rows] @ self.cells[cell]).min(axis=1))
        return np.sqrt(np.maximum(best + q_sq, 0.0))


def _sq(points: np.ndarray) -> np.ndarray:
    """‖p‖² of each row."""
    return np.einsum("ij,ij->i", points, points)


def _owners(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of each point's nearest centre (‖p‖² is the same for every centre: left out)."""
    return np.argmin(points @ (-2.0 * centres.T) + _sq(centres)[None, :], axis=1)


def _groups(labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(order, bounds): ``order[bounds[j]:bounds[j + 1]]`` are the indices labelled j, j < k."""
    order = np.argsort(labels, kind="stable")
    return order, np.searchsorted(labels[order], np.arange(k + 1))
