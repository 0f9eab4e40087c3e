"""Resampling the training data: the empirical distribution and its family.

Introduced in chapter 3, "Why tails go first": a model with no functional
error at all (it reproduces its data exactly) still loses the tail, through
statistical error alone.
"""

from __future__ import annotations

import numpy as np

from .._validate import check_finite_array, check_rng
from ..distributions import Distribution, _as_points
from ..families import Family

__all__ = ["Empirical", "EmpiricalFit"]


class Empirical(Distribution):
    """The empirical distribution of stored points: each point has mass ``1/m``.

    Parameters
    ----------
    points : array_like of shape (m,) or (R, m)
        The stored points (one row per replicate), finite.

    Notes
    -----
    ``sample`` resamples the points with replacement (a bootstrap draw).
    Mean, variance (divide by ``m``), tail mass, cdf and quantiles are exact
    for the empirical law. It has no density; :meth:`logpmf` gives the log
    of each value's share of the points, which is what the filters use to
    rank samples.

    Introduced in chapter 3, "Why tails go first".

    Examples
    --------
    >>> import collapse_lib as cl
    >>> cl.Empirical([0.0, 1.0, 2.0, 6.0]).tail_mass(1.5)
    0.5
    """

    def __init__(self, points):
        points = check_finite_array("points", points, ndim=(1, 2))
        self._set(points)

    @classmethod
    def _from_params(cls, points):
        obj = cls.__new__(cls)
        obj._set(np.asarray(points, dtype=float))
        return obj

    def _set(self, points):
        self.points = points
        self.batch_shape = points.shape[:-1]
        self._sorted = None

    def _take(self, i):
        return Empirical._from_params(self.points[i])

    @property
    def size(self):
        """Number of stored points per replicate, ``m``."""
        return self.points.shape[-1]

    @property
    def sorted_points(self):
        """The stored points sorted along the last axis (cached)."""
        if self._sorted is None:
            self._sorted = np.sort(self.points, axis=-1)
        return self._sorted

    @property
    def mean(self):
        """Exact mean of the empirical law."""
        return self._scalar(self.points.mean(axis=-1))

    @property
    def var(self):
        """Exact variance of the empirical law (divide by ``m``)."""
        mu = self.points.mean(axis=-1, keepdims=True)
        return self._scalar(np.square(self.points - mu).mean(axis=-1))

    @property
    def std(self):
        """Exact standard deviation of the empirical law."""
        return self._scalar(np.sqrt(np.asarray(self.var)))

    def tail_mass(self, x):
        """Exact fraction of stored points strictly above ``x``; shape ``batch_shape + np.shape(x)``."""
        x = _as_points(x)
        s = self.sorted_points.reshape(-1, self.size)
        counts = self._count_le(s, x.ravel())
        frac = (self.size - counts) / self.size
        return self._scalar(frac.reshape(self.batch_shape + x.shape))

    @staticmethod
    def _count_le(s, x):
        """Number of points <= each ``x`` in every sorted row of ``s`` -> (R, G)."""
        r, m = s.shape
        if r == 1:
            return np.searchsorted(s[0], x, side="right")[None, :]
        if x.size <= 8:
            return (s[:, :, None] <= x[None, None, :]).sum(axis=1)
        # joint integer ranks make one searchsorted serve every row
        vals, codes = np.unique(np.concatenate([s.ravel(), x]), return_inverse=True)
        u = vals.size
        offset = (np.arange(r) * u)[:, None]
        sc = (codes[: r * m].reshape(r, m) + offset).ravel()
        xc = (codes[r * m:][None, :] + offset).ravel()
        pos = np.searchsorted(sc, xc, side="right").reshape(r, -1)
        return pos - (np.arange(r) * m)[:, None]

    def cdf(self, x):
        """Exact fraction of stored points at or below ``x``."""
        return self._scalar(1.0 - np.asarray(self.tail_mass(x)))

    def quantile(self, u):
        """Exact (lower) quantile function at probabilities ``u`` in [0, 1].

        Returns shape ``batch_shape + np.shape(u)``: the smallest stored
        point whose cdf reaches ``u``.
        """
        u = np.asarray(u, dtype=float)
        if np.any(~np.isfinite(u)) or np.any((u < 0) | (u > 1)):
            raise ValueError("u must be probabilities in [0, 1]")
        idx = np.clip(np.ceil(u * self.size).astype(int) - 1, 0, self.size - 1)
        return self._scalar(self.sorted_points[..., idx])

    def logpmf(self, x):
        """Log of the share of stored points equal to ``x`` (``-inf`` if none).

        For a batch pass ``x`` of shape ``(R, k)`` (one row per replicate).
        """
        x = _as_points(x)
        pts = self.points.reshape(-1, self.size)
        xx = x.reshape(pts.shape[0], -1) if self.batch_shape else x.reshape(1, -1)
        r, m = pts.shape
        vals, codes = np.unique(np.concatenate([pts.ravel(), xx.ravel()]), return_inverse=True)
        u = vals.size
        offset = (np.arange(r) * u)[:, None]
        sc = np.sort(codes[: r * m].reshape(r, m) + offset, axis=1).ravel()
        xc = (codes[r * m:].reshape(r, -1) + offset).ravel()
        count = np.searchsorted(sc, xc, side="right") - np.searchsorted(sc, xc, side="left")
        with np.errstate(divide="ignore"):
            out = np.log(count / m)
        return out.reshape(x.shape)

    def sample(self, size, rng):
        """Resample ``size`` stored points with replacement per replicate."""
        size = self._sample_size(size)
        check_rng(rng)
        pts = self.points.reshape(-1, self.size)
        idx = rng.integers(0, self.size, size=(pts.shape[0], size))
        out = np.take_along_axis(pts, idx, axis=1)
        return out.reshape(self.batch_shape + (size,))

    def __repr__(self):
        if self.batch_shape:
            return f"Empirical(batch of {self.batch_shape[0]}, m={self.size})"
        return f"Empirical(m={self.size})"


class EmpiricalFit(Family):
    """Fit the empirical distribution: the model *is* its training data.

    The next generation is a bootstrap resample of the current data, so the
    recursion is pure statistical error with no functional error: every
    point that fails to be redrawn is lost for good, and the number of
    distinct values can only shrink (each value's count follows neutral
    Wright-Fisher drift).

    Notes
    -----
    *The tail.* A tail point survives one generation with probability
    ``1 - (1 - 1/m)**m``, about 63%; rare values therefore vanish within a
    few generations, and no value beyond the current data's range can ever
    appear. Tail mass, mean and variance of the model are exact.

    Introduced in chapter 3, "Why tails go first".

    Examples
    --------
    >>> import numpy as np, collapse_lib as cl
    >>> model = cl.EmpiricalFit().fit(np.array([[1.0, 2.0, 3.0]]))
    >>> model.sample(4, np.random.default_rng(0)).shape
    (1, 4)
    """

    def fit(self, data):
        """Fit to ``data`` of shape ``(m,)`` or ``(R, m)``; return an :class:`Empirical`."""
        data = self._check(data)
        return Empirical._from_params(np.array(data, dtype=float))

    def _fit(self, data):
        return Empirical._from_params(np.array(data, dtype=float))

    def __repr__(self):
        return "EmpiricalFit()"
