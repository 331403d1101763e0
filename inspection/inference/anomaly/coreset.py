"""Greedy k-center coreset (PatchCore's memory-bank subsampling), made to scale.

Exact greedy k-center costs one full pass over all N patches per chosen centre; for a 20k bank
from ~10^6 patches that is minutes. Here each round picks a batch of centres: it takes the
``4 × batch`` patches farthest from the bank so far, runs exact greedy among just those (so a
batch does not pile up in one far cluster), then updates every patch's distance to the bank with
one matrix product. Distances are computed in a fixed random projection (Johnson-Lindenstrauss),
which keeps their ranking while cutting the work, and the pool is randomly capped first.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

log = logging.getLogger(__name__)

PROJECTION_DIMS = 64
POOL_MAX = 400_000
ROUNDS = 128
"""Rounds of batched greedy; more is closer to exact greedy and slower."""


class CoresetCancelled(Exception):
    """The caller's cancel event was set while the coreset was being chosen."""


def greedy_coreset(
    features: np.ndarray,
    k: int,
    *,
    seed: int = 0,
    cancel: threading.Event | None = None,
) -> np.ndarray:
    """Indices (int64, (k,)) of ``k`` rows of ``features`` (float32 (N, D)) covering them well."""
    n = features.shape[0]
    if k >= n:
        return np.arange(n, dtype=np.int64)
    if k <= 0:
        raise ValueError(f"coreset size must be positive, got {k}")
    rng = np.random.default_rng(seed)
    pool = np.arange(n, dtype=np.int64)
    if n > POOL_MAX:
        pool = np.sort(rng.choice(n, POOL_MAX, replace=False))
    x = features[pool]
    d = x.shape[1]
    if d > PROJECTION_DIMS:
        proj = rng.standard_normal((d, PROJECTION_DIMS), dtype=np.float32)
        proj /= np.float32(np.sqrt(PROJECTION_DIMS))
        x = x @ proj
    x = np.ascontiguousarray(x, dtype=np.float32)
    sq = np.einsum("ij,ij->i", x, x)
    chosen = np.empty(k, dtype=np.int64)
    chosen[0] = int(rng.integers(len(pool)))
    mind = _sq_dist(x, sq, chosen[:1]).ravel()
    mind[chosen[0]] = -1.0
    have = 1
    batch = max(1, -(-k // ROUNDS))
    while have < k:
        if cancel is not None and cancel.is_set():
            raise CoresetCancelled
        b = min(batch, k - have)
        new = _far_and_spread(x, sq, mind, b)
        chosen[have : have + len(new)] = new
        have += len(new)
        np.minimum(mind, _sq_dist(x, sq, new).min(axis=1), out=mind)
        mind[new] = -1.0  # chosen: never picked again
    return pool[chosen]


def _sq_dist(x: np.ndarray, sq: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """float32 (N, len(idx)) squared distances from every row of x to rows ``idx``."""
    c = x[idx]
    out = x @ c.T
    out *= -2.0
    out += sq[:, None]
    out += sq[idx][None, :]
    np.maximum(out, 0.0, out=out)
    return out


def _far_and_spread(x: np.ndarray, sq: np.ndarray, mind: np.ndarray, b: int) -> np.ndarray:
    """``b`` indices: exact greedy k-center among the 4b patches currently farthest from the bank."""
    m = min(4 * b, int(np.count_nonzero(mind >= 0)))
    if b == 1 or m <= b:
        top = np.argpartition(mind, -b)[-b:] if b < len(mind) else np.arange(len(mind))
        return top[mind[top] >= 0]
    cand = np.argpartition(mind, -m)[-m:]
    local = mind[cand].copy()
    pair = _sq_dist(x[cand], sq[cand], np.arange(m))
    picked = np.empty(b, dtype=np.int64)
    for i in range(b):
        j = int(np.argmax(local))
        picked[i] = j
        np.minimum(local, pair[j], out=local)
        local[j] = -1.0
    return cand[picked]
