"""The recursion (simulate) against the library contract and closed forms.

Index convention: ``run.models[0]`` is fitted on the real sample, so
``run.models[t]`` has gone through ``t + 1`` fits. Statistical checks use fixed
seeds and a tolerance of 5 standard errors of the Monte Carlo estimate (the SE
is computed from the replicates themselves), unless a comment says otherwise.
Where a route exists in both the exact fast path and the point-by-point path,
``method="points"`` pins the path under test when the engine supports it.
"""

import inspect
import warnings

import numpy as np
import pytest
from scipy import special

import collapse_lib as cl

WORLD = cl.NormalMixture(weights=[0.97, 0.03], means=[0.0, 8.0], stds=[1.0, 1.0])


def points_kwargs():
    """Force the point-by-point path if the engine offers a choice."""
    return {"method": "points"} if "method" in inspect.signature(cl.simulate).parameters else {}


def z_score(values, expected):
    values = np.asarray(values, dtype=float)
    se = values.std(ddof=1) / np.sqrt(values.size)
    return (values.mean() - expected) / se


def test_design_contract_runs_as_written():
    world = cl.NormalMixture(weights=[0.97, 0.03], means=[0.0, 8.0], stds=[1.0, 1.0])
    assert isinstance(world.tail_mass(5.0), float)
    assert world.mean == pytest.approx(0.24) and world.var == pytest.approx(2.8624)
    x = world.sample(1000, np.random.default_rng(0))
    assert x.shape == (1000,)
    tokens = cl.Categorical([0.5, 0.3, 0.15, 0.05])
    run = cl.simulate(world, cl.NormalFit(ddof=0), n=5000, generations=8,
                      scheme=cl.Anchor(0.10), replicates=1000, seed=0)
    assert len(run.models) == 9
    for t in (0, 4, 8):
        m = run.models[t]
        assert m.mean.shape == m.var.shape == m.tail_mass(5.0).shape == (1000,)
        assert np.all(np.isfinite(m.var))
    words = cl.simulate(tokens, cl.CategoricalFit(), n=50, generations=30, replicates=20000, seed=1)
    assert words.models[30].probs.shape == (20000, 4)
    np.testing.assert_allclose(words.models[30].probs.sum(axis=1), 1.0)
    for scheme in (cl.Replace(), cl.Anchor(0.5), cl.Accumulate()):
        r = cl.simulate(world, cl.NormalFit(), n=20, generations=3, scheme=scheme, replicates=7, seed=3)
        assert len(r.models) == 4 and r.models[3].var.shape == (7,)


def test_generation_zero_is_fitted_on_one_real_sample():
    n, reps = 5000, 4000
    run = cl.simulate(WORLD, cl.NormalFit(), n=n, generations=0, replicates=reps, seed=5, **points_kwargs())
    model = run.models[0]
    # The fitted mean is unbiased; the MLE variance has expectation (n - 1)/n times the world's.
    assert abs(z_score(model.mean, WORLD.mean)) < 5
    assert abs(z_score(model.var, (n - 1) / n * WORLD.var)) < 5
    # Fitting one Gaussian to the world loses most of the tail in a single fit (functional error):
    # the moment-matched Gaussian N(0.24, 2.8624) has P(X > 5) = sf((5 - 0.24) / sqrt(2.8624)).
    # The fitted tail is a convex function of the fitted parameters, so its mean sits above the
    # plug-in value by a Jensen bias of order 1/n; 5% covers it at n = 5000.
    expected = float(cl.Normal(WORLD.mean, np.sqrt(WORLD.var)).tail_mass(5.0))
    assert model.tail_mass(5.0).mean() == pytest.approx(expected, rel=0.05)
    assert model.tail_mass(5.0).mean() < 0.1 * WORLD.tail_mass(5.0)


def test_same_seed_is_bit_identical_and_different_seeds_differ():
    kwargs = dict(n=100, generations=5, scheme=cl.Anchor(0.2), replicates=50)
    a = cl.simulate(WORLD, cl.NormalFit(), seed=11, **kwargs)
    b = cl.simulate(WORLD, cl.NormalFit(), seed=11, **kwargs)
    c = cl.simulate(WORLD, cl.NormalFit(), seed=12, **kwargs)
    for t in range(6):
        assert np.array_equal(a.models[t].var, b.models[t].var)
        assert np.array_equal(a.models[t].mean, b.models[t].mean)
    assert not np.array_equal(a.models[5].var, c.models[5].var)
    tok = cl.Categorical([0.25] * 4)
    w1 = cl.simulate(tok, cl.CategoricalFit(), n=10, generations=5, replicates=30, seed=2)
    w2 = cl.simulate(tok, cl.CategoricalFit(), n=10, generations=5, replicates=30, seed=2)
    assert np.array_equal(w1.models[5].probs, w2.models[5].probs)


def test_no_global_random_state_is_used():
    np.random.seed(0)
    a = cl.simulate(WORLD, cl.NormalFit(), n=50, generations=3, replicates=10, seed=4)
    np.random.seed(1)
    b = cl.simulate(WORLD, cl.NormalFit(), n=50, generations=3, replicates=10, seed=4)
    assert np.array_equal(a.models[3].var, b.models[3].var)


@pytest.mark.parametrize("ddof", [0, 1])
def test_normal_refit_variance_and_log_variance_follow_closed_forms(ddof):
    m, fits, reps = 20, 11, 40_000
    run = cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(ddof=ddof), n=m, generations=fits - 1,
                      replicates=reps, seed=100 + ddof, **points_kwargs())
    var = run.models[-1].var
    # sigma^2 after k fits = prod of chi2(m-1)/(m-ddof): E = ((m-1)/(m-ddof))^k.
    assert abs(z_score(var, ((m - 1) / (m - ddof)) ** fits)) < 5
    # log sigma^2 is a random walk with drift psi((m-1)/2) + ln 2 - ln(m - ddof) per fit.
    drift = special.digamma((m - 1) / 2) + np.log(2) - np.log(m - ddof)
    assert abs(z_score(np.log(var), fits * drift)) < 5
    # E[sigma] = (c4(m) sqrt((m-1)/(m-ddof)))^k with c4 = sqrt(2/(m-1)) Gamma(m/2)/Gamma((m-1)/2).
    c4 = np.sqrt(2 / (m - 1)) * np.exp(special.gammaln(m / 2) - special.gammaln((m - 1) / 2))
    assert abs(z_score(np.sqrt(var), (c4 * np.sqrt((m - 1) / (m - ddof))) ** fits)) < 5


def test_mean_random_walk_variance_mle():
    m, gens, reps = 10, 15, 40_000
    run = cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(ddof=0), n=m, generations=gens,
                      replicates=reps, seed=7, **points_kwargs())
    c = (m - 1) / m
    # Var(mu after t+1 fits) = (1/m) sum_{s=0}^{t} E[sigma^2 of the generator at step s] = (1/m) sum c^s.
    expected = sum(c**s for s in range(gens + 1)) / m
    mu2 = run.models[-1].mean ** 2
    assert abs(z_score(mu2, expected)) < 5


def test_categorical_refit_is_wright_fisher_drift():
    probs = np.array([0.5, 0.3, 0.15, 0.05])
    n, gens, reps = 50, 30, 40_000
    run = cl.simulate(cl.Categorical(probs), cl.CategoricalFit(), n=n, generations=gens,
                      replicates=reps, seed=9, **points_kwargs())
    h_world = 1 - np.sum(probs**2)
    for t in (0, 10, 30):
        het = run.models[t].heterozygosity
        assert abs(z_score(het, (1 - 1 / n) ** (t + 1) * h_world)) < 5


def test_lost_category_never_returns_and_fixation_probability_is_q():
    probs = np.array([0.5, 0.3, 0.15, 0.05])
    reps = 20_000
    run = cl.simulate(cl.Categorical(probs), cl.CategoricalFit(), n=10, generations=400,
                      replicates=reps, seed=10, record_every=20)
    alive = np.stack([m.probs > 0 for m in run.models])  # (kept gens, reps, K)
    # Absorbing: once a category's probability is 0 it stays 0.
    assert not np.any(~alive[:-1] & alive[1:])
    final = run.models[-1].probs
    fixed = final.max(axis=1) == 1.0
    assert fixed.mean() > 0.99
    # Each category fixes with probability q (neutral drift); SE = sqrt(q(1-q)/reps).
    for i, q in enumerate(probs):
        share = np.mean(final[:, i] == 1.0)
        assert abs(share - q) < 5 * np.sqrt(q * (1 - q) / reps)


def test_accumulate_keeps_mean_error_bounded_while_replace_grows():
    m, gens, reps = 20, 40, 20_000
    base = dict(n=m, generations=gens, replicates=reps, **points_kwargs())
    acc = cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(ddof=1), scheme=cl.Accumulate(), seed=21, **base)
    rep = cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(ddof=1), scheme=cl.Replace(), seed=22, **base)
    acc_err = acc.models[-1].mean ** 2
    rep_err = rep.models[-1].mean ** 2
    bound = (np.pi**2 / 6) / m  # Gerstgrasser et al.: sum 1/i^2 < pi^2/6 times the one-fit error
    se = acc_err.std(ddof=1) / np.sqrt(reps)
    assert acc_err.mean() < bound + 5 * se
    # The accumulated error is near sigma^2/m * sum_{i<=t+1} 1/i^2 (sigma stays near 1 when pooling).
    expected = sum(1 / i**2 for i in range(1, gens + 2)) / m
    assert abs(z_score(acc_err, expected)) < 5
    # Replace: the unbiased fit's variance is a martingale, so E[mu^2] = (t+1)/m exactly.
    assert abs(z_score(rep_err, (gens + 1) / m)) < 5
    assert rep_err.mean() > 10 * acc_err.mean()


def test_anchor_fraction_one_trains_on_real_data_only():
    run = cl.simulate(WORLD, cl.NormalFit(), n=400, generations=5, scheme=cl.Anchor(1.0),
                      replicates=5000, seed=13,
                      data_metrics={"tail": lambda d: (d > 5.0).mean(axis=1)})
    tails = run.data_metrics["tail"]
    assert tails.shape == (6, 5000)
    p = WORLD.tail_mass(5.0)
    for t in range(6):
        assert abs(tails[t].mean() - p) < 5 * np.sqrt(p * (1 - p) / (400 * 5000))
    assert cl.Anchor(0.1).split(5000) == (4500, 500)


def test_degenerate_states_survive_thousands_of_generations():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(ddof=0), n=2, generations=3000,
                          replicates=200, seed=14, record_every=500)
        last = run.models[-1]
        assert np.all(np.isfinite(last.var)) and np.all(last.var >= 0)
        assert np.all(last.var < 1e-100)
        assert np.all(np.isfinite(last.tail_mass(5.0)))
        assert np.all(np.isfinite(last.sample(3, np.random.default_rng(0))))
        words = cl.simulate(cl.Categorical([0.7, 0.2, 0.1]), cl.CategoricalFit(), n=3, generations=3000,
                            replicates=200, seed=15, record_every=1000)
        final = words.models[-1]
        assert np.all(final.surviving == 1)
        assert np.all(np.isfinite(final.entropy)) and np.all(final.heterozygosity == 0)


@pytest.mark.parametrize(
    "kwargs, exc, name",
    [
        (dict(n=0), ValueError, "n"),
        (dict(n=2.5), TypeError, "n"),
        (dict(generations=-1), ValueError, "generations"),
        (dict(replicates=0), ValueError, "replicates"),
        (dict(seed=-3), ValueError, "seed"),
        (dict(seed="x"), TypeError, "seed"),
        (dict(scheme="replace"), TypeError, "scheme"),
        (dict(record_every=0), ValueError, "record_every"),
    ],
)
def test_simulate_rejects_bad_arguments(kwargs, exc, name):
    args = dict(world=WORLD, family=cl.NormalFit(), n=10, generations=2, replicates=3, seed=0)
    args.update(kwargs)
    with pytest.raises(exc, match=name):
        cl.simulate(**args)


def test_bad_components_and_data_raise_clear_errors():
    for fraction in (-0.1, 1.5, np.nan):
        with pytest.raises(ValueError, match="fraction"):
            cl.Anchor(fraction)
    with pytest.raises(ValueError, match="ddof"):
        cl.NormalFit(ddof=2)
    with pytest.raises(ValueError, match="data"):
        cl.NormalFit().fit([1.0, np.nan])
    with pytest.raises(ValueError, match="data"):
        cl.NormalFit().fit([1.0, np.inf])
    with pytest.raises(ValueError, match="data"):
        cl.NormalFit().fit([])
    with pytest.raises(ValueError, match="data"):
        cl.NormalFit(ddof=1).fit([1.0])
    with pytest.raises(TypeError, match="data"):
        cl.CategoricalFit().fit([0.5, 1.0])
    with pytest.raises(ValueError, match="n"):
        cl.simulate(WORLD, cl.NormalFit(ddof=1), n=1, generations=1)
    with pytest.raises(TypeError, match="world"):
        cl.simulate([1, 2, 3], cl.NormalFit(), n=5, generations=1)


def test_fit_returns_unbatched_model_for_one_sample():
    x = np.random.default_rng(0).normal(3.0, 2.0, size=1000)
    model = cl.NormalFit().fit(x)
    assert isinstance(model.mean, float) and model.mean == pytest.approx(x.mean())
    assert model.std == pytest.approx(x.std())
    assert cl.NormalFit(ddof=1).fit(x).std == pytest.approx(x.std(ddof=1))
    cat = cl.CategoricalFit(3).fit(np.array([0, 0, 2, 2]))
    np.testing.assert_allclose(cat.probs, [0.5, 0.0, 0.5])
