"""Anchor and FixedReal round the real count to the nearest integer; AccumulateSubsample draws its
subset in O(n) work per replicate with the same law as the previous implementation."""

from fractions import Fraction

import numpy as np
import pytest

import collapse_lib as cl
from collapse_lib.schemes import subset_indices

NS = (10, 100, 1000, 5000)
FRACTIONS = [round(0.01 * i, 2) for i in range(1, 100)]


def nearest_real(n, fraction):
    """Exact rational rounding of n * fraction (fraction as written in decimal), halves up."""
    x = Fraction(str(fraction)) * n
    return int(x + Fraction(1, 2)) if x >= 0 else None


def test_the_cases_of_the_issue():
    assert cl.Anchor(0.9).split(10) == (1, 9)
    assert cl.Anchor(0.55).split(100) == (45, 55)
    assert cl.FixedReal(0.9).split(10) == (1, 9)
    assert cl.FixedReal(0.55).split(100) == (45, 55)


@pytest.mark.parametrize("scheme", [cl.Anchor, cl.FixedReal])
def test_split_is_the_nearest_integer_everywhere(scheme):
    truncation_wrong = 0
    for n in NS:
        for f in FRACTIONS:
            n_syn, n_real = scheme(f).split(n)
            assert n_syn + n_real == n and n_real == nearest_real(n, f), (n, f)
            old_real = n - int(n * (1.0 - f))
            truncation_wrong += old_real != nearest_real(n, f)
    # the rule it replaces lost points to float truncation in some of these cases
    assert truncation_wrong > 0
    assert scheme(0.0).split(7) == (7, 0) and scheme(1.0).split(7) == (0, 7)
    assert scheme(0.5).split(7) == (3, 4)  # a half rounds up


def test_source_procedure_keeps_its_own_truncation():
    src = cl.source
    run = src.source_experiment(n=10, generations=1, anchor=0.9, seed=0)
    assert (run.n_synthetic, run.n_real) == (int(10 * (1 - 0.9)), 10 - int(10 * (1 - 0.9))) == (0, 10)


def old_subsample(pool, n, rng):
    """The previous AccumulateSubsample: n smallest of a uniform key per pooled point."""
    keys = rng.random(pool.shape[:2])
    idx = np.argpartition(keys, n - 1, axis=1)[:, :n]
    idx.sort(axis=1)
    return idx


@pytest.mark.parametrize("size, k", [(20, 10), (60, 10), (7, 5), (400, 10)])
def test_subset_law_matches_the_previous_implementation(size, k):
    rows = 30000
    new = subset_indices(np.random.default_rng(1), rows, size, k)
    old = old_subsample(np.zeros((rows, size)), k, np.random.default_rng(2))
    assert new.shape == (rows, k)
    assert np.all(np.diff(new, axis=1) > 0) and new.min() >= 0 and new.max() < size
    p1 = k / size
    p2 = k * (k - 1) / (size * (size - 1))
    for idx in (new, old):
        inc = np.zeros((rows, size), dtype=bool)
        inc[np.arange(rows)[:, None], idx] = True
        # each position is included with probability k / size: binomial SE over rows, 5 SE
        freq = inc.mean(axis=0)
        assert np.all(np.abs(freq - p1) < 5 * np.sqrt(p1 * (1 - p1) / rows))
        # a pair of positions together with probability k (k - 1) / (size (size - 1)): 5 SE
        both = (inc[:, 0] & inc[:, -1]).mean()
        assert abs(both - p2) < 5 * np.sqrt(p2 * (1 - p2) / rows)
        # how many of the first half are chosen: hypergeometric mean and variance, 5 SE
        half = size // 2
        count = inc[:, :half].sum(axis=1)
        mean = k * half / size
        var = k * (half / size) * (1 - half / size) * (size - k) / (size - 1)
        assert abs(count.mean() - mean) < 5 * np.sqrt(var / rows)
        assert abs(count.var(ddof=1) / var - 1) < 5 * np.sqrt(2 / rows)  # SE of a variance ratio


class OldAccumulateSubsample(cl.AccumulateSubsample):
    def next_data(self, t, n, synthetic, real, state):
        pool = self._grow(n, synthetic, state)
        return np.take_along_axis(pool, old_subsample(pool, n, state["rng"]), axis=1)


def test_recursion_statistics_match_the_previous_implementation():
    kw = dict(n=8, generations=6, replicates=20000, method="points")
    new = cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(), scheme=cl.AccumulateSubsample(), seed=3, **kw)
    old = cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(), scheme=OldAccumulateSubsample(), seed=4, **kw)
    for t in (1, 3, 6):
        for attr in ("var", "mean"):
            a, b = getattr(new.models[t], attr), getattr(old.models[t], attr)
            se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
            assert abs(a.mean() - b.mean()) < 4 * se, (t, attr)  # two samples of one law: 4 SE


def test_subset_work_does_not_grow_with_the_pool():
    # a pool of 10^12 points: one key per point (the previous way) could not even be allocated
    idx = subset_indices(np.random.default_rng(0), 3, 10**12, 50)
    assert idx.shape == (3, 50) and np.all(np.diff(idx, axis=1) > 0) and idx.max() < 10**12
    assert subset_indices(np.random.default_rng(0), 2, 5, 5).tolist() == [[0, 1, 2, 3, 4]] * 2
    assert subset_indices(np.random.default_rng(0), 2, 5, 0).shape == (2, 0)


@pytest.mark.parametrize("args, exc, words", [
    ((3, 5, 6), ValueError, "k"), ((0, 5, 2), ValueError, "rows"), ((2, 0, 0), ValueError, "size"),
    ((2, 5, 1.5), TypeError, "k"),
])
def test_subset_bad_input(args, exc, words):
    with pytest.raises(exc, match=words):
        subset_indices(np.random.default_rng(0), *args)


def _subset_scan_every_row(rng, rows, size, k):
    """The duplicate-redrawing rounds written the plain way: every round scans every row."""
    idx = np.sort(rng.integers(0, size, size=(rows, k)), axis=1)
    while k > 1:
        r, c = np.nonzero(idx[:, 1:] == idx[:, :-1])
        if r.size == 0:
            break
        idx[r, c + 1] = rng.integers(0, size, size=r.size)
        hit = np.unique(r)
        idx[hit] = np.sort(idx[hit], axis=1)
    return idx


@pytest.mark.parametrize("rows, size, k", [(100, 6000, 100), (7, 500, 100), (50, 1000, 30), (5, 100000, 2000),
                                           (3, 41, 10)])
def test_subset_rounds_on_the_remaining_rows_give_the_same_draws(rows, size, k):
    # Only the rows that still hold a duplicate are scanned after the first round; the draws and
    # their order must be those of scanning every row (chapters' AccumulateSubsample runs depend on it).
    for seed in range(10):
        expected = _subset_scan_every_row(np.random.default_rng(seed), rows, size, k)
        rng = np.random.default_rng(seed)
        np.testing.assert_array_equal(subset_indices(rng, rows, size, k), expected)
        # and the generator is left in the same state (the next draws of the run are unchanged)
        ref = np.random.default_rng(seed)
        _subset_scan_every_row(ref, rows, size, k)
        assert rng.integers(0, 2**62) == ref.integers(0, 2**62)
