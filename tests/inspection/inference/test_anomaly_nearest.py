"""The memory-bank search: cut into cells it gives brute force's answer, and does less work."""

from __future__ import annotations

import numpy as np
import pytest

from inspection.inference.anomaly import nearest
from inspection.inference.anomaly.nearest import MIN_BANK, NearestBank


def _exact(queries: np.ndarray, bank: np.ndarray) -> np.ndarray:
    """Nearest distances in float64, one query at a time: the reference."""
    b = bank.astype(np.float64)
    return np.asarray([np.sqrt(((b - q) ** 2).sum(axis=1).min()) for q in queries])


def _line_bank(rng: np.random.Generator, n: int = 4096, dims: int = 32) -> np.ndarray:
    """A bank as a line making one product gives: patches bunched around a few looks."""
    looks = rng.normal(0.0, 10.0, (16, dims))
    which = rng.integers(0, len(looks), n)
    return (looks[which] + rng.normal(0.0, 0.5, (n, dims))).astype(np.float32)


def _good_queries(
    rng: np.random.Generator, bank: np.ndarray, n: int = 500, spread: float = 0.5
) -> np.ndarray:
    """Patches of good parts: close to taught ones, none of them the same."""
    near = bank[rng.integers(0, len(bank), n)]
    return (near + rng.normal(0.0, spread, near.shape)).astype(np.float32)


@pytest.mark.parametrize("dims", [8, 32])
def test_cells_give_brute_forces_answer_on_good_and_defective_patches(dims: int) -> None:
    # in 8 dims a cell's ball is tight: a search that skipped a cell it may not skip (a radius
    # too small, a slack of the wrong sign) gets some of these 2,000 queries wrong
    rng = np.random.default_rng(3)
    bank = _line_bank(rng, dims=dims)
    # spread 2: many a query's nearest patch lies in another cell than the centre nearest to it
    good = _good_queries(rng, bank, n=2000, spread=2.0)
    defect = (good[:40] + rng.normal(0.0, 8.0, good[:40].shape)).astype(np.float32)
    queries = np.concatenate([good, defect])
    exact = _exact(queries, bank)
    cells = NearestBank(bank).distances(queries)
    brute = NearestBank(bank, cells=False).distances(queries)
    assert np.allclose(cells, exact, rtol=1e-4, atol=2e-3)
    assert np.allclose(brute, exact, rtol=1e-4, atol=2e-3)


def test_cells_compare_a_small_share_of_a_dense_bank() -> None:
    rng = np.random.default_rng(4)
    bank = _line_bank(rng)
    queries = _good_queries(rng, bank)
    cells = nearest._Cells(bank)
    assert sum(c.shape[1] for c in cells.cells) == len(bank)  # each patch in exactly one cell
    q = np.concatenate([queries, np.ones((len(queries), 1), np.float32)], axis=1)
    found = cells.nearest(q, np.einsum("ij,ij->i", queries, queries))
    assert found is not None, "the cells were given up on a bank they suit"
    assert cells.last_share < 0.2, f"the search compared {cells.last_share:.0%} of all pairs"


def test_a_bank_the_cells_do_not_suit_goes_by_brute_force_and_skips_them_for_a_while() -> None:
    # a few varied good images: patches spread evenly, each query about as far from its nearest
    # patch as a cell is wide, so no cell can be ruled out
    rng = np.random.default_rng(5)
    bank = rng.normal(0.0, 1.0, (MIN_BANK * 2, 16)).astype(np.float32)
    queries = rng.normal(0.0, 1.0, (300, 16)).astype(np.float32)
    search = NearestBank(bank)
    assert search._cells is not None
    q = np.concatenate([queries, np.ones((len(queries), 1), np.float32)], axis=1)
    assert search._cells.nearest(q, np.einsum("ij,ij->i", queries, queries)) is None
    exact = _exact(queries, bank)
    assert np.allclose(search.distances(queries), exact, rtol=1e-4, atol=2e-3)
    assert search._skip == 1
    assert np.allclose(search.distances(queries), exact, rtol=1e-4, atol=2e-3)  # skipped
    assert search._skip == 0
    search.distances(queries)  # tried again, did not pay: skips the next two
    assert search._skip == 2
    for _ in range(40):
        search.distances(queries)
    assert search._skip <= nearest.MAX_SKIP


def test_cells_that_pay_again_are_used_again() -> None:
    rng = np.random.default_rng(7)
    bank = _line_bank(rng)
    search = NearestBank(bank)
    search._misses = 5  # as after a run of parts unlike the taught ones
    good = _good_queries(rng, bank)
    search.distances(good)
    assert search._misses == 0 and search._skip == 0


def test_a_bank_of_identical_patches_and_a_query_on_a_patch() -> None:
    # k-means leaves cells empty here; every cell kept must still hold its patches
    bank = np.zeros((MIN_BANK, 8), np.float32)
    bank[::2, 0] = 1.0
    queries = np.zeros((100, 8), np.float32)
    queries[50:, 0] = 3.0
    got = NearestBank(bank).distances(queries)
    assert np.allclose(got[:50], 0.0, atol=2e-3)
    assert np.allclose(got[50:], 2.0, atol=2e-3)


@pytest.mark.parametrize("knn", [1, 3])
def test_small_banks_few_queries_and_k_nearest_go_by_brute_force(knn: int) -> None:
    rng = np.random.default_rng(6)
    small = _line_bank(rng, n=MIN_BANK - 1)
    assert NearestBank(small, knn)._cells is None
    big = _line_bank(rng)
    assert (NearestBank(big, knn)._cells is None) == (knn > 1)
    queries = _good_queries(rng, big, n=10)
    b = big.astype(np.float64)
    d = np.sqrt(((b[None] - queries[:, None].astype(np.float64)) ** 2).sum(axis=2))
    want = np.sort(d, axis=1)[:, :knn].mean(axis=1)
    assert np.allclose(NearestBank(big, knn).distances(queries), want, rtol=1e-4, atol=2e-3)
