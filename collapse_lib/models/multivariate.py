"""Multivariate normal worlds and models, fitted by mean and covariance, batched over replicates.

Points are ``d``-dimensional: a batch of ``R`` samples of ``m`` points is an
array of shape ``(R, m, d)``. :class:`MultivariateNormal` is a world and the
fitted model of :class:`MultivariateNormalFit`; :class:`MultivariateNormalMixture`
is the fitted model of :class:`collapse_lib.GaussianMixtureFit` on
``d``-dimensional data. Refitting a multivariate normal on its own samples has
exact sufficient statistics (a normal sample mean and an independent Wishart
scatter matrix), which :mod:`collapse_lib.exact` simulates without drawing
points.

Introduced in Part IV, "Multivariate Gaussians (det and trace)"; the closed
forms are checked in ``tests/test_multivariate.py``.
"""

from __future__ import annotations

import numpy as np

from .._validate import check_finite_array, check_int, check_probabilities, check_rng
from ..distributions import Distribution, _cdf_rows, categorical_indices
from ..exact import GaussianStats
from ..families import Family

__all__ = ["MultivariateNormal", "MultivariateNormalFit", "MultivariateNormalMixture", "psd_factor"]

_LOG_2PI = np.log(2.0 * np.pi)
#: an eigenvalue below this times d times the largest counts as 0 (64 float64 epsilons)
_SINGULAR_RTOL = 64 * np.finfo(float).eps


def psd_factor(cov):
    """A factor ``F`` with ``F @ F^T == cov`` for symmetric positive semi-definite matrices.

    Parameters
    ----------
    cov : ndarray of shape (..., d, d)

    Returns
    -------
    ndarray of shape (..., d, d)
        The lower Cholesky factor when every matrix of the batch is positive
        definite; otherwise ``V diag(sqrt(max(lambda, 0)))`` from the
        eigendecomposition (a singular covariance, e.g. fitted on fewer than
        ``d + 1`` points or collapsed, still gets a factor).

    Used by :class:`MultivariateNormal` (Part IV, "Multivariate Gaussians").
    """
    cov = check_finite_array("cov", cov, min_size=1)
    if cov.ndim < 2 or cov.shape[-1] != cov.shape[-2]:
        raise ValueError(f"cov must be square matrices of shape (..., d, d), got shape {cov.shape}")
    return _factorize(cov)[0]


def _factorize(cov):
    """``(factor, lower)``: Cholesky if the whole batch is positive definite, else eigh."""
    try:
        return np.linalg.cholesky(cov), True
    except np.linalg.LinAlgError:
        lam, vec = np.linalg.eigh(0.5 * (cov + np.swapaxes(cov, -1, -2)))
        return vec * np.sqrt(np.maximum(lam, 0.0))[..., None, :], False


class MultivariateNormal(Distribution):
    """Multivariate normal ``N(mean, cov)`` in ``d`` dimensions, or a batch of them.

    Parameters
    ----------
    mean : array_like, shape (d,) or (R, d)
        Mean vector(s).
    cov : array_like, shape (d, d) or (R, d, d)
        Covariance matrices, symmetric and positive definite. (Fitted models
        may be singular, a legal collapsed state; only the public constructor
        insists on positive definite.)

    Notes
    -----
    ``sample(size, rng)`` returns shape ``(size, d)``, or ``(R, size, d)`` for
    a batch. The model keeps a factor ``F`` of its covariance (``F F^T = cov``;
    lower triangular, or lower trapezoidal for a singular fit from
    :mod:`collapse_lib.exact`), from which it samples and gets its
    determinant and trace without forming or decomposing ``cov`` again.

    Introduced in Part IV, "Multivariate Gaussians (det and trace)".

    Examples
    --------
    >>> import numpy as np, collapse_lib as cl
    >>> mv = cl.MultivariateNormal(np.zeros(3), np.eye(3))
    >>> mv.sample(5, np.random.default_rng(0)).shape
    (5, 3)
    >>> float(mv.logdet), float(mv.trace)
    (0.0, 3.0)
    """

    def __init__(self, mean, cov):
        mean = check_finite_array("mean", mean, ndim=(1, 2))
        cov = check_finite_array("cov", cov, ndim=(2, 3))
        d = mean.shape[-1]
        if cov.shape[-2:] != (d, d) or cov.ndim != mean.ndim + 1 or cov.shape[:-2] != mean.shape[:-1]:
            raise ValueError(f"cov must have shape mean.shape + (d,) = {mean.shape + (d,)} "
                             f"(one d x d matrix per mean), got {cov.shape}")
        scale = max(float(np.max(np.abs(cov))), 1e-300)
        if not np.allclose(cov, np.swapaxes(cov, -1, -2), rtol=0.0, atol=1e-10 * scale):
            raise ValueError("cov must be symmetric")
        try:
            chol = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            raise ValueError("cov must be positive definite (every eigenvalue > 0)") from None
        self._set(mean, cov, chol, True)

    @classmethod
    def _from_parts(cls, mean, cov=None, factor=None, lower=False):
        """Build without validation (internal: fitted models; ``cov`` may be singular).

        ``lower`` says that ``factor`` is lower triangular (or lower
        trapezoidal: fewer columns than rows), as the exact path's factors are.
        """
        obj = cls.__new__(cls)
        obj._set(np.asarray(mean, float), None if cov is None else np.asarray(cov, float),
                 None if factor is None else np.asarray(factor, float), bool(lower and factor is not None))
        return obj

    def _set(self, mean, cov, factor, lower):
        if cov is None and factor is None:
            raise ValueError("a multivariate normal needs cov or a factor of it")
        self._mean = mean
        self._cov = cov
        self._factor = factor
        self._lower = lower
        self.batch_shape = mean.shape[:-1]

    def _take(self, i):
        """Replicate(s) ``i`` of a batch (an int gives an unbatched distribution)."""
        return MultivariateNormal._from_parts(
            self._mean[i], None if self._cov is None else self._cov[i],
            None if self._factor is None else self._factor[i], self._lower)

    def _merge_rows(self, other, rows):
        """A copy whose replicates ``rows`` come from the batch ``other`` (used by ``simulate(stop=...)``)."""
        mean = self._mean.copy()
        mean[rows] = other.mean
        cov = self.cov.copy()
        cov[rows] = other.cov
        return MultivariateNormal._from_parts(mean, cov=cov)

    @property
    def dim(self):
        """Dimension ``d`` of each point."""
        return self._mean.shape[-1]

    @property
    def mean(self):
        """Exact mean vector(s), shape ``batch_shape + (d,)``."""
        return self._mean

    @property
    def cov(self):
        """Exact covariance matrices, shape ``batch_shape + (d, d)``."""
        if self._cov is None:
            f = self._factor
            self._cov = f @ np.swapaxes(f, -1, -2)
        return self._cov

    @property
    def factor(self):
        """A factor ``F`` of the covariance (``F @ F^T == cov``), shape ``batch_shape + (d, r)``."""
        if self._factor is None:
            self._factor, self._lower = _factorize(self._cov)
        return self._factor

    @property
    def var(self):
        """Exact variance of each coordinate (the diagonal of ``cov``), shape ``batch_shape + (d,)``."""
        if self._factor is not None:
            return np.sum(self._factor**2, axis=-1)
        return np.diagonal(self._cov, axis1=-2, axis2=-1).copy()

    @property
    def std(self):
        """Exact standard deviation of each coordinate."""
        return np.sqrt(self.var)

    @property
    def trace(self):
        """Trace of the covariance (total variance), shape ``batch_shape``."""
        return self._scalar(np.sum(self.var, axis=-1))

    @property
    def logdet(self):
        """Log-determinant of the covariance (``-inf`` for a singular one), shape ``batch_shape``.

        From the factor when it is triangular (exact: ``-inf`` for a factor
        with fewer columns than rows). From the eigenvalues otherwise, where
        an eigenvalue below ``64 eps d`` times the largest (``eps`` the float
        precision) counts as 0: covariances fitted on ``d`` or fewer points,
        or on points of a singular model, are singular up to rounding.
        """
        f = self._factor
        if f is not None and self._lower:
            d, r = f.shape[-2:]
            if r < d:
                return self._scalar(np.full(self.batch_shape, -np.inf))
            diag = np.abs(np.diagonal(f, axis1=-2, axis2=-1))
            with np.errstate(divide="ignore"):
                return self._scalar(2.0 * np.sum(np.log(diag), axis=-1))
        lam = np.linalg.eigvalsh(self.cov)
        # eigenvalues that rounding cannot tell from 0 (a singular fit: fewer than d + 1 points,
        # or points drawn from a singular model) make the determinant 0
        singular = lam[..., 0] <= _SINGULAR_RTOL * self.dim * np.maximum(lam[..., -1], 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            logdet = np.sum(np.log(np.maximum(lam, 0.0)), axis=-1)
        return self._scalar(np.where(singular, -np.inf, logdet))

    @property
    def det(self):
        """Determinant of the covariance (generalised variance), shape ``batch_shape``."""
        return self._scalar(np.exp(self.logdet))

    def sample(self, size, rng):
        """Draw ``size`` points: shape ``(size, d)``, or ``(R, size, d)`` for a batch."""
        size = self._sample_size(size, per_point=2 * self.dim)
        check_rng(rng)
        f = self.factor
        z = rng.standard_normal(self.batch_shape + (size, f.shape[-1]))
        return self._mean[..., None, :] + z @ np.swapaxes(f, -1, -2)

    def logpdf(self, x):
        """Log density at points ``x`` of shape ``(..., d)``.

        For a batch, pass ``x`` of shape ``(R, k, d)`` (one row of points per
        replicate) and get ``(R, k)``; unbatched, ``(k, d)`` gives ``(k,)``.
        A singular (collapsed) covariance gives ``+inf`` on its support and
        ``-inf`` off it.
        """
        x = np.asarray(x, dtype=float)
        if x.shape[-1:] != (self.dim,):
            raise ValueError(f"x must have points of dimension d={self.dim} on its last axis, got shape {x.shape}")
        if np.any(np.isnan(x)):
            raise ValueError("x must not contain NaN")
        return _mvn_logpdf(x, self._mean, self.cov, self.batch_shape)

    def __repr__(self):
        if self.batch_shape:
            return f"MultivariateNormal(batch of {self.batch_shape[0]}, d={self.dim})"
        return f"MultivariateNormal(d={self.dim})"


def _mvn_logpdf(x, mean, cov, batch_shape):
    """log N(x; mean, cov), x of shape batch + (k, d) (or (k, d) / (d,) unbatched)."""
    d = mean.shape[-1]
    squeeze = False
    if not batch_shape:
        if x.ndim == 1:
            x, squeeze = x[None, :], True
        diff = x - mean
        out = _logpdf_rows(diff[None], cov[None])[0]
        return out[0] if squeeze else out
    diff = x - mean[:, None, :]
    return _logpdf_rows(diff, cov)


def _logpdf_rows(diff, cov):
    """Log densities of centred points ``diff`` (R, k, d) under covariances (R, d, d)."""
    r, k, d = diff.shape
    out = np.empty((r, k))
    try:
        chol = np.linalg.cholesky(cov)
        ok = np.ones(r, dtype=bool)
    except np.linalg.LinAlgError:
        ok = np.array([_is_pd(c) for c in cov])
        chol = np.zeros_like(cov)
        if ok.any():
            chol[ok] = np.linalg.cholesky(cov[ok])
    if ok.any():
        inv = np.linalg.inv(chol[ok])
        y = diff[ok] @ np.swapaxes(inv, -1, -2)
        logdet = 2.0 * np.sum(np.log(np.diagonal(chol[ok], axis1=-2, axis2=-1)), axis=-1)
        out[ok] = -0.5 * (np.sum(y * y, axis=-1) + d * _LOG_2PI + logdet[:, None])
    for i in np.flatnonzero(~ok):  # singular: a density concentrated on a subspace
        lam, vec = np.linalg.eigh(cov[i])
        null = vec[:, lam <= 1e-12 * max(lam.max(), 0.0) + 1e-300]
        off = np.sum((diff[i] @ null) ** 2, axis=-1)
        scale = 1e-9 * (1.0 + np.sum(diff[i] ** 2, axis=-1))
        out[i] = np.where(off <= scale, np.inf, -np.inf)
    return out


def _is_pd(c):
    try:
        np.linalg.cholesky(c)
        return True
    except np.linalg.LinAlgError:
        return False


def _check_points(name, data, min_points):
    """Validate d-dimensional data ``(m, d)`` or ``(R, m, d)``."""
    arr = check_finite_array(name, data, ndim=(2, 3), min_size=1)
    if arr.shape[-2] < min_points:
        raise ValueError(f"{name} must contain at least {min_points} point(s) per sample "
                         f"(shape (m, d) or (R, m, d)), got shape {arr.shape}")
    return arr


class MultivariateNormalFit(Family):
    """Fit a multivariate normal by the sample mean and covariance.

    Parameters
    ----------
    ddof : {0, 1}
        0 gives the maximum-likelihood covariance (divide the scatter matrix
        by ``m``; ``np.cov(..., bias=True)``, as in Kazdan et al.'s released
        code), 1 the unbiased one (divide by ``m - 1``).

    Notes
    -----
    Data have shape ``(m, d)`` (one sample; an unbatched model) or
    ``(R, m, d)`` (a batch). Fitted on fewer than ``d + 1`` points the
    covariance is singular (determinant 0), a legal state.

    *Exact law.* ``m`` points of ``N(mu, Sigma)`` have a sample mean
    ``~ N(mu, Sigma / m)`` and, independently, a scatter matrix
    ``~ Wishart(m - 1, Sigma)``. Refitting on its own samples therefore gives
    ``E[Sigma_t] = ((m - 1) / (m - ddof))^t Sigma_0`` and, through the
    Bartlett decomposition, ``E[det Sigma_t] = det Sigma_0 * (prod_{i<d} (m - 1 - i)
    / (m - ddof)^d)^t``; :func:`collapse_lib.simulate` draws these statistics
    directly (``method="exact"``) for a :class:`MultivariateNormal` world.

    Introduced in Part IV, "Multivariate Gaussians (det and trace)".

    Examples
    --------
    >>> import numpy as np, collapse_lib as cl
    >>> mv = cl.MultivariateNormal(np.zeros(10), np.eye(10))
    >>> run = cl.simulate(mv, cl.MultivariateNormalFit(ddof=0), n=100, generations=99,
    ...                   scheme=cl.Replace(), replicates=40, seed=2)
    >>> run.models[99].cov.shape, run.method
    ((40, 10, 10), 'exact')
    """

    def __init__(self, ddof=0):
        self.ddof = check_int("ddof", ddof, minimum=0, maximum=1)
        self.min_samples = self.ddof + 1

    def fit(self, data):
        """Fit to ``data`` of shape ``(m, d)`` or ``(R, m, d)``; return a :class:`MultivariateNormal`."""
        data = _check_points("data", data, self.min_samples)
        model = self._fit(data[None] if data.ndim == 2 else data)
        return model._take(0) if data.ndim == 2 else model

    def _fit(self, data):
        if data.ndim != 3:
            raise ValueError(f"data must have shape (R, m, d) (d-dimensional points), got shape {data.shape}")
        m = data.shape[1]
        mean = data.mean(axis=1)
        xc = data - mean[:, None, :]
        cov = (np.swapaxes(xc, -1, -2) @ xc) / (m - self.ddof)
        return MultivariateNormal._from_parts(mean, cov=cov)

    # -- exact sufficient statistics (collapse_lib.exact) --------------------------------
    def exact_unsupported_reason(self, world):
        """Why the exact path cannot serve ``world``, or None (it needs a :class:`MultivariateNormal`)."""
        if type(world) is not MultivariateNormal:
            return f"MultivariateNormalFit's exact path needs a MultivariateNormal world, got {type(world).__name__}"
        return None

    def exact_algebra(self, world, replicates, rng):
        """The sufficient-statistics algebra :mod:`collapse_lib.exact` runs for this family."""
        factor = world.factor
        return GaussianStats(world.mean, factor, self.ddof, replicates, rng,
                             make_model=MultivariateNormal._from_parts, world_lower=world._lower)

    def __repr__(self):
        return f"MultivariateNormalFit(ddof={self.ddof})"


class MultivariateNormalMixture(Distribution):
    """Mixture of ``K`` multivariate normal components, or a batch of mixtures.

    Parameters
    ----------
    weights : array_like, shape (K,) or (R, K)
        Component weights, non-negative, summing to 1.
    means : array_like, shape (K, d) or (R, K, d)
    covs : array_like, shape (K, d, d) or (R, K, d, d)
        Component covariances, symmetric positive definite. (Fitted models
        may hold singular ones, e.g. a point mass; only the public
        constructor checks.)

    Notes
    -----
    The fitted model of :class:`collapse_lib.GaussianMixtureFit` on
    ``d``-dimensional data. Mean and covariance are exact; ``logpdf`` sums
    the components stably (log-sum-exp).

    Introduced in Part IV, "Multivariate Gaussians (det and trace)"; the
    fitted model of chapter 3's mixture family in ``d`` dimensions, and
    chapter 6's model of handwritten digits.
    """

    def __init__(self, weights, means, covs):
        weights = check_probabilities("weights", weights)
        means = check_finite_array("means", means, ndim=(2, 3))
        covs = check_finite_array("covs", covs, ndim=(3, 4))
        k = weights.shape[-1]
        if means.shape[:-1] != weights.shape:
            raise ValueError(f"means must have shape weights.shape + (d,), got {means.shape} for weights {weights.shape}")
        d = means.shape[-1]
        if covs.shape != means.shape + (d,):
            raise ValueError(f"covs must have shape {means.shape + (d,)} (K = {k} components of d x d), got {covs.shape}")
        try:
            np.linalg.cholesky(covs)
        except np.linalg.LinAlgError:
            raise ValueError("covs must be positive definite for every component") from None
        self._set(weights, means, covs)

    @classmethod
    def _from_params(cls, weights, means, covs):
        obj = cls.__new__(cls)
        obj._set(np.asarray(weights, float), np.asarray(means, float), np.asarray(covs, float))
        return obj

    def _set(self, weights, means, covs):
        self.weights, self.means, self.covs = weights, means, covs
        self.batch_shape = weights.shape[:-1]
        self._factors = None

    def _take(self, i):
        """Replicate(s) ``i`` of a batch (an int gives an unbatched mixture)."""
        return MultivariateNormalMixture._from_params(self.weights[i], self.means[i], self.covs[i])

    @property
    def n_components(self):
        """Number of components K."""
        return self.weights.shape[-1]

    @property
    def dim(self):
        """Dimension ``d`` of each point."""
        return self.means.shape[-1]

    @property
    def mean(self):
        """Exact mean, shape ``batch_shape + (d,)``."""
        return np.einsum("...k,...kd->...d", self.weights, self.means)

    @property
    def cov(self):
        """Exact covariance (law of total covariance), shape ``batch_shape + (d, d)``."""
        mu = self.mean
        second = np.einsum("...k,...kij->...ij", self.weights,
                           self.covs + self.means[..., :, None] * self.means[..., None, :])
        return second - mu[..., :, None] * mu[..., None, :]

    @property
    def trace(self):
        """Trace of the covariance (total variance), shape ``batch_shape``."""
        return self._scalar(np.trace(self.cov, axis1=-2, axis2=-1))

    @property
    def within_variance(self):
        """Weighted mean trace of the component covariances, ``sum_j w_j tr(C_j)``, shape ``batch_shape``.

        The spread of the mixture *within* its components (for a tied
        covariance, the trace of the shared matrix): the part of the total
        variance (``trace``) that a refit shrinks, as in chapter 4; the
        rest is the spread of the component means. Used in chapter 6,
        "Collapse you can see".
        """
        return self._scalar(np.einsum("...k,...kii->...", self.weights, self.covs))

    @property
    def logdet(self):
        """Log-determinant of the mixture's covariance (``-inf`` if singular)."""
        sign, logdet = np.linalg.slogdet(self.cov)
        return self._scalar(np.where(sign > 0, logdet, -np.inf))

    def sample(self, size, rng):
        """Draw ``size`` points: ``(size, d)``, or ``(R, size, d)`` for a batch."""
        k, d = self.n_components, self.dim
        size = self._sample_size(size, per_point=2 * d + 2)
        check_rng(rng)
        w = self.weights.reshape(-1, k)
        comp = categorical_indices(_cdf_rows(w), size, rng)              # (B, size)
        if self._factors is None:
            self._factors = _factorize(np.asarray(self.covs, dtype=float))[0].reshape((-1, k, d, d))
        z = rng.standard_normal(comp.shape + (d,))
        means = self.means.reshape(-1, k, d)
        out = np.empty_like(z)
        for j in range(k):  # loop over components, not replicates
            out_j = means[:, None, j, :] + z @ np.swapaxes(self._factors[:, j], -1, -2)
            hit = comp == j
            out[hit] = out_j[hit]
        return out.reshape(self.batch_shape + (size, d))

    def logpdf(self, x):
        """Log density; for a batch pass ``x`` of shape ``(R, k, d)`` (gives ``(R, k)``)."""
        x = np.asarray(x, dtype=float)
        if x.shape[-1:] != (self.dim,):
            raise ValueError(f"x must have points of dimension d={self.dim} on its last axis, got shape {x.shape}")
        if np.any(np.isnan(x)):
            raise ValueError("x must not contain NaN")
        unbatched = not self.batch_shape
        single = x.ndim == 1
        xb = x.reshape((1, -1, self.dim)) if unbatched else x
        w = self.weights.reshape(-1, self.n_components)
        means = self.means.reshape(w.shape + (self.dim,))
        covs = self.covs.reshape(w.shape + (self.dim, self.dim))
        with np.errstate(divide="ignore"):
            logw = np.log(w)
        parts = np.stack([logw[:, j, None] + _logpdf_rows(xb - means[:, None, j, :], covs[:, j])
                          for j in range(self.n_components)], axis=-1)
        top = parts.max(axis=-1, keepdims=True)
        finite = np.where(np.isfinite(top), top, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.log(np.exp(parts - finite).sum(axis=-1)) + finite[..., 0]
        out = np.where(np.isfinite(top[..., 0]), out, top[..., 0])
        if unbatched:
            out = out[0]
            return out[0] if single else out
        return out

    def __repr__(self):
        if self.batch_shape:
            return f"MultivariateNormalMixture(batch of {self.batch_shape[0]}, K={self.n_components}, d={self.dim})"
        return f"MultivariateNormalMixture(K={self.n_components}, d={self.dim})"
