"""Gaussian mixtures of PCA codes, fitted by batched EM: the model of handwritten digits.

Codes are ``d``-dimensional (the PCA space of
:class:`collapse_lib.worlds.digits.DigitWorld`); a batch of ``R`` replicates of
``m`` codes is an array of shape ``(R, m, d)``. :class:`DigitMixtureFit` runs
the expectation-maximisation algorithm on all replicates at once, in numpy, with
scikit-learn's ``GaussianMixture`` conventions (the same E and M steps, the
same regulariser added to every covariance diagonal, the same stopping rule on
the mean log-likelihood); ``tests/test_digits.py`` checks that both reach the
same fit from the same start. Unlike the library's other families,
:meth:`DigitMixtureFit.fit` takes the run's generator (its k-means start draws
from it), so it is run by
:func:`collapse_lib.studies.digit_collapse.simulate_digits`.

Introduced in chapter 6, "Collapse you can see".
"""

from __future__ import annotations

import numpy as np

from .._validate import check_budget, check_finite_array, check_int, check_positive, check_probabilities, check_real, check_rng

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
        weights = check_probabilities("weights", weights, ndim=(2,))
        if np.any(weights > 1):
            raise ValueError("weights must be probabilities (each in [0, 1])")
        means = check_finite_array("means", means, ndim=(3,))
        chol = check_finite_array("chol", chol, ndim=(4,))
        r, k = weights.shape
        if means.shape[:2] != (r, k):
            raise ValueError(f"means must have shape (R, k, d) = ({r}, {k}, d) to match weights (R, k), "
                             f"got {means.shape}")
        d = means.shape[2]
        if chol.shape != (r, k, d, d):
            raise ValueError(f"chol must have shape (R, k, d, d) = {(r, k, d, d)} to match weights and means, "
                             f"got {chol.shape}")
        self._set(weights, means, chol)

    @classmethod
    def _from_params(cls, weights, means, chol):
        """Built by :class:`DigitMixtureFit` from fitted parameters (no checks)."""
        obj = cls.__new__(cls)
        obj._set(np.asarray(weights, float), np.asarray(means, float), np.asarray(chol, float))
        return obj

    def _set(self, weights, means, chol):
        self.weights = weights
        self.means = means
        self.chol = chol
        self.batch_shape = self.weights.shape[:1]

    @property
    def replicates(self):
        """Number of replicates R."""
        return self.weights.shape[0]

    @property
    def covariances(self):
        """Each component's covariance matrix, shape ``(R, k, d, d)`` (exact)."""
        return np.einsum("rkij,rklj->rkil", self.chol, self.chol)

    @property
    def within_variance(self):
        """Weighted mean trace of the component covariances, ``sum_j w_j tr(cov_j)``, shape ``(R,)``.

        The spread of the mixture *within* its components (for a tied
        covariance, the trace of the shared matrix): the part of the total
        variance that the refit shrinks, as in chapter 4.
        """
        return np.einsum("rk,rkij,rkij->r", self.weights, self.chol, self.chol)

    def components_in_use(self, n):
        """Components expected to receive at least one of ``n`` training points (``n w_j >= 1``), shape ``(R,)``."""
        n = check_int("n", n, minimum=1)
        return np.sum(self.weights * n >= 1.0, axis=1)

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
        check_budget("size", size * r * (k + d * d + 2 * d))  # comparisons with the cdf, gathered factors
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
    """Family: a Gaussian mixture fitted by EM to each replicate's codes, all replicates at once.

    Parameters
    ----------
    n_components : int >= 1
        Mixture components (ten, one per digit, is a natural first choice;
        EM does not know the labels).
    covariance_type : {"full", "tied", "diag"}
        Covariance of each component: its own full matrix (``d (d + 1) / 2``
        parameters per component: it needs well over ``d + 1`` points per
        component, or the estimate is singular), one full matrix shared by all
        components (estimated from all the points), or a diagonal of its own.
    reg_covar : float > 0
        Added to every covariance diagonal (scikit-learn's regulariser).
    max_iter : int >= 1
        EM iterations at most.
    tol : float >= 0
        EM stops for a replicate when its mean log-likelihood per point changes
        by less than this (scikit-learn's rule and default).
    warm_start : bool
        If True, :func:`collapse_lib.studies.digit_collapse.simulate_digits`
        starts each generation's EM at the previous generation's model (a
        model retrained from where it was, as a pipeline that fine-tunes its
        last model does) instead of a fresh k-means start. The result is
        still EM's fit to the new data; it gets there in fewer iterations.

    Notes
    -----
    The start without ``init`` is k-means (ten Lloyd iterations from ``k``
    distinct data points drawn with the caller's ``rng``), whose hard
    assignments give the first M step, as scikit-learn's default does.
    A component that receives no points keeps a covariance of ``reg_covar``
    times the identity and a weight near zero: a legal, degenerate state.

    Introduced in chapter 6, "Collapse you can see".
    """

    COVARIANCE_TYPES = ("full", "tied", "diag")

    def __init__(self, n_components=10, covariance_type="full", reg_covar=1e-6, max_iter=100,
                 tol=1e-3, warm_start=False):
        self.n_components = check_int("n_components", n_components, minimum=1)
        if covariance_type not in self.COVARIANCE_TYPES:
            raise ValueError(f"covariance_type must be one of {self.COVARIANCE_TYPES}, got {covariance_type!r}")
        self.covariance_type = covariance_type
        self.reg_covar = check_positive("reg_covar", reg_covar)
        self.max_iter = check_int("max_iter", max_iter, minimum=1)
        self.tol = check_real("tol", tol)
        if self.tol < 0:
            raise ValueError(f"tol must be >= 0, got {tol!r}")
        if not isinstance(warm_start, (bool, np.bool_)):
            raise TypeError(f"warm_start must be True or False, got {warm_start!r}")
        self.warm_start = bool(warm_start)

    # ------------------------------------------------------------------ EM steps (batched)
    def _m_step(self, x, resp):
        """Weights (R, k), means (R, k, d) and covariance factors from responsibilities (R, m, k)."""
        r, m, d = x.shape
        eps = 10 * np.finfo(float).eps
        nk = resp.sum(axis=1) + eps                                   # (R, k)
        means = np.einsum("rmk,rmd->rkd", resp, x) / nk[..., None]
        eye = np.eye(d)
        if self.covariance_type == "full":
            diff = x[:, None, :, :] - means[:, :, None, :]            # (R, k, m, d)
            weighted = np.swapaxes(resp, 1, 2)[..., None] * diff
            cov = np.swapaxes(weighted, 2, 3) @ diff / nk[..., None, None] + self.reg_covar * eye
        elif self.covariance_type == "tied":
            second = np.einsum("rmi,rmj->rij", x, x)
            between = np.einsum("rk,rki,rkj->rij", nk, means, means)
            cov = (second - between) / nk.sum(axis=1)[:, None, None] + self.reg_covar * eye
            cov = 0.5 * (cov + np.swapaxes(cov, 1, 2))
            cov = np.broadcast_to(cov[:, None], (r, self.n_components, d, d))
        else:
            avg_x2 = np.einsum("rmk,rmd->rkd", resp, x * x) / nk[..., None]
            var = avg_x2 - means**2 + self.reg_covar
            cov = np.maximum(var, self.reg_covar)[..., None] * eye
        weights = nk / nk.sum(axis=1, keepdims=True)
        return weights, means, np.linalg.cholesky(cov)

    @staticmethod
    def _log_prob(x, weights, means, chol):
        """log(w_j N(x_i | mu_j, L_j L_j^T)), shape (R, m, k)."""
        d = x.shape[2]
        inv = np.linalg.inv(chol)                                     # (R, k, d, d), lower triangular
        zx = x[:, None] @ np.swapaxes(inv, 2, 3)                       # (R, k, m, d)
        zm = np.einsum("rkij,rkj->rki", inv, means)
        maha = np.swapaxes(np.sum((zx - zm[:, :, None]) ** 2, axis=-1), 1, 2)  # (R, m, k)
        logdet = np.sum(np.log(np.diagonal(chol, axis1=2, axis2=3)), axis=-1)   # log |L| = 0.5 log |cov|
        with np.errstate(divide="ignore"):
            logw = np.log(weights)
        return logw[:, None, :] - 0.5 * (d * np.log(2 * np.pi) + maha) - logdet[:, None, :]

    def _kmeans_start(self, x, rng):
        """Hard responsibilities (R, m, k) from ten Lloyd iterations started at k distinct data points."""
        r, m, _ = x.shape
        k = self.n_components
        keys = rng.random((r, m))
        # argpartition leaves the k smallest keys in an order that depends on the CPU's sorting
        # kernels; sorting the indices makes the component order (and every later draw) the same
        # on every machine
        idx = np.sort(np.argpartition(keys, k - 1, axis=1)[:, :k], axis=1)
        centres = np.take_along_axis(x, idx[..., None], axis=1)      # (R, k, d)
        for _ in range(10):
            dist = np.sum((x[:, :, None, :] - centres[:, None, :, :]) ** 2, axis=-1)
            label = dist.argmin(axis=2)
            onehot = (label[..., None] == np.arange(k)).astype(float)
            counts = onehot.sum(axis=1)
            sums = np.einsum("rmk,rmd->rkd", onehot, x)
            centres = np.where(counts[..., None] > 0, sums / np.maximum(counts, 1)[..., None], centres)
        return onehot

    def fit(self, data, rng, init=None):
        """Fit one mixture per replicate to ``data`` of shape ``(R, m, d)``.

        Parameters
        ----------
        data : array_like, shape (R, m, d)
            Codes, ``m >= n_components`` per replicate, finite.
        rng : numpy.random.Generator
            Draws the k-means start (not used with ``init``).
        init : DigitMixture, optional
            A batch of ``R`` mixtures with ``n_components`` components in the
            same space: EM starts from them (a warm start).

        Returns
        -------
        DigitMixture
        """
        check_rng(rng)
        data = np.asarray(data, dtype=float)
        if data.ndim != 3:
            raise ValueError(f"data must have shape (R, m, d), got shape {data.shape}")
        if data.shape[1] < self.n_components:
            raise ValueError(f"data must hold at least n_components={self.n_components} samples per replicate, got {data.shape[1]}")
        if not np.all(np.isfinite(data)):
            raise ValueError("data must not contain NaN or inf")
        r, m, d = data.shape
        k = self.n_components
        if init is not None:
            if not isinstance(init, DigitMixture):
                raise TypeError(f"init must be a DigitMixture (a previous fit), got {type(init).__name__}")
            if init.means.shape != (r, k, d):
                raise ValueError(f"init must hold R={r} mixtures of n_components={k} in d={d} dimensions, "
                                 f"got means of shape {init.means.shape}")
            params = self._from_init(init)
        else:
            params = self._m_step(data, self._kmeans_start(data, rng))
        lower = np.full(r, -np.inf)
        active = np.ones(r, dtype=bool)
        for _ in range(self.max_iter):
            logp = self._log_prob(data, *params)
            top = logp.max(axis=2, keepdims=True)
            norm = top[..., 0] + np.log(np.exp(logp - top).sum(axis=2))        # (R, m)
            resp = np.exp(logp - norm[..., None])
            new = self._m_step(data, resp)
            params = tuple(np.where(active.reshape((r,) + (1,) * (a.ndim - 1)), a, b)
                           for a, b in zip(new, params))
            bound = norm.mean(axis=1)
            active &= ~(np.abs(bound - lower) < self.tol)
            lower = bound
            if not active.any():
                break
        weights, means, chol = params
        return DigitMixture._from_params(weights, means, np.array(chol))

    def _from_init(self, init):
        """A previous batch of mixtures as this family's parameters (covariance type and regulariser)."""
        d = init.means.shape[2]
        cov = init.covariances
        if self.covariance_type == "tied":
            cov = np.broadcast_to(np.einsum("rk,rkij->rij", init.weights, cov)[:, None], cov.shape)
        elif self.covariance_type == "diag":
            cov = np.diagonal(cov, axis1=2, axis2=3)[..., None] * np.eye(d)
        w = np.maximum(init.weights, 1e-12)
        return w / w.sum(axis=1, keepdims=True), init.means.copy(), np.linalg.cholesky(cov)

    def __repr__(self):
        return (f"DigitMixtureFit(n_components={self.n_components}, covariance_type={self.covariance_type!r}"
                + (", warm_start=True)" if self.warm_start else ")"))
