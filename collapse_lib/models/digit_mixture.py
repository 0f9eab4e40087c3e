"""Gaussian mixtures of PCA codes, fitted by scikit-learn's EM: the model of handwritten digits.

Codes are ``d``-dimensional (the PCA space of
:class:`collapse_lib.worlds.digits.DigitWorld`); a batch of ``R`` replicates of
``m`` codes is an array of shape ``(R, m, d)``. Unlike the library's other
families, :meth:`DigitMixtureFit.fit` takes the run's generator (it seeds
scikit-learn's EM from it), so it is run by
:func:`collapse_lib.studies.digit_collapse.simulate_digits`.

Introduced in chapter 6, "Collapse you can see".
"""

from __future__ import annotations

import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from .._validate import check_int, check_rng

__all__ = ["DigitMixture", "DigitMixtureFit"]


class DigitMixture:
    """A batch of ``R`` Gaussian mixtures in the PCA space (one per replicate).

    Sampling is batched numpy driven by the caller's ``rng`` (scikit-learn's
    own ``sample`` is not used, so the run stays governed by one generator).
    Introduced in chapter 6, "Collapse you can see".

    Attributes
    ----------
    weights : ndarray (R, k)
    means : ndarray (R, k, d)
    chol : ndarray (R, k, d, d)
        Lower Cholesky factor of each component's covariance.
    """

    def __init__(self, weights, means, chol):
        self.weights = np.asarray(weights, float)
        self.means = np.asarray(means, float)
        self.chol = np.asarray(chol, float)
        self.batch_shape = self.weights.shape[:1]

    @property
    def replicates(self):
        """Number of replicates R."""
        return self.weights.shape[0]

    @property
    def total_variance(self):
        """Trace of each mixture's covariance, shape ``(R,)`` (exact)."""
        w = self.weights
        cov_trace = np.einsum("rkij,rkij->rk", self.chol, self.chol)
        mean = np.einsum("rk,rkd->rd", w, self.means)
        second = np.einsum("rk,rkd->r", w, self.means**2)
        return np.sum(w * cov_trace, axis=1) + second - np.sum(mean**2, axis=1)

    def sample(self, size, rng):
        """Draw ``size`` codes per replicate: shape ``(R, size, d)``."""
        size = check_int("size", size, minimum=0)
        check_rng(rng)
        r, k, d = self.means.shape
        cdf = np.cumsum(self.weights, axis=1)
        cdf /= cdf[:, -1:]
        u = rng.random((r, size))
        comp = np.minimum(np.sum(u[:, :, None] >= cdf[:, None, :], axis=2), k - 1)
        z = rng.standard_normal((r, size, d))
        rows = np.arange(r)[:, None]
        return self.means[rows, comp] + np.einsum("rnij,rnj->rni", self.chol[rows, comp], z)

    def __repr__(self):
        return f"DigitMixture(batch of {self.replicates}, k={self.weights.shape[1]}, d={self.means.shape[2]})"


class DigitMixtureFit:
    """Family: a Gaussian mixture fitted by EM (scikit-learn) to each replicate's codes.

    Parameters
    ----------
    n_components : int >= 1
        Mixture components (ten, one per digit, is a natural first choice;
        EM does not know the labels).
    covariance_type : {"full", "diag"}
        Covariance of each component.
    reg_covar : float > 0
        Added to the covariance diagonals (scikit-learn's regulariser).

    Notes
    -----
    ``fit`` loops over the replicates in Python (scikit-learn fits one mixture
    at a time); runs in the book use a handful of replicates. Each fit is
    seeded from the caller's ``rng``, so results are reproducible. Fits run
    on one thread (``threadpoolctl``): on a small shared machine, BLAS and
    OpenMP thread pools oversubscribe and slow tiny fits by an order of
    magnitude. EM's
    convergence warnings are silenced: a mixture refitted on its own samples
    may legitimately end with near-empty components.

    Introduced in chapter 6, "Collapse you can see".
    """

    def __init__(self, n_components=10, covariance_type="full", reg_covar=1e-6, max_iter=100):
        self.n_components = check_int("n_components", n_components, minimum=1)
        if covariance_type not in ("full", "diag"):
            raise ValueError(f"covariance_type must be 'full' or 'diag', got {covariance_type!r}")
        self.covariance_type = covariance_type
        if not (isinstance(reg_covar, (int, float)) and reg_covar > 0):
            raise ValueError(f"reg_covar must be a number > 0, got {reg_covar!r}")
        self.reg_covar = float(reg_covar)
        self.max_iter = check_int("max_iter", max_iter, minimum=1)

    def fit(self, data, rng):
        """Fit one mixture per replicate to ``data`` of shape ``(R, m, d)``.

        Returns a :class:`DigitMixture`.
        """
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.mixture import GaussianMixture

        check_rng(rng)
        data = np.asarray(data, dtype=float)
        if data.ndim != 3:
            raise ValueError(f"data must have shape (R, m, d), got shape {data.shape}")
        if data.shape[1] < self.n_components:
            raise ValueError(f"data must hold at least n_components={self.n_components} samples per replicate, got {data.shape[1]}")
        if not np.all(np.isfinite(data)):
            raise ValueError("data must not contain NaN or inf")
        r, _, d = data.shape
        k = self.n_components
        weights, means, chol = np.empty((r, k)), np.empty((r, k, d)), np.zeros((r, k, d, d))
        seeds = rng.integers(0, 2**31 - 1, size=r)
        for i in range(r):
            gm = GaussianMixture(k, covariance_type=self.covariance_type, reg_covar=self.reg_covar,
                                 max_iter=self.max_iter, random_state=int(seeds[i]))
            with warnings.catch_warnings(), threadpool_limits(1):
                warnings.simplefilter("ignore", ConvergenceWarning)
                gm.fit(data[i])
            weights[i] = gm.weights_
            means[i] = gm.means_
            if self.covariance_type == "full":
                chol[i] = np.linalg.cholesky(gm.covariances_)
            else:
                chol[i] = np.sqrt(gm.covariances_)[:, :, None] * np.eye(d)
        return DigitMixture(weights, means, chol)

    def __repr__(self):
        return f"DigitMixtureFit(n_components={self.n_components}, covariance_type={self.covariance_type!r})"
