"""The exact fast path: simulate sufficient statistics instead of points.

When the family is fitted from sufficient statistics, the recursion does not
need the individual training points, only the statistics of each batch of
data, and those have exact sampling distributions:

* :class:`~collapse_lib.NormalFit`: ``k`` draws of ``N(mu, sigma^2)`` have a
  sample mean ``~ N(mu, sigma^2 / k)`` and, independently, a centred sum of
  squares ``~ sigma^2 chi2(k - 1)``. For a :class:`~collapse_lib.NormalMixture`
  world the component counts are multinomial, and each component's mean and
  sum of squares are drawn as above, then pooled (within plus between sums of
  squares). Batches from different sources are pooled the same way.
* :class:`~collapse_lib.CategoricalFit`: the counts of ``k`` draws from
  ``probs`` are ``Multinomial(k, probs)``.
* :class:`~collapse_lib.MultivariateNormalFit` (:class:`GaussianStats`): ``k``
  draws of ``N(mu, Sigma)`` in ``d`` dimensions have a sample mean
  ``~ N(mu, Sigma / k)`` and, independently, a scatter matrix
  ``~ Wishart(k - 1, Sigma)``, drawn through the Bartlett decomposition
  (:func:`bartlett_factor`): ``d (d + 1) / 2`` variates per replicate, however
  large ``k``.

A family outside the engine joins this path by giving itself two methods,
``exact_unsupported_reason(world) -> str or None`` and
``exact_algebra(world, replicates, rng)`` returning an object with
``real(k)``, ``synthetic(model, k)``, ``pool(a, b)``, ``fit(stats)``,
``take(idx)`` and ``take_stats(stats, idx)`` (as :class:`GaussianStats` does).

The fitted models therefore have exactly the same law as on the points path,
at a cost independent of ``n`` (Normal) or of ``n`` beyond ``K`` categories
(categorical), and :class:`~collapse_lib.Accumulate` keeps running sums,
so its memory does not grow with the generations. The random numbers differ
from the points path: same law, not the same draws.

Supported: those families with the world of the matching kind
(:class:`~collapse_lib.Normal` or :class:`~collapse_lib.NormalMixture`;
:class:`~collapse_lib.Categorical`; :class:`~collapse_lib.MultivariateNormal`), the schemes :class:`~collapse_lib.Replace`,
:class:`~collapse_lib.Anchor`, :class:`~collapse_lib.Accumulate`,
:class:`~collapse_lib.FixedReal`, :class:`~collapse_lib.Augment` and
:class:`~collapse_lib.SyntheticShare`, :class:`~collapse_lib.NoFilter`, and no
``data_metrics`` (they need the training points: :func:`collapse_lib.simulate`
then uses the points path). :class:`~collapse_lib.AccumulateSubsample`
resamples individual points of a pool and always uses the points path.

Introduced in chapter 4, "Recursive Gaussian fitting" (Normal statistics),
chapter 5, "Tokens and words" (categorical counts) and Part IV, "Multivariate
Gaussians (det and trace)" (Wishart statistics); used by every chapter
through :func:`collapse_lib.simulate` (``method="auto"``).
"""

from __future__ import annotations

import numpy as np

from ._validate import check_bool, check_budget, check_finite_array, check_int, check_rng
from .distributions import Categorical, Normal, NormalMixture
from .families import CategoricalFit, NormalFit
from .filters import NoFilter
from .schemes import Accumulate, Anchor, Augment, FixedReal, Replace, SyntheticShare

__all__ = ["exact_unsupported_reason", "bartlett_factor", "GaussianStats"]

_SCHEMES = (Replace, Anchor, Accumulate, FixedReal, Augment, SyntheticShare)


def exact_unsupported_reason(world, family, scheme, filter, data_metrics=None):
    """Why the exact path cannot run this configuration, or ``None`` if it can.

    Parameters
    ----------
    world, family, scheme, filter
        As passed to :func:`collapse_lib.simulate` (after defaults).
    data_metrics : dict, optional
        Functions of the training points (the exact path has no points).

    Returns
    -------
    str or None
    """
    if data_metrics:
        return "data_metrics need the training points"
    if type(filter) is not NoFilter:
        return f"the filter {filter!r} acts on individual points"
    if type(scheme) not in _SCHEMES:
        return (f"the scheme {scheme!r} has no exact statistics (supported: "
                + ", ".join(s.__name__ for s in _SCHEMES) + ")")
    if callable(getattr(family, "exact_algebra", None)):
        check = getattr(family, "exact_unsupported_reason", None)
        return check(world) if callable(check) else None
    if type(family) is NormalFit:
        if type(world) not in (Normal, NormalMixture):
            return f"NormalFit's exact path needs a Normal or NormalMixture world, got {type(world).__name__}"
        return None
    if type(family) is CategoricalFit:
        if type(world) is not Categorical:
            return f"CategoricalFit's exact path needs a Categorical world, got {type(world).__name__}"
        return None
    return (f"the family {family!r} has no exact sufficient-statistics path "
            "(NormalFit, CategoricalFit and MultivariateNormalFit do)")


def make_engine(world, family, scheme, n, replicates, rng):
    """Return an engine with ``first() -> model``, ``step(t) -> model`` and ``take(idx)``."""
    if callable(getattr(family, "exact_algebra", None)):
        algebra = family.exact_algebra(world, replicates, rng)
    elif type(family) is NormalFit:
        algebra = _NormalStats(world, family.ddof, replicates, rng)
    else:
        algebra = _Counts(world, family.n_categories, replicates, rng)
    return _Engine(algebra, scheme, n)


class _Engine:
    """Runs a scheme on batches of sufficient statistics (same compositions as the points path)."""

    def __init__(self, algebra, scheme, n):
        self.a, self.scheme, self.n = algebra, scheme, n
        self.model = None

    def first(self):
        a, s, n = self.a, self.scheme, self.n
        if type(s) is FixedReal:
            n_fixed = s.split(n)[1]
            self.fixed = a.real(n_fixed)
            data = a.pool(self.fixed, a.real(n - n_fixed))
        else:
            data = a.real(n)
            if type(s) is Augment:
                self.fixed = data
            elif type(s) is Accumulate:
                self.pool = data
        self.model = a.fit(data)
        return self.model

    def step(self, t):
        a, s, n = self.a, self.scheme, self.n
        kind = type(s)
        model = self.model
        if kind is Replace:
            data = a.synthetic(model, n)
        elif kind is Anchor:
            n_syn, n_real = s.split(n)
            data = a.pool(a.synthetic(model, n_syn), a.real(n_real))
        elif kind is SyntheticShare:
            n_syn, n_real = s.split(t, n)
            data = a.pool(a.synthetic(model, n_syn), a.real(n_real))
        elif kind is Accumulate:
            self.pool = data = a.pool(self.pool, a.synthetic(model, n))
        elif kind is FixedReal:
            data = a.pool(a.synthetic(model, s.split(n)[0]), self.fixed)
        else:  # Augment
            data = a.pool(self.fixed, a.synthetic(model, s.n_synthetic(n)))
        self.model = a.fit(data)
        return self.model

    def take(self, idx):
        """Keep only replicates ``idx`` (positions in the current batch) from now on."""
        self.a.take(idx)
        self.model = self.model._take(idx)
        for name in ("fixed", "pool"):
            if hasattr(self, name):
                setattr(self, name, self.a.take_stats(getattr(self, name), idx))


class _NormalStats:
    """Batches of Normal data as ``(m, mean, centred sum of squares)``; ``None`` is empty."""

    def __init__(self, world, ddof, replicates, rng):
        self.ddof, self.r, self.rng = ddof, replicates, rng
        if type(world) is Normal:
            w = np.ones((1,))
            mu, sd = world._mean[..., None], world._std[..., None]
        else:
            w, mu, sd = world.weights, world.means, world.stds
            w = w / w.sum(axis=-1, keepdims=True)  # weights may sum to 1 only within 1e-8
        self.single = w.shape[-1] == 1
        self.w = w
        self.mu = np.broadcast_to(mu, (replicates, w.shape[-1]))
        self.sd = np.broadcast_to(sd, (replicates, w.shape[-1]))

    def _normal_batch(self, mean, std, k):
        z = self.rng.standard_normal(self.r)
        g = self.rng.standard_gamma((k - 1) / 2.0, size=self.r) if k > 1 else np.zeros(self.r)
        # float(k): n may exceed int64 on this path (Python ints are exact; numpy's are not)
        return k, mean + std * z / np.sqrt(float(k)), std * std * (2.0 * g)

    def synthetic(self, model, k):
        if k == 0:
            return None
        return self._normal_batch(model._mean, model._std, k)

    def real(self, k):
        if k == 0:
            return None
        if self.single:
            return self._normal_batch(self.mu[:, 0], self.sd[:, 0], k)
        rng, r = self.rng, self.r
        if self.w.ndim == 1:
            counts = rng.multinomial(k, self.w, size=r)
        else:
            counts = rng.multinomial(k, self.w)
        c = counts.astype(float)
        z = rng.standard_normal(c.shape)
        g = rng.standard_gamma(np.maximum(c - 1.0, 0.0) / 2.0)
        comp_mean = self.mu + self.sd * z / np.sqrt(np.maximum(c, 1.0))
        mean = (c * comp_mean).sum(axis=-1) / k
        q = (self.sd**2 * 2.0 * g).sum(axis=-1) + (c * (comp_mean - mean[:, None]) ** 2).sum(axis=-1)
        return k, mean, q

    @staticmethod
    def pool(a, b):
        if a is None:
            return b
        if b is None:
            return a
        ma, mean_a, qa = a
        mb, mean_b, qb = b
        m = ma + mb
        delta = mean_b - mean_a
        return m, mean_a + delta * (mb / m), qa + qb + delta * delta * (ma * mb / m)

    def fit(self, data):
        m, mean, q = data
        return Normal._from_params(mean, np.sqrt(q / float(m - self.ddof)))

    def take(self, idx):
        self.r = len(idx)
        self.mu, self.sd = self.mu[idx], self.sd[idx]
        if self.w.ndim == 2:
            self.w = self.w[idx]

    @staticmethod
    def take_stats(stats, idx):
        if stats is None:
            return None
        m, mean, q = stats
        return m, mean[idx], q[idx]


class _Counts:
    """Batches of categorical data as ``(m, counts of shape (R, K))``; ``None`` is empty."""

    def __init__(self, world, n_categories, replicates, rng):
        self.r, self.rng = replicates, rng
        p = world.probs / world.probs.sum(axis=-1, keepdims=True)
        k = p.shape[-1] if n_categories is None else n_categories
        if k > p.shape[-1]:
            p = np.concatenate([p, np.zeros(p.shape[:-1] + (k - p.shape[-1],))], axis=-1)
        self.p = p

    def synthetic(self, model, k):
        if k == 0:
            return None
        return k, self.rng.multinomial(k, model.probs)

    def real(self, k):
        if k == 0:
            return None
        if self.p.ndim == 1:
            return k, self.rng.multinomial(k, self.p, size=self.r)
        return k, self.rng.multinomial(k, self.p)

    @staticmethod
    def pool(a, b):
        if a is None:
            return b
        if b is None:
            return a
        return a[0] + b[0], a[1] + b[1]

    def fit(self, data):
        m, counts = data
        return Categorical._from_params(counts / m)

    def take(self, idx):
        self.r = len(idx)
        if self.p.ndim == 2:
            self.p = self.p[idx]

    @staticmethod
    def take_stats(stats, idx):
        if stats is None:
            return None
        return stats[0], stats[1][idx]


def bartlett_factor(df, dim, rows, rng):
    """Lower-trapezoidal factors ``B`` with ``B @ B^T ~ Wishart(df, I_dim)``, one per row.

    The Bartlett decomposition: ``B[i, i] ~ sqrt(chi2(df - i))`` and
    ``B[i, j] ~ N(0, 1)`` for ``j < i``, all independent. With ``df < dim``
    (a singular Wishart: fewer points than dimensions) ``B`` has ``df``
    columns, the same construction cut at column ``df`` (Gram-Schmidt on
    ``dim`` standard normal vectors of length ``df``).

    Parameters
    ----------
    df : int >= 0
        Degrees of freedom (``k - 1`` for the scatter matrix of ``k`` points).
    dim : int >= 1
    rows : int >= 0
        Independent factors to draw.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of shape (rows, dim, min(dim, df))

    Used by :class:`GaussianStats` (Part IV, "Multivariate Gaussians (det and trace)").
    """
    df = check_int("df", df, minimum=0)
    dim = check_int("dim", dim, minimum=1)
    rows = check_int("rows", rows, minimum=0)
    check_rng(rng)
    q = min(dim, df)
    check_budget("dim", dim * q)
    check_budget("rows", rows * dim * q)
    b = np.zeros((rows, dim, q))
    if q == 0:
        return b
    i = np.arange(q)
    b[:, i, i] = np.sqrt(2.0 * rng.standard_gamma((df - i) / 2.0, size=(rows, q)))
    lo_r, lo_c = np.tril_indices(dim, -1, q)
    if lo_r.size:
        b[:, lo_r, lo_c] = rng.standard_normal((rows, lo_r.size))
    return b


class GaussianStats:
    """Batches of d-dimensional normal data as ``(m, mean, scatter, factor)``; ``None`` is empty.

    A batch from one normal source keeps a factor ``F`` of its scatter matrix
    (``S = F F^T``, lower trapezoidal); pooled batches keep ``S`` itself
    (within plus between scatter). Fitting divides by ``m - ddof``. The
    world is a normal with mean ``world_mean`` and covariance factor
    ``world_factor`` (unbatched, or one per replicate).

    Parameters
    ----------
    world_mean : ndarray (d,) or (R, d)
    world_factor : ndarray (d, r) or (R, d, r)
    ddof : {0, 1}
    replicates : int
    rng : numpy.random.Generator
    world_lower : bool
        Whether ``world_factor`` is lower triangular (a Cholesky factor).
    make_model : callable
        ``make_model(mean, cov=...)`` or ``make_model(mean, factor=..., lower=...)``
        builds the fitted batch
        (``MultivariateNormal._from_parts``).

    Notes
    -----
    Same law as drawing every point and fitting (``tests/test_multivariate.py``
    compares the two paths by Kolmogorov-Smirnov tests), at a cost of
    ``O(d^3)`` per replicate and generation whatever the sample size.
    Introduced in Part IV, "Multivariate Gaussians (det and trace)".
    """

    def __init__(self, world_mean, world_factor, ddof, replicates, rng, make_model, world_lower=False):
        mu = check_finite_array("world_mean", world_mean, ndim=(1, 2))
        factor = check_finite_array("world_factor", world_factor, ndim=(2, 3))
        d = mu.shape[-1]
        if factor.shape[-2] != d:
            raise ValueError(f"world_factor must have d = {d} rows (the length of world_mean), got shape {factor.shape}")
        ddof = check_int("ddof", ddof, minimum=0, maximum=1)
        replicates = check_int("replicates", replicates, minimum=1)
        for name, arr in (("world_mean", mu), ("world_factor", factor)):
            if arr.ndim == (2 if name == "world_mean" else 3) and arr.shape[0] != replicates:
                raise ValueError(f"{name} given per replicate must have {replicates} rows (replicates), "
                                 f"got shape {arr.shape}")
        check_budget("replicates", replicates * d * d)
        check_rng(rng)
        if not callable(make_model):
            raise TypeError(f"make_model must be callable, got {type(make_model).__name__}")
        self.mu = mu
        self.factor = factor
        self.lower = check_bool("world_lower", world_lower)
        self.ddof, self.r, self.rng, self.make_model = ddof, replicates, rng, make_model

    def _batch(self, mean, factor, lower, k):
        # stats: (points, mean, scatter or None, scatter factor or None, factor is lower trapezoidal)
        r = self.r
        z = self.rng.standard_normal((r, factor.shape[-1]))
        m = mean + np.einsum("...ij,...j->...i", factor, z) / np.sqrt(k)
        b = bartlett_factor(k - 1, factor.shape[-1], r, self.rng)
        return k, m, None, factor @ b, lower

    def synthetic(self, model, k):
        if k == 0:
            return None
        return self._batch(model.mean, model.factor, getattr(model, "_lower", False), k)

    def real(self, k):
        if k == 0:
            return None
        return self._batch(self.mu, self.factor, self.lower, k)

    @staticmethod
    def _scatter(stats):
        s, f = stats[2], stats[3]
        return s if s is not None else f @ np.swapaxes(f, -1, -2)

    def pool(self, a, b):
        if a is None:
            return b
        if b is None:
            return a
        ma, mean_a = a[0], a[1]
        mb, mean_b = b[0], b[1]
        m = ma + mb
        delta = mean_b - mean_a
        between = (ma * mb / m) * (delta[..., :, None] * delta[..., None, :])
        return m, mean_a + delta * (mb / m), self._scatter(a) + self._scatter(b) + between, None, False

    def fit(self, data):
        m, mean, s, f, lower = data
        c = m - self.ddof
        if s is None:
            return self.make_model(mean, factor=f / np.sqrt(c), lower=lower)
        return self.make_model(mean, cov=s / c)

    def take(self, idx):
        self.r = len(idx)
        if self.mu.ndim == 2:
            self.mu = self.mu[idx]
        if self.factor.ndim == 3:
            self.factor = self.factor[idx]

    @staticmethod
    def take_stats(stats, idx):
        if stats is None:
            return None
        m, mean, s, f, lower = stats
        return m, mean[idx], None if s is None else s[idx], None if f is None else f[idx], lower
