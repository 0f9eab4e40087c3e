"""Two- (and three-) dimensional toy worlds: blobs, moons, circles and a swiss roll.

The data sets scikit-learn's ``make_blobs``, ``make_moons``, ``make_circles`` and
``make_swiss_roll`` generate, written as distributions: each point is drawn
independently (a random component or angle per point), and each world has an
exact log density. scikit-learn's generators split the points between the
components in fixed counts and place moons and circles on an evenly spaced grid
of angles; these worlds are the laws those samples approximate. Kazdan et al.
(2024, "Collapse or Thrive?") refit kernel density estimates on them.

Log densities: exact in closed form for :class:`Blobs` (a Gaussian mixture)
and :class:`Circles` (a Bessel function); for :class:`Moons` and
:class:`SwissRoll` the exact integral over the curve's parameter is computed by
composite Gauss-Legendre quadrature with panels a fraction of the noise wide
(relative error below 1e-9, checked in ``tests/test_shapes.py`` against a
quadrature with twice the nodes).

Introduced in Part IV, "Collapse or thrive" (the KDE experiments).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .._validate import check_finite_array, check_positive, check_rng
from ..distributions import Distribution

__all__ = ["Blobs", "Moons", "Circles", "SwissRoll"]

_LOG_2PI = np.log(2.0 * np.pi)
#: quadrature nodes per panel, and panels per noise width of curve length
_NODES, _PANELS_PER_SIGMA = 8, 1.0
#: points scored at once (bounded memory for the quadrature worlds)
_CHUNK_ELEMENTS = 2**20


def _points(x, d):
    x = np.asarray(x, dtype=float)
    if x.shape[-1:] != (d,):
        raise ValueError(f"x must hold points of dimension {d} on its last axis, got shape {x.shape}")
    if np.any(np.isnan(x)):
        raise ValueError("x must not contain NaN")
    return x


def _logsumexp(values, axis=-1):
    top = values.max(axis=axis, keepdims=True)
    finite = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.exp(values - finite).sum(axis=axis)) + np.squeeze(finite, axis)
    return np.where(np.isfinite(np.squeeze(top, axis)), out, np.squeeze(top, axis))


def _gauss_legendre(lo, hi, panels, nodes=_NODES):
    """Nodes and weights of composite Gauss-Legendre on [lo, hi] with ``panels`` equal panels."""
    x, w = np.polynomial.legendre.leggauss(nodes)
    edges = np.linspace(lo, hi, panels + 1)
    half = 0.5 * np.diff(edges)
    mid = 0.5 * (edges[1:] + edges[:-1])
    return (mid[:, None] + half[:, None] * x).ravel(), (half[:, None] * w).ravel()


class _CurveWorld(Distribution):
    """A curve (or several) blurred by isotropic normal noise: density = integral over the parameter."""

    dim = 2

    def _curves(self):  # pragma: no cover - interface
        """List of (weight, nodes (Q, d), quadrature weights (Q,) summing to 1) per curve."""
        raise NotImplementedError

    def _quadrature(self):
        if getattr(self, "_quad", None) is None:
            self._quad = self._curves()
        return self._quad

    def _curve_logpdf(self, x):
        s2 = self.noise**2
        d = x.shape[-1]
        parts = []
        for weight, nodes, qw in self._quadrature():
            logq = np.log(qw) + np.log(weight)
            out = np.empty(x.shape[0])
            step = max(1, _CHUNK_ELEMENTS // len(qw))
            for start in range(0, x.shape[0], step):
                xs = x[start:start + step]
                d2 = (np.sum(xs * xs, axis=1)[:, None] + np.sum(nodes * nodes, axis=1)[None, :]
                      - 2.0 * xs @ nodes.T)
                out[start:start + step] = _logsumexp(logq[None, :] - 0.5 * np.maximum(d2, 0.0) / s2)
            parts.append(out)
        return _logsumexp(np.stack(parts, axis=-1)) - 0.5 * d * (_LOG_2PI + np.log(s2))

    def _moments(self):
        """Mean and covariance of the curve (its own dimension) plus the noise."""
        d = self._quadrature()[0][1].shape[1]
        mean = np.zeros(d)
        second = np.zeros((d, d))
        for weight, nodes, qw in self._quadrature():
            mean += weight * qw @ nodes
            second += weight * (nodes * qw[:, None]).T @ nodes
        return mean, second - np.outer(mean, mean) + self.noise**2 * np.eye(d)

    @property
    def mean(self):
        """Exact mean (quadrature of the curve, to rounding), shape ``(d,)``."""
        return self._moments()[0]

    @property
    def cov(self):
        """Exact covariance (curve plus noise), shape ``(d, d)``."""
        return self._moments()[1]


class Blobs(Distribution):
    """Isotropic Gaussian blobs of equal weight, as ``sklearn.datasets.make_blobs`` draws them.

    Parameters
    ----------
    centers : array_like of shape (K, d), optional
        Centre of each blob. Default: the three 2-D centres that
        ``make_blobs(random_state=0)`` draws uniformly from the box
        ``(-10, 10)^2`` (Kazdan et al. use such random centres).
    std : float > 0
        Standard deviation of each coordinate within a blob (``cluster_std``).

    Notes
    -----
    ``sample(size, rng)`` picks a blob uniformly for every point (scikit-learn
    gives each blob ``size // K`` points, or one more). The log density is
    exact.

    Introduced in Part IV, "Collapse or thrive".

    Examples
    --------
    >>> import numpy as np, collapse_lib as cl
    >>> world = cl.Blobs()
    >>> world.sample(4, np.random.default_rng(0)).shape
    (4, 2)
    """

    def __init__(self, centers=None, std=1.0):
        if centers is None:
            centers = np.random.RandomState(0).uniform(-10.0, 10.0, size=(3, 2))
        self.centers = check_finite_array("centers", centers, ndim=(2,))
        self.std = check_positive("std", std)
        self.batch_shape = ()

    @property
    def dim(self):
        """Dimension of each point."""
        return self.centers.shape[1]

    @property
    def mean(self):
        """Exact mean, shape ``(d,)``."""
        return self.centers.mean(axis=0)

    @property
    def cov(self):
        """Exact covariance, shape ``(d, d)``."""
        c = self.centers - self.mean
        return c.T @ c / len(c) + self.std**2 * np.eye(self.dim)

    def sample(self, size, rng):
        """Draw ``size`` points, shape ``(size, d)``."""
        size = self._sample_size(size)
        check_rng(rng)
        k = rng.integers(0, len(self.centers), size=size)
        return self.centers[k] + self.std * rng.standard_normal((size, self.dim))

    def logpdf(self, x):
        """Exact log density at points ``x`` of shape ``(..., d)``."""
        x = _points(x, self.dim)
        d2 = np.sum((x[..., None, :] - self.centers) ** 2, axis=-1)
        s2 = self.std**2
        return (_logsumexp(-0.5 * d2 / s2) - np.log(len(self.centers))
                - 0.5 * self.dim * (_LOG_2PI + np.log(s2)))

    def __repr__(self):
        return f"Blobs(K={len(self.centers)}, d={self.dim}, std={self.std:g})"


class Circles(Distribution):
    """Two concentric noisy circles, as ``sklearn.datasets.make_circles`` draws them.

    Parameters
    ----------
    noise : float > 0
        Standard deviation of the normal noise on each coordinate.
    factor : float in (0, 1)
        Radius of the inner circle (the outer one has radius 1).

    Notes
    -----
    Each point is on the outer or inner circle with probability 1/2, at a
    uniform angle, plus noise. The log density is exact:
    ``(1 / (2 pi s^2)) exp(-(|x|^2 + r^2) / (2 s^2)) I0(|x| r / s^2)`` per
    circle (``I0`` the modified Bessel function).

    Introduced in Part IV, "Collapse or thrive".
    """

    dim = 2

    def __init__(self, noise=0.05, factor=0.8):
        self.noise = check_positive("noise", noise)
        factor = check_positive("factor", factor)
        if factor >= 1.0:
            raise ValueError(f"factor must be in (0, 1) (inner radius / outer radius), got {factor}")
        self.factor = factor
        self.batch_shape = ()

    @property
    def mean(self):
        """Exact mean (the origin)."""
        return np.zeros(2)

    @property
    def cov(self):
        """Exact covariance, ``((1 + factor^2) / 4 + noise^2) I``."""
        return ((1.0 + self.factor**2) / 4.0 + self.noise**2) * np.eye(2)

    def sample(self, size, rng):
        """Draw ``size`` points, shape ``(size, 2)``."""
        size = self._sample_size(size)
        check_rng(rng)
        radius = np.where(rng.random(size) < 0.5, 1.0, self.factor)
        angle = 2.0 * np.pi * rng.random(size)
        ring = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
        return ring + self.noise * rng.standard_normal((size, 2))

    def logpdf(self, x):
        """Exact log density at points ``x`` of shape ``(..., 2)``."""
        x = _points(x, 2)
        rho = np.sqrt(np.sum(x * x, axis=-1))
        s2 = self.noise**2
        parts = []
        for r in (1.0, self.factor):
            z = rho * r / s2
            parts.append(np.log(0.5) - np.log(2.0 * np.pi * s2) - 0.5 * (rho - r) ** 2 / s2 + np.log(special.i0e(z)))
        return np.logaddexp(*parts)

    def __repr__(self):
        return f"Circles(noise={self.noise:g}, factor={self.factor:g})"


class Moons(_CurveWorld):
    """Two interleaving noisy half-circles, as ``sklearn.datasets.make_moons`` draws them.

    Parameters
    ----------
    noise : float > 0
        Standard deviation of the normal noise on each coordinate.

    Notes
    -----
    Each point is on the upper moon ``(cos a, sin a)`` or the lower one
    ``(1 - cos a, 1/2 - sin a)`` with probability 1/2, at ``a`` uniform on
    ``[0, pi]``, plus noise. The log density is the integral over ``a``,
    computed by quadrature (module notes).

    Introduced in Part IV, "Collapse or thrive".
    """

    def __init__(self, noise=0.05):
        self.noise = check_positive("noise", noise)
        self.batch_shape = ()
        self._quad = None

    def _curves(self):
        panels = max(8, int(np.ceil(_PANELS_PER_SIGMA * np.pi / self.noise)))
        a, w = _gauss_legendre(0.0, np.pi, panels)
        w = w / np.pi
        upper = np.stack([np.cos(a), np.sin(a)], axis=1)
        lower = np.stack([1.0 - np.cos(a), 0.5 - np.sin(a)], axis=1)
        return [(0.5, upper, w), (0.5, lower, w)]

    def sample(self, size, rng):
        """Draw ``size`` points, shape ``(size, 2)``."""
        size = self._sample_size(size)
        check_rng(rng)
        upper = rng.random(size) < 0.5
        a = np.pi * rng.random(size)
        x = np.where(upper, np.cos(a), 1.0 - np.cos(a))
        y = np.where(upper, np.sin(a), 0.5 - np.sin(a))
        return np.stack([x, y], axis=1) + self.noise * rng.standard_normal((size, 2))

    def logpdf(self, x):
        """Log density at points ``x`` of shape ``(..., 2)`` (quadrature of the exact integral)."""
        x = _points(x, 2)
        return self._curve_logpdf(x.reshape(-1, 2)).reshape(x.shape[:-1])

    def __repr__(self):
        return f"Moons(noise={self.noise:g})"


class SwissRoll(_CurveWorld):
    """A noisy swiss roll, as ``sklearn.datasets.make_swiss_roll`` draws it (3-D), or its 2-D spiral.

    Parameters
    ----------
    noise : float > 0
        Standard deviation of the normal noise on each coordinate.
    dims : {3, 2}
        3: scikit-learn's points ``(t cos t, 21 v, t sin t)`` with
        ``t = 3 pi / 2 (1 + 2 u)``, ``u, v`` uniform on [0, 1]. 2: the spiral
        ``(t cos t, t sin t)`` alone.

    Notes
    -----
    The log density of the spiral is the integral over ``u``, computed by
    quadrature (module notes); the height ``21 v`` plus noise is independent
    of it and has the exact density ``(Phi(y / s) - Phi((y - 21) / s)) / 21``.

    Introduced in Part IV, "Collapse or thrive".
    """

    def __init__(self, noise=0.05, dims=3):
        self.noise = check_positive("noise", noise)
        if dims not in (2, 3) or isinstance(dims, bool):
            raise ValueError(f"dims must be 2 or 3, got {dims!r}")
        self.dims = int(dims)
        self.batch_shape = ()
        self._quad = None

    @property
    def dim(self):
        """Dimension of each point (``dims``)."""
        return self.dims

    def _curves(self):
        lo, hi = 1.5 * np.pi, 4.5 * np.pi
        length = 0.5 * (hi * np.hypot(1, hi) + np.arcsinh(hi) - lo * np.hypot(1, lo) - np.arcsinh(lo))
        panels = max(16, int(np.ceil(_PANELS_PER_SIGMA * length / self.noise)))
        u, w = _gauss_legendre(0.0, 1.0, panels)
        t = 1.5 * np.pi * (1.0 + 2.0 * u)
        return [(1.0, np.stack([t * np.cos(t), t * np.sin(t)], axis=1), w)]

    def sample(self, size, rng):
        """Draw ``size`` points, shape ``(size, dims)``."""
        size = self._sample_size(size)
        check_rng(rng)
        t = 1.5 * np.pi * (1.0 + 2.0 * rng.random(size))
        height = 21.0 * rng.random(size)
        cols = [t * np.cos(t), height, t * np.sin(t)] if self.dims == 3 else [t * np.cos(t), t * np.sin(t)]
        return np.stack(cols, axis=1) + self.noise * rng.standard_normal((size, self.dims))

    def logpdf(self, x):
        """Log density at points ``x`` of shape ``(..., dims)``."""
        x = _points(x, self.dims)
        flat = x.reshape(-1, self.dims)
        spiral = flat[:, [0, 2]] if self.dims == 3 else flat
        out = self._curve_logpdf(spiral)
        if self.dims == 3:
            s = self.noise
            y = flat[:, 1]
            # log((Phi(y/s) - Phi((y-21)/s)) / 21), stable in both tails
            a, b = special.log_ndtr(y / s), special.log_ndtr((y - 21.0) / s)
            with np.errstate(divide="ignore"):
                out = out + a + np.log1p(-np.exp(np.minimum(b - a, 0.0))) - np.log(21.0)
        return out.reshape(x.shape[:-1])

    def _moments(self):
        mean2, cov2 = super()._moments()
        if self.dims == 2:
            return mean2, cov2
        mean = np.array([mean2[0], 10.5, mean2[1]])
        cov = np.zeros((3, 3))
        cov[np.ix_([0, 2], [0, 2])] = cov2
        cov[1, 1] = 21.0**2 / 12.0 + self.noise**2
        return mean, cov

    def __repr__(self):
        return f"SwissRoll(noise={self.noise:g}, dims={self.dims})"
