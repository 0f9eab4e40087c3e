"""Distributions: the real world and every fitted model.

A distribution is anything with ``sample(size, rng)``. The ones here also give
their exact properties (``mean``, ``var``, ``tail_mass``, ``logpdf`` or
``probs``). Each may hold a *batch* of independent replicates: parameters then
carry a leading replicate axis of length ``R`` and ``sample(size, rng)`` returns
an array of shape ``(R, size)``.

Introduced in chapter 2, "A simulation you can run"; used throughout the book.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ._validate import (
    check_budget,
    check_finite_array,
    check_int,
    check_probabilities,
    check_rng,
)

__all__ = ["Distribution", "Normal", "NormalMixture", "Categorical"]

_LOG_2PI = np.log(2.0 * np.pi)


def _as_points(x, name="x"):
    x = np.asarray(x, dtype=float)
    if np.any(np.isnan(x)):
        raise ValueError(f"{name} must not be NaN")
    return x


def _normal_sf(x, mean, std):
    """P(X > x) for X ~ N(mean, std^2), exact for std == 0 (a point mass)."""
    # Overflow of z (a far point or a tiny std) is the right limit: ndtr(-inf) = 0, ndtr(inf) = 1.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = (x - mean) / np.where(std > 0, std, 1.0)
    return np.where(std > 0, special.ndtr(-z), (mean > x).astype(float))


def _normal_logpdf(x, mean, std):
    # Overflow of z * z (a far point, or a collapsing std near 1e-160) gives the right limit -inf.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        safe = np.where(std > 0, std, 1.0)
        z = (x - mean) / safe
        lp = -0.5 * (z * z + _LOG_2PI) - np.log(safe)
    return np.where(std > 0, lp, np.where(x == mean, np.inf, -np.inf))


def categorical_indices(cdf, size, rng, block=256):
    """Draw category ids from rows of a cumulative distribution, vectorised.

    ``cdf`` has shape ``(R, K)`` with last column 1; returns ``(R, size)`` ints.
    Within a block of rows, each row is offset by its index so that one
    ``searchsorted`` serves them all; blocks keep the offsets small (at most
    ``block``), so probabilities down to about ``block * 2**-52`` keep full
    resolution however many replicates there are.
    """
    n_rows, k = cdf.shape
    u = rng.random((n_rows, size))
    idx = np.empty((n_rows, size), dtype=np.int64)
    for start in range(0, n_rows, block):
        stop = min(start + block, n_rows)
        offsets = np.arange(stop - start, dtype=float)[:, None]
        flat = (cdf[start:stop] + offsets).ravel()
        found = np.searchsorted(flat, (u[start:stop] + offsets).ravel(), side="right")
        idx[start:stop] = found.reshape(stop - start, size) - (np.arange(stop - start) * k)[:, None]
    # u + offset can round up to the row's end; clamp to the first category where the
    # cumulative sum reaches 1 (the last one that can be drawn), so that a lost category
    # (probability 0) is never drawn.
    last_drawable = np.argmax(cdf >= 1.0, axis=1)
    return np.minimum(idx, last_drawable[:, None])


def _logsumexp_last(values):
    """log(sum(exp(values))) over the last axis, stable, with no warnings.

    Equal to ``scipy.special.logsumexp(values, axis=-1)`` (-inf where every
    term is -inf, +inf where a term is +inf) and several times faster on the
    small last axes of a mixture.
    """
    top = values.max(axis=-1, keepdims=True)
    finite_top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        total = np.exp(values - finite_top).sum(axis=-1)
        out = np.log(total) + finite_top[..., 0]
    return np.where(np.isfinite(top[..., 0]), out, top[..., 0])


def _cdf_rows(probs):
    """Row-wise cumulative sums scaled to end at exactly 1.

    Dividing by the row total (rather than overwriting the last entry) keeps
    every category after the last positive one at exactly 1, so categories of
    probability 0 get no mass from rounding.
    """
    cdf = np.cumsum(probs, axis=-1)
    return cdf / cdf[..., -1:]


class Distribution:
    """Base class: a source of samples, possibly a batch of replicates.

    Subclasses implement :meth:`sample`; ``batch_shape`` is ``()`` for one
    distribution and ``(R,)`` for a batch of ``R`` replicates.
    """

    batch_shape: tuple = ()

    @property
    def replicates(self):
        """Number of replicates in the batch (1 for an unbatched distribution)."""
        return self.batch_shape[0] if self.batch_shape else 1

    def sample(self, size, rng):  # pragma: no cover - interface
        """Draw ``size`` points per replicate with the generator ``rng``."""
        raise NotImplementedError

    def _sample_size(self, size, per_point=1):
        """``size`` as an int >= 0, refused (naming it) if the draw would exceed the element budget.

        ``per_point`` is the number of array elements the draw allocates per point and replicate.
        """
        size = check_int("size", size, minimum=0)
        check_budget("size (times replicates)", size * self.replicates * per_point)
        return size

    def _scalar(self, value):
        value = np.asarray(value)
        return float(value) if value.ndim == 0 else value


class Normal(Distribution):
    """Normal distribution N(mean, std^2), or a batch of them.

    Parameters
    ----------
    mean : float or array_like of shape (R,)
        Mean(s).
    std : float or array_like of shape (R,)
        Standard deviation(s), > 0. (Fitted models may reach std == 0, a
        legal collapsed state; only the public constructor insists on > 0.)

    Examples
    --------
    >>> import numpy as np, collapse_lib as cl
    >>> cl.Normal(0.0, 1.0).tail_mass(1.96)  # doctest: +ELLIPSIS
    0.0249978...
    """

    def __init__(self, mean=0.0, std=1.0):
        mean = check_finite_array("mean", mean, ndim=(0, 1))
        std = check_finite_array("std", std, ndim=(0, 1))
        if np.any(std <= 0):
            raise ValueError("std must be > 0 (a standard deviation), got a value <= 0")
        self._set(mean, std)

    @classmethod
    def _from_params(cls, mean, std):
        """Build without validation (internal: fitted models, std may be 0)."""
        obj = cls.__new__(cls)
        obj._set(np.asarray(mean, float), np.asarray(std, float))
        return obj

    def _set(self, mean, std):
        if np.shape(mean) != np.shape(std) or np.ndim(mean) > 1:  # a fit's (R,) and (R,) need no broadcast
            try:
                mean, std = np.broadcast_arrays(mean, std)
            except ValueError:
                raise ValueError(f"mean and std must have the same shape (one per replicate) or be scalars, "
                                 f"got shapes {np.shape(mean)} and {np.shape(std)}") from None
        if np.ndim(mean) > 1:
            raise ValueError(f"mean and std must be scalars or 1-D (one per replicate), got shape {mean.shape}")
        self._mean = np.array(mean, dtype=float)
        self._std = np.array(std, dtype=float)
        self.batch_shape = self._mean.shape

    def _take(self, i):
        """Replicate ``i`` of a batch, as an unbatched distribution."""
        return Normal._from_params(self._mean[i], self._std[i])

    @property
    def mean(self):
        """Exact mean (float, or array of shape (R,))."""
        return self._scalar(self._mean)

    @property
    def std(self):
        """Exact standard deviation."""
        return self._scalar(self._std)

    @property
    def var(self):
        """Exact variance."""
        return self._scalar(self._std**2)

    def tail_mass(self, x):
        """Exact P(X > x); shape ``batch_shape + np.shape(x)``."""
        x = _as_points(x)
        extra = (1,) * x.ndim
        return self._scalar(_normal_sf(x, self._mean.reshape(self.batch_shape + extra),
                                       self._std.reshape(self.batch_shape + extra)))

    def cdf(self, x):
        """Exact P(X <= x)."""
        return self._scalar(1.0 - np.asarray(self.tail_mass(x)))

    def logpdf(self, x):
        """Log density at ``x``; ``x`` broadcasts against ``batch_shape + (size,)``.

        For a batch, pass ``x`` of shape ``(R, m)`` (one row per replicate).
        """
        x = _as_points(x)
        mean, std = self._mean, self._std
        if self.batch_shape and x.ndim >= 1:
            mean, std = mean[:, None], std[:, None]
        return _normal_logpdf(x, mean, std)

    def sample(self, size, rng):
        """Draw ``size`` points: shape ``(size,)``, or ``(R, size)`` for a batch."""
        size = self._sample_size(size)
        check_rng(rng)
        z = rng.standard_normal(self.batch_shape + (size,))
        if self.batch_shape:
            z *= self._std[:, None]  # in place: the same values as mean + std * z, one array fewer
            z += self._mean[:, None]
            return z
        return float(self._mean) + float(self._std) * z

    def __repr__(self):
        if self.batch_shape:
            return f"Normal(batch of {self.batch_shape[0]})"
        return f"Normal(mean={float(self._mean):.6g}, std={float(self._std):.6g})"


class NormalMixture(Distribution):
    """Mixture of normal components, or a batch of mixtures.

    Parameters
    ----------
    weights : array_like, shape (K,) or (R, K)
        Component weights, non-negative, summing to 1.
    means : array_like, same shape as ``weights``
        Component means.
    stds : array_like, same shape as ``weights``
        Component standard deviations, > 0.

    Examples
    --------
    The book's running world: a common core and a rare, important tail.

    >>> import collapse_lib as cl
    >>> world = cl.NormalMixture([0.97, 0.03], [0.0, 8.0], [1.0, 1.0])
    >>> round(world.mean, 2), round(world.var, 4)
    (0.24, 2.8624)
    """

    def __init__(self, weights, means, stds):
        weights = check_probabilities("weights", weights)
        means = check_finite_array("means", means, ndim=(1, 2))
        stds = check_finite_array("stds", stds, ndim=(1, 2))
        if means.shape != weights.shape or stds.shape != weights.shape:
            raise ValueError(
                f"weights, means and stds must have the same shape, got {weights.shape}, {means.shape}, {stds.shape}"
            )
        if np.any(stds <= 0):
            raise ValueError("stds must be > 0 for every component")
        self._set(weights, means, stds)

    @classmethod
    def _from_params(cls, weights, means, stds):
        obj = cls.__new__(cls)
        obj._set(np.asarray(weights, float), np.asarray(means, float), np.asarray(stds, float))
        return obj

    def _set(self, weights, means, stds):
        self.weights = np.array(weights, dtype=float)
        self.means = np.array(means, dtype=float)
        self.stds = np.array(stds, dtype=float)
        self.batch_shape = self.weights.shape[:-1]

    def _take(self, i):
        """Replicate ``i`` of a batch, as an unbatched mixture."""
        return NormalMixture._from_params(self.weights[i], self.means[i], self.stds[i])

    @property
    def n_components(self):
        """Number of components K."""
        return self.weights.shape[-1]

    @property
    def mean(self):
        """Exact mean of the mixture."""
        return self._scalar(np.sum(self.weights * self.means, axis=-1))

    @property
    def var(self):
        """Exact variance of the mixture (law of total variance)."""
        m = np.sum(self.weights * self.means, axis=-1)
        second = np.sum(self.weights * (self.stds**2 + self.means**2), axis=-1)
        return self._scalar(np.maximum(second - m**2, 0.0))

    @property
    def std(self):
        """Exact standard deviation of the mixture."""
        return self._scalar(np.sqrt(np.asarray(self.var)))

    def _component_view(self, x):
        # x: shape S; parameters: batch + (K,) -> batch + S + (K,)
        extra = (1,) * x.ndim
        shape = self.batch_shape + extra + (self.n_components,)
        return (self.weights.reshape(shape), self.means.reshape(shape), self.stds.reshape(shape),
                x.reshape(x.shape + (1,)))

    def tail_mass(self, x):
        """Exact P(X > x); shape ``batch_shape + np.shape(x)``."""
        x = _as_points(x)
        w, m, s, xx = self._component_view(x)
        # Weights sum to 1 only up to rounding: keep the probability inside [0, 1].
        return self._scalar(np.clip(np.sum(w * _normal_sf(xx, m, s), axis=-1), 0.0, 1.0))

    def cdf(self, x):
        """Exact P(X <= x)."""
        return self._scalar(1.0 - np.asarray(self.tail_mass(x)))

    def logpdf(self, x):
        """Log density; for a batch pass ``x`` of shape ``(R, m)``."""
        x = _as_points(x)
        w, m, s = self.weights, self.means, self.stds
        if self.batch_shape and x.ndim >= 1:
            w, m, s = w[:, None, :], m[:, None, :], s[:, None, :]
        with np.errstate(divide="ignore"):
            lw = np.log(w)
        # A component of weight 0 contributes nothing, even where its own density is +inf
        # (a lost class fitted as a point mass): -inf + inf would be NaN.
        with np.errstate(invalid="ignore"):
            comp = np.where(w > 0, lw + _normal_logpdf(x[..., None], m, s), -np.inf)
        return _logsumexp_last(comp)

    def sample(self, size, rng):
        """Draw ``size`` points: shape ``(size,)``, or ``(R, size)`` for a batch."""
        size = self._sample_size(size)
        check_rng(rng)
        w = self.weights.reshape(-1, self.n_components)
        comp = categorical_indices(_cdf_rows(w), size, rng)
        rows = np.arange(w.shape[0])[:, None]
        means = self.means.reshape(w.shape)[rows, comp]
        stds = self.stds.reshape(w.shape)[rows, comp]
        out = means + stds * rng.standard_normal(comp.shape)
        return out.reshape(self.batch_shape + (size,))

    def __repr__(self):
        if self.batch_shape:
            return f"NormalMixture(batch of {self.batch_shape[0]}, K={self.n_components})"
        return (f"NormalMixture(weights={np.round(self.weights, 6).tolist()}, "
                f"means={np.round(self.means, 6).tolist()}, stds={np.round(self.stds, 6).tolist()})")


class Categorical(Distribution):
    """Categorical distribution over ids ``0 .. K-1``, or a batch of them.

    Parameters
    ----------
    probs : array_like, shape (K,) or (R, K)
        Category probabilities, non-negative, summing to 1.

    Examples
    --------
    >>> import numpy as np, collapse_lib as cl
    >>> tokens = cl.Categorical([0.5, 0.3, 0.15, 0.05])
    >>> tokens.sample(5, np.random.default_rng(0)).dtype.kind
    'i'
    """

    def __init__(self, probs):
        probs = check_probabilities("probs", probs)
        self._set(probs / probs.sum(axis=-1, keepdims=True))

    @classmethod
    def _from_params(cls, probs):
        obj = cls.__new__(cls)
        obj._set(np.asarray(probs, float))
        return obj

    def _set(self, probs):
        self.probs = np.array(probs, dtype=float)
        self.batch_shape = self.probs.shape[:-1]

    def _take(self, i):
        """Replicate ``i`` of a batch, as an unbatched distribution."""
        return Categorical._from_params(self.probs[i])

    @property
    def n_categories(self):
        """Number of categories K (including those with probability 0)."""
        return self.probs.shape[-1]

    @property
    def heterozygosity(self):
        """1 - sum p_i^2: the chance two draws differ (Wright-Fisher's H)."""
        return self._scalar(1.0 - np.sum(self.probs**2, axis=-1))

    @property
    def surviving(self):
        """Number of categories with probability > 0."""
        return self._scalar(np.count_nonzero(self.probs > 0, axis=-1))

    @property
    def entropy(self):
        """Shannon entropy in nats (0 log 0 = 0)."""
        p = self.probs
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)), 0.0)
        return self._scalar(terms.sum(axis=-1))

    def logpmf(self, ids):
        """Log probability of integer ids (``-inf`` for a lost category)."""
        ids = np.asarray(ids)
        if ids.dtype.kind not in "iu":
            raise TypeError("ids must be integers (category ids)")
        if np.any((ids < 0) | (ids >= self.n_categories)):
            raise ValueError(f"ids must be in [0, {self.n_categories - 1}]")
        with np.errstate(divide="ignore"):
            logp = np.log(self.probs)
        if self.batch_shape:
            return np.take_along_axis(logp, ids.reshape(self.batch_shape[0], -1), axis=-1)
        return logp[ids]

    def sample(self, size, rng):
        """Draw ``size`` ids: shape ``(size,)``, or ``(R, size)`` for a batch."""
        size = self._sample_size(size)
        check_rng(rng)
        p = self.probs.reshape(-1, self.n_categories)
        ids = categorical_indices(_cdf_rows(p), size, rng)
        return ids.reshape(self.batch_shape + (size,))

    def sample_counts(self, size, rng):
        """Counts of each category in ``size`` draws (same law as counting ``sample``)."""
        size = check_int("size", size, minimum=0)
        check_rng(rng)
        return rng.multinomial(size, self.probs)

    def __repr__(self):
        if self.batch_shape:
            return f"Categorical(batch of {self.batch_shape[0]}, K={self.n_categories})"
        return f"Categorical(K={self.n_categories})"
