"""Metrics: tail mass (exact or estimated, and saying which), moments, W2, categorical metrics.

Tolerances are derived from standard errors where values are random (stated at each check).
"""

import warnings

import numpy as np
import pytest
from scipy import stats

import collapse_lib as cl
from collapse_lib import metrics as M

pytestmark = pytest.mark.filterwarnings("error")

WORLD = cl.NormalMixture([0.97, 0.03], [0.0, 8.0], [1.0, 1.0])


class SampleOnly(cl.Distribution):
    """A model that can only sample (no exact properties)."""

    def __init__(self, r):
        self.batch_shape = (r,)

    def sample(self, size, rng):
        return rng.standard_normal((self.batch_shape[0], size))


# ---------------------------------------------------------------- tail mass

def test_tail_mass_exact_for_models():
    t = M.tail_mass(WORLD, 5.0)
    assert t.exact and t.method == "exact" and t.se is None
    expected = 0.97 * stats.norm.sf(5.0) + 0.03 * stats.norm.sf(5.0, loc=8.0)
    assert float(t) == pytest.approx(expected, rel=1e-12)
    batch = cl.Normal._from_params(np.array([0.0, 1.0]), np.array([1.0, 2.0]))
    np.testing.assert_allclose(M.tail_mass(batch, [1.0, 2.0]),
                               stats.norm.sf([[1.0, 2.0], [0.0, 0.5]]), rtol=1e-12)


def test_tail_mass_of_data_is_the_fraction_above():
    x = np.array([[0.0, 6.0, 7.0, 1.0], [5.0, 5.0, 4.0, 9.0]])
    t = M.tail_mass(x, 5.0)
    assert t.exact and t.method == "data"
    np.testing.assert_array_equal(t, [0.5, 0.25])  # strictly above


def test_tail_mass_estimated_says_so_and_is_within_its_se():
    t = M.tail_mass(SampleOnly(50), 1.0, size=4000, rng=np.random.default_rng(1))
    assert not t.exact and t.method == "monte carlo"
    truth = stats.norm.sf(1.0)
    z = (np.asarray(t) - truth) / np.sqrt(truth * (1 - truth) / 4000)
    # 50 independent estimates standardised by their exact se: mean ~ N(0, 1/50), sd ~ 1
    assert abs(z.mean()) < 4 / np.sqrt(50) and 0.7 < z.std() < 1.3
    np.testing.assert_allclose(t.se, np.sqrt(t * (1 - t) / 4000))


def test_tail_mass_of_sklearn_model_is_flagged_estimate():
    from sklearn.mixture import GaussianMixture

    model = cl.SklearnFamily(GaussianMixture(1)).fit(np.random.default_rng(2).standard_normal((2, 300)))
    t = M.tail_mass(model, 1.0)
    assert not t.exact and t.se.shape == (2,)


def test_measured_behaves_as_an_array():
    t = M.tail_mass(cl.Normal._from_params(np.zeros(3), np.ones(3)), 0.0)
    assert type(t * 2) is np.ndarray and type(np.asarray(t)) is np.ndarray
    run = cl.simulate(WORLD, cl.NormalFit(), n=50, generations=2, replicates=4, seed=0)
    assert run.trajectory(lambda m: M.tail_mass(m, 5.0)).shape == (3, 4)


@pytest.mark.parametrize("thr, exc", [(np.nan, ValueError), ([1.0, np.nan], ValueError),
                                      ("5", TypeError), (np.zeros((2, 2)), TypeError)])
def test_tail_mass_bad_threshold(thr, exc):
    with pytest.raises(exc, match="threshold"):
        M.tail_mass(WORLD, thr)


def test_moments():
    x = np.random.default_rng(3).standard_normal((3, 40))
    np.testing.assert_array_equal(M.mean(x), x.mean(axis=1))
    np.testing.assert_array_equal(M.std(x), x.std(axis=1))
    assert M.mean(WORLD).exact and float(M.mean(WORLD)) == pytest.approx(0.24)
    assert float(M.std(WORLD)) == pytest.approx(np.sqrt(2.8624))


# ---------------------------------------------------------------- W2

def test_w2_normal_closed_form():
    d = M.w2(cl.Normal(1.0, 2.0), cl.Normal(-1.0, 0.5))
    assert d.exact and float(d) == pytest.approx(np.sqrt(4.0 + 2.25))
    assert float(M.w2(cl.Normal(1.0, 2.0), cl.Normal(-1.0, 0.5), squared=True)) == pytest.approx(6.25)


def test_w2_numerical_agrees_with_closed_form():
    one = cl.NormalMixture([1.0], [1.0], [2.0])
    d = M.w2(one, cl.Normal(-1.0, 0.5), squared=True)
    assert not d.exact and d.method == "quantile grid"
    # midpoint grid of 2000 levels misses the extreme tails: relative error < 1e-3 for normals
    assert float(d) == pytest.approx(6.25, rel=1e-3)
    assert float(M.w2(WORLD, WORLD)) == pytest.approx(0.0, abs=1e-9)


def test_w2_batched_mixture_kde_empirical():
    x = WORLD.sample(600, np.random.default_rng(4)).reshape(3, 200)
    for model in (cl.GaussianMixtureFit(2).fit(x), cl.KDEFit().fit(x), cl.EmpiricalFit().fit(x)):
        d = M.w2(model, WORLD, grid=400)
        assert d.shape == (3,) and np.all(np.isfinite(d)) and np.all(d >= 0)
    # empirical law vs itself through the data path
    np.testing.assert_allclose(M.w2(cl.EmpiricalFit().fit(x), x, grid=400), 0.0, atol=1e-12)


def test_quantile_inverts_mixture_cdf():
    u = np.array([0.001, 0.3, 0.97, 0.9999])
    q = M.quantile(WORLD, u)
    np.testing.assert_allclose(WORLD.cdf(q), u, rtol=1e-9)
    with pytest.raises(ValueError, match="u"):
        M.quantile(WORLD, [0.0])
    with pytest.raises(TypeError, match="quantile"):
        M.quantile(cl.Categorical([0.5, 0.5]), [0.5])


# ---------------------------------------------------------------- categorical

P = cl.Categorical([0.5, 0.3, 0.2, 0.0])
Q = cl.Categorical._from_params(np.array([[0.5, 0.5, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]]))


def test_kl_handles_lost_categories():
    kl = M.kl(P, Q)
    assert kl[0] == np.inf  # the model lost a category the world has: infinite, not NaN
    assert kl[1] == pytest.approx(stats.entropy([0.5, 0.3, 0.2, 0.0], [0.25] * 4))
    assert M.kl(Q, P)[0] == pytest.approx(stats.entropy([0.5, 0.5, 0, 0], [0.5, 0.3, 0.2, 0.0]))
    assert M.kl(Q, P)[1] == np.inf
    assert M.kl(P, P) == 0.0


def test_tv_heterozygosity_surviving_entropy():
    np.testing.assert_allclose(M.total_variation(P, Q), [0.2, 0.3])
    np.testing.assert_allclose(M.heterozygosity(Q), Q.heterozygosity)
    np.testing.assert_array_equal(M.surviving(Q), [2, 4])
    np.testing.assert_allclose(M.entropy(Q), [np.log(2), np.log(4)])
    assert M.entropy([1.0, 0.0]) == 0.0


def test_heterozygosity_decays_as_wright_fisher():
    m, gens, r = 20, 10, 4000
    run = cl.simulate(cl.Categorical([0.5, 0.3, 0.15, 0.05]), cl.CategoricalFit(), n=m, generations=gens,
                      replicates=r, seed=5)
    h = M.heterozygosity(run.models[gens])
    h0 = 1 - np.sum(np.square([0.5, 0.3, 0.15, 0.05]))
    # generation 0 is itself a fit on m draws: gens + 1 drift steps
    expected = (1 - 1 / m) ** (gens + 1) * h0
    assert abs(h.mean() - expected) < 4 * h.std(ddof=1) / np.sqrt(r)  # tol = 4 * se


def test_perplexity():
    ids = np.array([0, 1, 2, 3, 0])
    assert M.perplexity(cl.Categorical([0.25] * 4), ids) == pytest.approx(4.0)
    pp = M.perplexity(Q, np.array([0, 1, 2]))
    assert pp[0] == np.inf and pp[1] == pytest.approx(4.0)
    smooth = M.perplexity(Q, np.array([0, 1, 2]), smoothing=0.01)
    assert np.all(np.isfinite(smooth)) and smooth[0] > 4.0
    # continuous: exp(entropy) of N(0, 1) is sqrt(2 pi e)
    x = np.random.default_rng(6).standard_normal(20000)
    nll = 0.5 * (np.log(2 * np.pi) + x**2)
    se = np.exp(nll.mean()) * nll.std(ddof=1) / np.sqrt(x.size)  # delta method
    assert abs(M.perplexity(cl.Normal(0.0, 1.0), x) - np.sqrt(2 * np.pi * np.e)) < 4 * se
    collapsed = cl.Normal._from_params(np.zeros(2), np.zeros(2))
    np.testing.assert_array_equal(M.perplexity(collapsed, x[:5]), np.inf)


@pytest.mark.parametrize("call, exc, name", [
    (lambda: M.kl([0.5, 0.6], [0.5, 0.5]), ValueError, "p"),
    (lambda: M.total_variation([0.5, 0.5], [-0.5, 1.5]), ValueError, "q"),
    (lambda: M.perplexity(P, np.array([0.5])), TypeError, "heldout"),
    (lambda: M.perplexity(P, np.array([7])), ValueError, "heldout"),
    (lambda: M.perplexity(P, np.array([0]), smoothing=2.0), ValueError, "smoothing"),
    (lambda: M.w2(WORLD, WORLD, grid=1), ValueError, "grid"),
])
def test_metrics_bad_input(call, exc, name):
    with pytest.raises(exc, match=name):
        call()


# ------------------------------------------------------------------ held-out NLL, extremes

def _direct_mixture_logpdf(w, mu, sd, x):
    """log sum_i w_i N(x; mu_i, sd_i^2) term by term (no expansion of the square), by scipy's logsumexp."""
    from scipy.special import logsumexp

    with np.errstate(divide="ignore"):
        terms = (np.log(w)[:, None, :] - np.log(sd)[:, None, :] - 0.5 * np.log(2 * np.pi)
                 - 0.5 * ((x[..., None] - mu[:, None, :]) / sd[:, None, :]) ** 2)
    return logsumexp(terms, axis=-1)


def test_heldout_nll_of_mixtures_equals_the_direct_log_sum_exp():
    # heldout_nll scores 1-D mixtures by one matrix product per block; it must equal the
    # term-by-term log-sum-exp to float rounding (inputs within a few dozen stds, where the
    # expanded square loses no more than ~1e-13 to cancellation).
    rng = np.random.default_rng(11)
    for trial in range(60):
        r, k, c = rng.integers(1, 6), rng.integers(1, 40), rng.integers(1, 300)
        w = rng.dirichlet(np.ones(k), size=r)
        if trial % 4 == 0 and k > 1:
            w[:, 0] = 0.0  # a component of weight 0 (log w = -inf): the elementwise path
            w /= w.sum(axis=1, keepdims=True)
        mu = rng.normal(0.0, rng.uniform(0.1, 3.0), size=(r, k))
        sd = rng.uniform(0.1, 2.0, size=(r, k))
        x = rng.normal(0.0, rng.uniform(0.5, 4.0), size=(r, c))
        if trial % 3 == 0:
            x[:, :2] = 60.0  # far from every component: the log-sum-exp fallback
        model = cl.NormalMixture._from_params(w, mu, sd)
        expected = -_direct_mixture_logpdf(w, mu, sd, x).mean(axis=1)
        for block in (None, 1, 97):
            np.testing.assert_allclose(M.heldout_nll(model, x, block=block), expected, rtol=1e-12)


def test_perplexity_of_a_collapsing_normal_has_the_right_limit_without_warnings():
    # The recursion's std passes 1e-160 on its way to 0 (issue 14): perplexity must follow
    # its limit with no warning. Off the mean the density goes to 0 (perplexity -> inf);
    # at the mean it is 1 / (std sqrt(2 pi)), so the perplexity is std sqrt(2 pi) -> 0.
    x = np.random.default_rng(3).standard_normal(50)
    at_mean = np.zeros(4)
    last = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for s in [10.0 ** -e for e in range(0, 321, 8)] + [5e-324, 0.0]:
            model = cl.Normal._from_params(np.zeros(2), np.full(2, s))
            pp = M.perplexity(model, x)
            assert not np.any(np.isnan(pp))
            assert np.all(pp >= last)  # grows as the std shrinks
            last = pp[0]
            if s < 1e-150:
                np.testing.assert_array_equal(pp, np.inf)
            at = M.perplexity(model, at_mean)
            np.testing.assert_allclose(at, s * np.sqrt(2 * np.pi), rtol=1e-12 if s > 1e-300 else 1.0, atol=0)
            if s == 0.0:
                np.testing.assert_array_equal(at, 0.0)
