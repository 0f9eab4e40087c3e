"""Filters on generated samples: QualityFilter (truncation), the OracleVerifier (true density) and
the verifiers that learn from m real points (DensityVerifier, ClassifierVerifier).

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


# ---------------------------------------------------------------- OracleVerifier

def test_verifier_is_the_oracle_under_its_old_name():
    assert cl.Verifier is cl.OracleVerifier
    assert repr(cl.OracleVerifier(0.5)) == "OracleVerifier(accuracy=0.5, pool=4)"


def test_verifier_perfect_turns_model_samples_into_world_samples():
    # a too-wide model N(0, 2^2) and the world N(0, 1): the ratio is bounded, no cap, so the
    # kept samples are (up to the finite pool) world samples
    r, k = 200, 500
    kept = cl.OracleVerifier(1.0).draw(normals(r, 0.0, 2.0), k, rng(4), cl.Normal(0.0, 1.0))
    var = kept.var(axis=1)
    se = var.std(ddof=1) / np.sqrt(r)
    assert abs(var.mean() - (k - 1) / k) < 4 * se + 2.0 / k  # O(1/k) from the self-normalised ratio


@pytest.mark.parametrize("accuracy", [0.25, 0.5, 0.75])
def test_verifier_partial_accuracy_is_a_mixture_of_model_and_world(accuracy):
    # law a * world + (1 - a) * model where the cap is not reached: variance a * 1 + (1 - a) * 4
    r, k = 200, 500
    kept = cl.OracleVerifier(accuracy).draw(normals(r, 0.0, 2.0), k, rng(5), cl.Normal(0.0, 1.0))
    var = kept.var(axis=1)
    se = var.std(ddof=1) / np.sqrt(r)
    target = (accuracy * 1.0 + (1 - accuracy) * 4.0) * (k - 1) / k
    assert abs(var.mean() - target) < 4 * se + 4.0 / k


def test_verifier_zero_accuracy_is_the_model_in_distribution():
    # one generation: the kept values are iid model draws -> KS against the model's cdf,
    # and m S^2 / sigma^2 ~ chi2(m - 1) for each replicate's sample
    r, k = 400, 30
    kept = cl.OracleVerifier(0.0).draw(normals(r, 1.0, 2.0), k, rng(6), cl.Normal(0.0, 1.0))
    assert stats.kstest(kept.ravel(), stats.norm(1.0, 2.0).cdf).pvalue > 1e-3
    assert stats.kstest(k * kept.var(axis=1) / 4.0, stats.chi2(k - 1).cdf).pvalue > 1e-3


def test_verifier_zero_accuracy_recursion_matches_log_variance_closed_form():
    # NoFilter closed form: E[log sigma^2_t] = (t + 1) (psi((m-1)/2) + ln 2 - ln m) for MLE refits
    m, gens, r = 30, 20, 400
    run = cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(), n=m, generations=gens, replicates=r, seed=7,
                      filter=cl.OracleVerifier(0.0))
    logvar = np.log(run.trajectory("var")[-1])
    drift = special.digamma((m - 1) / 2) + np.log(2) - np.log(m)
    se = logvar.std(ddof=1) / np.sqrt(r)
    assert abs(logvar.mean() - (gens + 1) * drift) < 4 * se  # tol = 4 * se


def test_verifier_keeps_the_tail_where_no_filter_loses_it():
    m, gens, r = 50, 60, 300
    kwargs = dict(n=m, generations=gens, replicates=r, seed=8)
    world = cl.Normal(0.0, 1.0)
    free = cl.simulate(world, cl.NormalFit(), **kwargs)
    checked = cl.simulate(world, cl.NormalFit(), filter=cl.OracleVerifier(1.0), **kwargs)
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
    kept = cl.OracleVerifier(1.0).draw(model, 10, rng(9), world)
    np.testing.assert_array_equal(kept, 3)


def test_verifier_works_on_categorical_and_unbatched_models():
    world = cl.Categorical([0.5, 0.3, 0.15, 0.05])
    model = cl.Categorical._from_params(np.tile([0.25, 0.25, 0.25, 0.25], (300, 1)))
    kept = cl.OracleVerifier(1.0).draw(model, 200, rng(10), world)
    freq = np.stack([(kept == c).mean() for c in range(4)])
    se = np.sqrt(world.probs * (1 - world.probs) / kept.size)
    # pool 4 suffices (max ratio 2 after normalisation): world frequencies up to 4 se + O(1/k)
    assert np.all(np.abs(freq - world.probs) < 4 * se + 0.01)
    one = cl.OracleVerifier(1.0).draw(cl.Normal(0.0, 2.0), 7, rng(11), cl.Normal(0.0, 1.0))
    assert one.shape == (7,)


def test_filters_deterministic_and_bounded():
    for f in (cl.QualityFilter(0.7), cl.OracleVerifier(0.6)):
        a = f.draw(normals(5), 40, rng(12), cl.Normal(0.0, 1.0))
        b = f.draw(normals(5), 40, rng(12), cl.Normal(0.0, 1.0))
        c = f.draw(normals(5), 40, rng(13), cl.Normal(0.0, 1.0))
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)
        assert f.draw(normals(5), 0, rng(), cl.Normal(0.0, 1.0)).shape == (5, 0)


def test_filters_on_collapsed_models_are_finite():
    point = cl.Normal._from_params(np.zeros(3), np.zeros(3))
    for f in (cl.QualityFilter(0.5), cl.OracleVerifier(1.0), cl.OracleVerifier(0.3)):
        out = f.draw(point, 10, rng(), cl.Normal(0.0, 1.0))
        np.testing.assert_array_equal(out, 0.0)


@pytest.mark.parametrize("make, exc, name", [
    (lambda: cl.QualityFilter(0.0), ValueError, "keep"),
    (lambda: cl.QualityFilter(1.5), ValueError, "keep"),
    (lambda: cl.QualityFilter(np.nan), ValueError, "keep"),
    (lambda: cl.OracleVerifier(-0.1), ValueError, "accuracy"),
    (lambda: cl.OracleVerifier(1.1), ValueError, "accuracy"),
    (lambda: cl.OracleVerifier(1.0, pool=1), ValueError, "pool"),
    (lambda: cl.OracleVerifier(1.0, pool=2.5), TypeError, "pool"),
    (lambda: cl.OracleVerifier(1.0).draw(normals(2), 5, rng(), None), ValueError, "world"),
    (lambda: cl.QualityFilter(0.5).draw(normals(2), -1, rng(), None), ValueError, "k"),
    (lambda: cl.QualityFilter(0.5).draw(cl.EmpiricalFit().fit(np.ones((2, 3))), 2, 0, None), TypeError, "rng"),
])
def test_filters_bad_input(make, exc, name):
    with pytest.raises(exc, match=name):
        make()


# ---------------------------------------------------------------- verifiers that learn from m real points

def test_auc_known_answers():
    # N(0,1) vs N(1,1): AUC = Phi(1 / sqrt(2)); tolerance 4 standard errors of the row mean
    g = rng(20)
    pos, neg = g.normal(1.0, 1.0, (20, 2000)), g.normal(0.0, 1.0, (20, 2000))
    a = cl.filters.auc(pos, neg)
    assert abs(a.mean() - special.ndtr(1 / np.sqrt(2))) < 4 * a.std(ddof=1) / np.sqrt(a.size)
    np.testing.assert_array_equal(cl.filters.auc([[2.0, 3.0]], [[0.0, 1.0]]), [1.0])
    np.testing.assert_array_equal(cl.filters.auc(np.zeros((3, 4)), np.zeros((3, 5))), 0.5)   # ties count one half
    np.testing.assert_array_equal(cl.filters.auc([[np.inf]], [[-np.inf]]), [1.0])


@pytest.mark.parametrize("make, target", [
    # a normal density fitted to m real points: kept law ~ N(xbar, s^2), E[s^2] = (m - 1) / m
    (lambda: cl.DensityVerifier(5000, family=cl.NormalFit()), lambda f: np.full(200, (5000 - 1) / 5000)),
    # the default kernel density: kept variance ~ reference variance + h^2, per replicate
    (lambda: cl.DensityVerifier(5000), lambda f: f.reference.var(axis=1) + f.density.h ** 2),
    # the classifier: the true log ratio (log 2 - 3 x^2 / 8) is quadratic, inside its features
    # (here without bump features, which only add flexibility and cost)
    (lambda: cl.ClassifierVerifier(5000, bumps=0), lambda f: np.ones(200)),
])
def test_learned_verifier_with_large_m_approaches_the_oracle(make, target):
    # model N(0, 2^2), world N(0, 1): the oracle keeps world-distributed samples (variance 1 up
    # to the finite pool, test above); a learned verifier keeps its estimate of the world.
    # Tolerance: 4 standard errors over replicates (each replicate has its own real sample,
    # so the estimation noise is in the SE) + O(1/k) from the self-normalised ratio + a
    # second-order O(1/m) bias of the estimated ratio. (The tolerance, about 0.012, is below the
    # kernel's own h^2, about 0.027: leaving it out of the target fails the test.)
    r, k, m = 200, 2000, 5000
    f = make()
    kept = f.draw(normals(r, 0.0, 2.0), k, rng(21), cl.Normal(0.0, 1.0))
    gap = kept.var(axis=1) - target(f) * (k - 1) / k
    se = gap.std(ddof=1) / np.sqrt(r)
    assert abs(gap.mean()) < 4 * se + 2.0 / k + 10.0 / m
    # and far from what no filter keeps (variance 4)
    assert kept.var(axis=1).mean() < 1.2


@pytest.mark.parametrize("make", [lambda: cl.ClassifierVerifier(300, holdout=300),
                                  lambda: cl.DensityVerifier(300, family=cl.NormalFit(), holdout=300)])
def test_learned_verifier_with_world_equal_to_model_keeps_the_models_law(make):
    # nothing to learn: the kept samples follow the model (KS on the pooled samples; the
    # per-replicate estimation noise averages out to second order), their variance is the
    # model's within 4 standard errors, and the held-out AUC is 0.5 within 4 standard errors
    # of the per-replicate mean; the oracle's score (a constant log ratio 0) ties everywhere,
    # so its AUC is exactly 0.5.
    r, k = 300, 40
    world = cl.Normal(1.0, 2.0)
    f = make()
    kept = f.draw(normals(r, 1.0, 2.0), k, rng(22), world)
    assert stats.kstest(kept.ravel(), stats.norm(1.0, 2.0).cdf).pvalue > 1e-3
    v = kept.var(axis=1) / 4.0
    assert abs(v.mean() - (k - 1) / k) < 4 * v.std(ddof=1) / np.sqrt(r)
    q = f.quality
    assert q.shape == (1, r)
    assert abs(q.mean() - 0.5) < 4 * q.std(ddof=1) / np.sqrt(r)
    np.testing.assert_array_equal(f.oracle_quality, 0.5)


def test_density_verifier_removes_a_mode_its_real_sample_missed():
    # world 0.97 N(0,1) + 0.03 N(8,1); the model is the world. With m = 10 real points a
    # replicate's sample misses the bump with probability P(no point above 5) = (1 - p5)^10;
    # where it did, the kernel density calls the bump implausible and no kept sample is above 5.
    world = cl.NormalMixture([0.97, 0.03], [0.0, 8.0], [1.0, 1.0])
    r, k, m = 400, 200, 10
    model = cl.NormalMixture._from_params(np.tile([0.97, 0.03], (r, 1)), np.tile([0.0, 8.0], (r, 1)),
                                          np.ones((r, 2)))
    f = cl.DensityVerifier(m, holdout=0)
    kept = f.draw(model, k, rng(23), world)
    missed = (f.reference <= 5.0).all(axis=1)
    p = (1 - world.tail_mass(5.0)) ** m
    assert abs(missed.mean() - p) < 4 * np.sqrt(p * (1 - p) / r)
    assert (kept[missed] > 5.0).mean() < 1e-3
    # where its sample held a bump point, the bump stays (share near the world's 0.03)
    assert (kept[~missed] > 5.0).mean() > 0.01


def test_learned_verifiers_in_the_loop_measure_quality_and_are_reproducible():
    world = cl.NormalMixture([0.97, 0.03], [0.0, 8.0], [1.0, 1.0])
    family = cl.GaussianMixtureFit(2, init=[0.0, 8.0], tol=1e-6)
    kwargs = dict(n=100, generations=3, replicates=8)
    for make in (lambda h: cl.DensityVerifier(50, holdout=h), lambda h: cl.ClassifierVerifier(50, holdout=h)):
        f = make(60)
        a = cl.simulate(world, family, filter=f, seed=1, **kwargs).models[-1].means
        assert f.quality.shape == (3, 8) and f.oracle_quality.shape == (3, 8)
        assert np.all((f.quality >= 0) & (f.quality <= 1))
        ref_a = f.reference.copy()
        b = cl.simulate(world, family, filter=f, seed=1, **kwargs).models[-1].means   # same filter, same seed
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(f.reference, ref_a)
        c = cl.simulate(world, family, filter=f, seed=2, **kwargs).models[-1].means   # a new run: a new sample
        assert not np.array_equal(f.reference, ref_a) and not np.array_equal(a, c)
        assert len(f.history) == 3                                                   # reset at the new run
        # measuring quality draws from its own generator: the loop is the same without it
        quiet = make(0)
        d = cl.simulate(world, family, filter=quiet, seed=1, **kwargs).models[-1].means
        np.testing.assert_array_equal(a, d)
        assert quiet.quality.size == 0


def test_learned_verifiers_on_unbatched_models_and_k_zero():
    for f in (cl.DensityVerifier(30), cl.ClassifierVerifier(30)):
        one = f.draw(cl.Normal(0.0, 2.0), 7, rng(24), cl.Normal(0.0, 1.0))
        assert one.shape == (7,) and np.all(np.isfinite(one))
        assert f.draw(normals(3), 0, rng(25), cl.Normal(0.0, 1.0)).shape == (3, 0)


def test_classifier_separating_classes_stays_finite():
    # a model with no mass where the world has its bump: perfectly separable training data;
    # the ridge keeps the log-odds finite and the kept samples finite
    world = cl.NormalMixture([0.5, 0.5], [0.0, 20.0], [1.0, 1.0])
    f = cl.ClassifierVerifier(200, holdout=50)
    kept = f.draw(normals(5), 100, rng(26), world)
    assert np.all(np.isfinite(kept)) and np.all(np.isfinite(f.coef))
    assert np.all(f.quality > 0.6)     # half the real points are far out: easy to tell apart


@pytest.mark.parametrize("make, exc, name", [
    (lambda: cl.DensityVerifier(1), ValueError, "m"),
    (lambda: cl.DensityVerifier(2.5), TypeError, "m"),
    (lambda: cl.DensityVerifier(10, pool=1), ValueError, "pool"),
    (lambda: cl.DensityVerifier(10, holdout=-1), ValueError, "holdout"),
    (lambda: cl.DensityVerifier(10, family="kde"), TypeError, "family"),
    (lambda: cl.ClassifierVerifier(10, bumps=-1), ValueError, "bumps"),
    (lambda: cl.ClassifierVerifier(10, ridge=0.0), ValueError, "ridge"),
    (lambda: cl.ClassifierVerifier(10).draw(normals(2), 5, rng(), None), ValueError, "world"),
    (lambda: cl.DensityVerifier(10).draw(normals(2), 5, 0, cl.Normal(0.0, 1.0)), TypeError, "rng"),
    (lambda: cl.DensityVerifier(10).draw(normals(2), -1, rng(), cl.Normal(0.0, 1.0)), ValueError, "k"),
    (lambda: cl.DensityVerifier(10).draw(normals(2), 5, rng(), cl.Normal._from_params(np.zeros(3), np.ones(3))),
     ValueError, "world"),
    (lambda: cl.filters.auc(np.zeros((2, 3)), np.zeros((3, 3))), ValueError, "positive"),
    (lambda: cl.filters.auc([["1", "2"]], [[0.0]]), TypeError, "positive"),
    (lambda: cl.filters.auc([[0.0]], [[True, False]]), TypeError, "negative"),
    (lambda: cl.filters.auc([[0.0, np.nan]], [[0.0]]), ValueError, "positive"),
    (lambda: cl.filters.auc(np.zeros((1, 2, 2)), np.zeros((1, 2))), ValueError, "positive"),
    (lambda: cl.filters.auc([[0.0]], object()), TypeError, "negative"),
])
def test_learned_verifiers_bad_input(make, exc, name):
    with pytest.raises(exc, match=name):
        make()
