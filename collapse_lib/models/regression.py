"""Linear regression worlds and least-squares families, batched over replicates.

The setting of the regression results on model collapse (Dohmatob, Feng and Kempe
2024; Gerstgrasser et al. 2024): inputs ``x ~ N(0, cov)`` in ``d`` dimensions,
labels ``y = x . coef + noise * Z``. A *world* is one such linear model; a fitted
model is a batch of them (one coefficient vector per replicate) that labels new
inputs the same way, so it can produce the next generation's training labels.

- :class:`LinearModel`: the labeller (a world, or a batch of fitted models), with the
  exact excess test error of any coefficient vector;
- :class:`OLSFit`: ordinary least squares;
- :class:`RidgeFit`: ridge regression with the penalty ``lam * ||w||^2`` added to the
  mean squared error (so the solution is ``(X'X + T lam I)^-1 X'y``).

Both families fit from the sufficient statistics ``X'X`` and ``X'y`` (and the number of
rows), so a training set that grows (the accumulate scheme) never has to be stored.
Data are batched: a design has shape ``(R, T, d)`` and its labels ``(R, T)``.

Introduced in chapter 14, "Regression collapse, in its own setting".
"""

from __future__ import annotations

import numbers

import numpy as np

from .._validate import check_budget, check_finite_array, check_int, check_positive, check_real, check_rng
from ..distributions import Distribution

__all__ = ["LinearModel", "LinearRegressionWorld", "OLSFit", "RidgeFit"]


def _coef(coef):
    arr = check_finite_array("coef", coef, ndim=(1, 2))
    return arr


def _cov(cov, d):
    if cov is None:
        return None
    arr = check_finite_array("cov", cov, ndim=(2,))
    if arr.shape != (d, d):
        raise ValueError(f"cov must have shape (d, d) = ({d}, {d}) to match coef, got {arr.shape}")
    if not np.allclose(arr, arr.T, rtol=0, atol=1e-12):
        raise ValueError("cov must be symmetric")
    eig = np.linalg.eigvalsh(arr)
    if eig[0] <= 0:
        raise ValueError(f"cov must be positive definite (smallest eigenvalue > 0), got {eig[0]:.3g}")
    return arr


class LinearModel(Distribution):
    """A linear labeller ``y = x . coef + noise * Z`` with Gaussian inputs ``x ~ N(0, cov)``.

    Parameters
    ----------
    coef : array_like of shape (d,) or (R, d)
        Coefficients; a 2-D array is a batch of ``R`` models (one per replicate).
    noise : float >= 0
        Standard deviation of the label noise (0: exact labels).
    cov : array_like of shape (d, d), optional
        Covariance of the inputs (positive definite); the identity by default.

    Notes
    -----
    :meth:`test_error` is the excess risk of a coefficient vector ``w`` on this
    model's input law, ``(w - coef)' cov (w - coef)``, exactly: the test mean
    squared error minus the irreducible ``noise**2``.

    Introduced in chapter 14, "Regression collapse, in its own setting".

    Examples
    --------
    >>> import numpy as np, collapse_lib as cl
    >>> world = cl.LinearRegressionWorld(np.ones(3), noise=0.5)
    >>> X, y = world.sample(100, np.random.default_rng(0))
    >>> X.shape, y.shape
    ((100, 3), (100,))
    """

    def __init__(self, coef, noise=1.0, cov=None):
        coef = _coef(coef)
        noise = check_real("noise", noise)
        if noise < 0:
            raise ValueError(f"noise must be >= 0 (a standard deviation), got {noise}")
        self.coef = coef
        self.noise = noise
        self.cov = _cov(cov, coef.shape[-1])
        self._factor = None if self.cov is None else np.linalg.cholesky(self.cov)

    @classmethod
    def _from_params(cls, coef, noise, cov):
        obj = cls.__new__(cls)
        obj.coef, obj.noise, obj.cov = coef, float(noise), cov
        obj._factor = None if cov is None else np.linalg.cholesky(cov)
        return obj

    @property
    def d(self):
        """Number of input dimensions."""
        return int(self.coef.shape[-1])

    @property
    def batch_shape(self):
        return self.coef.shape[:-1]

    def _take(self, i):
        return type(self)._from_params(self.coef[i], self.noise, self.cov)

    def design(self, size, rng, replicates=None):
        """Draw ``size`` inputs ``x ~ N(0, cov)``.

        Returns shape ``(size, d)`` for an unbatched model called without
        ``replicates``, otherwise ``(R, size, d)``.
        """
        size = check_int("size", size, minimum=1)
        rng = check_rng(rng)
        if replicates is None:
            replicates = self.batch_shape[0] if self.batch_shape else None
        else:
            replicates = check_int("replicates", replicates, minimum=1)
        shape = (size, self.d) if replicates is None else (replicates, size, self.d)
        check_budget("size (times replicates and d)", (replicates or 1) * size * self.d)
        z = rng.standard_normal(shape)
        return z if self._factor is None else z @ self._factor.T

    def label(self, X, rng, noise=None):
        """Labels of the inputs ``X``: ``X . coef + noise * Z``.

        ``X`` has shape ``(T, d)`` or ``(R, T, d)``; a batched model needs the latter
        with ``R`` equal to its number of replicates. ``noise`` overrides the model's
        own label noise for this call (e.g. 0 for the noiseless regression function).
        """
        rng = check_rng(rng)
        if noise is None:
            noise = self.noise
        else:
            noise = check_real("noise", noise)
            if noise < 0:
                raise ValueError(f"noise must be >= 0 (a standard deviation), got {noise}")
        X = check_finite_array("X", X, ndim=(2, 3))
        if X.shape[-1] != self.d:
            raise ValueError(f"X must have d = {self.d} columns, got shape {X.shape}")
        if self.coef.ndim == 2:
            if X.ndim != 3 or X.shape[0] != self.coef.shape[0]:
                raise ValueError(f"a batch of {self.coef.shape[0]} models needs X of shape (R, T, d) with R = "
                                 f"{self.coef.shape[0]}, got {X.shape}")
            mean = np.einsum("rtd,rd->rt", X, self.coef)
        else:
            mean = X @ self.coef
        if noise == 0:
            return mean
        return mean + noise * rng.standard_normal(mean.shape)

    def sample(self, size, rng):
        """Draw ``size`` labelled examples: a pair ``(X, y)`` (batched models: ``(R, size, d)`` and ``(R, size)``)."""
        X = self.design(size, rng)
        return X, self.label(X, rng)

    def test_error(self, coef):
        """Excess test error ``(w - coef)' cov (w - coef)`` of coefficients ``w`` (shape ``(d,)`` or ``(R, d)``)."""
        w = _coef(getattr(coef, "coef", coef))
        if w.shape[-1] != self.d:
            raise ValueError(f"coef must have d = {self.d} entries, got shape {w.shape}")
        diff = w - self.coef
        if self.cov is None:
            out = np.sum(diff * diff, axis=-1)
        else:
            out = np.einsum("...i,ij,...j->...", diff, self.cov, diff)
        return float(out) if np.ndim(out) == 0 else out

    def __repr__(self):
        shape = "" if self.coef.ndim == 1 else f", batch of {self.coef.shape[0]}"
        return f"{type(self).__name__}(d={self.d}, noise={self.noise:g}{shape})"


class LinearRegressionWorld(LinearModel):
    """The real world of the regression chapters: one linear model (unbatched coefficients).

    Parameters
    ----------
    coef : array_like of shape (d,)
        The true coefficients ``w0``.
    noise : float >= 0
        Label noise standard deviation ``sigma``.
    cov : array_like of shape (d, d), optional
        Input covariance (identity by default).

    Introduced in chapter 14, "Regression collapse, in its own setting".
    """

    def __init__(self, coef, noise=1.0, cov=None):
        coef = check_finite_array("coef", coef, ndim=(1,))
        super().__init__(coef, noise, cov)


class _LeastSquares:
    """Shared part of the least-squares families: fit from ``X'X``, ``X'y`` and the row count."""

    lam = 0.0

    def __init__(self, noise=None):
        if noise is not None:
            noise = check_real("noise", noise)
            if noise < 0:
                raise ValueError(f"noise must be >= 0 or None, got {noise}")
        self.noise = noise

    def fit(self, X, y, noise=None, cov=None):
        """Fit on inputs ``X`` (``(T, d)`` or ``(R, T, d)``) and labels ``y`` (``(T,)`` or ``(R, T)``).

        Returns a :class:`LinearModel` (batched when the data are) whose label noise is
        ``noise`` (the family's own setting if None) and input law ``cov``.
        """
        X = check_finite_array("X", X, ndim=(2, 3))
        y = check_finite_array("y", y, ndim=(1, 2))
        if X.shape[:-1] != y.shape:
            raise ValueError(f"X of shape (..., T, d) and y of shape (..., T) must match, got {X.shape} and {y.shape}")
        xtx = np.swapaxes(X, -1, -2) @ X
        xty = np.einsum("...td,...t->...d", X, y)
        return self.fit_stats(xtx, xty, X.shape[-2], noise=noise, cov=cov)

    def fit_stats(self, xtx, xty, rows, noise=None, cov=None):
        """Fit from the sufficient statistics ``X'X`` (``(..., d, d)``), ``X'y`` (``(..., d)``) and ``rows``."""
        rows = check_int("rows", rows, minimum=1)
        d = xtx.shape[-1]
        self._check_rows(rows, d)
        a = xtx + (rows * self.lam) * np.eye(d) if self.lam else xtx
        coef = np.linalg.solve(a, xty[..., None])[..., 0]
        level = self.noise if noise is None else noise
        level = 0.0 if level is None else level
        return LinearModel._from_params(coef, level, cov)

    def _check_rows(self, rows, d):
        pass


class OLSFit(_LeastSquares):
    """Ordinary least squares, ``w = (X'X)^-1 X'y``: the estimator of the regression theorems.

    Parameters
    ----------
    noise : float >= 0, optional
        Label noise the fitted model uses when it labels the next generation's inputs
        (the papers' ``sigma_0``, a known constant); the generation's own ``noise``
        argument to ``fit`` overrides it.

    Notes
    -----
    Needs at least ``d`` rows (the under-parameterised case of the theorems, which
    take ``T >= d + 2`` so that the expected error is finite).

    Introduced in chapter 14, "Regression collapse, in its own setting".
    """

    def _check_rows(self, rows, d):
        if rows < d:
            raise ValueError(f"OLS needs at least d = {d} rows (T >= d), got T = {rows}")

    def __repr__(self):
        return "OLSFit()"


class RidgeFit(_LeastSquares):
    """Ridge regression: minimise ``(1/T) ||y - X w||^2 + lam ||w||^2``, so ``w = (X'X + T lam I)^-1 X'y``.

    Parameters
    ----------
    lam : float > 0
        Penalty per unit of mean squared error (the convention of Dohmatob et al. 2024).
    noise : float >= 0, optional
        Label noise of the fitted model when it labels new inputs (see :class:`OLSFit`).

    Introduced in chapter 14, "Regression collapse, in its own setting".
    """

    def __init__(self, lam, noise=None):
        if isinstance(lam, bool) or not isinstance(lam, numbers.Real):
            raise TypeError(f"lam must be a number > 0, got {type(lam).__name__}")
        self.lam = check_positive("lam", lam)
        super().__init__(noise)

    def __repr__(self):
        return f"RidgeFit(lam={self.lam:g})"
