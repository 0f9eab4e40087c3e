"""Covariance collapse in d dimensions (chapter 15): the closed forms against simulation.

Statistical checks compare a Monte Carlo mean with its closed form within ``TOL_SE = 4.5``
standard errors of that mean (SE from the replicates, ``std(ddof=1)/sqrt(R)``), with fixed
seeds. The settings (d = 3 or 4, n = 9 to 15, both estimators) differ from the chapter's
(n = 200, d = 2 to 100): at small n the digamma sum differs clearly from its large-n
approximations, so an approximate formula fails here.
"""

import numpy as np
import pytest
from scipy.special import digamma

import collapse_lib as cl
from collapse_lib.studies import multivariate_collapse as mvc

TOL_SE = 4.5


def assert_mc(values, expected, what=""):
    values = np.asarray(values, dtype=float)
    se = values.std(ddof=1) / np.sqrt(values.size)
    diff = values.mean() - expected
    assert abs(diff) <= TOL_SE * se, f"{what}: mean {values.mean():.6g} vs theory {expected:.6g} (se {se:.3g})"


def test_logdet_drift_by_hand():
    # d = 2, n = 5, MLE: psi(2) + psi(3/2) + 2 ln 2 - 2 ln 5
    expected = digamma(2.0) + digamma(1.5) + 2 * np.log(2) - 2 * np.log(5)
    assert mvc.logdet_drift(2, 5, ddof=0) == pytest.approx(expected, rel=1e-12)
    # the unbiased estimator divides by n - 1: each of the d terms gains ln(5/4)
    assert mvc.logdet_drift(2, 5, ddof=1) - mvc.logdet_drift(2, 5, ddof=0) == pytest.approx(2 * np.log(5 / 4))
    # d = 1 is the one-dimensional drift psi((n-1)/2) + ln 2 - ln(n - ddof)
    assert mvc.logdet_drift(1, 11, 1) == pytest.approx(digamma(5.0) + np.log(2) - np.log(10))
    # negative for both estimators (a.s. collapse of the determinant), even unbiased
    for d, n in [(1, 3), (5, 6), (20, 400)]:
        assert mvc.logdet_drift(d, n, 1) < 0


def test_expectations_are_exact_functions_of_fits():
    assert mvc.expected_trace_ratio(0, 10) == 1.0
    assert mvc.expected_trace_ratio(3, 10, ddof=0) == pytest.approx(0.9**3)
    assert mvc.expected_trace_ratio(7, 10, ddof=1) == pytest.approx(1.0)
    assert mvc.expected_det_ratio(2, 2, 5, ddof=0) == pytest.approx((4 * 3 / 25) ** 2)
    k = np.array([1.0, 2.0, 5.0])
    assert np.allclose(mvc.expected_logdet_ratio(k, 4, 9), k * mvc.logdet_drift(4, 9))
    assert np.allclose(mvc.logdet_ratio_sd(k, 4, 9) ** 2, k * mvc.logdet_ratio_sd(1, 4, 9) ** 2)
    # Jensen: E[log det ratio] < log E[det ratio]
    assert mvc.expected_logdet_ratio(3, 4, 9, 1) < np.log(mvc.expected_det_ratio(3, 4, 9, 1))


@pytest.mark.parametrize("d, n, ddof", [(3, 9, 0), (4, 15, 1)])
def test_replace_against_closed_forms(d, n, ddof):
    run = mvc.covariance_collapse(d, n, generations=5, scheme="replace", replicates=4000, ddof=ddof, seed=11)
    for k in (1, 3, 6):
        row = k - 1
        assert_mc(run.logdet_ratio[row], mvc.expected_logdet_ratio(k, d, n, ddof), f"E log det, k={k}")
        assert_mc(run.trace_ratio[row], mvc.expected_trace_ratio(k, n, ddof), f"E trace, k={k}")
    # the standard deviation of the log-det random walk: its sample SD within 4.5 SE of it
    # (SE of a sample SD of near-normal values ~ sd / sqrt(2 (R - 1)))
    sd = run.logdet_ratio[-1].std(ddof=1)
    sd_theory = mvc.logdet_ratio_sd(6, d, n)
    assert abs(sd - sd_theory) <= TOL_SE * sd_theory / np.sqrt(2 * (run.replicates - 1))
    # E[det ratio] after two fits (finite variance at these settings)
    assert_mc(np.exp(run.logdet_ratio[1]), mvc.expected_det_ratio(2, d, n, ddof), "E det ratio, k=2")


@pytest.mark.parametrize("scheme", ["replace", "accumulate", "accumulate-subsample"])
def test_schemes_agree_with_the_library_simulation(scheme):
    # the same law as cl.simulate with the library's schemes (points path), d = 3, n = 10:
    # difference of two independent means within 4.5 combined SE
    d, n, R, G = 3, 10, 3000, 4
    ours = mvc.covariance_collapse(d, n, G, scheme=scheme, replicates=R, seed=5)
    schemes = {"replace": cl.Replace(), "accumulate": cl.Accumulate(),
               "accumulate-subsample": cl.AccumulateSubsample()}
    world = cl.MultivariateNormal(np.zeros(d), np.eye(d))
    ref = cl.simulate(world, cl.MultivariateNormalFit(ddof=0), n=n, generations=G, scheme=schemes[scheme],
                      replicates=R, seed=6, method="points")
    theirs_ld = ref.models[G].logdet
    theirs_tr = ref.models[G].trace / d
    for a, b in [(ours.logdet_ratio[-1], theirs_ld), (ours.trace_ratio[-1], theirs_tr)]:
        se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
        assert abs(a.mean() - b.mean()) <= TOL_SE * se


def test_accumulate_holds_the_determinant_better_than_replace():
    # at d = 4, n = 12 after 8 fits: replace's E log det ratio is about 8 * (-1.1); accumulate's
    # stays far above it (the pooled estimate converges). Ordering by > 10 combined SE.
    rep = mvc.covariance_collapse(4, 12, 7, "replace", 500, seed=1).logdet_ratio[-1]
    acc = mvc.covariance_collapse(4, 12, 7, "accumulate", 500, seed=2).logdet_ratio[-1]
    sub = mvc.covariance_collapse(4, 12, 7, "accumulate-subsample", 500, seed=3).logdet_ratio[-1]
    def z(a, b):
        return (a.mean() - b.mean()) / np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    assert z(acc, rep) > 10
    assert z(sub, rep) > 10


def test_mean_sq_and_shapes():
    run = mvc.covariance_collapse(2, 6, 3, replicates=7, seed=0)
    assert run.logdet_ratio.shape == run.trace_ratio.shape == run.mean_sq.shape == (4, 7)
    assert run.fits.tolist() == [1, 2, 3, 4]
    # after one fit, E|mu_1|^2 = d / n exactly
    one = mvc.covariance_collapse(3, 8, 0, replicates=20000, seed=4)
    assert_mc(one.mean_sq[0], 3 / 8, "E|mu|^2 after one fit")


def test_determinism_and_seeds():
    a = mvc.covariance_collapse(3, 10, 3, "accumulate-subsample", 5, seed=9)
    b = mvc.covariance_collapse(3, 10, 3, "accumulate-subsample", 5, seed=9)
    c = mvc.covariance_collapse(3, 10, 3, "accumulate-subsample", 5, seed=10)
    assert np.array_equal(a.logdet_ratio, b.logdet_ratio)
    assert not np.array_equal(a.logdet_ratio, c.logdet_ratio)


@pytest.mark.parametrize("kwargs, match", [
    (dict(d=0, n=5, generations=1), "d must be"),
    (dict(d=5, n=5, generations=1), "n must be at least d"),
    (dict(d=2, n=5, generations=-1), "generations"),
    (dict(d=2, n=5, generations=1, replicates=0), "replicates"),
    (dict(d=2, n=5, generations=1, scheme="pool"), "scheme"),
    (dict(d=2, n=5, generations=1, ddof=2), "ddof"),
])
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mvc.covariance_collapse(**kwargs)


def test_bad_input_closed_forms():
    with pytest.raises(ValueError, match="fits"):
        mvc.expected_trace_ratio(-1, 10)
    with pytest.raises(ValueError, match="n must be at least d"):
        mvc.logdet_drift(10, 10)
