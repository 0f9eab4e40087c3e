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

The fitted models therefore have exactly the same law as on the points path,
at a cost independent of ``n`` (Normal) or of ``n`` beyond ``K`` categories
(categorical), and :class:`~collapse_lib.Accumulate` keeps running sums,
so its memory does not grow with the generations. The random numbers differ
from the points path: same law, not the same draws.

Supported: those two families with the world of the matching kind
(:class:`~collapse_lib.Normal` or :class:`~collapse_lib.NormalMixture`;
:class:`~collapse_lib.Categorical`), the schemes :class:`~collapse_lib.Replace`,
:class:`~collapse_lib.Anchor`, :class:`~collapse_lib.Accumulate`,
:class:`~collapse_lib.FixedReal`, :class:`~collapse_lib.Augment` and
:class:`~collapse_lib.SyntheticShare`, :class:`~collapse_lib.NoFilter`, and no
``data_metrics`` (they need the training points: :func:`collapse_lib.simulate`
then uses the points path). :class:`~collapse_lib.AccumulateSubsample`
resamples individual points of a pool and always uses the points path.

Introduced in chapter 4, "Recursive Gaussian fitting" (Normal statistics) and
chapter 5, "Tokens and words" (categorical counts); used by every chapter
through :func:`collapse_lib.simulate` (``method="auto"``).
"""

from __future__ import annotations

import numpy as np

from .distributions import Categorical, Normal, NormalMixture
from .families import CategoricalFit, NormalFit
from .filters import NoFilter
from .schemes import Accumulate, Anchor, Augment, FixedReal, Replace, SyntheticShare

__all__ = ["exact_unsupported_reason"]

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
    if type(family) is NormalFit:
        if type(world) not in (Normal, NormalMixture):
            return f"NormalFit's exact path needs a Normal or NormalMixture world, got {type(world).__name__}"
        return None
    if type(family) is CategoricalFit:
        if type(world) is not Categorical:
            return f"CategoricalFit's exact path needs a Categorical world, got {type(world).__name__}"
        return None
    return f"the family {family!r} has no exact sufficient-statistics path (NormalFit and CategoricalFit do)"


def make_engine(world, family, scheme, n, replicates, rng):
    """Return an engine with ``first() -> model`` and ``step(t) -> model``."""
    if type(family) is NormalFit:
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
        return k, mean + std * z / np.sqrt(k), std * std * (2.0 * g)

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
        return Normal._from_params(mean, np.sqrt(q / (m - self.ddof)))


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
