"""Multivariate normals: closed forms per generation, the exact (Wishart) path against the points
path, Gaussian mixtures (EM against scikit-learn), KDEs in d dimensions, the L2 distance against
numerical integration, and held-out log-likelihood in bounded memory.

Closed forms used (derived here, for the maximum-likelihood refit, ddof = 0, n points per fit):
the scatter matrix of n points of N(mu, Sigma) is Wishart(n - 1, Sigma), independent of the
sample mean ~ N(mu, Sigma / n). Model t is the (t + 1)-th fit (model 0 is fitted on the world's
sample), so with Sigma_{t+1} = L_t W_t L_t^T / n (L_t L_t^T = Sigma_t, W_t ~ Wishart(n - 1, I)):
  E[Sigma_t] = ((n - 1) / n)^(t + 1) Sigma_world                  (E[W] = (n - 1) I)
  log det Sigma_t = log det Sigma_world + sum_{s <= t} (log det W_s - d log n), and by the
  Bartlett decomposition det W = prod_{i < d} chi2(n - 1 - i), independent factors, so
  E[log det W] = sum_i (psi((n - 1 - i) / 2) + log 2),  Var[log det W] = sum_i psi'((n - 1 - i) / 2),
  E[det Sigma_t] = det Sigma_world * (prod_i (n - 1 - i) / n^d)^(t + 1).
"""

import tracemalloc
import warnings

import numpy as np
import pytest
from scipy import integrate, special, stats

import collapse_lib as cl
from collapse_lib import metrics
from collapse_lib.exact import bartlett_factor
from collapse_lib.models.kde import KernelDensity

D = 3
SIGMA = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, -0.3], [0.0, -0.3, 0.5]])
WORLD = cl.MultivariateNormal(np.array([1.0, -2.0, 0.5]), SIGMA)


def logdet_moments(n, d):
    """Mean and variance of log det(W / n) for W ~ Wishart(n - 1, I_d) (Bartlett)."""
    k = n - 1 - np.arange(d)
    mean = np.sum(special.digamma(k / 2.0) + np.log(2.0)) - d * np.log(n)
    var = np.sum(special.polygamma(1, k / 2.0))
    return mean, var


# ------------------------------------------------------------------------ the world and the fit

def test_contract_call_from_the_design_runs_as_written():
    mv = cl.MultivariateNormal(np.zeros(10), np.eye(10))
    run = cl.simulate(mv, cl.MultivariateNormalFit(ddof=0), n=100, generations=99,
                      scheme=cl.Replace(), replicates=40, seed=2)
    assert len(run.models) == 100 and run.method == "exact"
    for t in (0, 50, 99):
        assert run.models[t].cov.shape == (40, 10, 10)
        assert run.models[t].mean.shape == (40, 10)


def test_world_properties_and_sampling_moments():
    rng = np.random.default_rng(0)
    x = WORLD.sample(200_000, rng)
    assert x.shape == (200_000, D)
    # mean of 2e5 points: SE sqrt(Sigma_ii / 2e5) <= 0.0032; 5 SE
    assert np.all(np.abs(x.mean(axis=0) - WORLD.mean) < 5 * np.sqrt(np.diag(SIGMA) / x.shape[0]))
    # covariance entries: SE of a sample covariance ~ sqrt((S_ii S_jj + S_ij^2) / N) <= 0.0063; 5 SE
    se = np.sqrt((np.outer(np.diag(SIGMA), np.diag(SIGMA)) + SIGMA**2) / x.shape[0])
    assert np.all(np.abs(np.cov(x.T, bias=True) - SIGMA) < 5 * se)
    assert WORLD.logdet == pytest.approx(np.log(np.linalg.det(SIGMA)), rel=1e-12)
    assert WORLD.trace == pytest.approx(np.trace(SIGMA))
    pts = rng.standard_normal((7, D))
    np.testing.assert_allclose(WORLD.logpdf(pts), stats.multivariate_normal(WORLD.mean, SIGMA).logpdf(pts),
                               rtol=1e-12)


def test_fit_is_the_sample_mean_and_covariance():
    data = WORLD.sample(50, np.random.default_rng(1))
    for ddof in (0, 1):
        model = cl.MultivariateNormalFit(ddof=ddof).fit(data)
        np.testing.assert_allclose(model.mean, data.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(model.cov, np.cov(data.T, ddof=ddof), rtol=1e-12)
    batch = np.stack([data, data[::-1] * 2.0])
    model = cl.MultivariateNormalFit().fit(batch)
    assert model.cov.shape == (2, D, D)
    np.testing.assert_allclose(model.cov[1], 4.0 * model.cov[0], rtol=1e-12)


@pytest.mark.parametrize("method", ["exact", "points"])
def test_expected_trace_and_log_determinant_per_generation(method):
    n, reps, gens = 12, 4000, 6
    run = cl.simulate(WORLD, cl.MultivariateNormalFit(ddof=0), n=n, generations=gens,
                      replicates=reps, seed=3, method=method)
    m_ld, v_ld = logdet_moments(n, D)
    for t in (0, 2, 6):
        model = run.models[t]
        ratio = metrics.trace_ratio(model, WORLD)
        expected = ((n - 1) / n) ** (t + 1)
        se = ratio.std(ddof=1) / np.sqrt(reps)
        assert abs(ratio.mean() - expected) < 4 * se  # tol = 4 SE (sample SE of the trace ratio)
        # log det: exact mean and variance (sum of t + 1 independent Bartlett log-determinants)
        ld = model.logdet - WORLD.logdet
        se_ld = np.sqrt((t + 1) * v_ld / reps)
        assert abs(ld.mean() - (t + 1) * m_ld) < 4 * se_ld  # tol = 4 SE from the closed-form variance
        assert abs(ld.var(ddof=1) / ((t + 1) * v_ld) - 1) < 4 * np.sqrt(2 / reps)  # SE of a variance ratio
    # E[det ratio] = (prod (n - 1 - i) / n^d)^(t + 1) at t = 0 (its variance is finite and moderate)
    det0 = metrics.det_ratio(run.models[0], WORLD)
    expected0 = np.prod(n - 1 - np.arange(D)) / n**D
    assert abs(det0.mean() - expected0) < 4 * det0.std(ddof=1) / np.sqrt(reps)


def test_expected_covariance_matrix_and_mean_error():
    n, reps = 20, 6000
    run = cl.simulate(WORLD, cl.MultivariateNormalFit(ddof=0), n=n, generations=3, replicates=reps, seed=4)
    cov = run.models[3].cov
    expected = ((n - 1) / n) ** 4 * SIGMA
    se = cov.std(axis=0, ddof=1) / np.sqrt(reps)
    assert np.all(np.abs(cov.mean(axis=0) - expected) < 4 * se + 1e-12)  # 4 SE per entry
    # squared error of the mean: E|mu_t - mu|^2 = trace(Sigma) sum_{s <= t} ((n - 1) / n)^s / n
    err = metrics.mean_sq_error(run.models[3], WORLD)
    expected_err = np.trace(SIGMA) * sum(((n - 1) / n) ** s for s in range(4)) / n
    assert abs(err.mean() - expected_err) < 4 * err.std(ddof=1) / np.sqrt(reps)


@pytest.mark.parametrize("scheme", [cl.Replace(), cl.Anchor(0.3), cl.Accumulate(), cl.FixedReal(0.25),
                                    cl.Augment(0.5), cl.SyntheticShare([0.5, 0.7, 0.9])], ids=repr)
@pytest.mark.parametrize("ddof", [0, 1])
def test_exact_and_points_paths_agree_in_law(scheme, ddof):
    """Kolmogorov-Smirnov tests on det and trace ratios at three generations (fixed seeds)."""
    kw = dict(n=10, generations=3, scheme=scheme, replicates=1500)
    ex = cl.simulate(WORLD, cl.MultivariateNormalFit(ddof=ddof), seed=5, method="exact", **kw)
    pt = cl.simulate(WORLD, cl.MultivariateNormalFit(ddof=ddof), seed=6, method="points", **kw)
    assert ex.method == "exact" and pt.method == "points"
    for t in (0, 1, 3):
        for fn in (metrics.trace_ratio, metrics.det_ratio):
            a, b = fn(ex.models[t], WORLD), fn(pt.models[t], WORLD)
            assert stats.ks_2samp(a, b).pvalue > 1e-3, (t, fn.__name__)


def test_fewer_points_than_dimensions_is_singular_on_both_paths():
    d, n = 6, 4  # the scatter of 4 points has rank 3 < 6
    world = cl.MultivariateNormal(np.zeros(d), np.eye(d))
    for method, seed in (("exact", 1), ("points", 2)):
        run = cl.simulate(world, cl.MultivariateNormalFit(), n=n, generations=4, replicates=800,
                          seed=seed, method=method)
        assert np.all(run.models[4].logdet == -np.inf)
        assert np.all(metrics.det_ratio(run.models[4], world) == 0.0)
        np.testing.assert_allclose(np.linalg.matrix_rank(run.models[4].cov[:5]), n - 1)
    ex = cl.simulate(world, cl.MultivariateNormalFit(), n=n, generations=4, replicates=1500, seed=3, method="exact")
    pt = cl.simulate(world, cl.MultivariateNormalFit(), n=n, generations=4, replicates=1500, seed=4, method="points")
    assert stats.ks_2samp(ex.models[4].trace, pt.models[4].trace).pvalue > 1e-3


def test_bartlett_factor_has_the_wishart_moments():
    rng = np.random.default_rng(7)
    rows, dim = 20000, 4
    for df in (9, 2):
        b = bartlett_factor(df, dim, rows, rng)
        assert b.shape == (rows, dim, min(dim, df))
        assert not np.any(np.triu(b, 1))
        w = b @ np.swapaxes(b, 1, 2)
        # E[W] = df I; entries of W have variance df (off-diagonal) and 2 df (diagonal)
        se = np.sqrt(df * (1 + np.eye(dim)) / rows)
        assert np.all(np.abs(w.mean(axis=0) - df * np.eye(dim)) < 5 * se)
    assert bartlett_factor(0, 3, 5, rng).shape == (5, 3, 0)


def test_degenerate_data_and_long_runs_stay_finite_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = cl.MultivariateNormalFit().fit(np.ones((2, 5, 3)))
        assert np.all(model.trace == 0) and np.all(model.logdet == -np.inf)
        x = model.sample(4, np.random.default_rng(0))
        assert np.all(x == 1.0)
        world = cl.MultivariateNormal(np.zeros(2), np.eye(2))
        for method in ("exact", "points"):
            run = cl.simulate(world, cl.MultivariateNormalFit(), n=3, generations=3000, replicates=5, seed=1,
                              method=method, keep=[3000],
                              metrics={"tr": lambda m: m.trace, "ld": lambda m: m.logdet})
            assert np.all(np.isfinite(run.metrics["tr"])) and np.all(run.metrics["tr"] >= 0)
            assert not np.any(np.isnan(run.metrics["ld"]))
            assert np.all(np.isfinite(run.model(3000).sample(2, np.random.default_rng(0))))


def test_determinism():
    kw = dict(n=15, generations=4, replicates=6, scheme=cl.Accumulate())
    for method in ("exact", "points"):
        a = cl.simulate(WORLD, cl.MultivariateNormalFit(), seed=9, method=method, **kw)
        b = cl.simulate(WORLD, cl.MultivariateNormalFit(), seed=9, method=method, **kw)
        c = cl.simulate(WORLD, cl.MultivariateNormalFit(), seed=10, method=method, **kw)
        np.testing.assert_array_equal(a.models[4].cov, b.models[4].cov)
        assert not np.array_equal(a.models[4].cov, c.models[4].cov)


@pytest.mark.parametrize("make, exc, words", [
    (lambda: cl.MultivariateNormal(np.zeros(2), np.eye(3)), ValueError, "cov"),
    (lambda: cl.MultivariateNormal(np.zeros(2), [[1.0, 0.5], [0.4, 1.0]]), ValueError, "symmetric"),
    (lambda: cl.MultivariateNormal(np.zeros(2), [[1.0, 2.0], [2.0, 1.0]]), ValueError, "positive definite"),
    (lambda: cl.MultivariateNormal([0.0, np.nan], np.eye(2)), ValueError, "mean"),
    (lambda: cl.MultivariateNormal(np.zeros((2, 2, 2)), np.eye(2)), ValueError, "mean"),
    (lambda: cl.MultivariateNormal("a", np.eye(2)), TypeError, "mean"),
    (lambda: cl.MultivariateNormalFit(ddof=2), ValueError, "ddof"),
    (lambda: cl.MultivariateNormalFit().fit(np.zeros(5)), ValueError, "data"),
    (lambda: cl.MultivariateNormalFit(ddof=1).fit(np.zeros((1, 1, 2))), ValueError, "at least 2"),
    (lambda: cl.MultivariateNormalFit().fit(np.full((2, 3), np.inf)), ValueError, "data"),
    (lambda: cl.MultivariateNormalMixture([0.5, 0.5], np.zeros((2, 2)), np.stack([np.eye(2)] * 3)), ValueError, "covs"),
    (lambda: cl.MultivariateNormalMixture([0.5, 0.6], np.zeros((2, 2)), np.stack([np.eye(2)] * 2)), ValueError, "weights"),
    (lambda: cl.GaussianMixtureFit(2, covariance_type="spherical"), ValueError, "covariance_type"),
    (lambda: cl.GaussianMixtureFit(2, reg_covar=0.0), ValueError, "reg_covar"),
    (lambda: cl.GaussianMixtureFit(2, init=np.zeros((3, 2))), ValueError, "init"),
    (lambda: cl.KDEFit(0.5, kernel="epanechnikov"), ValueError, "kernel"),
    (lambda: WORLD.logpdf(np.zeros((4, 2))), ValueError, "dimension"),
    (lambda: metrics.l2(cl.Normal(0, 1), WORLD), ValueError, "dimension"),
    (lambda: metrics.heldout_nll(cl.KDEFit(0.5).fit(np.zeros((2, 5, 2))), np.zeros((4, 3))), ValueError, "heldout"),
    (lambda: metrics.heldout_nll(cl.Normal(0, 1), np.zeros(0)), ValueError, "heldout"),
    (lambda: metrics.heldout_nll(object(), np.zeros(3)), TypeError, "logpdf"),
    (lambda: metrics.det_ratio(WORLD, "cov"), TypeError, "reference"),
])
def test_bad_input_is_named(make, exc, words):
    with pytest.raises(exc, match=words):
        make()


# ------------------------------------------------------------------------ Gaussian mixtures (EM)

def two_blob_data(reps, m, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((reps, m, 2)) * [1.0, 0.5]
    rare = rng.random((reps, m)) < 0.3
    x[rare] = x[rare] @ np.array([[0.8, 0.3], [0.0, 0.6]]) + [4.0, 3.0]
    return x


@pytest.mark.parametrize("covariance_type", ["full", "diag", "tied"])
def test_em_matches_scikit_learn_on_the_same_data(covariance_type):
    from sklearn.mixture import GaussianMixture

    data = two_blob_data(4, 600, 0)
    fam = cl.GaussianMixtureFit(2, covariance_type=covariance_type, tol=1e-11, n_iter=5000, reg_covar=1e-6)
    model, loglik = fam.fit_with_history(data)
    assert np.all(np.diff(loglik, axis=0) >= -1e-12)  # EM never decreases the likelihood
    for i in range(4):
        sk = GaussianMixture(2, covariance_type=covariance_type, tol=1e-13, max_iter=20000, reg_covar=1e-6,
                             random_state=0).fit(data[i])
        order = np.argsort(sk.means_[:, 0])
        covs = sk.covariances_
        covs = {"full": covs, "diag": np.stack([np.diag(c) for c in covs]) if covs.ndim == 2 else covs,
                "tied": np.stack([covs, covs])}[covariance_type][order]
        # Both run EM from different starts until the mean log-likelihood gains less than ~1e-11
        # per step: the same maximum, the likelihood to 1e-9 and (EM converging linearly on a
        # flat ridge) the parameters to 1e-5, about sqrt(1e-11 / curvature).
        assert loglik[-1, i] == pytest.approx(sk.score(data[i]), abs=1e-9)
        np.testing.assert_allclose(model.means[i], sk.means_[order], atol=1e-5)
        np.testing.assert_allclose(model.covs[i], covs, atol=1e-5)
        np.testing.assert_allclose(model.weights[i], sk.weights_[order], atol=1e-5)
        np.testing.assert_allclose(model._take(i).logpdf(data[i][:20]), sk.score_samples(data[i][:20]), atol=1e-5)


def test_mixture_one_dimensional_behaviour_is_unchanged_and_d_dim_degenerate_is_a_point_mass():
    x = cl.NormalMixture([0.7, 0.3], [0.0, 8.0], [1.0, 1.0]).sample(3000, np.random.default_rng(0))
    m1 = cl.GaussianMixtureFit(2).fit(x)
    assert isinstance(m1, cl.NormalMixture)
    np.testing.assert_allclose(m1.means, [0.0, 8.0], atol=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flat = cl.GaussianMixtureFit(2).fit(np.full((2, 10, 3), 4.0))
        assert np.all(flat.covs == 0) and np.all(flat.means == 4.0)
        assert np.all(flat.sample(5, np.random.default_rng(1)) == 4.0)


def test_mixture_moments_and_sampling():
    model = cl.GaussianMixtureFit(2).fit(two_blob_data(2, 800, 1))
    x = model.sample(100_000, np.random.default_rng(2))
    assert x.shape == (2, 100_000, 2)
    se = np.sqrt(np.diagonal(model.cov, axis1=1, axis2=2) / x.shape[1])
    assert np.all(np.abs(x.mean(axis=1) - model.mean) < 5 * se)  # 5 SE


def test_warm_start_from_a_fitted_mixture_reaches_the_same_fit():
    data = two_blob_data(3, 500, 2)
    cold = cl.GaussianMixtureFit(2, tol=1e-12, n_iter=3000).fit(data)
    warm = cl.GaussianMixtureFit(2, tol=1e-12, n_iter=3000, init=cold).fit(data)
    np.testing.assert_allclose(warm.means, cold.means, atol=1e-6)


def test_gmm_family_runs_in_the_recursion_on_2d_data():
    run = cl.simulate(cl.Blobs(), cl.GaussianMixtureFit(3), n=200, generations=3, replicates=5, seed=1)
    assert run.method == "points" and run.models[3].means.shape == (5, 3, 2)


# ------------------------------------------------------------------------ KDE in d dimensions

@pytest.mark.parametrize("kernel", ["gaussian", "tophat"])
def test_kde_logpdf_against_a_direct_computation(kernel):
    rng = np.random.default_rng(3)
    pts = rng.standard_normal((3, 40, 2))
    h = 0.6
    model = cl.KDEFit(h, kernel=kernel).fit(pts)
    assert isinstance(model, KernelDensity)
    x = rng.standard_normal((25, 2)) * 1.5
    lp = model.logpdf(x)
    for r in range(3):
        d2 = np.sum((x[:, None, :] - pts[r][None]) ** 2, axis=-1)
        if kernel == "gaussian":
            direct = special.logsumexp(-0.5 * d2 / h**2, axis=1) - np.log(40) - np.log(2 * np.pi * h**2)
        else:
            with np.errstate(divide="ignore"):
                direct = np.log(np.sum(d2 < h**2, axis=1) / (40 * np.pi * h**2))
        np.testing.assert_allclose(lp[r], direct, rtol=1e-10, atol=1e-12)


def test_kde_moments_sampling_and_scikit_learn_agree():
    from sklearn.neighbors import KernelDensity as SkKDE

    rng = np.random.default_rng(4)
    pts = rng.standard_normal((2, 60, 2))
    for kernel in ("gaussian", "tophat"):
        model = cl.KDEFit(0.4, kernel=kernel).fit(pts)
        x = rng.standard_normal((30, 2))
        np.testing.assert_allclose(model.logpdf(x)[1], SkKDE(bandwidth=0.4, kernel=kernel).fit(pts[1]).score_samples(x),
                                   rtol=1e-9, atol=1e-12)
        s = model.sample(200_000, rng)
        cov = model.cov
        se = np.sqrt(np.diagonal(cov, axis1=1, axis2=2) / s.shape[1])
        assert np.all(np.abs(s.mean(axis=1) - model.mean) < 5 * se)
        emp = np.einsum("rmi,rmj->rij", s - s.mean(1, keepdims=True), s - s.mean(1, keepdims=True)) / s.shape[1]
        se_c = np.sqrt(2.0 / s.shape[1]) * np.diagonal(cov, axis1=1, axis2=2)
        assert np.all(np.abs(np.diagonal(emp, axis1=1, axis2=2) - np.diagonal(cov, axis1=1, axis2=2)) < 5 * se_c)


def test_kde_one_dimensional_gaussian_is_still_a_normal_mixture():
    model = cl.KDEFit(0.5).fit(np.array([0.0, 1.0]))
    assert isinstance(model, cl.NormalMixture) and float(model.var) == 0.5


def test_kde_tophat_one_dimensional_tail_is_exact():
    pts = np.array([[0.0, 1.0, 3.0]])
    model = cl.KDEFit(0.5, kernel="tophat").fit(pts)
    # P(X > 0.75) = (0 + 0.75 + 1) / 3 per uniform kernel on [x - 0.5, x + 0.5]
    assert model.tail_mass(0.75)[0] == pytest.approx((0.0 + 0.75 + 1.0) / 3)
    assert model.var[0] == pytest.approx(np.var([0.0, 1.0, 3.0]) + 0.25 / 3)


# ------------------------------------------------------------------------ L2 distance

def test_l2_one_dimensional_against_numerical_integration():
    p = cl.NormalMixture([0.7, 0.3], [0.0, 3.0], [1.0, 0.5])
    q = cl.NormalMixture([0.2, 0.5, 0.3], [-1.0, 0.5, 2.5], [0.7, 1.2, 0.4])
    f = lambda x: (np.exp(p.logpdf(x)) - np.exp(q.logpdf(x))) ** 2  # noqa: E731
    numeric = integrate.quad(f, -15, 15, limit=400, epsabs=1e-13, epsrel=1e-12)[0]
    assert metrics.l2(p, q, squared=True) == pytest.approx(numeric, rel=1e-9)
    assert metrics.l2(p, q) == pytest.approx(np.sqrt(numeric), rel=1e-9)
    assert metrics.l2(p, p) == pytest.approx(0.0, abs=1e-7)
    n1, n2 = cl.Normal(0.0, 1.0), cl.Normal(1.0, 2.0)
    numeric = integrate.quad(lambda x: (np.exp(n1.logpdf(x)) - np.exp(n2.logpdf(x))) ** 2, -30, 30)[0]
    assert metrics.l2(n1, n2, squared=True) == pytest.approx(numeric, rel=1e-9)


def test_l2_two_dimensional_against_numerical_integration():
    p = cl.MultivariateNormalMixture([0.6, 0.4], [[0.0, 0.0], [2.0, 1.0]],
                                     [[[1.0, 0.3], [0.3, 0.5]], [[0.4, 0.0], [0.0, 0.8]]])
    q = cl.MultivariateNormal(np.array([0.5, 0.2]), np.array([[1.5, 0.2], [0.2, 1.0]]))
    g = np.linspace(-9, 11, 1601)
    xx, yy = np.meshgrid(g, g, indexing="ij")
    pts = np.stack([xx, yy], axis=-1).reshape(-1, 2)
    diff2 = ((np.exp(p.logpdf(pts)) - np.exp(q.logpdf(pts))) ** 2).reshape(xx.shape)
    numeric = integrate.simpson(integrate.simpson(diff2, x=g, axis=1), x=g)
    assert metrics.l2(p, q, squared=True) == pytest.approx(numeric, rel=1e-6)
    # a batch against one world: one value per replicate
    kde = cl.KDEFit(0.5).fit(np.random.default_rng(0).standard_normal((3, 20, 2)))
    vals = metrics.l2(kde, q, squared=True)
    assert vals.shape == (3,)
    one = kde._take(np.array([1]))
    kde_p = np.exp(one.logpdf(pts))[0]
    numeric_kde = integrate.simpson(integrate.simpson(((kde_p - np.exp(q.logpdf(pts))) ** 2).reshape(xx.shape),
                                                      x=g, axis=1), x=g)
    assert vals[1] == pytest.approx(numeric_kde, rel=1e-6)


# ------------------------------------------------------------------------ held-out NLL

def test_heldout_nll_equals_the_direct_mean_and_is_chunked():
    rng = np.random.default_rng(5)
    kde1 = cl.KDEFit(0.3).fit(rng.standard_normal((4, 50)))
    held = rng.standard_normal(333) * 2
    direct = -kde1.logpdf(np.broadcast_to(held, (4, 333))).mean(axis=1)
    for block in (1, 7, 1000, 2**20):
        np.testing.assert_allclose(metrics.heldout_nll(kde1, held, block=block), direct, rtol=1e-12)
    kde2 = cl.KDEFit(0.3).fit(rng.standard_normal((4, 50, 2)))
    held2 = rng.standard_normal((4, 77, 2))
    direct2 = -kde2.logpdf(held2).mean(axis=1)
    np.testing.assert_allclose(metrics.heldout_nll(kde2, held2, block=64), direct2, rtol=1e-12)
    far = np.full(3, 1e4)  # far from every kernel: the max-trick fallback, still finite
    assert np.all(np.isfinite(metrics.heldout_nll(kde1, far)))
    mv = cl.MultivariateNormal(np.zeros(2), np.eye(2))
    np.testing.assert_allclose(metrics.heldout_nll(mv, held2[0]), -mv.logpdf(held2[0]).mean(), rtol=1e-12)


@pytest.mark.parametrize("dim", [1, 2])
def test_heldout_nll_peak_memory_does_not_grow_with_the_heldout_size(dim):
    rng = np.random.default_rng(6)
    shape = (20, 100) if dim == 1 else (20, 100, 2)
    model = cl.KDEFit(0.5).fit(rng.standard_normal(shape))
    peaks = []
    for k in (20_000, 200_000):
        held = rng.standard_normal(k if dim == 1 else (k, 2))
        metrics.heldout_nll(model, held[:100])  # warm up caches outside the measurement
        tracemalloc.start()
        metrics.heldout_nll(model, held)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # ten times the held-out points: the peak stays that of one block (a few MB), not 10x
    assert peaks[1] < 1.5 * peaks[0] + 2**20, peaks
    assert peaks[1] < 64 * 2**20


# ------------------------------------------------------------------------ fast paths against plain ones

def test_kde_logpdf_equals_the_direct_log_sum_exp():
    # KernelDensity scores Gaussian kernels by one batched product [y, 1, |y|^2] @ coef; it must equal
    # the term-by-term log-sum-exp to float rounding, far from every kernel included (the fallback).
    rng = np.random.default_rng(21)
    for trial in range(60):
        r, m, d, c = rng.integers(1, 5), rng.integers(1, 60), rng.integers(1, 4), rng.integers(1, 80)
        pts = rng.normal(0.0, rng.uniform(0.3, 3.0), size=(r, m, d))
        h = rng.uniform(0.1, 2.0, size=r)
        x = rng.normal(0.0, rng.uniform(0.5, 5.0), size=(r, c, d))
        if trial % 3 == 0:
            x[:, :2] += 300.0  # every kernel underflows: the log-sum-exp fallback
        got = KernelDensity(pts, h).logpdf(x)
        sq = np.sum((x[:, :, None, :] - pts[:, None, :, :]) ** 2, axis=-1) / h[:, None, None] ** 2
        expected = (special.logsumexp(-0.5 * sq, axis=-1) - np.log(m)
                    - 0.5 * d * np.log(2 * np.pi) - d * np.log(h)[:, None])
        np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("covariance_type", ["full", "diag", "tied"])
def test_em_on_moment_features_equals_the_general_em(covariance_type, monkeypatch):
    # For d <= 3 the EM runs on the features [z z^T, z, 1]; the general loop (any d) must give the
    # same fit, step for step, to rounding.
    from collapse_lib.models import mixture

    rng = np.random.default_rng(31)
    for trial in range(8):
        d, k, r, m = 1 + trial % 3, 1 + trial % 3, int(rng.integers(1, 5)), int(rng.integers(30, 300))
        x = rng.normal(size=(r, m, d))
        x[:, : m // 3] += 3.0 * rng.normal(size=d)
        fam = cl.GaussianMixtureFit(k, n_iter=300, tol=1e-6, covariance_type=covariance_type)
        fast, fast_ll = fam.fit_with_history(x)
        monkeypatch.setattr(mixture, "_MOMENT_DIM", 0)
        plain, plain_ll = fam.fit_with_history(x)
        monkeypatch.undo()
        assert fast_ll.shape == plain_ll.shape
        np.testing.assert_allclose(fast_ll, plain_ll, rtol=1e-10)
        for name in ("weights", "means", "covs"):
            np.testing.assert_allclose(getattr(fast, name), getattr(plain, name), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("n_iter, tol", [(1, 1e-6), (4, 1e-2), (8, 1e-3)])
def test_moment_em_writes_back_replicates_that_stop_at_different_steps(n_iter, tol, monkeypatch):
    # The moment path keeps the running replicates in arrays of their own and writes a replicate
    # back when it stops (converged, or at n_iter): replicates that stop at different steps, and
    # ones still running at n_iter, must come out as the general EM leaves them.
    from collapse_lib.models import mixture

    rng = np.random.default_rng(8)
    x = rng.normal(size=(7, 200, 2))
    x[:, :70] += rng.normal(size=(7, 1, 2)) * np.linspace(0.5, 4.0, 7)[:, None, None]
    fam = cl.GaussianMixtureFit(3, n_iter=n_iter, tol=tol)
    fast, fast_ll = fam.fit_with_history(x)
    monkeypatch.setattr(mixture, "_MOMENT_DIM", 0)
    plain, plain_ll = fam.fit_with_history(x)
    monkeypatch.undo()
    np.testing.assert_allclose(fast_ll, plain_ll, rtol=1e-10)
    for name in ("weights", "means", "covs"):
        np.testing.assert_allclose(getattr(fast, name), getattr(plain, name), rtol=1e-8, atol=1e-10)
    if n_iter == 8:  # the case is the one it claims: some replicates stop before n_iter, some at it
        steps = (np.diff(fast_ll, axis=0) != 0).sum(axis=0)
        assert steps.min() < n_iter and steps.max() == n_iter


@pytest.mark.parametrize("d", [1, 2, 3])
def test_small_spd_inverse_and_log_determinant_agree_with_lapack(d):
    from collapse_lib.models.mixture import _spd_inverse_logdet

    rng = np.random.default_rng(d)
    a = rng.normal(size=(4, 5, d, d + 2))
    c = a @ np.swapaxes(a, -1, -2) / (d + 2) + np.logspace(-8, 0, 5)[None, :, None, None] * np.eye(d)
    inv, logdet = _spd_inverse_logdet(c)
    np.testing.assert_allclose(inv @ c, np.broadcast_to(np.eye(d), c.shape), atol=1e-7)
    np.testing.assert_allclose(inv, np.linalg.inv(c), rtol=1e-7)
    np.testing.assert_allclose(logdet, np.linalg.slogdet(c)[1], rtol=1e-12, atol=1e-12)


def test_tied_em_with_one_component_is_the_normal_fit():
    x = np.random.default_rng(4).normal(size=(3, 80, 2))
    model = cl.GaussianMixtureFit(1, covariance_type="tied").fit(x)
    xc = x - x.mean(axis=1, keepdims=True)
    cov = np.swapaxes(xc, 1, 2) @ xc / 80
    reg = (1e-3) ** 2 * np.mean(xc * xc, axis=(1, 2))  # the relative covariance floor
    np.testing.assert_allclose(model.covs[:, 0], cov + reg[:, None, None] * np.eye(2), rtol=1e-10)


@pytest.mark.parametrize("cov, exc", [("abc", TypeError), (["1", "2"], TypeError), ([[np.nan, 0.0], [0.0, 1.0]], ValueError),
                                      ([1.0, 2.0], ValueError), (np.zeros((2, 3)), ValueError), ([[True]], TypeError),
                                      (object(), TypeError)])
def test_psd_factor_refuses_what_is_not_covariance_matrices(cov, exc):
    with pytest.raises(exc, match="cov"):
        cl.models.multivariate.psd_factor(cov)


def test_psd_factor_of_legal_batches():
    np.testing.assert_allclose(cl.models.multivariate.psd_factor([[[4.0]]]), [[[2.0]]])
    singular = np.array([[1.0, 1.0], [1.0, 1.0]])  # rank 1: the eigen route
    f = cl.models.multivariate.psd_factor(singular)
    np.testing.assert_allclose(f @ f.T, singular, atol=1e-12)


def _sized_models():
    return [KernelDensity(np.zeros((2, 5, 2)), np.array([0.5, 0.5])),
            cl.MultivariateNormal(np.zeros(2), np.eye(2)),
            cl.MultivariateNormalMixture([0.5, 0.5], [[0.0, 0.0], [1.0, 1.0]], [np.eye(2), np.eye(2)]),
            cl.MultivariateNormalMixture(np.full((2, 3), 1 / 3), np.zeros((2, 3, 4)),
                                         np.broadcast_to(np.eye(4), (2, 3, 4, 4)).copy())]


@pytest.mark.parametrize("i", range(4))
def test_sampling_beyond_the_element_budget_is_refused_before_allocating(i):
    model = _sized_models()[i]
    with pytest.raises(ValueError, match="size"):
        model.sample(10**12, np.random.default_rng(0))
    assert model.sample(3, np.random.default_rng(0)).shape[-2] == 3  # small requests still work


def test_mixture_fit_refuses_components_beyond_the_element_budget():
    x = np.random.default_rng(0).normal(size=(2, 50, 2))
    with pytest.raises(ValueError, match="n_components"):
        cl.GaussianMixtureFit(10**9).fit(x)
    with pytest.raises(ValueError, match="n_components"):
        cl.GaussianMixtureFit(10**9).fit_with_history(x[0, :, 0])


def test_fit_time_init_and_rng_are_the_family_s_own_for_that_fit():
    # init given to fit replaces the family's for that fit only, on 1-D and d-dimensional data alike
    x1 = cl.NormalMixture([0.7, 0.3], [0.0, 8.0], [1.0, 1.0]).sample(1200, np.random.default_rng(0)).reshape(3, 400)
    a = cl.GaussianMixtureFit(2).fit(x1, init=[0.0, 8.0])
    b = cl.GaussianMixtureFit(2, init=[0.0, 8.0]).fit(x1)
    np.testing.assert_array_equal(a.means, b.means)
    np.testing.assert_array_equal(cl.GaussianMixtureFit(2).fit(x1[0], init=[0.0, 8.0]).means, b.means[0])
    data = two_blob_data(2, 300, 3)
    start = cl.GaussianMixtureFit(2).fit(data)
    np.testing.assert_array_equal(cl.GaussianMixtureFit(2).fit(data, init=start).means,
                                  cl.GaussianMixtureFit(2, init=start).fit(data).means)
    _, hist = cl.GaussianMixtureFit(2, init="kmeans").fit_with_history(data, rng=np.random.default_rng(1))
    assert np.all(np.diff(hist, axis=0) >= -1e-10)          # EM from the k-means start never goes down (to rounding)
    with pytest.raises(TypeError, match="rng"):
        cl.GaussianMixtureFit(2).fit(data, rng=0)           # a generator or nothing
    with pytest.raises(ValueError, match="d-dimensional"):
        cl.GaussianMixtureFit(2).fit(x1, init="kmeans", rng=np.random.default_rng(0))


def test_simulate_gives_a_k_means_start_the_run_s_generator():
    # init="kmeans" draws its start: simulate passes its own generator (fit_uses_rng), so the run
    # works, is reproducible from its seed, and a different seed gives different draws.
    world = cl.Blobs()
    family = cl.GaussianMixtureFit(3, init="kmeans", reg_covar=1e-6, tol=1e-3)
    assert family.fit_uses_rng and not cl.GaussianMixtureFit(3).fit_uses_rng

    def run(seed):
        return cl.simulate(world, family, n=150, generations=3, replicates=4, seed=seed)

    a, b, c = run(5), run(5), run(6)
    for ma, mb in zip(a.models, b.models):
        np.testing.assert_array_equal(ma.means, mb.means)
    assert not np.array_equal(a.models[0].means, c.models[0].means)
    # generation 0 is EM from k-means on the real sample: three components near the blob centres
    centres = np.sort(np.asarray(world.centers)[:, 0])
    np.testing.assert_allclose(np.sort(a.models[0].means[..., 0], axis=1), np.broadcast_to(centres, (4, 3)),
                               atol=0.5)


def test_a_k_means_start_refuses_one_dimensional_data_in_simulate():
    with pytest.raises(ValueError, match="kmeans"):
        cl.simulate(cl.Normal(0.0, 1.0), cl.GaussianMixtureFit(2, init="kmeans"), n=50, generations=1)


@pytest.mark.parametrize("spread", [1e-4, 1e-6])
def test_moment_em_whose_density_sums_underflow_equals_the_general_em(spread, monkeypatch):
    # The moment-feature E-step normalises without the max-shift while every point's density sum
    # stays in [1e-280, 1e280]. Started (warm) from components far narrower than the data, the
    # points between them have sums that underflow to 0; the step must then take the shifted
    # log-sum-exp and agree with the general loop, which always shifts.
    from collapse_lib.models import mixture

    rng = np.random.default_rng(8)
    x = rng.normal(size=(3, 120, 2))
    x[:, 60:] += 4.0
    start = cl.MultivariateNormalMixture([0.5, 0.5], [[0.0, 0.0], [4.0, 4.0]], spread * np.stack([np.eye(2)] * 2))
    # some point is so far from both starting components that exp(log density) is 0 for both
    maha = np.min(np.sum((x[:, :, None, :] - np.array([[0.0, 0.0], [4.0, 4.0]])) ** 2, axis=-1), axis=-1) / spread
    assert maha.max() > 2 * 800
    fam = cl.GaussianMixtureFit(2, n_iter=50, tol=1e-9, reg_covar=1e-6, init=start)
    fast, fast_ll = fam.fit_with_history(x)
    monkeypatch.setattr(mixture, "_MOMENT_DIM", 0)
    plain, plain_ll = fam.fit_with_history(x)
    monkeypatch.undo()
    assert np.all(np.isfinite(fast_ll))
    np.testing.assert_allclose(fast_ll, plain_ll, rtol=1e-10)
    for name in ("weights", "means", "covs"):
        np.testing.assert_allclose(getattr(fast, name), getattr(plain, name), rtol=1e-8, atol=1e-10)
