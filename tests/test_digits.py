"""Handwritten digits (chapter 6), reached as cl.digits as the chapter does.

The code lives in collapse_lib.worlds.digits and studies.digit_collapse; the model is the
library's own GaussianMixtureFit with a k-means start (init="kmeans"), whose batched EM is
checked here against scikit-learn's GaussianMixture on digit codes (tests/test_multivariate.py
checks it on 2-D data).

Sampling checks compare a fitted mixture's exact mean and total variance with
its samples, with tolerances of 4 standard errors of the sample estimate;
fixed seeds make every run reproducible. Runs use a few replicates and a small
PCA space so the file stays quick.
"""

import numpy as np
import pytest

import collapse_lib as cl
from collapse_lib import digits as D


def kfit(k, covariance_type="full", **kw):
    """Chapter 6's family: k-means start, scikit-learn's absolute regulariser and tolerance."""
    kw = {"reg_covar": 1e-6, "tol": 1e-3, **kw}
    return cl.GaussianMixtureFit(k, covariance_type=covariance_type, init="kmeans", **kw)


@pytest.fixture(scope="module")
def world():
    return D.load_digit_world(12)


def test_world_shapes_and_classifier(world):
    assert world.images.shape == (1797, 64)
    assert world.codes.shape == (1797, 12) and world.dim == 12
    assert set(np.unique(world.labels)) == set(range(10))
    assert world.classifier_accuracy > 0.95
    # Codes of real digits decode close to the real images and classify as their label.
    assert np.mean(world.classify(world.codes) == world.labels) > 0.85
    decoded = world.decode(world.codes)
    assert decoded.shape == (1797, 64)
    assert decoded.min() >= 0.0 and decoded.max() <= 16.0
    # The world is cached and deterministic.
    assert D.load_digit_world(12) is world


def test_world_sample(world):
    x = world.sample(50, np.random.default_rng(0))
    assert x.shape == (50, 12)
    np.testing.assert_array_equal(x, world.sample(50, np.random.default_rng(0)))
    with pytest.raises(TypeError, match="rng"):
        world.sample(5, 0)


def test_load_rejects_bad_dimension():
    with pytest.raises(ValueError, match="n_components"):
        D.load_digit_world(0)
    with pytest.raises(ValueError, match="n_components"):
        D.load_digit_world(65)


def test_mixture_samples_match_its_exact_mean_and_total_variance(world):
    rng = np.random.default_rng(1)
    data = world.sample(2 * 300, rng).reshape(2, 300, 12)
    model = kfit(5).fit(data, rng=rng)
    assert isinstance(model, cl.MultivariateNormalMixture)
    m = 40_000
    x = model.sample(m, np.random.default_rng(2))
    assert x.shape == (2, m, 12)
    mean = np.einsum("rk,rkd->rd", model.weights, model.means)
    np.testing.assert_allclose(model.mean, mean)
    se = x.std(axis=1, ddof=1) / np.sqrt(m)
    assert np.all(np.abs(x.mean(axis=1) - mean) <= 4 * se)  # tol = 4 SE per coordinate
    sq = np.sum((x - mean[:, None, :]) ** 2, axis=2)  # E[|x - mu|^2] = total variance
    se_tv = sq.std(axis=1, ddof=1) / np.sqrt(m)
    assert np.all(np.abs(sq.mean(axis=1) - model.trace) <= 4 * se_tv)  # tol = 4 SE


def test_diag_family_and_degenerate_data():
    rng = np.random.default_rng(3)
    # All points identical: a collapsed state; the fit must stay finite.
    data = np.zeros((1, 30, 3))
    for cov in ("full", "tied", "diag"):
        model = kfit(2, cov).fit(data, rng=rng)
        x = model.sample(100, rng)
        assert np.all(np.isfinite(x))
        assert np.all(np.isfinite(model.trace)) and np.all(np.isfinite(model.within_variance))


def test_kmeans_start_validation():
    rng = np.random.default_rng(0)
    fam = kfit(3)
    with pytest.raises(TypeError, match="rng"):
        fam.fit(np.zeros((1, 10, 3)))                      # the k-means start needs a generator
    with pytest.raises(TypeError, match="rng"):
        fam.fit(np.zeros((1, 10, 3)), rng=0)
    with pytest.raises(ValueError, match="d-dimensional"):
        fam.fit(np.zeros((1, 10)), rng=rng)
    with pytest.raises(ValueError, match="n_components"):
        fam.fit(np.zeros((1, 2, 3)), rng=rng)
    bad = np.zeros((1, 10, 3))
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="data"):
        fam.fit(bad, rng=rng)
    with pytest.raises(ValueError, match="init"):
        cl.GaussianMixtureFit(3, init="random")
    with pytest.raises(ValueError, match="init"):
        fam.fit(np.zeros((1, 10, 3)), rng=rng, init="previous")
    other = kfit(2).fit(np.random.default_rng(1).normal(size=(1, 10, 3)), rng=rng)
    with pytest.raises(ValueError, match="n_components=3"):
        fam.fit(np.zeros((1, 10, 3)), rng=rng, init=other)
    with pytest.raises(ValueError, match="dimension"):
        kfit(2).fit(np.zeros((1, 10, 4)), rng=rng, init=other)
    # a fit-time init replaces the family's own for that fit only; rng is then not needed
    warm = fam.fit(np.random.default_rng(2).normal(size=(1, 10, 3)), init=kfit(3).fit(
        np.random.default_rng(3).normal(size=(1, 10, 3)), rng=rng))
    assert warm.means.shape == (1, 3, 3) and fam.init == "kmeans"


def test_kmeans_start_is_seeded_and_leaves_quantile_default_alone():
    x = np.random.default_rng(0).normal(size=(2, 60, 3))
    a = kfit(3).fit(x, rng=np.random.default_rng(1))
    b = kfit(3).fit(x, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a.means, b.means)
    # the default start ignores rng (it is deterministic)
    q1 = cl.GaussianMixtureFit(3).fit(x)
    q2 = cl.GaussianMixtureFit(3).fit(x, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(q1.means, q2.means)


def test_simulate_digits_is_deterministic_and_shaped(world):
    fam = kfit(4)
    kw = dict(n=60, generations=3, replicates=2, n_eval=30)
    a = D.simulate_digits(world, fam, seed=5, **kw)
    b = D.simulate_digits(world, fam, seed=5, **kw)
    c = D.simulate_digits(world, fam, seed=6, **kw)
    assert a.samples.shape == (4, 2, 30, 12)
    assert len(a.models) == 4
    np.testing.assert_array_equal(a.samples, b.samples)
    assert not np.array_equal(a.samples, c.samples)
    shares = a.shares()
    assert shares.shape == (4, 2, 10)
    np.testing.assert_allclose(shares.sum(axis=-1), 1.0)
    assert a.spread().shape == (4, 2, 10)


def test_class_measures_validate_world_and_codes(world):
    codes = world.codes[:30]
    assert D.class_shares(world, codes).shape == (10,)
    with pytest.raises(TypeError, match="DigitWorld"):
        D.class_shares(None, codes)
    with pytest.raises(TypeError, match="DigitWorld"):
        D.class_spread("world", codes)
    with pytest.raises(ValueError, match="codes must have shape"):
        D.class_spread(world, np.zeros((5, world.dim + 1)))


def test_simulate_digits_validation(world):
    fam = kfit(4)
    with pytest.raises(ValueError, match="n must be"):
        D.simulate_digits(world, fam, n=3, generations=1)
    with pytest.raises(ValueError, match="generations"):
        D.simulate_digits(world, fam, n=50, generations=-1)
    with pytest.raises(TypeError, match="scheme"):
        D.simulate_digits(world, fam, n=50, generations=1, scheme="anchor")
    with pytest.raises(TypeError, match="DigitWorld"):
        D.simulate_digits(cl.Normal(0, 1), fam, n=50, generations=1)
    with pytest.raises(TypeError, match="warm_start"):
        D.simulate_digits(world, fam, n=50, generations=1, warm_start="yes")
    with pytest.raises(TypeError, match="family"):
        D.simulate_digits(world, "gmm", n=50, generations=1)


def test_all_real_anchor_keeps_every_class(world):
    # Anchor(1.0) trains every generation on fresh real digits only: no class can vanish.
    run = D.simulate_digits(world, kfit(10), n=400, generations=4,
                            scheme=cl.Anchor(1.0), replicates=2, seed=8, n_eval=1000)
    shares = run.shares()[-1]
    assert shares.min() > 0.03


def test_class_shares_and_spread_by_hand(world):
    codes = world.codes[:300]
    labels = world.classify(codes)
    shares = D.class_shares(world, codes)
    np.testing.assert_allclose(shares, np.bincount(labels, minlength=10) / 300)
    spread = D.class_spread(world, codes)
    for c in range(10):
        members = codes[labels == c]
        if len(members) >= 2:
            expected = np.sqrt(np.mean(np.sum((members - members.mean(axis=0)) ** 2, axis=1)))
            assert spread[c] == pytest.approx(expected, rel=1e-9)
        else:
            assert spread[c] == 0.0
    # A batch of one class copied: zero spread for that class, zero share elsewhere.
    one = np.repeat(codes[:1], 5, axis=0)
    c0 = world.classify(one[:1])[0]
    s = D.class_spread(world, one[None])
    assert s.shape == (1, 10) and s[0, c0] == pytest.approx(0.0, abs=1e-6)
    assert D.class_shares(world, one[None])[0, c0] == 1.0


def test_digit_mosaic_places_each_image():
    imgs = np.arange(3 * 64, dtype=float).reshape(3, 64)
    m = D.digit_mosaic(imgs, ncols=2, pad=1)
    assert m.shape == (2 * 9 - 1, 2 * 9 - 1)
    np.testing.assert_array_equal(m[:8, :8], imgs[0].reshape(8, 8))
    np.testing.assert_array_equal(m[:8, 9:17], imgs[1].reshape(8, 8))
    np.testing.assert_array_equal(m[9:17, :8], imgs[2].reshape(8, 8))
    assert np.all(m[9:17, 9:17] == 0) and np.all(m[8, :] == 0)
    with pytest.raises(ValueError, match="ncols"):
        D.digit_mosaic(imgs, ncols=0)


@pytest.mark.parametrize("cov", ["full", "tied", "diag"])
def test_batched_em_matches_scikit_learn_from_the_same_start(world, cov):
    # Same data, same starting parameters, same number of EM steps: the batched numpy EM of
    # GaussianMixtureFit (warm-started, as chapter 6's generations are) and scikit-learn's
    # GaussianMixture must agree to rounding (both use the same E and M steps).
    import warnings

    from sklearn.mixture import GaussianMixture

    rng = np.random.default_rng(0)
    x = world.sample(3 * 150, rng).reshape(3, 150, 12)
    start = kfit(4, cov, n_iter=2).fit(x, rng=np.random.default_rng(1))   # a start EM has not converged from
    eye = np.eye(12)
    for iters in (1, 7):
        # tol tiny: exactly `iters` EM steps (every step still gains), as scikit-learn's tol=0
        fam = cl.GaussianMixtureFit(4, covariance_type=cov, reg_covar=1e-6, n_iter=iters, tol=1e-300)
        mine = fam.fit(x, init=start)
        # a warm start adds the regulariser to the covariances it starts from
        c0 = start.covs + 1e-6 * eye
        for i in range(3):
            if cov == "diag":
                prec = 1.0 / np.diagonal(c0[i], axis1=1, axis2=2)
            else:
                prec = np.linalg.inv(c0[i] if cov == "full" else c0[i, 0])
                prec = 0.5 * (prec + np.swapaxes(prec, -1, -2))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                gm = GaussianMixture(4, covariance_type=cov, weights_init=start.weights[i],
                                     means_init=start.means[i], precisions_init=prec, reg_covar=1e-6,
                                     max_iter=iters, tol=0.0).fit(x[i])
            if cov == "full":
                ref = gm.covariances_
            elif cov == "tied":
                ref = np.broadcast_to(gm.covariances_, (4, 12, 12))
            else:
                ref = gm.covariances_[..., None] * eye
            # components come back sorted by their first mean coordinate
            order = np.argsort(gm.means_[:, 0], kind="stable")
            np.testing.assert_allclose(mine.weights[i], gm.weights_[order], rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(mine.means[i], gm.means_[order], rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose(mine.covs[i], ref[order], rtol=1e-9, atol=1e-9)


def test_cold_start_recovers_separated_clusters():
    # Two clusters 20 standard deviations apart: the k-means start and EM find both centres.
    rng = np.random.default_rng(4)
    centres = np.array([[0.0, 0.0, 0.0], [20.0, 0.0, 0.0]])
    lab = rng.integers(0, 2, size=(5, 400))
    x = centres[lab] + rng.standard_normal((5, 400, 3))
    for cov in ("full", "tied", "diag"):
        model = kfit(2, cov).fit(x, rng=rng)
        found = np.sort(model.means[:, :, 0], axis=1)
        # each centre is a mean of about 200 unit-variance points: SE about 0.07, tolerance 0.5
        np.testing.assert_allclose(found, np.broadcast_to([0.0, 20.0], found.shape), atol=0.5)


def test_kmeans_start_is_the_m_step_of_its_hard_assignments():
    # Clusters so far apart that ten Lloyd iterations from any two distinct points settle on
    # them: EM's start (n_iter=1 takes one step more, which changes nothing at this
    # separation) is each cluster's weight, mean and ML covariance plus the regulariser.
    rng = np.random.default_rng(9)
    lab = np.repeat([0, 1], [30, 50])
    x = (np.array([[0.0, 0.0], [1000.0, 0.0]])[lab] + rng.standard_normal((80, 2)))[None]
    model = kfit(2, "full", n_iter=1).fit(x, rng=np.random.default_rng(0))
    for j, part in enumerate((x[0, :30], x[0, 30:])):
        assert model.weights[0, j] == pytest.approx(len(part) / 80)
        np.testing.assert_allclose(model.means[0, j], part.mean(axis=0), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(model.covs[0, j], np.cov(part.T, bias=True) + 1e-6 * np.eye(2), rtol=1e-8)


def test_tied_refit_shrinks_by_one_minus_k_over_n():
    # The mechanism chapter 6 checks: a pooled covariance fitted around k estimated means on
    # n points has expectation (1 - k/n) times the truth when the components are well apart.
    # 4000 replicates of n = 40 points from two unit-covariance clusters 30 apart in 3-D,
    # fitted from the true parameters: mean within-variance / 3 = 1 - 2/40, within 4 SE.
    rng = np.random.default_rng(5)
    r, n, d = 4000, 40, 3
    centres = np.zeros((2, d))
    centres[1, 0] = 30.0
    lab = np.zeros((r, n), dtype=int)
    lab[:, n // 2:] = 1                                   # exactly n/2 per cluster
    x = centres[lab] + rng.standard_normal((r, n, d))
    truth = cl.MultivariateNormalMixture(np.full((r, 2), 0.5), np.broadcast_to(centres, (r, 2, d)).copy(),
                                         np.broadcast_to(np.eye(d), (r, 2, d, d)).copy())
    fam = cl.GaussianMixtureFit(2, covariance_type="tied", reg_covar=1e-9, tol=1e-3)
    fit = fam.fit(x, init=truth)
    ratio = fit.within_variance / d
    se = ratio.std(ddof=1) / np.sqrt(r)
    assert abs(ratio.mean() - (1 - 2 / n)) < 4 * se
    assert truth.within_variance == pytest.approx(np.full(r, 3.0))


def test_within_variance_and_total_variance():
    rng = np.random.default_rng(6)
    w = np.array([[0.7, 0.3, 0.0]])
    means = rng.normal(size=(1, 3, 2))
    covs = np.stack([np.eye(2), 4 * np.eye(2), 9 * np.eye(2)])[None]
    m = cl.MultivariateNormalMixture(w, means, covs)
    assert m.within_variance[0] == pytest.approx(0.7 * 2 + 0.3 * 8)
    assert np.sum(m.weights * 10 >= 1, axis=1)[0] == 2    # components in use with n = 10 (chapter 6)
    # total variance = within + between (law of total variance)
    mu = w[0] @ means[0]
    between = np.sum(w[0] * np.sum((means[0] - mu) ** 2, axis=1))
    assert m.trace[0] == pytest.approx(m.within_variance[0] + between)
    assert m._take(0).within_variance == pytest.approx(0.7 * 2 + 0.3 * 8)   # unbatched: a float


def test_heterozygosity_is_unbiased(world):
    # Subsamples of m = 20 real digits: the corrected estimate averages to the heterozygosity
    # of the class shares of all real images (tolerance 4 SE over 3000 subsamples).
    rng = np.random.default_rng(7)
    idx = rng.integers(0, len(world.codes), size=(3000, 20))
    run = D.DigitRun(models=[], samples=world.codes[idx][None], world=world, n=20, scheme=None, replicates=3000)
    h = run.heterozygosity()[0]
    labels = world.classify(world.codes)
    truth = 1 - np.sum((np.bincount(labels, minlength=10) / len(labels)) ** 2)
    assert abs(h.mean() - truth) < 4 * h.std(ddof=1) / np.sqrt(h.size)
    # the uncorrected plug-in is low by the factor 1 - 1/m
    plug = 1 - np.sum(run.shares()[0] ** 2, axis=-1)
    np.testing.assert_allclose(h, plug * 20 / 19)


def test_warm_start_runs_and_is_deterministic(world):
    fam = kfit(4, "tied")
    kw = dict(n=60, generations=3, replicates=2, seed=3, n_eval=30, warm_start=True)
    a = D.simulate_digits(world, fam, **kw)
    b = D.simulate_digits(world, fam, **kw)
    np.testing.assert_array_equal(a.samples, b.samples)
    assert np.all(np.isfinite(a.models[-1].within_variance))
    cold = D.simulate_digits(world, fam, **{**kw, "warm_start": False})
    np.testing.assert_array_equal(a.samples[0], cold.samples[0])   # generation 0 is the same fit
    assert not np.array_equal(a.samples[-1], cold.samples[-1])
