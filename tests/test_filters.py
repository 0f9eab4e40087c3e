"""Filters on generated samples: QualityFilter (truncation) and Verifier (check against the world).

Tolerances are derived from standard errors (stated at each check); seeds are fixed.
"""

import numpy as np
import pytest
from scipy import special, stats

import collapse_lib as cl
from collapse_lib.filters import central_normal_variance

pytestmark = pytest.mark.filterwarnings("error")


def rng(seed=0):
    return np.random.default_rng(seed)


def normals(r, mean=0.0, std=1.0):
    return cl.Normal._from_params(np.full(r, mean), np.full(r, std))


# ---------------------------------------------------------------- QualityFilter

@pytest.mark.parametrize("keep", [0.5, 0.8, 0.95])
def test_quality_filter_truncates_a_normal(keep):
    r, k = 300, 1000
    kept = cl.QualityFilter(keep).draw(normals(r, 2.0, 3.0), k, rng(1), None)
    assert kept.shape == (r, k)
    var = kept.var(axis=1) / 9.0
    se = var.std(ddof=1) / np.sqrt(r)
    # the k kept of ceil(k/keep) are cut at an empirical quantile: an O(1/k) bias on top of sampling error
    assert abs(var.mean() - central_normal_variance(keep)) < 4 * se + 2.0 / k
    # nothing beyond the central cut survives (the tail is removed exactly)
    c = special.ndtri((1 + keep) / 2)
    assert np.abs((kept - 2.0) / 3.0).max() < c + 4 * np.sqrt(keep * (1 - keep) / k) / stats.norm.pdf(c)


def test_quality_filter_removes_tail_mass_and_speeds_collapse():
    world = cl.NormalMixture([0.97, 0.03], [0.0, 8.0], [1.0, 1.0])
    free = cl.simulate(world, cl.GaussianMixtureFit(2, n_iter=50), n=500, generations=3, replicates=30, seed=2)
    cut = cl.simulate(world, cl.GaussianMixtureFit(2, n_iter=50), n=500, generations=3, replicates=30, seed=2,
                      filter=cl.QualityFilter(0.9))
    # the bump's density (0.03 * phi(0)) is below the central 90% cut: it goes in one generation
    np.testing.assert_array_equal(cut.models[1].tail_mass(5.0) < 1e-6, True)
    tm = free.models[1].tail_mass(5.0)
    assert tm.mean() > 0.03 - 4 * tm.std(ddof=1) / np.sqrt(30) - 0.002  # still there without the filter


def test_quality_filter_keep_one_is_no_filter():
    a = cl.QualityFilter(1.0).draw(normals(3), 50, rng(3), None)
    b = cl.NoFilter().draw(normals(3), 50, rng(3), None)
    np.testing.assert_array_equal(a, b)


def test_quality_filter_pool_size():
    assert cl.QualityFilter(0.9).pool_size(90) == 100
    assert cl.QualityFilter(0.3).pool_size(10) == 34


def test_central_normal_variance_matches_scipy():
    for keep in (0.2, 0.5, 0.9):
        c = special.ndtri((1 + keep) / 2)
        assert central_normal_variance(keep) == pytest.approx(stats.truncnorm(-c, c).var(), rel=1e-10)


# ---------------------------------------------------------------- Verifier

def test_verifier_perfect_turns_model_samples_into_world_samples():
    # a too-wide model N(0, 2^2) and the world N(0, 1): the ratio is bounded, no cap, so the
    # kept samples are (up to the finite pool) world samples
    r, k = 200, 500
    kept = cl.Verifier(1.0).draw(normals(r, 0.0, 2.0), k, rng(4), cl.Normal(0.0, 1.0))
    var = kept.var(axis=1)
    se = var.std(ddof=1) / np.sqrt(r)
    assert abs(var.mean() - (k - 1) / k) < 4 * se + 2.0 / k  # O(1/k) from the self-normalised ratio


@pytest.mark.parametrize("accuracy", [0.25, 0.5, 0.75])
def test_verifier_partial_accuracy_is_a_mixture_of_model_and_world(accuracy):
    # law a * world + (1 - a) * model where the cap is not reached: variance a * 1 + (1 - a) * 4
    r, k = 200, 500
    kept = cl.Verifier(accuracy).draw(normals(r, 0.0, 2.0), k, rng(5), cl.Normal(0.0, 1.0))
    var = kept.var(axis=1)
    se = var.std(ddof=1) / np.sqrt(r)
    target = (accuracy * 1.0 + (1 - accuracy) * 4.0) * (k - 1) / k
    assert abs(var.mean() - target) < 4 * se + 4.0 / k


def test_verifier_zero_accuracy_is_the_model_in_distribution():
    # one generation: the kept values are iid model draws -> KS against the model's cdf,
    # and m S^2 / sigma^2 ~ chi2(m - 1) for each replicate's sample
    r, k = 400, 30
    kept = cl.Verifier(0.0).draw(normals(r, 1.0, 2.0), k, rng(6), cl.Normal(0.0, 1.0))
    assert stats.kstest(kept.ravel(), stats.norm(1.0, 2.0).cdf).pvalue > 1e-3
    assert stats.kstest(k * kept.var(axis=1) / 4.0, stats.chi2(k - 1).cdf).pvalue > 1e-3


def test_verifier_zero_accuracy_recursion_matches_log_variance_closed_form():
    # NoFilter closed form: E[log sigma^2_t] = (t + 1) (psi((m-1)/2) + ln 2 - ln m) for MLE refits
    m, gens, r = 30, 20, 400
    run = cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(), n=m, generations=gens, replicates=r, seed=7,
                      filter=cl.Verifier(0.0))
    logvar = np.log(run.trajectory("var")[-1])
    drift = special.digamma((m - 1) / 2) + np.log(2) - np.log(m)
    se = logvar.std(ddof=1) / np.sqrt(r)
    assert abs(logvar.mean() - (gens + 1) * drift) < 4 * se  # tol = 4 * se


def test_verifier_keeps_the_tail_where_no_filter_loses_it():
    m, gens, r = 50, 60, 300
    kwargs = dict(n=m, generations=gens, replicates=r, seed=8)
    world = cl.Normal(0.0, 1.0)
    free = cl.simulate(world, cl.NormalFit(), **kwargs)
    checked = cl.simulate(world, cl.NormalFit(), filter=cl.Verifier(1.0), **kwargs)
    tail_free = free.models[-1].tail_mass(2.0)
    tail_checked = checked.models[-1].tail_mass(2.0)
    world_tail = world.tail_mass(2.0)
    # without a filter, most replicates have lost most of the tail (typical variance (49/50)^61 ~ 0.3)
    assert np.median(tail_free) < 0.5 * world_tail
    # with a perfect verifier the tail stays at the world's level: mean within 4 se + an O(1/m) fitting bias
    se = tail_checked.std(ddof=1) / np.sqrt(r)
    assert abs(tail_checked.mean() - world_tail) < 4 * se + 1.0 / m * world_tail * 3
    assert np.median(tail_checked) > 0.75 * world_tail


def test_verifier_rows_with_nothing_plausible_fall_back_to_random_choice():
    # a categorical world without category 3 and a model that only makes category 3
    world = cl.Categorical([0.5, 0.5, 0.0, 0.0])
    model = cl.Categorical._from_params(np.tile([0.0, 0.0, 0.0, 1.0], (2, 1)))
    kept = cl.Verifier(1.0).draw(model, 10, rng(9), world)
    np.testing.assert_array_equal(kept, 3)


def test_verifier_works_on_categorical_and_unbatched_models():
    world = cl.Categorical([0.5, 0.3, 0.15, 0.05])
    model = cl.Categorical._from_params(np.tile([0.25, 0.25, 0.25, 0.25], (300, 1)))
    kept = cl.Verifier(1.0).draw(model, 200, rng(10), world)
    freq = np.stack([(kept == c).mean() for c in range(4)])
    se = np.sqrt(world.probs * (1 - world.probs) / kept.size)
    # pool 4 suffices (max ratio 2 after normalisation): world frequencies up to 4 se + O(1/k)
    assert np.all(np.abs(freq - world.probs) < 4 * se + 0.01)
    one = cl.Verifier(1.0).draw(cl.Normal(0.0, 2.0), 7, rng(11), cl.Normal(0.0, 1.0))
    assert one.shape == (7,)


def test_filters_deterministic_and_bounded():
    for f in (cl.QualityFilter(0.7), cl.Verifier(0.6)):
        a = f.draw(normals(5), 40, rng(12), cl.Normal(0.0, 1.0))
        b = f.draw(normals(5), 40, rng(12), cl.Normal(0.0, 1.0))
        c = f.draw(normals(5), 40, rng(13), cl.Normal(0.0, 1.0))
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)
        assert f.draw(normals(5), 0, rng(), cl.Normal(0.0, 1.0)).shape == (5, 0)


def test_filters_on_collapsed_models_are_finite():
    point = cl.Normal._from_params(np.zeros(3), np.zeros(3))
    for f in (cl.QualityFilter(0.5), cl.Verifier(1.0), cl.Verifier(0.3)):
        out = f.draw(point, 10, rng(), cl.Normal(0.0, 1.0))
        np.testing.assert_array_equal(out, 0.0)


@pytest.mark.parametrize("make, exc, name", [
    (lambda: cl.QualityFilter(0.0), ValueError, "keep"),
    (lambda: cl.QualityFilter(1.5), ValueError, "keep"),
    (lambda: cl.QualityFilter(np.nan), ValueError, "keep"),
    (lambda: cl.Verifier(-0.1), ValueError, "accuracy"),
    (lambda: cl.Verifier(1.1), ValueError, "accuracy"),
    (lambda: cl.Verifier(1.0, pool=1), ValueError, "pool"),
    (lambda: cl.Verifier(1.0, pool=2.5), TypeError, "pool"),
    (lambda: cl.Verifier(1.0).draw(normals(2), 5, rng(), None), ValueError, "world"),
    (lambda: cl.QualityFilter(0.5).draw(normals(2), -1, rng(), None), ValueError, "k"),
    (lambda: cl.QualityFilter(0.5).draw(cl.EmpiricalFit().fit(np.ones((2, 3))), 2, 0, None), TypeError, "rng"),
])
def test_filters_bad_input(make, exc, name):
    with pytest.raises(exc, match=name):
        make()
