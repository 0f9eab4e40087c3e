"""Model families beyond the Normal: Gaussian mixture (EM), KDE, resampling, scikit-learn wrapper.

Tolerances are derived from standard errors (stated at each check); seeds are fixed.
"""

import warnings

import numpy as np
import pytest
from scipy import special

import collapse_lib as cl

pytestmark = pytest.mark.filterwarnings("error")


def rng(seed=0):
    return np.random.default_rng(seed)


# ---------------------------------------------------------------- Gaussian mixture (EM)

TRUE_W, TRUE_MU, TRUE_SD = np.array([0.7, 0.3]), np.array([0.0, 8.0]), np.array([1.0, 1.5])


def test_gmm_recovers_well_separated_mixture():
    world = cl.NormalMixture(TRUE_W, TRUE_MU, TRUE_SD)
    r, m = 200, 2000
    model = cl.GaussianMixtureFit(2).fit(world.sample(r * m, rng(1)).reshape(r, m))
    assert model.batch_shape == (r,)
    # asymptotic (well separated => nearly independent blocks) standard errors per replicate
    n_k = TRUE_W * m
    se_one = {
        "weights": np.sqrt(TRUE_W * (1 - TRUE_W) / m),
        "means": TRUE_SD / np.sqrt(n_k),
        "stds": TRUE_SD / np.sqrt(2 * n_k),
    }
    truth = {"weights": TRUE_W, "means": TRUE_MU, "stds": TRUE_SD}
    for name, se in se_one.items():
        fitted = getattr(model, name)
        # the average over replicates is unbiased up to O(1/m): tol = 4 * se of the mean
        assert np.all(np.abs(fitted.mean(axis=0) - truth[name]) < 4 * se / np.sqrt(r)), name
        # the spread across replicates matches the asymptotic SE (sd estimate has ~5% SE at r=200)
        ratio = fitted.std(axis=0, ddof=1) / se
        assert np.all((ratio > 0.8) & (ratio < 1.2)), (name, ratio)


def test_gmm_rare_tail_component_found():
    # the book's world: the 3% bump at 8 gets its own component
    world = cl.NormalMixture([0.97, 0.03], [0.0, 8.0], [1.0, 1.0])
    model = cl.GaussianMixtureFit(2).fit(world.sample(50 * 5000, rng(2)).reshape(50, 5000))
    se_w = np.sqrt(0.03 * 0.97 / 5000)
    assert np.all(np.abs(model.weights[:, 1] - 0.03) < 5 * se_w)
    assert np.all(np.abs(model.means[:, 1] - 8.0) < 5 / np.sqrt(0.03 * 5000))


def test_gmm_likelihood_never_decreases():
    world = cl.NormalMixture([0.5, 0.3, 0.2], [0.0, 1.0, 2.5], [1.0, 0.5, 0.7])  # overlapping: many EM steps
    model, loglik = cl.GaussianMixtureFit(3, n_iter=300).fit_with_history(world.sample(40 * 500, rng(3)).reshape(40, 500))
    assert loglik.shape[1] == 40 and loglik.shape[0] > 5
    steps = np.diff(loglik, axis=0)
    assert steps.min() >= -1e-10 * np.abs(loglik).max()
    # the final log-likelihood equals the model's own mean log density on the data
    data = world.sample(40 * 500, rng(3)).reshape(40, 500)
    np.testing.assert_allclose(loglik[-1], model.logpdf(data).mean(axis=1), rtol=1e-9)


def test_gmm_one_component_is_the_normal_mle():
    x = rng(4).normal(3.0, 2.0, size=(5, 300))
    gmm = cl.GaussianMixtureFit(1).fit(x)
    ref = cl.NormalFit(ddof=0).fit(x)
    np.testing.assert_allclose(gmm.means[:, 0], ref.mean, rtol=1e-12)
    np.testing.assert_allclose(gmm.stds[:, 0], ref.std, rtol=1e-12)
    np.testing.assert_array_equal(gmm.weights, 1.0)


@pytest.mark.parametrize("data", [
    np.full((3, 10), 2.5),                      # no spread at all
    np.array([[1.0, 1.0, 1.0, 1.0, 2.0]]),      # fewer distinct values than components
    np.array([[4.0]]),                           # a single point
    np.array([[0.0] * 50 + [1e6] * 2]),          # a far outlier
])
def test_gmm_degenerate_data_is_finite(data):
    model = cl.GaussianMixtureFit(3).fit(data)
    for arr in (model.weights, model.means, model.stds):
        assert np.all(np.isfinite(arr))
    np.testing.assert_allclose(model.weights.sum(axis=1), 1.0)
    assert np.all(model.stds >= 0)
    assert np.all(np.isfinite(model.tail_mass(2.0)))
    assert model.sample(5, rng()).shape == (data.shape[0], 5)


def test_gmm_all_equal_gives_point_mass():
    model = cl.GaussianMixtureFit(2).fit(np.full(20, -1.5))
    np.testing.assert_array_equal(model.stds, 0.0)
    np.testing.assert_array_equal(model.means, -1.5)
    assert model.tail_mass(-1.5) == 0.0 and model.tail_mass(-1.6) == 1.0


def test_gmm_empty_components_and_long_recursion():
    # K larger than the structure, and many generations: weights stay normalised, nothing NaN
    world = cl.NormalMixture([0.97, 0.03], [0.0, 8.0], [1.0, 1.0])
    run = cl.simulate(world, cl.GaussianMixtureFit(4, n_iter=30), n=20, generations=200, replicates=20, seed=5,
                      record_every=50)
    for model in run.models:
        assert np.all(np.isfinite(model.means)) and np.all(np.isfinite(model.stds))
        np.testing.assert_allclose(model.weights.sum(axis=1), 1.0)
    assert np.all(run.models[-1].var < run.models[0].var)  # collapse proceeds, floor is relative


def test_gmm_deterministic_and_explicit_init():
    x = cl.NormalMixture([0.5, 0.5], [-3.0, 3.0], [1.0, 1.0]).sample(600, rng(6)).reshape(2, 300)
    a, b = cl.GaussianMixtureFit(2).fit(x), cl.GaussianMixtureFit(2).fit(x.copy())
    np.testing.assert_array_equal(a.means, b.means)
    c = cl.GaussianMixtureFit(2, init=[-2.0, 2.0]).fit(x)
    np.testing.assert_allclose(c.means, a.means, atol=1e-3)


@pytest.mark.parametrize("kwargs, exc", [
    (dict(n_components=0), ValueError), (dict(n_components=1.5), TypeError),
    (dict(n_iter=0), ValueError), (dict(tol=0.0), ValueError), (dict(min_std=-1.0), ValueError),
    (dict(init="random"), ValueError), (dict(init=[0.0], n_components=2), ValueError),
    (dict(init=[0.0, np.nan]), ValueError),
])
def test_gmm_bad_arguments(kwargs, exc):
    with pytest.raises(exc, match=next(iter(kwargs))):
        cl.GaussianMixtureFit(**kwargs)


def test_gmm_bad_data():
    with pytest.raises(ValueError, match="data"):
        cl.GaussianMixtureFit(2).fit([1.0, np.nan])
    with pytest.raises(ValueError, match="data"):
        cl.GaussianMixtureFit(2).fit(np.empty((2, 0)))


# ---------------------------------------------------------------- KDE

def test_kde_is_equal_weight_mixture_on_the_data():
    x = rng(7).standard_normal((4, 30))
    model = cl.KDEFit(0.4).fit(x)
    np.testing.assert_array_equal(model.means, x)
    np.testing.assert_allclose(model.weights, 1 / 30)
    np.testing.assert_array_equal(model.stds, 0.4)
    # exact tail mass: average of the kernels' tails
    expected = special.ndtr(-(1.0 - x) / 0.4).mean(axis=1)
    np.testing.assert_allclose(model.tail_mass(1.0), expected, rtol=1e-12)
    np.testing.assert_allclose(model.var, x.var(axis=1) + 0.16, rtol=1e-12)


def test_kde_bandwidth_rules():
    x = rng(8).standard_normal((3, 500))
    sd = x.std(axis=1)
    iqr = np.subtract(*np.quantile(x, [0.75, 0.25], axis=1))
    np.testing.assert_allclose(cl.KDEFit("scott").fit(x).stds[:, 0], 1.059 * sd * 500 ** -0.2)
    np.testing.assert_allclose(cl.KDEFit("silverman").fit(x).stds[:, 0],
                               0.9 * np.minimum(sd, iqr / 1.349) * 500 ** -0.2)


def test_kde_zero_spread_is_point_mass():
    model = cl.KDEFit().fit(np.full((2, 10), 3.0))
    np.testing.assert_array_equal(model.stds, 0.0)
    np.testing.assert_array_equal(model.tail_mass(2.9), 1.0)
    np.testing.assert_array_equal(model.sample(4, rng()), 3.0)
    assert cl.KDEFit(0.5).fit(np.full(10, 3.0)).var == pytest.approx(0.25)


def test_kde_variance_inflation_closed_form():
    # fixed h: E[V_{t+1}] = (m-1)/m E[V_t] + h^2, and E[V_0] = (m-1)/m * 1 + h^2 for N(0, 1) data
    m, h, gens, r = 40, 0.3, 6, 4000
    run = cl.simulate(cl.Normal(0.0, 1.0), cl.KDEFit(h), n=m, generations=gens, replicates=r, seed=9)
    a = (m - 1) / m
    expected = [a + h**2]
    for _ in range(gens):
        expected.append(a * expected[-1] + h**2)
    var = run.trajectory("var")
    se = var.std(axis=1, ddof=1) / np.sqrt(r)
    assert np.all(np.abs(var.mean(axis=1) - expected) < 4 * se)  # tol = 4 * se


def test_kde_sampling_is_resample_plus_noise():
    x = np.array([[0.0, 10.0]])
    model = cl.KDEFit(0.5).fit(x)
    s = model.sample(20000, rng(10))[0]
    near0 = s < 5
    frac = near0.mean()
    assert abs(frac - 0.5) < 4 * np.sqrt(0.25 / 20000)  # tol = 4 * binomial se
    assert abs(s[near0].std() - 0.5) < 4 * 0.5 / np.sqrt(2 * near0.sum())


@pytest.mark.parametrize("bw, exc", [(0.0, ValueError), (-1.0, ValueError), (np.nan, ValueError),
                                     ("auto", ValueError), (True, TypeError), (None, TypeError)])
def test_kde_bad_bandwidth(bw, exc):
    with pytest.raises(exc, match="bandwidth"):
        cl.KDEFit(bw)


# ---------------------------------------------------------------- resampling (empirical)

def test_empirical_exact_properties():
    x = rng(11).standard_normal((5, 40))
    model = cl.EmpiricalFit().fit(x)
    np.testing.assert_array_equal(model.mean, x.mean(axis=1))
    np.testing.assert_allclose(model.var, x.var(axis=1), rtol=1e-12)
    grid = np.linspace(-2, 2, 25)
    np.testing.assert_array_equal(model.tail_mass(grid), (x[:, :, None] > grid).mean(axis=1))
    np.testing.assert_array_equal(model.tail_mass(0.5), (x > 0.5).mean(axis=1))
    np.testing.assert_array_equal(model.cdf(0.5), 1 - (x > 0.5).mean(axis=1))
    assert cl.Empirical([0.0, 1.0, 2.0, 6.0]).quantile(0.5) == 1.0


def test_empirical_sampling_resamples():
    x = rng(12).standard_normal((3, 25))
    s = cl.EmpiricalFit().fit(x).sample(100, rng(13))
    assert s.shape == (3, 100)
    for row, pts in zip(s, x):
        assert np.isin(row, pts).all()
    lp = cl.EmpiricalFit().fit(x).logpmf(s)
    np.testing.assert_allclose(lp, np.log(1 / 25))  # distinct points: each has mass 1/m


def test_empirical_distinct_values_closed_form():
    # one bootstrap generation keeps m (1 - (1 - 1/m)^m) distinct values in expectation
    m, r = 50, 4000
    run = cl.simulate(cl.Normal(0.0, 1.0), cl.EmpiricalFit(), n=m, generations=1, replicates=r, seed=14)
    distinct = np.array([np.unique(row).size for row in run.models[1].points])
    expected = m * (1 - (1 - 1 / m) ** m)
    se = distinct.std(ddof=1) / np.sqrt(r)
    assert abs(distinct.mean() - expected) < 4 * se  # tol = 4 * se


def test_empirical_unbatched_and_bad_input():
    model = cl.EmpiricalFit().fit([1.0, 2.0, 3.0])
    assert model.batch_shape == () and model.tail_mass(1.5) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="points"):
        cl.Empirical([1.0, np.inf])
    with pytest.raises(ValueError, match="data"):
        cl.EmpiricalFit().fit([])
    with pytest.raises(ValueError, match="u"):
        cl.Empirical([1.0]).quantile(1.5)


# ---------------------------------------------------------------- scikit-learn wrapper

from sklearn.linear_model import LinearRegression  # noqa: E402  (in requirements.txt)
from sklearn.mixture import GaussianMixture  # noqa: E402
from sklearn.neighbors import KernelDensity  # noqa: E402


def test_sklearn_shapes_and_determinism():
    data = rng(15).standard_normal((3, 200))
    model = cl.SklearnFamily(GaussianMixture(n_components=2)).fit(data)
    a = model.sample(50, rng(1))
    assert a.shape == (3, 50)
    np.testing.assert_array_equal(a, model.sample(50, rng(1)))
    assert not np.array_equal(a, model.sample(50, rng(2)))
    # fitting is deterministic too (random_state None -> 0)
    again = cl.SklearnFamily(GaussianMixture(n_components=2)).fit(data)
    np.testing.assert_array_equal(again.sample(50, rng(1)), a)
    assert model.exact is False
    assert model.logpdf(data[:, :7]).shape == (3, 7)


def test_sklearn_kernel_density_matches_kde_variance():
    # KernelDensity sampling = resample + kernel noise: variance = data var + h^2
    data = rng(16).standard_normal((2, 100))
    model = cl.SklearnFamily(lambda: KernelDensity(bandwidth=0.5)).fit(data)
    size = 40000
    s = model.sample(size, rng(3))
    target = data.var(axis=1) + 0.25
    se = target * np.sqrt(2 / size)  # normal-theory se of a sample variance (slightly conservative here)
    assert np.all(np.abs(s.var(axis=1) - target) < 5 * se)


def test_sklearn_multidimensional_data():
    data = rng(17).standard_normal((2, 150, 3))
    model = cl.SklearnFamily(GaussianMixture(1)).fit(data)
    assert model.sample(10, rng()).shape == (2, 10, 3)
    assert model.mean.shape == (2, 3)
    with pytest.raises(ValueError, match="one-dimensional"):
        model.tail_mass(0.0)


def test_sklearn_in_simulate_and_unbatched():
    run = cl.simulate(cl.Normal(0.0, 1.0), cl.SklearnFamily(GaussianMixture(1)), n=100, generations=2,
                      replicates=3, seed=0)
    assert run.models[2].batch_shape == (3,)
    one = cl.SklearnFamily(GaussianMixture(1)).fit(rng().standard_normal(50))
    assert one.sample(4, rng()).shape == (4,)


def test_sklearn_bad_estimator():
    with pytest.raises(TypeError, match="sample"):
        cl.SklearnFamily(LinearRegression())
    with pytest.raises(TypeError, match="estimator"):
        cl.SklearnFamily(3)
    with pytest.raises(TypeError, match="factory"):
        cl.SklearnFamily(lambda: 3).fit(np.zeros((1, 5)))


def test_no_warnings_anywhere():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for fam in (cl.GaussianMixtureFit(2), cl.KDEFit(), cl.EmpiricalFit()):
            m = fam.fit(np.zeros((2, 5)))
            m.tail_mass(0.0), m.mean, m.var
