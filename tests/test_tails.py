"""collapse_lib.studies.tails against simulation and exact values.

Index convention: ``run.models[t]`` has had ``t + 1`` fits. Monte Carlo means
are compared within ``TOL_SE = 4.5`` standard errors computed from the
replicates (or, for a proportion, from its exact binomial variance).
"""

import warnings

import numpy as np
import pytest

import collapse_lib as cl
from collapse_lib import tails
from collapse_lib import theory as th

TOL_SE = 4.5
WORLD = cl.NormalMixture([0.97, 0.03], [0.0, 8.0], [1.0, 1.0])


def assert_mc(values, expected, what=""):
    values = np.asarray(values, dtype=float)
    se = values.std(ddof=1) / np.sqrt(values.size)
    assert abs(values.mean() - expected) <= TOL_SE * se, f"{what}: {values.mean():.5g} vs {expected:.5g} (se {se:.2g})"


def assert_proportion(hits, expected, what=""):
    hits = np.asarray(hits, dtype=float)
    se = np.sqrt(max(expected * (1 - expected), 1e-12) / hits.size)
    assert abs(hits.mean() - expected) <= TOL_SE * se, f"{what}: {hits.mean():.5g} vs {expected:.5g} (se {se:.2g})"


def test_survival_matches_categorical_refit():
    p, n = 0.02, 150
    surv = tails.rare_mode_survival(p, n, 120)
    assert surv[0] == 1.0 and surv[1] == pytest.approx(1 - th.prob_absent(p, n))
    run = cl.simulate(cl.Categorical([p, 1 - p]), cl.CategoricalFit(), n=n, generations=119,
                      replicates=20000, seed=21)
    for t in (0, 5, 30, 119):
        # an off-by-one in fits moves these by several SE (the curve falls ~1-3% per fit here)
        assert_proportion(run.models[t].probs[:, 0] > 0, surv[t + 1], f"categorical t={t}")


def test_survival_matches_resampling_the_data():
    n = 60
    p = WORLD.tail_mass(4.0)  # resampling keeps each point's side of 4 exactly
    surv = tails.rare_mode_survival(p, n, 40)
    run = cl.simulate(WORLD, cl.EmpiricalFit(), n=n, generations=39, replicates=8000, seed=22,
                      metrics={"alive": lambda m: m.tail_mass(4.0) > 0}, keep=[])
    alive = run.metrics["alive"]
    for i, t in enumerate(run.generations):
        if t in (0, 3, 12, 39):
            assert_proportion(alive[i], surv[t + 1], f"empirical t={t}")


def test_survival_tends_to_the_fixation_probability():
    surv = tails.rare_mode_survival(0.1, 20, 3000)
    assert surv[-1] == pytest.approx(th.fixation_probability(0.1), abs=1e-9)
    assert np.all(np.diff(surv) <= 1e-15)  # a lost mode never returns


def test_labelled_mixture_recovers_the_world_and_keeps_weight_on_average():
    big = tails.LabelledMixtureFit(4.0).fit(WORLD.sample(400_000, np.random.default_rng(23)))
    np.testing.assert_allclose(big.weights, [0.97, 0.03], atol=2e-3)
    np.testing.assert_allclose(big.means, [0.0, 8.0], atol=0.03)
    np.testing.assert_allclose(big.stds, [1.0, 1.0], atol=0.03)
    run = cl.simulate(WORLD, tails.LabelledMixtureFit(4.0), n=200, generations=10, replicates=5000, seed=24)
    p = WORLD.tail_mass(4.0)
    for t in (0, 10):
        # the rare weight is (almost exactly) a martingale: E = p up to P(core > 4) leaks
        assert_mc(run.models[t].weights[:, 1], p, f"weight t={t}")


def test_labelled_mixture_degenerate_states_without_nan():
    fit = tails.LabelledMixtureFit(4.0, ddof=1)
    m = fit.fit(np.array([[0.0, 1.0, 2.0], [5.0, 1.0, 2.0], [5.0, 6.0, 7.0]]))
    assert np.all(np.isfinite(m.weights)) and np.all(np.isfinite(m.means)) and np.all(np.isfinite(m.stds))
    np.testing.assert_allclose(m.weights[:, 1], [0.0, 1 / 3, 1.0])
    assert m.stds[1, 1] == 0.0  # one point: a point mass
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = cl.simulate(WORLD, tails.LabelledMixtureFit(4.0), n=10, generations=2000, replicates=50,
                          seed=25, record_every=500)
        last = run.models[-1]
        assert np.all(np.isfinite(last.stds)) and np.all(last.stds >= 0)
        assert np.all(np.isfinite(last.tail_mass(5.0)))


def test_conditional_mean_above_against_sampling():
    rng = np.random.default_rng(26)
    for model in (WORLD, cl.Normal(0.24, 1.69)):
        x = model.sample(2_000_000, rng)
        above = x[x > 5.0]
        assert_mc(above, tails.conditional_mean_above(model, 5.0))
    emp = cl.EmpiricalFit().fit(np.array([[1.0, 6.0, 8.0], [1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(tails.conditional_mean_above(emp, 5.0), [7.0, 5.0])
    batch = cl.NormalFit().fit(WORLD.sample(50, rng)[None, :].repeat(3, axis=0))
    assert tails.conditional_mean_above(batch, 5.0).shape == (3,)
    # no mass above x: the boundary itself, not NaN
    assert tails.conditional_mean_above(cl.Normal(0.0, 1.0), 60.0) == 60.0
    point = cl.Normal._from_params(np.array([1.0, 7.0]), np.array([0.0, 0.0]))
    np.testing.assert_allclose(tails.conditional_mean_above(point, 5.0), [5.0, 7.0])
    # collapsed components (tiny or denormal stds) give the exact limits, without warnings
    tiny = cl.NormalMixture._from_params(np.array([[0.97, 0.03], [1.0, 0.0]]), np.array([[0.0, 8.0], [0.0, 8.0]]),
                                         np.array([[1e-300, 5e-324], [1.0, 0.0]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(tails.conditional_mean_above(tiny, 5.0), [8.0, 5.18650397], rtol=1e-8)
        assert tails.conditional_mean_above(cl.Normal(0.0, 1.0), 31.0) == pytest.approx(31.032, abs=1e-3)


@pytest.mark.parametrize("call, exc, word", [
    (lambda: tails.rare_mode_survival(1.5, 10, 3), ValueError, "p"),
    (lambda: tails.rare_mode_survival(0.1, 0, 3), ValueError, "n"),
    (lambda: tails.rare_mode_survival(0.1, 10, -1), ValueError, "fits"),
    (lambda: tails.LabelledMixtureFit(np.nan), ValueError, "threshold"),
    (lambda: tails.LabelledMixtureFit(4.0, ddof=3), ValueError, "ddof"),
    (lambda: tails.conditional_mean_above(cl.Categorical([0.5, 0.5]), 1.0), TypeError, "model"),
    (lambda: tails.conditional_mean_above(WORLD, "a"), TypeError, "x"),
])
def test_bad_input(call, exc, word):
    with pytest.raises(exc, match=word):
        call()
