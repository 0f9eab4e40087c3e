"""Valid calls for the boundary walk in tests/test_boundary.py: the models part of the library.

Same format as CASES there: qualified public name -> (function returning valid keyword
arguments, {parameter: kind}). NOT_CALLABLE lists public names that are not called
(constants, base classes, records).

Covered here (issue 14, with issue 13's new families): collapse_lib.schemes, exact,
models.kde, models.mixture, models.multivariate,
models.sklearn_family and metrics. A parameter left out of a kinds table is one whose
wrong values have no single meaning to test (an object the function only asks questions
of, such as exact_unsupported_reason's arguments, or a factory callable).
"""

import numpy as np  # noqa: F401

import collapse_lib  # noqa: F401

RNG = np.random.default_rng


def _mv():
    return collapse_lib.MultivariateNormal(np.zeros(2), np.eye(2))


def _mix2():
    return collapse_lib.MultivariateNormalMixture([0.5, 0.5], [[0.0, 0.0], [2.0, 0.0]], [np.eye(2), np.eye(2)])


def _normal_batch():
    return collapse_lib.Normal([0.0, 1.0], [1.0, 2.0])


def _gm_factory():
    from sklearn.mixture import GaussianMixture

    return GaussianMixture(1)


def _fitted_sklearn():
    from sklearn.mixture import GaussianMixture

    return [GaussianMixture(1).fit(np.random.default_rng(0).normal(size=(20, 1)))]


CASES = {
    # schemes
    "collapse_lib.schemes.Replace": (lambda: dict(), {}),
    "collapse_lib.schemes.Accumulate": (lambda: dict(), {}),
    "collapse_lib.schemes.AccumulateSubsample": (lambda: dict(), {}),
    "collapse_lib.schemes.SyntheticShare": (lambda: dict(schedule=[0.0, 0.5, 0.9]), {"schedule": "array"}),
    "collapse_lib.schemes.subset_indices": (lambda: dict(rng=RNG(0), rows=3, size=10, k=4),
                                            {"rng": "rng", "rows": "size:1", "size": "int:1", "k": "int:0"}),
    # exact
    "collapse_lib.exact.exact_unsupported_reason": (
        lambda: dict(world=collapse_lib.Normal(0.0, 1.0), family=collapse_lib.NormalFit(),
                     scheme=collapse_lib.Replace(), filter=collapse_lib.NoFilter()), {}),
    "collapse_lib.exact.bartlett_factor": (lambda: dict(df=5, dim=3, rows=4, rng=RNG(0)),
                                           {"df": "int:0", "dim": "size:1", "rows": "size:0", "rng": "rng"}),
    "collapse_lib.exact.GaussianStats": (
        lambda: dict(world_mean=np.zeros(2), world_factor=np.eye(2), ddof=0, replicates=3, rng=RNG(0),
                     make_model=collapse_lib.MultivariateNormal._from_parts),
        {"world_mean": "array", "world_factor": "array", "ddof": "int:0:1", "replicates": "size:1",
         "rng": "rng"}),
    # models.kde
    "collapse_lib.models.kde.KDEFit": (lambda: dict(bandwidth=0.5, kernel="tophat"),
                                       {"bandwidth": "pos", "kernel": "choice"}),
    "collapse_lib.models.kde.KernelDensity": (
        lambda: dict(points=np.zeros((2, 5, 2)), bandwidth=np.array([0.5, 0.5]), kernel="gaussian"),
        {"points": "array", "bandwidth": "array", "kernel": "choice"}),
    # models.mixture
    "collapse_lib.models.mixture.GaussianMixtureFit": (
        lambda: dict(n_components=2, n_iter=50, tol=1e-6, init=[0.0, 1.0], min_std=1e-3,
                     covariance_type="diag", reg_covar=1e-6),
        {"n_components": "int:1", "n_iter": "int:1", "tol": "pos", "init": "array", "min_std": "pos",
         "covariance_type": "choice", "reg_covar": "pos"}),
    # models.multivariate
    "collapse_lib.models.multivariate.MultivariateNormal": (lambda: dict(mean=np.zeros(2), cov=np.eye(2)),
                                                            {"mean": "array", "cov": "array"}),
    "collapse_lib.models.multivariate.MultivariateNormalFit": (lambda: dict(ddof=1), {"ddof": "int:0:1"}),
    "collapse_lib.models.multivariate.MultivariateNormalMixture": (
        lambda: dict(weights=[0.5, 0.5], means=[[0.0, 0.0], [1.0, 1.0]], covs=[np.eye(2), 2 * np.eye(2)]),
        {"weights": "probs", "means": "array", "covs": "array"}),
    # cov's wrong values are tested in tests/test_multivariate.py: the walk's [[[1.0]]] is a legal
    # batch of one 1 x 1 covariance here
    "collapse_lib.models.multivariate.psd_factor": (lambda: dict(cov=np.array([[2.0, 0.5], [0.5, 1.0]])), {}),
    # models.sklearn_family
    "collapse_lib.models.sklearn_family.SklearnFamily": (lambda: dict(estimator=_gm_factory, mc_size=1000, threads=1),
                                                         {"mc_size": "size:1", "threads": "int:1"}),
    "collapse_lib.models.sklearn_family.SklearnModel": (
        lambda: dict(estimators=_fitted_sklearn(), dim=1, batched=True, mc_size=1000),
        {"dim": "int:1", "mc_size": "size:1"}),
    # metrics
    "collapse_lib.metrics.Measured": (lambda: dict(values=np.array([1.0, 2.0]), exact=False, method="sampling",
                                                   se=np.array([0.1, 0.1])), {}),
    "collapse_lib.metrics.w2": (lambda: dict(model=_normal_batch(), world=collapse_lib.Normal(0.0, 1.0),
                                             squared=True, grid=100),
                                {"model": "model", "world": "model", "grid": "size:2"}),
    "collapse_lib.metrics.quantile": (lambda: dict(dist=collapse_lib.Normal(0.0, 1.0), u=[0.1, 0.5], iterations=20),
                                      {"dist": "model", "u": "array", "iterations": "int:1"}),
    "collapse_lib.metrics.perplexity": (lambda: dict(model=collapse_lib.Normal(0.0, 1.0),
                                                     heldout=np.array([0.1, -0.3]), smoothing=0.0),
                                        {"model": "model", "heldout": "array", "smoothing": "frac"}),
    "collapse_lib.metrics.det_ratio": (lambda: dict(model=_mv(), reference=_mv()),
                                       {"model": "model", "reference": "model"}),
    "collapse_lib.metrics.trace_ratio": (lambda: dict(model=_mv(), reference=_mv()),
                                         {"model": "model", "reference": "model"}),
    "collapse_lib.metrics.mean_sq_error": (lambda: dict(model=_mv(), reference=_mv()),
                                           {"model": "model", "reference": "model"}),
    "collapse_lib.metrics.l2": (lambda: dict(p=_mix2(), q=_mv(), squared=False), {"p": "model", "q": "model"}),
    "collapse_lib.metrics.heldout_nll": (lambda: dict(model=_mix2(), heldout=np.zeros((5, 2)), block=64),
                                         {"model": "model", "heldout": "array", "block": "int:1"}),
}

NOT_CALLABLE = set()
