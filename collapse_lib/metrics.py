"""Metrics: one number per model (batched over replicates) or per dataset.

Continuous metrics (:func:`tail_mass`, :func:`mean`, :func:`std`, :func:`w2`)
return a :class:`Measured` array: a plain numpy array of values that also says
whether they are exact (``.exact``), how they were obtained (``.method``) and,
for estimates, their standard error (``.se``). Categorical metrics
(:func:`kl`, :func:`total_variation`, :func:`heterozygosity`,
:func:`surviving`, :func:`entropy`, :func:`perplexity`) are exact.

Every function accepts a batched model and returns one value per replicate,
so it can be passed to :meth:`Run.trajectory` or ``simulate(metrics=...)``::

    run.trajectory(lambda m: cl.metrics.tail_mass(m, 5.0))

Multivariate metrics (:func:`det_ratio`, :func:`trace_ratio`,
:func:`mean_sq_error`), the closed-form :func:`l2` distance between Gaussian
mixtures and the held-out negative log-likelihood :func:`heldout_nll`
(computed in blocks, bounded memory) serve the ``d``-dimensional models.

Introduced in chapter 2, "A simulation you can run"; the categorical metrics
in chapter 5, "Tokens and words"; the multivariate ones in Part IV,
"Multivariate Gaussians (det and trace)".
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ._validate import check_budget, check_finite_array, check_int, check_probabilities, check_rng
from .distributions import Categorical, Normal, NormalMixture

__all__ = [
    "Measured", "tail_mass", "mean", "std", "w2", "quantile",
    "kl", "total_variation", "heterozygosity", "surviving", "entropy", "perplexity",
    "det_ratio", "trace_ratio", "mean_sq_error", "l2", "heldout_nll",
]


class Measured(np.ndarray):
    """Values of a metric (a numpy array) that say how they were obtained.

    Attributes
    ----------
    exact : bool
        True when the values are exact for the model or dataset (closed form
        or an exact count), False for estimates.
    method : str
        ``"exact"``, ``"data"``, ``"monte carlo"`` or ``"quantile grid"``.
    se : ndarray or None
        Standard error of Monte Carlo estimates (None otherwise).

    Arithmetic on a ``Measured`` gives plain values; ``np.asarray`` drops the
    labels. Introduced in chapter 2, "A simulation you can run".
    """

    def __new__(cls, values, exact, method, se=None):
        obj = np.asarray(values, dtype=float).view(cls)
        obj.exact, obj.method = bool(exact), method
        obj.se = None if se is None else np.asarray(se, dtype=float)
        return obj

    def __array_finalize__(self, obj):
        self.exact = getattr(obj, "exact", True)
        self.method = getattr(obj, "method", "exact")
        self.se = getattr(obj, "se", None)

    def __array_wrap__(self, arr, context=None, return_scalar=False):
        # results of arithmetic are plain arrays (or scalars): labels would lie
        arr = np.asarray(arr)
        return arr[()] if return_scalar else arr

    def __float__(self):
        return float(np.asarray(self))

    def __repr__(self):
        label = "exact" if self.exact else f"estimated ({self.method})"
        return f"Measured({np.asarray(self)!r}, {label})"


def _is_data(obj):
    return isinstance(obj, (np.ndarray, list, tuple))


def _threshold(threshold):
    arr = np.asarray(threshold, dtype=float) if not isinstance(threshold, str) else None
    if arr is None or arr.ndim > 1:
        raise TypeError("threshold must be a number or a 1-D array of numbers")
    if np.any(np.isnan(arr)):
        raise ValueError("threshold must not be NaN (a number; +-inf are allowed)")
    return arr


def _mc_sample(dist, size, rng):
    size = check_int("size", size, minimum=1)
    rng = np.random.default_rng(0) if rng is None else check_rng(rng)
    return dist.sample(size, rng)


def tail_mass(obj, threshold, *, size=20_000, rng=None):
    """P(X > threshold) under a model, or the fraction of a dataset above it.

    Parameters
    ----------
    obj : distribution or array_like
        A (batched) model, or data of shape ``(m,)`` or ``(R, m)``.
    threshold : float or 1-D array
        Not NaN.
    size : int
        Monte Carlo draws per replicate when the model has no exact tail mass.
    rng : numpy Generator, optional
        For those draws (default: a fixed ``default_rng(0)``, deterministic).

    Returns
    -------
    Measured
        Shape ``batch_shape + np.shape(threshold)``. ``exact`` is True for
        models with an exact tail (Normal, NormalMixture, KDE, Empirical) and
        for data (an exact count); otherwise the value is a Monte Carlo
        estimate with ``se = sqrt(p (1 - p) / size)``.

    Introduced in chapter 2, "A simulation you can run".
    """
    thr = _threshold(threshold)
    if _is_data(obj):
        data = check_finite_array("data", obj, ndim=(1, 2))
        return Measured((data[..., None] > thr.ravel()).mean(axis=-2).reshape(data.shape[:-1] + thr.shape),
                        True, "data")
    if not callable(getattr(obj, "tail_mass", None)) and not callable(getattr(obj, "sample", None)):
        raise TypeError(f"obj must be a model (with tail_mass or sample) or an array of data, got {type(obj).__name__}")
    exact = getattr(obj, "tail_mass_exact", getattr(obj, "exact", True))
    if callable(getattr(obj, "tail_mass", None)):
        value = np.asarray(obj.tail_mass(thr), dtype=float)
        if exact:
            return Measured(value, True, "exact")
        n = getattr(obj, "mc_size", size)
        return Measured(value, False, "monte carlo", np.sqrt(value * (1 - value) / n))
    draws = np.asarray(_mc_sample(obj, size, rng), dtype=float)
    value = (draws[..., None] > thr.ravel()).mean(axis=-2).reshape(draws.shape[:-1] + thr.shape)
    return Measured(value, False, "monte carlo", np.sqrt(value * (1 - value) / size))


def _moment(obj, name):
    if _is_data(obj):
        data = check_finite_array("data", obj, ndim=(1, 2))
        return Measured(getattr(np, name)(data, axis=-1), True, "data")
    if not hasattr(obj, name):
        raise TypeError(f"obj must be a model with an exact {name!r} or an array of data, got {type(obj).__name__}")
    exact = bool(getattr(obj, "exact", True))
    return Measured(getattr(obj, name), exact, "exact" if exact else "monte carlo")


def mean(obj):
    """Mean of a model (exact where the model allows) or of each row of data.

    Introduced in chapter 2, "A simulation you can run".
    """
    return _moment(obj, "mean")


def std(obj):
    """Standard deviation of a model, or of each row of data (divide by ``m``).

    Introduced in chapter 2, "A simulation you can run".
    """
    return _moment(obj, "std")


def _mixture_cdf(x, w, m, s):
    # x: (B, G); params: (B, K) -> (B, G)
    xx = x[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (xx - m[:, None, :]) / np.where(s > 0, s, 1.0)[:, None, :]
    comp = np.where(s[:, None, :] > 0, special.ndtr(z), (xx >= m[:, None, :]).astype(float))
    return np.sum(w[:, None, :] * comp, axis=-1)


def quantile(dist, u, iterations=60):
    """Quantile function of a distribution (or of data) at probabilities ``u``.

    Exact for Normal, Empirical and data; for a NormalMixture (KDEs
    included) it inverts the exact cdf by bisection (``iterations`` halvings
    of a bracket 40 standard deviations wide, so about 1e-16 of it).

    Returns shape ``batch_shape + np.shape(u)``.

    Introduced in chapter 4, "Recursive Gaussian fitting, the theory checked".
    """
    return _quantile(dist, u, iterations, "dist")


def _quantile(dist, u, iterations, name):
    """:func:`quantile`, with errors naming the argument ``name`` that holds ``dist``."""
    iterations = check_int("iterations", iterations, minimum=1)
    u = check_finite_array("u", u, min_size=0)
    if np.any((u <= 0) | (u >= 1)):
        raise ValueError("u must be probabilities strictly between 0 and 1")
    if _is_data(dist):
        data = np.sort(check_finite_array(name, dist, ndim=(1, 2)), axis=-1)
        idx = np.clip(np.ceil(u * data.shape[-1]).astype(int) - 1, 0, data.shape[-1] - 1)
        return data[..., idx]
    if isinstance(dist, Normal):
        mu, sd = np.asarray(dist.mean, float), np.asarray(dist.std, float)
        extra = (1,) * u.ndim
        return mu.reshape(mu.shape + extra) + sd.reshape(sd.shape + extra) * special.ndtri(u)
    if callable(getattr(dist, "quantile", None)):
        return np.asarray(dist.quantile(u), dtype=float)
    if isinstance(dist, NormalMixture):
        k = dist.n_components
        w = dist.weights.reshape(-1, k)
        mm = dist.means.reshape(-1, k)
        ss = dist.stds.reshape(-1, k)
        b = w.shape[0]
        lo = np.broadcast_to((mm - 40 * ss).min(axis=1)[:, None] - 1e-12, (b, u.size)).copy()
        hi = np.broadcast_to((mm + 40 * ss).max(axis=1)[:, None] + 1e-12, (b, u.size)).copy()
        target = np.broadcast_to(u.ravel(), (b, u.size))
        for _ in range(iterations):
            mid = 0.5 * (lo + hi)
            below = _mixture_cdf(mid, w, mm, ss) < target
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
        return hi.reshape(dist.batch_shape + u.shape)
    raise TypeError(f"{name} has no quantile function: got {type(dist).__name__} (needs Normal, NormalMixture, "
                    "Empirical, data, or a .quantile method)")


def w2(model, world, *, squared=False, grid=2000):
    """Wasserstein-2 distance between a (batched) model and the world, in one dimension.

    Parameters
    ----------
    model, world : distributions (or data arrays)
    squared : bool
        Return W2^2 instead of W2.
    grid : int
        Number of quantile levels for the numerical case.

    Returns
    -------
    Measured
        Shape ``batch_shape``. Normal vs Normal is exact:
        ``W2^2 = (mu1 - mu2)^2 + (s1 - s2)^2``. Otherwise
        ``W2^2 = int_0^1 (Q1(u) - Q2(u))^2 du`` on the midpoint grid
        ``u = (i + 1/2) / grid`` (``exact`` is False): the grid misses the
        extreme tails, underestimating by about 0.1% for normal-like laws at
        ``grid=2000``.

    Introduced in chapter 4, "Recursive Gaussian fitting, the theory checked".
    """
    grid = check_int("grid", grid, minimum=2)
    if isinstance(model, Normal) and isinstance(world, Normal):
        d2 = np.square(np.asarray(model.mean) - np.asarray(world.mean)) + \
            np.square(np.asarray(model.std) - np.asarray(world.std))
        return Measured(d2 if squared else np.sqrt(d2), True, "exact")
    rows = max(int(np.prod(getattr(obj, "batch_shape", ()) or (1,))) for obj in (model, world))
    check_budget("grid", grid * rows)
    u = (np.arange(grid) + 0.5) / grid
    qm, qw = _quantile(model, u, 60, "model"), _quantile(world, u, 60, "world")
    d2 = np.mean(np.square(qm - qw), axis=-1)
    return Measured(d2 if squared else np.sqrt(d2), False, "quantile grid")


# ---------------------------------------------------------------- categorical

def _probs(obj, name):
    if isinstance(obj, Categorical) or hasattr(obj, "probs"):
        return np.asarray(obj.probs, dtype=float)
    return check_probabilities(name, obj, atol=1e-6)


def _out(values):
    values = np.asarray(values)
    return values[()] if values.ndim == 0 else values


def _pair(p, q):
    """Probabilities of ``p`` and ``q`` broadcast together, or a ValueError naming both."""
    p, q = _probs(p, "p"), _probs(q, "q")
    if p.shape[-1] != q.shape[-1]:
        raise ValueError(f"p and q must have the same number of categories K, got {p.shape[-1]} and {q.shape[-1]}")
    try:
        return np.broadcast_arrays(p, q)
    except ValueError:
        raise ValueError(f"p and q must have the same batch shape (or one unbatched), got shapes "
                         f"{p.shape} and {q.shape}") from None


def kl(p, q):
    """Kullback-Leibler divergence KL(p || q) in nats, e.g. ``kl(world, model)``.

    Parameters
    ----------
    p, q : Categorical or probability arrays ``(K,)`` / ``(R, K)``

    Returns
    -------
    float or ndarray of shape (R,)
        ``sum_i p_i log(p_i / q_i)`` with ``0 log 0 = 0``. It is ``inf``
        (never NaN) when ``q`` has lost a category that ``p`` still has:
        ``KL(world || model)`` becomes infinite as soon as the model loses a
        word the world uses, which is why chapter 5 also reports
        :func:`total_variation` and :func:`surviving`.

    Introduced in chapter 5, "Tokens and words".
    """
    p, q = _pair(p, q)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1.0)) - np.log(q)), 0.0)
    return _out(np.maximum(terms.sum(axis=-1), 0.0))


def total_variation(p, q):
    """Total variation distance ``(1/2) sum_i |p_i - q_i|``, in [0, 1].

    Introduced in chapter 5, "Tokens and words".
    """
    p, q = _pair(p, q)
    return _out(0.5 * np.abs(p - q).sum(axis=-1))


def heterozygosity(p):
    """``1 - sum_i p_i^2``: the chance that two draws differ (Wright-Fisher's H).

    Introduced in chapter 5, "Tokens and words".
    """
    p = _probs(p, "p")
    return _out(1.0 - np.sum(p * p, axis=-1))


def surviving(p):
    """Number of categories with probability > 0 (a lost category never returns).

    Introduced in chapter 5, "Tokens and words".
    """
    return _out(np.count_nonzero(_probs(p, "p") > 0, axis=-1))


def entropy(p):
    """Shannon entropy in nats, ``-sum_i p_i log p_i`` with ``0 log 0 = 0``.

    Introduced in chapter 5, "Tokens and words".
    """
    p = _probs(p, "p")
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return _out(terms.sum(axis=-1))


def perplexity(model, heldout, *, smoothing=0.0):
    """Perplexity of held-out real data under a model: ``exp(cross-entropy)``.

    Parameters
    ----------
    model : Categorical (or probabilities) or a continuous model with ``logpdf``
    heldout : array_like
        Real data the model never saw: integer ids ``(m,)`` for a categorical
        model (the same held-out set for every replicate) or ``(R, m)``; real
        values for a continuous model (then ``exp`` of the mean negative log
        density, a "perplexity" per unit of x).
    smoothing : float in [0, 1]
        Categorical only: evaluate ``(1 - smoothing) q + smoothing / K``
        instead of ``q``. With the default 0, a held-out word that the model
        has lost gives perplexity ``inf`` (never NaN); a small smoothing
        keeps it finite and measures how much the loss costs.

    Returns
    -------
    float or ndarray of shape (R,)

    Introduced in chapter 5, "Tokens and words".
    """
    from ._validate import check_fraction

    smoothing = check_fraction("smoothing", smoothing)
    if isinstance(model, Categorical) or hasattr(model, "probs") or _is_data(model):
        q = _probs(model, "model")
        ids = np.asarray(heldout)
        if ids.dtype.kind not in "iu":
            raise TypeError("heldout must be integer category ids for a categorical model")
        if ids.size == 0:
            raise ValueError("heldout must contain at least 1 id")
        k = q.shape[-1]
        if np.any((ids < 0) | (ids >= k)):
            raise ValueError(f"heldout ids must be in [0, {k - 1}]")
        if smoothing:
            q = (1.0 - smoothing) * q + smoothing / k
        with np.errstate(divide="ignore"):
            logq = np.log(q)
        if q.ndim == 1:
            lp = logq[ids]
        elif ids.ndim == 1:
            lp = logq[:, ids]
        else:
            lp = np.take_along_axis(logq, ids.reshape(q.shape[0], -1), axis=-1)
    else:
        if not callable(getattr(model, "logpdf", None)):
            raise TypeError(f"model must be a categorical model, probabilities, or a model with logpdf, "
                            f"got {type(model).__name__}")
        x = check_finite_array("heldout", heldout, ndim=(1, 2))
        if getattr(model, "batch_shape", ()) and x.ndim == 1:
            x = np.broadcast_to(x, model.batch_shape + x.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            lp = np.asarray(model.logpdf(x), dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        ce = -lp.mean(axis=-1)
        ce = np.where(np.isnan(ce), np.inf, ce)
        return _out(np.exp(ce))


# ---------------------------------------------------------------- multivariate

def _covariance(obj, name):
    """Covariance matrices ``(..., d, d)`` of a model (``cov``, or ``var`` in one dimension) or an array."""
    if _is_data(obj):
        arr = check_finite_array(name, obj, ndim=(2, 3))
        if arr.shape[-1] != arr.shape[-2]:
            raise ValueError(f"{name} given as an array must be covariance matrices (..., d, d), got shape {arr.shape}")
        return arr
    cov = getattr(obj, "cov", None)
    if cov is not None:
        return np.asarray(cov, dtype=float)
    var = getattr(obj, "var", None)
    if var is None:
        raise TypeError(f"{name} must be a model with a covariance (cov, or var in one dimension) or an array, "
                        f"got {type(obj).__name__}")
    return np.asarray(var, dtype=float)[..., None, None]


def _logdet(obj, name):
    value = getattr(obj, "logdet", None) if not _is_data(obj) else None
    if value is not None:
        return np.asarray(value, dtype=float)
    sign, logdet = np.linalg.slogdet(_covariance(obj, name))
    return np.where(sign > 0, logdet, -np.inf)


def det_ratio(model, reference):
    """``det(Sigma_model) / det(Sigma_reference)``: how much generalised variance is left.

    Parameters
    ----------
    model : a (batched) model with ``cov`` (or ``var`` in one dimension)
    reference : the world, the generation-0 batch (``run.models[0]``), or covariance matrices

    Returns
    -------
    float or ndarray of shape (R,)
        Computed from log-determinants (no overflow in 100 dimensions); 0
        for a singular (collapsed) model. Kazdan et al. (2024) plot this
        ratio against the world's covariance; for the maximum-likelihood
        refit its expectation is ``(prod_{i<d} (n - 1 - i) / n^d)^t``
        (``tests/test_multivariate.py``).

    Introduced in Part IV, "Multivariate Gaussians (det and trace)".
    """
    with np.errstate(invalid="ignore"):
        diff = _logdet(model, "model") - _logdet(reference, "reference")
    return _out(np.exp(np.where(np.isnan(diff), -np.inf, diff)))


def trace_ratio(model, reference):
    """``trace(Sigma_model) / trace(Sigma_reference)``: how much total variance is left.

    Arguments as :func:`det_ratio`. For the maximum-likelihood refit
    ``E[trace ratio] = ((n - 1) / n)^t`` against the world.

    Introduced in Part IV, "Multivariate Gaussians (det and trace)".
    """
    tm = np.trace(_covariance(model, "model"), axis1=-2, axis2=-1)
    tr = np.trace(_covariance(reference, "reference"), axis1=-2, axis2=-1)
    return _out(tm / tr)


def mean_sq_error(model, reference):
    """Squared distance between the model's mean and the reference's, ``|mu_model - mu_ref|^2``.

    ``reference`` is a model or world with ``mean``, or a mean vector.
    Kazdan et al. (2024) track it against the world's mean. Returns one
    value per replicate.

    Introduced in Part IV, "Multivariate Gaussians (det and trace)".
    """
    if _is_data(model) or getattr(model, "mean", None) is None:
        raise TypeError(f"model must be a model with a mean, got {type(model).__name__}")
    if not _is_data(reference) and getattr(reference, "mean", None) is None:
        raise TypeError(f"reference must be a model with a mean or a mean vector, got {type(reference).__name__}")
    mm = np.asarray(model.mean, dtype=float)
    mr = check_finite_array("reference", reference, min_size=0) if _is_data(reference) \
        else np.asarray(reference.mean, dtype=float)
    if mm.ndim == 0 or (getattr(model, "dim", None) is None and not hasattr(model, "cov")):
        return _out(np.square(mm - mr))
    return _out(np.sum(np.square(mm - mr), axis=-1))


def _gaussian_components(obj, name):
    """(weights (B, K), means (B, K, d), covs (B, K, d, d), batched) of a Gaussian (mixture)."""
    if isinstance(obj, Normal):
        mu, sd = np.asarray(obj.mean, float), np.asarray(obj.std, float)
        out = (np.ones(mu.shape + (1,)), mu[..., None, None], (sd**2)[..., None, None, None])
    elif isinstance(obj, NormalMixture):
        out = (obj.weights, obj.means[..., None], (obj.stds**2)[..., None, None])
    elif hasattr(obj, "covs") and hasattr(obj, "weights"):
        out = (np.asarray(obj.weights, float), np.asarray(obj.means, float), np.asarray(obj.covs, float))
    elif getattr(obj, "kernel", None) == "gaussian" and hasattr(obj, "points"):
        pts, h = np.asarray(obj.points, float), np.asarray(obj.h, float)
        m, d = pts.shape[-2:]
        out = (np.full(pts.shape[:-1], 1.0 / m), pts, (h**2)[:, None, None, None] * np.eye(d))
    elif hasattr(obj, "cov") and hasattr(obj, "mean"):
        mu, cov = np.asarray(obj.mean, float), np.asarray(obj.cov, float)
        out = (np.ones(mu.shape[:-1] + (1,)), mu[..., None, :], cov[..., None, :, :])
    else:
        raise TypeError(f"{name} must be a Gaussian or a Gaussian mixture (Normal, NormalMixture, "
                        f"MultivariateNormal, MultivariateNormalMixture, a Gaussian KDE), got {type(obj).__name__}")
    w, mu, cov = out
    batched = w.ndim == 2
    if not batched:
        w, mu, cov = w[None], mu[None], cov[None]
    return w, mu, cov, batched


def _overlap(a, b):
    """sum_ij a_i b_j N(mu_i - mu_j; 0, S_i + S_j) per batch row (the integral of p q)."""
    wa, ma, ca = a
    wb, mb, cb = b
    d = ma.shape[-1]
    cov = ca[:, :, None] + cb[:, None, :]                                # (B, Ka, Kb, d, d)
    diff = ma[:, :, None, :] - mb[:, None, :, :]                         # (B, Ka, Kb, d)
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        return np.full(wa.shape[0], np.inf)  # a singular pair: point masses have infinite L2 norm
    y = np.linalg.solve(chol, diff[..., None])[..., 0]
    logdet = 2.0 * np.sum(np.log(np.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
    dens = np.exp(-0.5 * (np.sum(y * y, axis=-1) + logdet + d * np.log(2.0 * np.pi)))
    return np.einsum("bi,bj,bij->b", wa, wb, dens)


def l2(p, q, *, squared=False):
    """L2 distance between two Gaussian mixtures, in closed form: ``(int (p - q)^2)^(1/2)``.

    Parameters
    ----------
    p, q : Gaussian or Gaussian mixture (batched or not)
        :class:`~collapse_lib.Normal`, :class:`~collapse_lib.NormalMixture`
        (KDEs of one-dimensional data included),
        :class:`~collapse_lib.MultivariateNormal`,
        :class:`~collapse_lib.MultivariateNormalMixture`, or a Gaussian
        :class:`~collapse_lib.models.kde.KernelDensity`.
    squared : bool
        Return ``int (p - q)^2`` itself (the quantity the Nature paper's
        released notebook computes, ``L2_of_gmms``).

    Returns
    -------
    float or ndarray of shape (R,)
        From ``int N(x; a, A) N(x; b, B) dx = N(a - b; 0, A + B)`` summed over
        pairs of components: exact, no grid. ``inf`` when a pair of
        components is singular (a point mass has infinite L2 norm).

    Introduced in Part IV, "Multivariate Gaussians (det and trace)"; checked
    against numerical integration in ``tests/test_multivariate.py``.
    """
    *a, ba = _gaussian_components(p, "p")
    *b, bb = _gaussian_components(q, "q")
    if a[1].shape[-1] != b[1].shape[-1]:
        raise ValueError(f"p and q must have the same dimension, got {a[1].shape[-1]} and {b[1].shape[-1]}")
    rows = max(a[0].shape[0], b[0].shape[0])
    if a[0].shape[0] not in (1, rows) or b[0].shape[0] not in (1, rows):
        raise ValueError(f"p and q must have the same number of replicates (or one be unbatched), "
                         f"got {a[0].shape[0]} and {b[0].shape[0]}")
    a = [np.broadcast_to(x, (rows,) + x.shape[1:]) for x in a]
    b = [np.broadcast_to(x, (rows,) + x.shape[1:]) for x in b]
    with np.errstate(invalid="ignore"):
        d2 = _overlap(a, a) + _overlap(b, b) - 2.0 * _overlap(a, b)
    d2 = np.where(np.isnan(d2), np.inf, np.maximum(d2, 0.0))
    out = d2 if squared else np.sqrt(d2)
    return _out(out if (ba or bb) else out[0])


#: log densities evaluated at once by heldout_nll (elements of float64: 1 MB, within a core's L2 cache)
HELDOUT_BLOCK = 2**17


class _MixtureRows:
    """Log density of 1-D normal mixtures with every sd > 0 (rows (R, K)) as a quadratic in x.

    ``log w_i N(x; mu_i, s_i^2) = c_i + b_i x + a_i x^2`` about a per-row centre,
    so a block of points is scored by one batched matrix product,
    ``[1, x, x^2] @ [c; b; a]`` of shape ``(R, c, 3) @ (R, 3, K)``, then the
    exponential in place and one sum over components: three passes over the
    ``(R, c, K)`` block instead of six elementwise ones. A point whose sum
    overflows or falls below ``_SAFE_MIN`` (far from every component, where
    the exponentials underflow and lose precision) is scored again with the
    maximum taken out (log-sum-exp), so the result is exact to rounding.
    """

    def __init__(self, w, mu, sd):
        self.centre = mu.mean(axis=1, keepdims=True)
        mc = mu - self.centre
        inv = 1.0 / (sd * sd)
        with np.errstate(divide="ignore"):
            c = np.log(w) - np.log(sd) - 0.5 * _LOG_2PI_M - 0.5 * mc * mc * inv
        self.coef = np.stack([c, mc * inv, -0.5 * inv], axis=1)          # (R, 3, K)
        # a product is only safe when every coefficient is finite (a weight of 0 gives c = -inf)
        self.gemm = bool(np.all(np.isfinite(self.coef)))

    def _terms(self, xc):
        """The (R, c, K) log terms ``c + x (b + a x)``, elementwise (the reference form)."""
        xc = xc[..., None]
        t = xc * self.coef[:, None, 2, :]
        t += self.coef[:, None, 1, :]
        t *= xc
        t += self.coef[:, None, 0, :]
        return t

    def __call__(self, x):
        xc = np.asarray(x - self.centre, dtype=float)
        if self.gemm:
            powers = np.empty(xc.shape + (3,))
            powers[..., 0] = 1.0
            powers[..., 1] = xc
            np.multiply(xc, xc, out=powers[..., 2])
            t = np.matmul(powers, self.coef)
        else:
            t = self._terms(xc)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            np.exp(t, out=t)
            total = t.sum(axis=-1)
            out = np.log(total)
        bad = ~(np.isfinite(out) & (total >= _SAFE_MIN))
        if bad.any():  # far from every component (underflow) or overflow: log-sum-exp on those points
            tb = self._terms(xc)[bad]
            top = tb.max(axis=-1)
            finite = np.where(np.isfinite(top), top, 0.0)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                out[bad] = np.where(np.isfinite(top), np.log(np.exp(tb - finite[:, None]).sum(axis=-1)) + finite, top)
        return out


#: totals of exponentials below this (about 1e-290) are recomputed with the maximum taken out
_SAFE_MIN = 2.0**-963
_LOG_2PI_M = np.log(2.0 * np.pi)


def heldout_nll(model, heldout, *, block=None):
    """Mean negative log-likelihood of held-out real data under each replicate's model (nats per point).

    Parameters
    ----------
    model : a (batched) model with ``logpdf``
        Normal, NormalMixture (KDEs included), MultivariateNormal,
        MultivariateNormalMixture, KernelDensity, or any model with
        ``logpdf`` taking one row of points per replicate.
    heldout : array_like
        Real points the model never saw: ``(k,)`` or ``(R, k)`` for
        one-dimensional models, ``(k, d)`` or ``(R, k, d)`` for
        ``d``-dimensional ones (a 2-D array is one shared set of ``d``-dimensional
        points when the model has a ``dim``). A shared set is scored by every
        replicate.
    block : int, optional
        Log densities evaluated at once (default ``HELDOUT_BLOCK``): the
        held-out points go through in chunks of ``block // (R * K)`` points
        (``K`` components), so memory stays bounded however large ``k`` is.

    Returns
    -------
    float or ndarray of shape (R,)
        ``-(1/k) sum_j log p(x_j)``; ``inf`` when a held-out point has zero
        density (e.g. outside every top-hat ball, or off a collapsed model).
        Kazdan et al. (2024) track this on 500 held-out points per generation
        of their KDE experiments.

    Introduced in Part IV, "Collapse or thrive".
    """
    if not callable(getattr(model, "logpdf", None)):
        raise TypeError(f"model must have a logpdf method, {type(model).__name__} has none")
    dim = getattr(model, "dim", None)
    flat = dim is None or getattr(model, "flat", False)
    if flat:
        x = check_finite_array("heldout", heldout, ndim=(1, 2))
    else:
        x = check_finite_array("heldout", heldout, ndim=(2, 3))
        if x.shape[-1] != dim:
            raise ValueError(f"heldout must hold points of dimension d={dim} on its last axis, got shape {x.shape}")
    batch = getattr(model, "batch_shape", ())
    r = batch[0] if batch else 1
    shared = x.ndim == (1 if flat else 2)
    if not shared and x.shape[0] != r:
        raise ValueError(f"heldout must be one shared set or one row per replicate ({r}), got shape {x.shape}")
    k = x.shape[-1] if flat else x.shape[-2]
    if k == 0:
        raise ValueError("heldout must contain at least 1 point")
    block = HELDOUT_BLOCK if block is None else check_int("block", block, minimum=1)
    components = getattr(model, "n_components", None) or getattr(model, "n_points", None) or 1
    step = max(1, block // max(1, r * components))
    fast = isinstance(model, NormalMixture) and batch and np.all(model.stds > 0)
    if fast:
        rows_logpdf = _MixtureRows(model.weights, model.means, model.stds)
    total = np.zeros(r)
    for start in range(0, k, step):
        stop = min(start + step, k)
        chunk = x[..., start:stop] if flat else x[..., start:stop, :]
        if fast:
            lp = rows_logpdf(chunk if shared else chunk)
        else:
            if batch and shared:
                chunk = np.broadcast_to(chunk, (r,) + chunk.shape)
            with np.errstate(divide="ignore", invalid="ignore"):
                lp = np.asarray(model.logpdf(chunk), dtype=float)
            lp = np.where(np.isnan(lp), -np.inf, lp)
        total += lp.reshape(r, -1).sum(axis=-1)
    with np.errstate(invalid="ignore"):
        out = -total / k
    return _out(np.where(np.isnan(out), np.inf, out) if batch else out[0])
