"""Exact properties of the core distributions, checked against integration and sampling.

Sampling checks use fixed seeds and tolerances of 5 standard errors of the
estimate (so a correct implementation fails with probability below 1e-6 per
check, and a wrong mean, variance or tail shows up as many SEs off).
"""

import warnings

import numpy as np
import pytest
from scipy import integrate, stats

import collapse_lib as cl

WORLD = dict(weights=[0.97, 0.03], means=[0.0, 8.0], stds=[1.0, 1.0])


def pdf(dist, x):
    return float(np.exp(dist.logpdf(np.asarray(x))))


def test_mixture_exact_moments_and_tail_match_integration():
    world = cl.NormalMixture(**WORLD)
    mass = integrate.quad(lambda x: pdf(world, x), -np.inf, np.inf)[0]
    mean = integrate.quad(lambda x: x * pdf(world, x), -np.inf, np.inf)[0]
    var = integrate.quad(lambda x: (x - mean) ** 2 * pdf(world, x), -np.inf, np.inf)[0]
    tail = integrate.quad(lambda x: pdf(world, x), 5.0, np.inf)[0]
    assert mass == pytest.approx(1.0, abs=1e-9)
    assert world.mean == pytest.approx(mean, abs=1e-9)
    assert world.var == pytest.approx(var, abs=1e-8)
    assert world.tail_mass(5.0) == pytest.approx(tail, abs=1e-10)
    assert isinstance(world.tail_mass(5.0), float)
    # Closed form by hand: 0.97 * P(Z > 5) + 0.03 * P(Z > -3).
    assert world.tail_mass(5.0) == pytest.approx(0.97 * stats.norm.sf(5) + 0.03 * stats.norm.sf(-3), rel=1e-12)


def test_normal_matches_scipy():
    d = cl.Normal(1.5, 2.0)
    x = np.linspace(-5, 8, 27)
    np.testing.assert_allclose(d.tail_mass(x), stats.norm.sf(x, 1.5, 2.0), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(d.logpdf(x), stats.norm.logpdf(x, 1.5, 2.0), rtol=1e-12)
    assert (d.mean, d.var, d.std) == (1.5, 4.0, 2.0)


@pytest.mark.parametrize("size", [200_000])
def test_mixture_sampling_matches_exact_properties(size):
    world = cl.NormalMixture(**WORLD)
    x = world.sample(size, np.random.default_rng(0))
    assert x.shape == (size,)
    se_mean = np.sqrt(world.var / size)
    assert abs(x.mean() - world.mean) < 5 * se_mean
    p = world.tail_mass(5.0)
    se_tail = np.sqrt(p * (1 - p) / size)
    assert abs((x > 5.0).mean() - p) < 5 * se_tail
    # Variance: SE of the sample variance is sqrt((mu4 - sigma^4) / size), mu4 estimated.
    se_var = np.sqrt((np.mean((x - x.mean()) ** 4) - x.var() ** 2) / size)
    assert abs(x.var() - world.var) < 5 * se_var


def test_categorical_sampling_frequencies():
    probs = np.array([0.5, 0.3, 0.15, 0.05])
    size = 200_000
    ids = cl.Categorical(probs).sample(size, np.random.default_rng(1))
    assert ids.dtype.kind == "i" and ids.shape == (size,)
    freq = np.bincount(ids, minlength=4) / size
    se = np.sqrt(probs * (1 - probs) / size)
    assert np.all(np.abs(freq - probs) < 5 * se)


def test_batched_sampling_respects_each_replicate():
    means = np.array([-3.0, 0.0, 10.0])
    stds = np.array([0.5, 1.0, 2.0])
    d = cl.Normal._from_params(means, stds)
    x = d.sample(100_000, np.random.default_rng(2))
    assert x.shape == (3, 100_000)
    assert np.all(np.abs(x.mean(axis=1) - means) < 5 * stds / np.sqrt(100_000))
    probs = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.2, 0.3, 0.5]])
    ids = cl.Categorical(probs).sample(50_000, np.random.default_rng(3))
    assert np.all(ids[0] == 0) and np.all(ids[1] == 2)
    freq = np.bincount(ids[2], minlength=3) / 50_000
    assert np.all(np.abs(freq - probs[2]) < 5 * np.sqrt(probs[2] * (1 - probs[2]) / 50_000))
    mix = cl.NormalMixture([[1.0, 0.0], [0.0, 1.0]], [[0.0, 8.0], [0.0, 8.0]], [[1.0, 1.0], [1.0, 1.0]])
    y = mix.sample(20_000, np.random.default_rng(4))
    assert abs(y[0].mean()) < 5 / np.sqrt(20_000) and abs(y[1].mean() - 8) < 5 / np.sqrt(20_000)
    np.testing.assert_allclose(mix.tail_mass(5.0), [stats.norm.sf(5), stats.norm.sf(-3)], rtol=1e-12)


def test_collapsed_normal_is_a_point_mass_without_warnings():
    d = cl.Normal._from_params(np.array([1.0, 2.0]), np.array([0.0, 1.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = d.tail_mass(1.5)
        lp = d.logpdf(np.array([[1.0, 1.5], [2.0, 2.5]]))
        x = d.sample(10, np.random.default_rng(0))
    assert t[0] == 0.0 and t[1] == pytest.approx(stats.norm.sf(-0.5))
    assert lp[0, 0] == np.inf and lp[0, 1] == -np.inf and np.isfinite(lp[1]).all()
    assert np.all(x[0] == 1.0)


def test_entropy_heterozygosity_surviving():
    c = cl.Categorical([0.5, 0.5, 0.0])
    assert c.heterozygosity == pytest.approx(0.5)
    assert c.surviving == 2
    assert c.entropy == pytest.approx(np.log(2))


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: cl.NormalMixture([0.5, 0.6], [0, 1], [1, 1]), "weights"),
        (lambda: cl.NormalMixture([-0.1, 1.1], [0, 1], [1, 1]), "weights"),
        (lambda: cl.NormalMixture([0.5, 0.5], [0, 1], [1, 0]), "stds"),
        (lambda: cl.NormalMixture([0.5, 0.5], [0, np.nan], [1, 1]), "means"),
        (lambda: cl.NormalMixture([0.5, 0.5], [0, 1, 2], [1, 1]), "same shape"),
        (lambda: cl.Normal(0.0, 0.0), "std"),
        (lambda: cl.Normal(0.0, -1.0), "std"),
        (lambda: cl.Normal(np.inf, 1.0), "mean"),
        (lambda: cl.Categorical([0.5, 0.6]), "probs"),
        (lambda: cl.Categorical([1.2, -0.2]), "probs"),
        (lambda: cl.Categorical([]), "probs"),
        (lambda: cl.Normal(0, 1).tail_mass(np.nan), "x"),
    ],
)
def test_bad_parameters_raise_value_error_naming_them(make, name):
    with pytest.raises(ValueError, match=name):
        make()


def test_sample_rejects_bad_size_and_rng():
    d = cl.Normal(0, 1)
    with pytest.raises(ValueError, match="size"):
        d.sample(-1, np.random.default_rng(0))
    with pytest.raises(TypeError, match="size"):
        d.sample(2.5, np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng"):
        d.sample(3, 0)


def test_one_replicate_of_a_batch_is_a_plain_distribution():
    mix = cl.NormalMixture([[0.3, 0.7], [0.5, 0.5]], [[0, 1], [2, 3]], [[1, 1], [1, 2]])
    one = mix._take(1)
    assert one.batch_shape == () and isinstance(one.mean, float)
    assert one.tail_mass(2.5) == pytest.approx(float(mix.tail_mass(2.5)[1]))
    # Tail mass is a probability even when the weights sum to 1 only up to rounding.
    w = np.full(10, 0.1)
    many = cl.NormalMixture(w, np.zeros(10), np.ones(10))
    assert 0.0 <= many.tail_mass(-50.0) <= 1.0
    assert cl.NormalFit().fit(np.arange(5.0)).batch_shape == ()
    assert cl.Categorical([[0.5, 0.5], [1.0, 0.0]])._take(1).surviving == 1


def test_rare_categories_keep_their_probability_with_many_replicates():
    # A category of probability 1e-9 in every one of 20,000 replicates: the batched sampler must not
    # lose resolution as the replicate index grows. Expected hits 20,000 * 500 * 1e-9 = 0.01, so
    # seeing none is the likely outcome; a resolution bug inflates it to thousands of hits.
    reps, size = 20_000, 500
    probs = np.tile([1e-9, 0.5 - 1e-9, 0.5], (reps, 1))
    ids = cl.Categorical(probs).sample(size, np.random.default_rng(6))
    assert np.count_nonzero(ids == 0) <= 3
    freq = np.mean(ids == 2)
    assert abs(freq - 0.5) < 5 * np.sqrt(0.25 / ids.size)


def test_lost_categories_are_never_drawn():
    # Probability-0 categories at the end and in the middle of each row, across many rows.
    reps = 3000
    probs = np.tile([0.2, 0.0, 0.3 - 1e-16, 0.5, 0.0, 0.0], (reps, 1))
    ids = cl.Categorical._from_params(probs).sample(2000, np.random.default_rng(8))
    assert set(np.unique(ids)) <= {0, 2, 3}
    from collapse_lib.distributions import _cdf_rows
    assert np.all(_cdf_rows(probs)[:, 3:] == 1.0)


def test_mixture_logpdf_matches_scipy_logsumexp_including_collapsed_components():
    from scipy import special

    mix = cl.NormalMixture._from_params([[0.97, 0.03], [1.0, 0.0], [0.5, 0.5]],
                                        [[0.0, 8.0], [0.0, 8.0], [1.0, 1.0]],
                                        [[1.0, 1.0], [1.0, 1.0], [0.0, 2.0]])
    x = np.array([[-40.0, 0.0, 5.0, 8.0, 60.0]] * 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = mix.logpdf(x)
    w, m, s = mix.weights[:, None, :], mix.means[:, None, :], mix.stds[:, None, :]
    from collapse_lib.distributions import _normal_logpdf
    with np.errstate(divide="ignore"):
        expected = special.logsumexp(np.log(w) + _normal_logpdf(x[..., None], m, s), axis=-1)
    np.testing.assert_allclose(got, expected, rtol=1e-13)
    assert np.isinf(cl.NormalMixture._from_params([1.0], [0.0], [0.0]).logpdf(np.array([0.0, 1.0]))).all()
