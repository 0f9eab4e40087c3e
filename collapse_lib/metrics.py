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

Introduced in chapter 2, "A simulation you can run"; the categorical metrics
in chapter 5, "Tokens and words".
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ._validate import check_finite_array, check_int, check_probabilities, check_rng
from .distributions import Categorical, Normal, NormalMixture

__all__ = [
    "Measured", "tail_mass", "mean", "std", "w2", "quantile",
    "kl", "total_variation", "heterozygosity", "surviving", "entropy", "perplexity",
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
    u = np.asarray(u, dtype=float)
    if np.any(~np.isfinite(u)) or np.any((u <= 0) | (u >= 1)):
        raise ValueError("u must be probabilities strictly between 0 and 1")
    if _is_data(dist):
        data = np.sort(check_finite_array("data", dist, ndim=(1, 2)), axis=-1)
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
        for _ in range(check_int("iterations", iterations, minimum=1)):
            mid = 0.5 * (lo + hi)
            below = _mixture_cdf(mid, w, mm, ss) < target
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
        return hi.reshape(dist.batch_shape + u.shape)
    raise TypeError(f"no quantile function for {type(dist).__name__} (needs Normal, NormalMixture, "
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
    if isinstance(model, Normal) and isinstance(world, Normal):
        d2 = np.square(np.asarray(model.mean) - np.asarray(world.mean)) + \
            np.square(np.asarray(model.std) - np.asarray(world.std))
        return Measured(d2 if squared else np.sqrt(d2), True, "exact")
    grid = check_int("grid", grid, minimum=2)
    u = (np.arange(grid) + 0.5) / grid
    qm, qw = quantile(model, u), quantile(world, u)
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
    p, q = np.broadcast_arrays(_probs(p, "p"), _probs(q, "q"))
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1.0)) - np.log(q)), 0.0)
    return _out(np.maximum(terms.sum(axis=-1), 0.0))


def total_variation(p, q):
    """Total variation distance ``(1/2) sum_i |p_i - q_i|``, in [0, 1].

    Introduced in chapter 5, "Tokens and words".
    """
    p, q = np.broadcast_arrays(_probs(p, "p"), _probs(q, "q"))
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
        x = check_finite_array("heldout", heldout, ndim=(1, 2))
        if getattr(model, "batch_shape", ()) and x.ndim == 1:
            x = np.broadcast_to(x, model.batch_shape + x.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            lp = np.asarray(model.logpdf(x), dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        ce = -lp.mean(axis=-1)
        ce = np.where(np.isnan(ce), np.inf, ce)
        return _out(np.exp(ce))
