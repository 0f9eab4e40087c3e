"""Covariance collapse in ``d`` dimensions: a multivariate normal refitted on its own samples.

Generation 0 fits the mean and covariance of ``n`` points of the world
``N(0, I_d)``; every later generation draws ``n`` points from the previous fit and
composes its training data by one of three workflows:

- ``"replace"``: the ``n`` new points only (Shumailov et al.'s loop);
- ``"accumulate"``: every point so far (the pool grows by ``n`` per generation;
  Gerstgrasser et al.); only the running sums are kept, never the points;
- ``"accumulate-subsample"``: ``n`` points drawn without replacement from the pool
  (Kazdan et al.'s fixed-budget workflow).

What is recorded is the log-determinant ratio ``log det(Sigma_k) / det(Sigma_0)`` and
the trace ratio ``tr(Sigma_k) / tr(Sigma_0)`` after ``k = 1, 2, ...`` fits, against the
world's ``Sigma_0 = I``. Both ratios are invariant under a change of the world's mean;
the determinant ratio is invariant under any invertible linear change of coordinates
too (every workflow here is affine equivariant), so ``Sigma_0 = I`` loses nothing for
it.

Closed forms (replace, ``c = n - ddof`` the estimator's divisor). One fit maps
``Sigma`` to ``Sigma^{1/2} W Sigma^{1/2} / c`` with ``W ~ Wishart(n - 1, I)``,
independent of the past, so

- ``E[Sigma_k] = ((n - 1) / c)^k Sigma_0`` and ``E[tr ratio] = ((n - 1) / c)^k``;
- ``log det`` is a random walk: by the Bartlett decomposition ``det W`` is a product of
  independent ``chi2(n - 1 - i)``, ``i = 0 .. d - 1``, whence
  ``E[log det ratio] = k * sum_i (psi((n - 1 - i) / 2) + ln 2 - ln c)`` and
  ``Var[log det ratio] = k * sum_i psi'((n - 1 - i) / 2)`` (digamma and trigamma);
- ``E[det ratio] = (prod_i (n - 1 - i) / c^d)^k``.

Introduced in chapter 15, "Multivariate Gaussians: the determinant and the trace".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, polygamma
from threadpoolctl import threadpool_limits

from .._validate import check_budget, check_choice, check_int, check_int_array

__all__ = ["CovarianceRun", "covariance_collapse", "expected_trace_ratio", "expected_logdet_ratio",
           "logdet_ratio_sd", "expected_det_ratio", "logdet_drift", "SCHEMES"]

#: the three workflows, in the order the chapter compares them
SCHEMES = ("replace", "accumulate", "accumulate-subsample")


def _check_dims(d, n, ddof):
    d = check_int("d", d, minimum=1)
    n = check_int("n", n, minimum=2)
    ddof = check_int("ddof", ddof, minimum=0, maximum=1)
    if n < d + 1:
        raise ValueError(f"n must be at least d + 1 = {d + 1} (a non-singular covariance), got {n}")
    return d, n, ddof


def _fits(fits):
    return check_int_array("fits", fits, minimum=0).astype(float)


def logdet_drift(d, n, ddof=0):
    """Expected change of ``log det Sigma`` per fit under replace.

    ``sum_{i<d} (psi((n - 1 - i) / 2) + ln 2 - ln(n - ddof))``, with ``psi`` the
    digamma function: the mean of the log of a product of ``d`` independent
    ``chi2(n - 1 - i) / (n - ddof)`` factors (Bartlett). Negative for either
    estimator: the determinant collapses almost surely.

    Parameters
    ----------
    d : int >= 1
        Dimension.
    n : int >= d + 1
        Points per generation.
    ddof : {0, 1}
        0 for the maximum-likelihood covariance, 1 for the unbiased one.

    Returns
    -------
    float

    Introduced in chapter 15, "Multivariate Gaussians: the determinant and the trace".
    """
    d, n, ddof = _check_dims(d, n, ddof)
    dof = n - 1 - np.arange(d)
    return float(np.sum(digamma(dof / 2.0) + np.log(2.0) - np.log(n - ddof)))


def expected_logdet_ratio(fits, d, n, ddof=0):
    """Exact ``E[log det(Sigma_k) / det(Sigma_0)]`` after ``fits`` fits under replace.

    ``fits * logdet_drift(d, n, ddof)``: the steps of the random walk are
    independent and identically distributed. ``fits`` may be an array.

    Introduced in chapter 15, "Multivariate Gaussians: the determinant and the trace".
    """
    return _fits(fits) * logdet_drift(d, n, ddof)


def logdet_ratio_sd(fits, d, n):
    """Exact standard deviation of ``log det(Sigma_k) / det(Sigma_0)`` under replace.

    ``sqrt(fits * sum_{i<d} psi'((n - 1 - i) / 2))`` (``psi'`` the trigamma
    function: the variance of ``log chi2(m)`` is ``psi'(m / 2)``). The same for
    either estimator (the divisor is a constant).

    Introduced in chapter 15, "Multivariate Gaussians: the determinant and the trace".
    """
    d, n, _ = _check_dims(d, n, 0)
    dof = n - 1 - np.arange(d)
    return np.sqrt(_fits(fits) * float(np.sum(polygamma(1, dof / 2.0))))


def expected_det_ratio(fits, d, n, ddof=0):
    """Exact ``E[det(Sigma_k) / det(Sigma_0)]`` under replace: ``(prod_{i<d} (n-1-i) / (n-ddof)^d)^fits``.

    Below 1 even for the unbiased estimator (``ddof=1``), whose covariance is
    unbiased entry by entry: the determinant is not a linear function of the
    entries.

    Introduced in chapter 15, "Multivariate Gaussians: the determinant and the trace".
    """
    d, n, ddof = _check_dims(d, n, ddof)
    log_step = float(np.sum(np.log((n - 1 - np.arange(d)) / (n - ddof))))
    return np.exp(_fits(fits) * log_step)


def expected_trace_ratio(fits, n, ddof=0):
    """Exact ``E[tr(Sigma_k) / tr(Sigma_0)]`` under replace: ``((n - 1) / (n - ddof))^fits``.

    The same in every dimension and for every world covariance, because
    ``E[Sigma_k] = ((n - 1) / (n - ddof))^k Sigma_0``; 1 for the unbiased
    estimator (a martingale).

    Introduced in chapter 15, "Multivariate Gaussians: the determinant and the trace".
    """
    n = check_int("n", n, minimum=2)
    ddof = check_int("ddof", ddof, minimum=0, maximum=1)
    return ((n - 1) / (n - ddof)) ** _fits(fits)


@dataclass
class CovarianceRun:
    """What :func:`covariance_collapse` measured.

    Attributes
    ----------
    logdet_ratio : ndarray of shape (generations + 1, replicates)
        ``log det(Sigma_k) - log det(Sigma_0)`` for the model of generation ``k - 1``,
        which has gone through ``k`` fits (row ``k - 1``).
    trace_ratio : ndarray of shape (generations + 1, replicates)
        ``tr(Sigma_k) / tr(Sigma_0)``, rows as above.
    mean_sq : ndarray of shape (generations + 1, replicates)
        ``|mu_k - mu_0|^2``, the squared distance of the fitted mean from the world's.
    scheme : str
    d, n, ddof, replicates : int

    Introduced in chapter 15, "Multivariate Gaussians: the determinant and the trace".
    """

    logdet_ratio: np.ndarray
    trace_ratio: np.ndarray
    mean_sq: np.ndarray
    scheme: str = "replace"
    d: int = 0
    n: int = 0
    ddof: int = 0
    replicates: int = 0

    @property
    def fits(self):
        """Number of fits behind each row (``1 .. generations + 1``)."""
        return np.arange(1, self.logdet_ratio.shape[0] + 1)


def _moments(x, ddof):
    """Mean (R, d) and covariance (R, d, d) of points x (R, m, d)."""
    m = x.shape[1]
    mean = x.mean(axis=1)
    xc = x - mean[:, None, :]
    return mean, np.swapaxes(xc, 1, 2) @ xc / (m - ddof)


def covariance_collapse(d, n, generations, scheme="replace", replicates=100, ddof=0, seed=None):
    """Refit a ``d``-dimensional normal on its own samples and record det and trace ratios.

    Parameters
    ----------
    d : int >= 1
        Dimension; the world is ``N(0, I_d)``.
    n : int >= d + 1
        Points drawn per generation (the training budget of replace and
        accumulate-subsample).
    generations : int >= 0
        Generations after generation 0 (``generations + 1`` fits in all).
    scheme : {"replace", "accumulate", "accumulate-subsample"}
        How each generation's training data are composed (module docstring).
    replicates : int >= 1
        Independent runs, simulated together as arrays.
    ddof : {0, 1}
        0: maximum-likelihood covariance (divide by the number of points, as in
        Kazdan et al.'s code); 1: unbiased (as in Shumailov et al.'s theorem).
    seed : int or None
        Seed of the one :func:`numpy.random.default_rng` behind every draw.

    Returns
    -------
    CovarianceRun

    Notes
    -----
    Every point is drawn (no sufficient-statistics shortcut), so the three
    workflows share one code path; accumulate keeps the pool's running sums,
    accumulate-subsample keeps the points (memory ``R (generations + 1) n d``
    floats). The log-determinant comes from a Cholesky factor of each fitted
    covariance (non-singular because ``n >= d + 1``).

    Introduced in chapter 15, "Multivariate Gaussians: the determinant and the trace".

    Examples
    --------
    >>> run = covariance_collapse(3, 20, generations=4, replicates=5, seed=0)
    >>> run.logdet_ratio.shape, run.fits.tolist()
    ((5, 5), [1, 2, 3, 4, 5])
    """
    # many small matrix products: one BLAS thread is many times faster than a contended pool
    with threadpool_limits(1):
        return _covariance_collapse(d, n, generations, scheme, replicates, ddof, seed)


def _covariance_collapse(d, n, generations, scheme, replicates, ddof, seed):
    """The body of :func:`covariance_collapse` (arguments unchecked)."""
    d, n, ddof = _check_dims(d, n, ddof)
    generations = check_int("generations", generations, minimum=0)
    replicates = check_int("replicates", replicates, minimum=1)
    scheme = check_choice("scheme", scheme, SCHEMES)
    seed = None if seed is None else check_int("seed", seed, minimum=0)
    check_budget("replicates * n * d", replicates * n * d)
    check_budget("generations * replicates", (generations + 1) * replicates)
    if scheme == "accumulate-subsample":
        check_budget("replicates * (generations + 1) * n * d", replicates * (generations + 1) * n * d)
    rng = np.random.default_rng(seed)
    R = replicates
    fits = generations + 1
    logdet = np.empty((fits, R))
    trace = np.empty((fits, R))
    msq = np.empty((fits, R))

    x = rng.standard_normal((R, n, d))          # generation 0: the world N(0, I)
    if scheme == "accumulate-subsample":
        pool = np.empty((R, fits, n, d))       # every point drawn so far, block by block
        pool[:, 0] = x
    s1 = x.sum(axis=1)                          # running sums for accumulate
    s2 = np.swapaxes(x, 1, 2) @ x
    count = n
    mean, cov = _moments(x, ddof)
    for k in range(fits):
        chol = np.linalg.cholesky(cov)
        logdet[k] = 2.0 * np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2)), axis=1)
        trace[k] = np.trace(cov, axis1=1, axis2=2) / d
        msq[k] = np.sum(mean**2, axis=1)
        if k == fits - 1:
            break
        new = mean[:, None, :] + rng.standard_normal((R, n, d)) @ np.swapaxes(chol, 1, 2)
        if scheme == "replace":
            mean, cov = _moments(new, ddof)
        elif scheme == "accumulate":
            s1 = s1 + new.sum(axis=1)
            s2 = s2 + np.swapaxes(new, 1, 2) @ new
            count += n
            mean = s1 / count
            scatter = s2 - count * mean[:, :, None] * mean[:, None, :]
            cov = scatter / (count - ddof)
        else:
            blocks = count // n
            pool[:, blocks] = new
            count += n
            size = count
            # n distinct indices per replicate, uniformly from the pool (argpartition of random keys)
            keys = rng.random((R, size))
            idx = np.sort(np.argpartition(keys, n - 1, axis=1)[:, :n], axis=1)
            block, within = np.divmod(idx, n)
            chosen = pool[np.arange(R)[:, None], block, within]
            mean, cov = _moments(chosen, ddof)
    return CovarianceRun(logdet_ratio=logdet, trace_ratio=trace, mean_sq=msq, scheme=scheme,
                         d=d, n=n, ddof=ddof, replicates=R)
