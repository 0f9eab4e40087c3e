"""The exact fast path against the points path and closed forms.

The exact path draws sufficient statistics instead of points: the fitted models
must have the same law as on the points path. Each comparison runs both paths
with their own seeds and checks (a) two-sample Kolmogorov-Smirnov tests on the
fitted variance and mean at several generations (fixed seeds, so the outcome is
deterministic; level 1e-3 per test) and (b) the mean of log-variance, whose
difference must lie within 5 standard errors (SE from the replicates).
"""

import warnings

import numpy as np
import pytest
from scipy import special, stats

import collapse_lib as cl

R = 4000
N = 30
GENS = 5
NORMAL = cl.Normal(1.0, 2.0)
MIXTURE = cl.NormalMixture([0.8, 0.15, 0.05], [0.0, 4.0, -6.0], [1.0, 0.5, 2.0])

SCHEMES = {
    "replace": cl.Replace(),
    "anchor": cl.Anchor(0.3),
    "accumulate": cl.Accumulate(),
    "fixed-real": cl.FixedReal(0.3),
    "augment": cl.Augment(0.5),
    "share": cl.SyntheticShare([0.2, 0.5, 0.8, 1.0, 0.6]),
}


def both(world, family, scheme, seed, n=N, gens=GENS, reps=R):
    kw = dict(n=n, generations=gens, scheme=scheme, replicates=reps)
    exact = cl.simulate(world, family, method="exact", seed=seed, **kw)
    points = cl.simulate(world, family, method="points", seed=seed + 1000, **kw)
    assert exact.method == "exact" and points.method == "points"
    return exact, points


def assert_same_mean(a, b, k=5.0):
    se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    assert abs(a.mean() - b.mean()) < k * se, (a.mean(), b.mean(), se)  # tol = 5 * SE of the difference


@pytest.mark.parametrize("ddof", [0, 1])
@pytest.mark.parametrize("world", [NORMAL, MIXTURE], ids=["normal", "mixture"])
@pytest.mark.parametrize("name", list(SCHEMES))
def test_exact_and_points_agree_in_distribution(name, world, ddof):
    seed = 17 + 31 * list(SCHEMES).index(name) + 7 * ddof + (world is MIXTURE)
    exact, points = both(world, cl.NormalFit(ddof=ddof), SCHEMES[name], seed)
    for t in (0, 1, 3, GENS):
        ve, vp = exact.models[t].var, points.models[t].var
        me, mp = exact.models[t].mean, points.models[t].mean
        assert stats.ks_2samp(ve, vp).pvalue > 1e-3, (t, "var")
        assert stats.ks_2samp(me, mp).pvalue > 1e-3, (t, "mean")
        assert_same_mean(np.log(ve), np.log(vp))
        assert_same_mean(me, mp)


@pytest.mark.parametrize("ddof", [0, 1])
def test_exact_replace_matches_closed_forms(ddof):
    m, fits, reps = 20, 11, 40_000
    run = cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(ddof=ddof), n=m, generations=fits - 1,
                      replicates=reps, seed=300 + ddof, method="exact")
    var = run.models[-1].var
    # E[sigma^2] after k fits = ((m-1)/(m-ddof))^k; log sigma^2 drifts by psi((m-1)/2) + ln 2 - ln(m-ddof) per fit
    se = var.std(ddof=1) / np.sqrt(reps)
    assert abs(var.mean() - ((m - 1) / (m - ddof)) ** fits) < 5 * se  # tol = 5 * SE
    drift = special.digamma((m - 1) / 2) + np.log(2) - np.log(m - ddof)
    lv = np.log(var)
    assert abs(lv.mean() - fits * drift) < 5 * lv.std(ddof=1) / np.sqrt(reps)  # tol = 5 * SE
    # Var(mu after k fits) = (1/m) sum_{s<k} E[sigma^2_s]
    c = (m - 1) / (m - ddof)
    expected = sum(c**s for s in range(fits)) / m
    mu2 = run.models[-1].mean ** 2
    assert abs(mu2.mean() - expected) < 5 * mu2.std(ddof=1) / np.sqrt(reps)  # tol = 5 * SE


def test_exact_mixture_generation_zero_moments():
    # one real sample of n points from the mixture: E[mean] = world mean, E[MLE var] = (n-1)/n world var
    n, reps = 50, 40_000
    run = cl.simulate(MIXTURE, cl.NormalFit(), n=n, generations=0, replicates=reps, seed=8, method="exact")
    m, v = run.models[0].mean, run.models[0].var
    assert abs(m.mean() - MIXTURE.mean) < 5 * m.std(ddof=1) / np.sqrt(reps)  # tol = 5 * SE
    assert abs(v.mean() - (n - 1) / n * MIXTURE.var) < 5 * v.std(ddof=1) / np.sqrt(reps)  # tol = 5 * SE


def test_exact_is_the_default_when_it_applies_and_is_deterministic():
    world = cl.NormalMixture([0.97, 0.03], [0.0, 8.0], [1.0, 1.0])
    a = cl.simulate(world, cl.NormalFit(), n=5000, generations=8, scheme=cl.Anchor(0.1), replicates=200, seed=0)
    b = cl.simulate(world, cl.NormalFit(), n=5000, generations=8, scheme=cl.Anchor(0.1), replicates=200, seed=0)
    c = cl.simulate(world, cl.NormalFit(), n=5000, generations=8, scheme=cl.Anchor(0.1), replicates=200, seed=1)
    assert a.method == "exact" and len(a.models) == 9
    for ma, mb in zip(a.models, b.models):
        assert np.array_equal(ma.var, mb.var) and np.array_equal(ma.mean, mb.mean)
    assert not np.array_equal(a.models[8].var, c.models[8].var)


def test_auto_falls_back_to_points_when_it_must():
    world = cl.Normal(0.0, 1.0)
    frac = {"above": lambda d: (d > 1.0).mean(axis=1)}
    assert cl.simulate(world, cl.NormalFit(), n=10, generations=2, data_metrics=frac).method == "points"
    assert cl.simulate(world, cl.NormalFit(), n=10, generations=2,
                       scheme=cl.AccumulateSubsample()).method == "points"

    class Halved(cl.NoFilter):
        pass

    assert cl.simulate(world, cl.NormalFit(), n=10, generations=2, filter=Halved()).method == "points"
    assert cl.simulate(cl.Categorical([0.5, 0.5]), cl.CategoricalFit(), n=10, generations=2).method == "exact"


@pytest.mark.parametrize("kwargs, words", [
    (dict(data_metrics={"x": lambda d: d.mean(axis=1)}), "data_metrics"),
    (dict(scheme=cl.AccumulateSubsample()), "AccumulateSubsample"),
])
def test_method_exact_says_why_it_cannot_run(kwargs, words):
    with pytest.raises(ValueError, match=words):
        cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(), n=10, generations=2, method="exact", **kwargs)


def test_method_exact_rejects_a_mismatched_world():
    with pytest.raises(ValueError, match="Categorical world"):
        cl.simulate(cl.Normal(0.0, 1.0), cl.CategoricalFit(2), n=10, generations=1, method="exact")


@pytest.mark.parametrize("method, exc", [("fast", ValueError), (1, TypeError), (None, TypeError)])
def test_bad_method(method, exc):
    with pytest.raises(exc, match="method"):
        cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(), n=10, generations=1, method=method)


def test_exact_accepts_a_batched_world():
    reps = 3000
    means = np.linspace(-1.0, 1.0, reps)
    world = cl.Normal(means, np.full(reps, 0.5))
    run = cl.simulate(world, cl.NormalFit(), n=25, generations=0, replicates=reps, seed=2, method="exact")
    resid = (run.models[0].mean - means) / (0.5 / 5)  # standardised: N(0, 1) per replicate
    assert abs(resid.mean()) < 5 / np.sqrt(reps) and abs(resid.std() - 1) < 0.1  # tol from SE 1/sqrt(reps)
    mix = cl.NormalMixture._from_params(np.tile([0.5, 0.5], (reps, 1)), np.column_stack([means, means + 2]),
                                        np.ones((reps, 2)))
    run = cl.simulate(mix, cl.NormalFit(), n=40, generations=1, replicates=reps, seed=3, method="exact")
    assert abs(np.mean(run.models[0].mean - (means + 1))) < 5 * np.sqrt(2 / 40 / reps)  # tol = 5 * SE


@pytest.mark.parametrize("name", list(SCHEMES))
def test_categorical_exact_and_points_agree(name):
    probs = np.array([0.4, 0.3, 0.2, 0.07, 0.03])
    seed = 90 + list(SCHEMES).index(name)
    exact, points = both(cl.Categorical(probs), cl.CategoricalFit(), SCHEMES[name], seed, n=20)
    for t in (0, 2, GENS):
        for fn in (lambda m: m.heterozygosity, lambda m: m.probs[:, 4], lambda m: m.surviving):
            assert_same_mean(np.asarray(fn(exact.models[t]), float), np.asarray(fn(points.models[t]), float))
        np.testing.assert_allclose(exact.models[t].probs.sum(axis=1), 1.0)


@pytest.mark.parametrize("method", ["exact", "points"])
@pytest.mark.parametrize("scheme", [cl.Replace(), cl.Accumulate(), cl.Anchor(0.5), cl.FixedReal(0.5)],
                         ids=repr)
def test_degenerate_states_run_thousands_of_generations_cleanly(method, scheme):
    # the points path refits the whole accumulated pool each generation (quadratic cost): 2000 there
    gens = 2000 if method == "points" and isinstance(scheme, cl.Accumulate) else 3000
    with warnings.catch_warnings(), np.errstate(divide="raise", over="raise", invalid="raise"):
        warnings.simplefilter("error")
        # n = 1 with the MLE: every fitted variance is exactly 0 from generation 0 on
        run = cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(ddof=0), n=1, generations=gens,
                          scheme=scheme,
                          replicates=50, seed=5, method=method, record_every=1000)
        var = run.trajectory("var")
        assert np.all(np.isfinite(var)) and np.all(var >= 0)
        if not isinstance(scheme, cl.Accumulate):  # one training point per generation
            assert np.all(var == 0)
        # n = 2: the variance collapses towards 0 geometrically and underflows, no NaN
        run = cl.simulate(cl.NormalMixture([0.97, 0.03], [0.0, 8.0], [1.0, 1.0]), cl.NormalFit(ddof=0), n=2,
                          generations=gens, scheme=scheme, replicates=50, seed=6, method=method,
                          record_every=1000)
        for m in run.models:
            assert np.all(np.isfinite(m.var)) and np.all(np.isfinite(m.mean))
            assert np.all(np.isfinite(m.tail_mass(5.0)))
        # a single surviving category
        words = cl.simulate(cl.Categorical([0.7, 0.2, 0.1]), cl.CategoricalFit(), n=3, generations=gens,
                            scheme=scheme, replicates=50, seed=7, method=method, record_every=1000)
        for m in words.models:
            assert np.all(np.isfinite(m.probs)) and np.allclose(m.probs.sum(axis=1), 1.0)
            assert np.all(np.isfinite(m.entropy)) and np.all(m.heterozygosity >= 0)
        if isinstance(scheme, cl.Replace):
            assert np.all(words.models[-1].surviving == 1)


from hypothesis import given, settings, strategies as st  # noqa: E402


def scheme_strategy():
    frac = st.floats(0.0, 1.0)
    return st.one_of(
        st.just(cl.Replace()), st.just(cl.Accumulate()), st.just(cl.AccumulateSubsample()),
        frac.map(cl.Anchor), frac.map(cl.FixedReal), st.floats(0.0, 3.0).map(cl.Augment),
        st.lists(frac, min_size=4, max_size=6).map(cl.SyntheticShare),
    )


@settings(max_examples=60, deadline=None)
@given(scheme=scheme_strategy(), n=st.integers(2, 40), gens=st.integers(0, 4), reps=st.integers(1, 6),
       ddof=st.integers(0, 1), method=st.sampled_from(["auto", "points"]), seed=st.integers(0, 2**32 - 1),
       categorical=st.booleans())
def test_property_no_nan_normalised_non_negative_deterministic(scheme, n, gens, reps, ddof, method, seed,
                                                                categorical):
    if categorical:
        world, family = cl.Categorical([0.6, 0.25, 0.1, 0.05]), cl.CategoricalFit()
    else:
        world, family = cl.NormalMixture([0.9, 0.1], [0.0, 5.0], [1.0, 0.5]), cl.NormalFit(ddof=ddof)
    kw = dict(n=n, generations=gens, scheme=scheme, replicates=reps, seed=seed, method=method)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = cl.simulate(world, family, **kw)
        b = cl.simulate(world, family, **kw)
    assert len(a.models) == gens + 1
    for ma, mb in zip(a.models, b.models):
        if categorical:
            assert np.all(np.isfinite(ma.probs)) and np.all(ma.probs >= 0)
            np.testing.assert_allclose(ma.probs.sum(axis=1), 1.0)
            assert np.array_equal(ma.probs, mb.probs)
        else:
            assert np.all(np.isfinite(ma.var)) and np.all(ma.var >= 0) and np.all(np.isfinite(ma.mean))
            assert np.array_equal(ma.var, mb.var) and np.array_equal(ma.mean, mb.mean)
