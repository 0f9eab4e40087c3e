"""Tests for collapse_lib.studies.collapse_or_thrive (chapter 18).

Closed forms are checked against simulation at settings other than the chapter's
(the chapter uses n = 50 and ten generations); tolerances are a number of Monte
Carlo standard errors, computed from the replicates themselves.
"""

import numpy as np
import pytest

from collapse_lib.studies import collapse_or_thrive as ct

Z = 4.0  # standard errors allowed between a simulated mean and its exact expectation


def _mean_se(x):
    return x.mean(axis=-1), x.std(axis=-1, ddof=1) / np.sqrt(x.shape[-1])


def test_expected_nll_replace_matches_simulation():
    # n = 20, six fits: E[1/v] = (20/17)^k grows visibly; the SE comes from the replicates
    run = ct.workflow_losses("gaussian", 20, 5, "replace", replicates=4000, heldout=50, seed=11)
    m, se = _mean_se(run.nll)
    closed = ct.expected_nll_replace(np.arange(1, 7), 20)
    assert np.all(np.abs(m - closed) < Z * se), (m, closed, se)
    # the loss grows: last minus first is many standard errors above zero
    assert closed[-1] - closed[0] > 10 * se[-1]


def test_expected_nll_replace_first_fit_by_direct_integration():
    # one fit: 0.5 ln 2pi + 0.5 E[ln v] + 0.5 E[(1 + m^2)/v], m ~ N(0, 1/n), v ~ chi2(n-1)/n independent
    n = 9
    rng = np.random.default_rng(5)
    v = rng.chisquare(n - 1, 400_000) / n
    m = rng.standard_normal(400_000) / np.sqrt(n)
    loss = 0.5 * np.log(2 * np.pi) + 0.5 * np.log(v) + 0.5 * (1 + m**2) / v
    mean, se = loss.mean(), loss.std(ddof=1) / np.sqrt(loss.size)
    assert abs(mean - ct.expected_nll_replace(1, n)) < Z * se


def test_expected_var_accumulate_matches_simulation():
    # n = 8, six generations, the exact sufficient-statistics path; SE from the replicates
    run = ct.workflow_losses("gaussian", 8, 6, "accumulate", replicates=20000, heldout=5, seed=3)
    m, se = _mean_se(run.var)
    closed = ct.expected_var_accumulate(6, 8)
    assert np.all(np.abs(m - closed) < Z * se), (m, closed, se)


def test_expected_var_accumulate_product_form_and_limit():
    n, t = 13, 40
    v = ct.expected_var_accumulate(t, n, sigma2=2.5)
    assert v[0] == pytest.approx(2.5 * (n - 1) / n, rel=1e-12)
    j = np.arange(2, t + 2)
    product = 2.5 * (n - 1) / n * np.concatenate([[1.0], np.cumprod(1 - 1 / (n * j**2))])
    np.testing.assert_allclose(v, product, rtol=1e-12)
    # it settles above replace's geometric decay, below sigma^2
    assert np.all(np.diff(v) < 0) and v[-1] > 2.5 * (n - 1) / n * np.exp(-(np.pi**2 / 6 - 1) / n) * 0.999
    assert v[-1] > 2.5 * ((n - 1) / n) ** (t + 1)


def test_workflows_shapes_sizes_and_budget():
    for scheme, last in (("replace", 15), ("accumulate", 60), ("accumulate-subsample", 15)):
        run = ct.workflow_losses("kde", 15, 3, scheme, replicates=4, heldout=7, seed=0)
        assert run.nll.shape == (4, 4) and run.var.shape == (4, 4)
        assert run.train_size[-1] == last and run.train_size[0] == 15
        assert np.all(np.isfinite(run.nll))
    a = ct.workflow_losses("gaussian", 10, 2, "replace", replicates=3, seed=7)
    b = ct.workflow_losses("gaussian", 10, 2, "replace", replicates=3, seed=7)
    np.testing.assert_array_equal(a.nll, b.nll)


def test_replace_degrades_more_than_accumulate_subsample():
    # the ordering the chapter reports, at another setting (n = 30, eight generations)
    rep = ct.workflow_losses("gaussian", 30, 8, "replace", replicates=600, heldout=50, seed=21).nll[-1]
    sub = ct.workflow_losses("gaussian", 30, 8, "accumulate-subsample", replicates=600, heldout=50, seed=22).nll[-1]
    diff = rep.mean() - sub.mean()
    se = np.sqrt(rep.var(ddof=1) / rep.size + sub.var(ddof=1) / sub.size)
    assert diff > 3 * se


def test_mix_all_synthetic_worse_than_all_real_gaussian():
    # fixed total of 20: the generator's own sampling error rides on every synthetic point
    loss = ct.mix_losses("gaussian", 20, [0.0, 1.0], replicates=3000, heldout=50, seed=4)
    d = loss[0] - loss[1]
    assert d.mean() > 3 * d.std(ddof=1) / np.sqrt(d.size)


def test_added_zero_ratio_is_real_alone():
    a = ct.added_losses("kde", 12, [0.0], replicates=5, heldout=9, seed=8)
    b = ct.added_losses("kde", 12, [0.0, 2.0], replicates=5, heldout=9, seed=8)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(b[0], b[1])


def test_findings_cover_the_workflows():
    assert set(ct.SCHEMES) <= set(ct.KAZDAN_FINDINGS)


@pytest.mark.parametrize("call, exc", [
    (lambda: ct.workflow_losses("gmm", 10, 2), ValueError),
    (lambda: ct.workflow_losses("kde", 10, 2, scheme="keep"), ValueError),
    (lambda: ct.workflow_losses("gaussian", 3, 2), ValueError),
    (lambda: ct.workflow_losses("gaussian", 10, 2, replicates=1), ValueError),
    (lambda: ct.workflow_losses(1, 10, 2), TypeError),
    (lambda: ct.mix_losses("gaussian", 10, [0.1]), ValueError),      # one real point
    (lambda: ct.mix_losses("gaussian", 10, [1.5]), ValueError),
    (lambda: ct.added_losses("gaussian", 10, [-1.0]), ValueError),
    (lambda: ct.expected_nll_replace(0, 10), ValueError),
    (lambda: ct.expected_nll_replace(2, 3), ValueError),
    (lambda: ct.expected_var_accumulate(3, 10, sigma2=0.0), ValueError),
])
def test_validation(call, exc):
    with pytest.raises(exc):
        call()
