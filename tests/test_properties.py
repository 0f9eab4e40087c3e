"""Property-based tests (hypothesis) over random valid parameters of the whole library surface.

Invariants: no NaN, probabilities normalised, variances non-negative, determinism (the same
seed gives bit-identical results, different seeds differ). Sizes stay small; deadline=None
because the machine is shared.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import collapse_lib as cl
from collapse_lib import metrics as M

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                    derandomize=True)
pytestmark = pytest.mark.filterwarnings("error")

finite = st.floats(-50, 50, allow_nan=False, allow_infinity=False)
positive = st.floats(0.05, 10, allow_nan=False, allow_infinity=False)
seeds = st.integers(0, 2**31 - 1)


@st.composite
def mixtures(draw, max_k=4):
    k = draw(st.integers(1, max_k))
    raw = np.array(draw(st.lists(st.floats(0.01, 1.0), min_size=k, max_size=k)))
    weights = raw / raw.sum()
    weights[-1] = 1.0 - weights[:-1].sum()
    means = draw(st.lists(finite, min_size=k, max_size=k))
    stds = draw(st.lists(positive, min_size=k, max_size=k))
    return cl.NormalMixture(np.clip(weights, 0, 1), means, stds)


@st.composite
def categoricals(draw, max_k=8):
    k = draw(st.integers(1, max_k))
    raw = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=k, max_size=k)))
    raw[draw(st.integers(0, k - 1))] += 0.1  # at least one category with mass
    return cl.Categorical(raw / raw.sum())


@st.composite
def data(draw, max_r=3, max_m=25):
    """Batches of 1-D data, sometimes with ties or no spread at all."""
    r = draw(st.integers(1, max_r))
    m = draw(st.integers(2, max_m))
    kind = draw(st.sampled_from(["normal", "ties", "constant", "outlier"]))
    rng = np.random.default_rng(draw(seeds))
    x = rng.normal(draw(finite), draw(positive), size=(r, m))
    if kind == "ties":
        x = np.round(x)
    elif kind == "constant":
        x = np.full((r, m), draw(finite))
    elif kind == "outlier":
        x[:, 0] += 1e4
    return x


def check_model(model, r):
    """Fitted continuous model: finite, normalised, variance >= 0, samples finite."""
    assert model.batch_shape == (r,)
    var = np.asarray(model.var)
    assert np.all(np.isfinite(var)) and np.all(var >= 0)
    assert np.all(np.isfinite(np.asarray(model.mean)))
    if isinstance(model, cl.NormalMixture):
        np.testing.assert_allclose(model.weights.sum(axis=-1), 1.0, atol=1e-12)
        assert np.all(model.weights >= 0) and np.all(model.stds >= 0)
    tm = np.asarray(model.tail_mass([-1.0, 0.0, 3.0]))
    assert np.all((tm >= 0) & (tm <= 1 + 1e-12))  # sums of weights may exceed 1 by rounding
    assert np.all(np.diff(tm, axis=-1) <= 1e-12)  # tail mass never increases with the threshold
    s = model.sample(7, np.random.default_rng(0))
    assert s.shape == (r, 7) and np.all(np.isfinite(s))
    np.testing.assert_array_equal(s, model.sample(7, np.random.default_rng(0)))


FAMILIES = [
    lambda: cl.NormalFit(ddof=0), lambda: cl.NormalFit(ddof=1), lambda: cl.GaussianMixtureFit(2, n_iter=50),
    lambda: cl.GaussianMixtureFit(3, n_iter=20), lambda: cl.KDEFit(), lambda: cl.KDEFit("scott"),
    lambda: cl.KDEFit(0.5), lambda: cl.EmpiricalFit(),
]


@SETTINGS
@given(x=data(), which=st.integers(0, len(FAMILIES) - 1))
def test_families_fit_anything_valid(x, which):
    family = FAMILIES[which]()
    model = family.fit(x)
    check_model(model, x.shape[0])
    again = FAMILIES[which]().fit(x.copy())
    np.testing.assert_array_equal(np.asarray(again.var), np.asarray(model.var))


@SETTINGS
@given(world=mixtures())
def test_mixture_world_properties(world):
    assert world.var >= 0 and np.isfinite(world.mean)
    tm = world.tail_mass(np.array([-np.inf, world.mean, np.inf]))
    np.testing.assert_allclose(tm[[0, 2]], [1.0, 0.0])
    q = M.quantile(world, [0.1, 0.5, 0.9])
    assert np.all(np.diff(q) >= 0)
    np.testing.assert_allclose(world.cdf(q), [0.1, 0.5, 0.9], atol=1e-7)


@SETTINGS
@given(p=categoricals(), seed=seeds, m=st.integers(1, 30))
def test_categorical_fit_and_metrics(p, seed, m):
    ids = p.sample(m, np.random.default_rng(seed))
    q = cl.CategoricalFit(p.n_categories).fit(ids)
    np.testing.assert_allclose(q.probs.sum(), 1.0)
    assert np.all(q.probs >= 0)
    for value in (M.heterozygosity(q), M.entropy(q), M.total_variation(p, q)):
        assert np.isfinite(value) and value >= 0
    assert 1 <= M.surviving(q) <= p.n_categories
    kl = M.kl(p, q)
    assert not np.isnan(kl) and kl >= 0
    assert (kl == np.inf) == bool(np.any((q.probs == 0) & (p.probs > 0)))
    pp = M.perplexity(q, ids)
    assert np.isfinite(pp) and pp >= 1  # the fitted model saw every held-in id
    assert np.isfinite(M.perplexity(q, np.arange(p.n_categories), smoothing=0.01))


SCHEMES = [
    lambda: cl.Replace(), lambda: cl.Anchor(0.3), lambda: cl.Accumulate(),
    lambda: cl.AccumulateSubsample(), lambda: cl.FixedReal(0.5), lambda: cl.Augment(1.0),
    lambda: cl.SyntheticShare([1.0, 0.5, 0.0, 1.0]),
]
FILTERS = [lambda: cl.NoFilter(), lambda: cl.QualityFilter(0.7), lambda: cl.Verifier(1.0),
           lambda: cl.Verifier(0.4)]


@settings(SETTINGS, max_examples=20)
@given(world=mixtures(max_k=3), scheme=st.integers(0, len(SCHEMES) - 1), filt=st.integers(0, len(FILTERS) - 1),
       family=st.sampled_from([0, 1, 2, 4, 7]), n=st.integers(3, 20), seed=seeds)
def test_simulate_is_finite_and_deterministic(world, scheme, filt, family, n, seed):
    kwargs = dict(n=n, generations=4, replicates=3)

    def run(s):
        return cl.simulate(world, FAMILIES[family](), scheme=SCHEMES[scheme](), filter=FILTERS[filt](),
                           seed=s, **kwargs)

    a, b, c = run(seed), run(seed), run(seed + 1)
    for model in a.models:
        check_model(model, 3)
    va, vb, vc = (r.trajectory("var") for r in (a, b, c))
    np.testing.assert_array_equal(va, vb)            # same seed: bit-identical
    assert not np.array_equal(a.trajectory("mean"), c.trajectory("mean"))  # another seed: another run
    assert np.all(va >= 0)


@SETTINGS
@given(p=categoricals(), n=st.integers(1, 15), seed=seeds, filt=st.integers(0, 3))
def test_categorical_recursion_stays_normalised(p, n, seed, filt):
    run = cl.simulate(p, cl.CategoricalFit(), n=n, generations=5, replicates=4, seed=seed, filter=FILTERS[filt]())
    again = cl.simulate(p, cl.CategoricalFit(), n=n, generations=5, replicates=4, seed=seed,
                        filter=FILTERS[filt]())
    for model, twin in zip(run.models, again.models):
        np.testing.assert_allclose(model.probs.sum(axis=-1), 1.0)
        assert np.all(model.probs >= 0)
        np.testing.assert_array_equal(model.probs, twin.probs)
    alive = np.stack([m.probs > 0 for m in run.models])
    assert np.all(alive[1:] <= alive[:-1])  # no filter can revive a category the model lost


@SETTINGS
@given(world=mixtures(max_k=2), mean=finite, std=st.floats(0.0, 5.0), keep=st.floats(0.05, 1.0),
       accuracy=st.floats(0.0, 1.0), k=st.integers(0, 30), seed=seeds)
def test_filters_return_k_finite_samples(world, mean, std, keep, accuracy, k, seed):
    model = cl.Normal._from_params(np.full(2, mean), np.full(2, std))  # std 0: a collapsed model
    for f in (cl.QualityFilter(keep), cl.Verifier(accuracy)):
        out = f.draw(model, k, np.random.default_rng(seed), world)
        assert out.shape == (2, k) and np.all(np.isfinite(out))
        np.testing.assert_array_equal(out, f.draw(model, k, np.random.default_rng(seed), world))


@SETTINGS
@given(m1=finite, s1=positive, m2=finite, s2=positive, thr=finite)
def test_metrics_finite_and_consistent(m1, s1, m2, s2, thr):
    a, b = cl.Normal(m1, s1), cl.Normal(m2, s2)
    d = M.w2(a, b)
    assert d.exact and np.isfinite(d) and d >= 0
    num = M.w2(cl.NormalMixture([1.0], [m1], [s1]), b, squared=True)
    assert abs(float(num) - float(d) ** 2) <= 5e-3 * (float(d) ** 2 + s1 * s2) + 1e-9
    t = M.tail_mass(a, thr)
    assert 0 <= float(t) <= 1 and t.exact


def test_no_warning_leaks_from_degenerate_recursion():
    # thousands of generations of a collapsing model: no NaN, no numpy warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = cl.simulate(cl.Normal(0.0, 1.0), cl.GaussianMixtureFit(2, n_iter=5), n=4, generations=2000,
                          replicates=2, seed=0, record_every=500)
        for model in run.models:
            check_model(model, 2)
