"""Handwritten digits (chapter 6), reached as cl.digits as the chapter does.

The code lives in collapse_lib.worlds.digits, models.digit_mixture and studies.digit_collapse.

Sampling checks compare a fitted mixture's exact mean and total variance with
its samples, with tolerances of 4 standard errors of the sample estimate;
fixed seeds make every run reproducible. Runs use a few replicates and a small
PCA space so the file stays quick.
"""

import numpy as np
import pytest

import collapse_lib as cl
from collapse_lib import digits as D


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
    model = D.DigitMixtureFit(5).fit(data, rng)
    m = 40_000
    x = model.sample(m, np.random.default_rng(2))
    assert x.shape == (2, m, 12)
    mean = np.einsum("rk,rkd->rd", model.weights, model.means)
    se = x.std(axis=1, ddof=1) / np.sqrt(m)
    assert np.all(np.abs(x.mean(axis=1) - mean) <= 4 * se)  # tol = 4 SE per coordinate
    sq = np.sum((x - mean[:, None, :]) ** 2, axis=2)  # E[|x - mu|^2] = total variance
    se_tv = sq.std(axis=1, ddof=1) / np.sqrt(m)
    assert np.all(np.abs(sq.mean(axis=1) - model.total_variance) <= 4 * se_tv)  # tol = 4 SE


def test_diag_family_and_degenerate_data():
    rng = np.random.default_rng(3)
    # All points identical: a collapsed state; the fit must stay finite.
    data = np.zeros((1, 30, 3))
    for cov in ("full", "diag"):
        model = D.DigitMixtureFit(2, covariance_type=cov).fit(data, rng)
        x = model.sample(100, rng)
        assert np.all(np.isfinite(x))
        assert np.all(np.isfinite(model.total_variance))


def test_family_validation():
    rng = np.random.default_rng(0)
    fam = D.DigitMixtureFit(3)
    with pytest.raises(ValueError, match="shape"):
        fam.fit(np.zeros((10, 3)), rng)
    with pytest.raises(ValueError, match="n_components"):
        fam.fit(np.zeros((1, 2, 3)), rng)
    bad = np.zeros((1, 10, 3))
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fam.fit(bad, rng)
    with pytest.raises(ValueError, match="covariance_type"):
        D.DigitMixtureFit(3, covariance_type="tied")
    with pytest.raises(ValueError, match="reg_covar"):
        D.DigitMixtureFit(3, reg_covar=0)
    with pytest.raises(ValueError, match="n_components"):
        D.DigitMixtureFit(0)


def test_simulate_digits_is_deterministic_and_shaped(world):
    fam = D.DigitMixtureFit(4)
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
    fam = D.DigitMixtureFit(4)
    with pytest.raises(ValueError, match="n must be"):
        D.simulate_digits(world, fam, n=3, generations=1)
    with pytest.raises(ValueError, match="generations"):
        D.simulate_digits(world, fam, n=50, generations=-1)
    with pytest.raises(TypeError, match="scheme"):
        D.simulate_digits(world, fam, n=50, generations=1, scheme="anchor")
    with pytest.raises(TypeError, match="DigitWorld"):
        D.simulate_digits(cl.Normal(0, 1), fam, n=50, generations=1)


def test_all_real_anchor_keeps_every_class(world):
    # Anchor(1.0) trains every generation on fresh real digits only: no class can vanish.
    run = D.simulate_digits(world, D.DigitMixtureFit(10), n=400, generations=4,
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
