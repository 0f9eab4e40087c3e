"""The 2-D (and 3-D) toy worlds: exact moments, densities that integrate to one, quadrature that
has converged, and the closed forms against direct formulas."""

import numpy as np
import pytest
from scipy import integrate, special

import collapse_lib as cl
from collapse_lib.worlds import shapes

WORLDS = [cl.Blobs(), cl.Circles(), cl.Moons(), cl.SwissRoll(dims=2), cl.SwissRoll(dims=3),
          cl.Moons(0.2), cl.Circles(0.3, 0.5), cl.Blobs([[0.0, 0.0, 0.0], [4.0, 0.0, 1.0]], std=0.5)]


@pytest.mark.parametrize("world", WORLDS, ids=repr)
def test_sample_moments_match_the_exact_mean_and_covariance(world):
    x = world.sample(100_000, np.random.default_rng(0))
    assert x.shape == (100_000, world.dim)
    cov = world.cov
    se = np.sqrt(np.diag(cov) / x.shape[0])
    assert np.all(np.abs(x.mean(axis=0) - world.mean) < 5 * se)  # 5 SE
    # variances: SE of a sample variance is at most sqrt(E[(x - mu)^4] / N); estimated from the sample
    dev = x - world.mean
    se_v = np.sqrt(np.var(dev**2, axis=0) / x.shape[0])
    assert np.all(np.abs(np.mean(dev**2, axis=0) - np.diag(cov)) < 5 * se_v)


@pytest.mark.parametrize("world", [cl.Blobs(), cl.Circles(0.3, 0.5), cl.Moons(0.2), cl.SwissRoll(0.5, dims=2)],
                         ids=repr)
def test_two_dimensional_densities_integrate_to_one(world):
    sd = np.sqrt(np.diag(world.cov))
    g = [np.linspace(world.mean[i] - 6 * sd[i], world.mean[i] + 6 * sd[i], 801) for i in range(2)]
    xx, yy = np.meshgrid(*g, indexing="ij")
    p = np.exp(world.logpdf(np.stack([xx, yy], axis=-1)))
    total = integrate.simpson(integrate.simpson(p, x=g[1], axis=1), x=g[0])
    assert total == pytest.approx(1.0, abs=1e-6)


def test_swiss_roll_height_density_integrates_to_one_and_factorises():
    world = cl.SwissRoll(0.3, dims=3)
    flat = cl.SwissRoll(0.3, dims=2)
    rng = np.random.default_rng(1)
    pts = world.sample(50, rng)
    y = pts[:, 1]
    height = np.log((special.ndtr(y / 0.3) - special.ndtr((y - 21.0) / 0.3)) / 21.0)
    np.testing.assert_allclose(world.logpdf(pts), flat.logpdf(pts[:, [0, 2]]) + height, rtol=1e-12)
    ys = np.linspace(-3, 24, 20001)
    probe = np.zeros((ys.size, 3))
    probe[:, 1] = ys
    marg = np.exp(world.logpdf(probe) - flat.logpdf(probe[:, [0, 2]]))
    assert integrate.simpson(marg, x=ys) == pytest.approx(1.0, abs=1e-8)


@pytest.mark.parametrize("world", [cl.Moons(0.05), cl.SwissRoll(0.05, dims=2), cl.Moons(0.3)], ids=repr)
def test_quadrature_has_converged(world, monkeypatch):
    x = world.sample(300, np.random.default_rng(2))
    base = world.logpdf(x)
    monkeypatch.setattr(shapes, "_PANELS_PER_SIGMA", 2 * shapes._PANELS_PER_SIGMA)
    finer = type(world)(**({"noise": world.noise} if isinstance(world, cl.Moons)
                          else {"noise": world.noise, "dims": world.dims})).logpdf(x)
    np.testing.assert_allclose(base, finer, rtol=0, atol=1e-9)  # log density to 1e-9 (relative density error)


def test_circles_bessel_form_against_quadrature_over_the_angle():
    world = cl.Circles(0.2, 0.6)
    x = world.sample(20, np.random.default_rng(3))
    s2 = 0.04
    direct = []
    for pt in x:
        f = lambda a, r: np.exp(-0.5 * ((pt[0] - r * np.cos(a)) ** 2 + (pt[1] - r * np.sin(a)) ** 2) / s2)  # noqa: E731
        val = sum(0.5 * integrate.quad(f, 0, 2 * np.pi, args=(r,), epsabs=0, epsrel=1e-12, limit=200)[0] / (2 * np.pi)
                  for r in (1.0, 0.6))
        direct.append(np.log(val / (2 * np.pi * s2)))
    np.testing.assert_allclose(world.logpdf(x), direct, rtol=1e-9)


def test_blobs_default_centres_are_make_blobs_random_state_0():
    from sklearn.datasets import make_blobs

    centres = make_blobs(n_samples=10, random_state=0, return_centers=True)[2]
    np.testing.assert_array_equal(cl.Blobs().centers, centres)
    world = cl.Blobs()
    x = np.array([[0.5, 1.0], [3.0, -2.0]])
    d2 = np.sum((x[:, None] - centres[None]) ** 2, axis=-1)
    direct = np.log(np.mean(np.exp(-0.5 * d2), axis=1) / (2 * np.pi))
    np.testing.assert_allclose(world.logpdf(x), direct, rtol=1e-12)


def test_worlds_drive_the_recursion_with_a_native_kde():
    run = cl.simulate(cl.Moons(), cl.KDEFit(0.1), n=50, generations=2, replicates=4, seed=0)
    assert run.models[2].sample(5, np.random.default_rng(0)).shape == (4, 5, 2)


@pytest.mark.parametrize("make, exc, words", [
    (lambda: cl.Moons(0.0), ValueError, "noise"),
    (lambda: cl.Circles(0.1, 1.2), ValueError, "factor"),
    (lambda: cl.SwissRoll(0.1, dims=4), ValueError, "dims"),
    (lambda: cl.Blobs(std=-1.0), ValueError, "std"),
    (lambda: cl.Blobs(centers=[1.0, 2.0]), ValueError, "centers"),
    (lambda: cl.Moons().logpdf(np.zeros((3, 3))), ValueError, "dimension"),
    (lambda: cl.Moons().sample(-1, np.random.default_rng(0)), ValueError, "size"),
])
def test_bad_input_is_named(make, exc, words):
    with pytest.raises(exc, match=words):
        make()
