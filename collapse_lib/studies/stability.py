"""Stability with the real data kept: retraining on the original real set plus synthetic data.

Bertrand et al. (ICLR 2024, "On the Stability of Iterative Retraining of
Generative Models on their own Data") retrain a generative model, each round, by
maximum likelihood on the *original* real data set of ``n`` points plus ``lambda * n``
points sampled from the previous model (here :class:`collapse_lib.Augment` with
``ratio = lambda``). The book's fixed-budget variant keeps the training set at
``n`` points, a share ``s`` of them synthetic and the rest the first real points
of generation 0 (:class:`collapse_lib.FixedReal` with ``fraction = 1 - s``);
``s = 1`` is :class:`collapse_lib.Replace`. The two parametrisations meet through
``lambda = s / (1 - s)`` only as a proportion: the budgets differ.

Closed form (normal world ``N(mu0, sigma0^2)``, :class:`collapse_lib.NormalFit`
with divisor ``N - ddof``). Let generation 0 fit ``n0`` real points, every later
generation fit the same ``r`` real points (the first ``r`` of generation 0) plus
``m`` fresh draws of the previous fit, ``N = r + m``, ``w = r / N``. With
``X = xbar_real - mu0``, ``E_t = mu_t - mu0``, ``a_t = E[sigma_t^2]``,
``e_t = E[E_t^2]``, ``c_t = E[E_t X]`` and ``q = E[X^2] = sigma0^2 / r``, one
generation gives, exactly,

- ``c_{t+1} = w q + (1 - w) c_t``;
- ``e_{t+1} = w^2 q + 2 w (1 - w) c_t + (1 - w)^2 (e_t + a_t / m)``;
- ``(N - ddof) a_{t+1} = (r - 1) sigma0^2 + (m - 1) a_t + (r m / N) (e_t + a_t / m - 2 c_t + q)``,

from the decomposition of the pooled scatter into the real part, the synthetic
part and the between-means term, because every quantity enters linearly. The
start is ``a_0 = sigma0^2 (n0 - 1) / (n0 - ddof)``, ``e_0 = sigma0^2 / n0`` and
``c_0 = sigma0^2 / n0``. For ``r >= 1`` the map contracts: the expected error
stays bounded at every synthetic share below one; for ``r = 0`` (replace) the
recursion is the familiar collapse.

Introduced in chapter 17, "Stability with the real data kept".
"""

from __future__ import annotations

import numpy as np

from .._validate import check_budget, check_fraction, check_int, check_positive, check_real
from ..distributions import NormalMixture

__all__ = ["expected_moments", "stationary_moments", "bertrand_factor", "share_to_ratio",
           "ratio_to_share", "mixture_parameter_error"]


def _check_sizes(n_initial, n_real, n_synthetic, ddof):
    n_initial = check_int("n_initial", n_initial, minimum=2)
    n_real = check_int("n_real", n_real, minimum=0, maximum=n_initial)
    n_synthetic = check_int("n_synthetic", n_synthetic, minimum=0)
    ddof = check_int("ddof", ddof, minimum=0, maximum=1)
    if n_real + n_synthetic < 2:
        raise ValueError(f"n_real + n_synthetic must be >= 2 (points per later generation), "
                         f"got {n_real} + {n_synthetic}")
    return n_initial, n_real, n_synthetic, ddof


def _step(a, e, c, r, m, ddof):
    """One generation of the exact moment recursion (sigma0 = 1)."""
    N = r + m
    w = r / N
    q = 1.0 / r if r else 0.0
    if m == 0:
        return (r - 1) / (r - ddof), w * w * q, w * q
    e_new = w * w * q + 2 * w * (1 - w) * c + (1 - w) ** 2 * (e + a / m)
    c_new = w * q + (1 - w) * c
    between = (r * m / N) * (e + a / m - 2 * c + q)
    a_new = ((r - 1 if r else 0) + (m - 1) * a + between) / (N - ddof)
    return a_new, e_new, c_new


def expected_moments(n_initial, n_real, n_synthetic, generations, ddof=0):
    """Exact expected variance ratio and mean error of a normal fit retrained on kept real data.

    Parameters
    ----------
    n_initial : int >= 2
        Real points fitted at generation 0.
    n_real : int in [0, n_initial]
        Real points kept and refitted every later generation (the first ones of
        generation 0). 0 is replace.
    n_synthetic : int >= 0
        Fresh draws of the previous fit added every later generation.
    generations : int >= 0
        Generations after generation 0.
    ddof : {0, 1}
        The variance estimator's divisor is ``points - ddof`` (0: maximum likelihood).

    Returns
    -------
    var_ratio, mean_sq_error : ndarray, shape (generations + 1,)
        ``E[sigma_t^2] / sigma0^2`` and ``E[(mu_t - mu0)^2] / sigma0^2`` for
        ``t = 0 .. generations``, expectations over the real sample too.

    Notes
    -----
    :class:`collapse_lib.Augment` with ratio ``lambda`` is ``n_real = n_initial = n``,
    ``n_synthetic = round(lambda n)``; :class:`collapse_lib.FixedReal` with
    fraction ``f`` is ``n_real = round(f n)``, ``n_synthetic = n - n_real``.
    Introduced in chapter 17, "Stability with the real data kept".
    """
    n0, r, m, ddof = _check_sizes(n_initial, n_real, n_synthetic, ddof)
    generations = check_int("generations", generations, minimum=0)
    check_budget("generations", generations + 1)
    a, e, c = (n0 - 1) / (n0 - ddof), 1.0 / n0, 1.0 / n0
    var, err = [a], [e]
    for _ in range(generations):
        a, e, c = _step(a, e, c, r, m, ddof)
        var.append(a)
        err.append(e)
    return np.array(var), np.array(err)


def stationary_moments(n_real, n_synthetic, ddof=0):
    """Fixed point of :func:`expected_moments` (the long-run expected variance ratio and mean error).

    Parameters
    ----------
    n_real : int >= 1
        Real points kept every generation (with none there is no fixed point:
        the variance collapses).
    n_synthetic : int >= 0
        Synthetic points per generation.
    ddof : {0, 1}

    Returns
    -------
    var_ratio, mean_sq_error : float
        ``lim E[sigma_t^2] / sigma0^2`` and ``lim E[(mu_t - mu0)^2] / sigma0^2``.

    Introduced in chapter 17, "Stability with the real data kept".
    """
    r = check_int("n_real", n_real, minimum=1)
    m = check_int("n_synthetic", n_synthetic, minimum=0)
    _check_sizes(max(r, 2), r, m, ddof)
    # the recursion is affine in (a, e, c): solve (I - A) x = b
    b = np.array(_step(0.0, 0.0, 0.0, r, m, ddof))
    A = np.column_stack([np.array(_step(*unit, r, m, ddof)) - b for unit in np.eye(3)])
    x = np.linalg.solve(np.eye(3) - A, b)
    return float(x[0]), float(x[1])


def bertrand_factor(ratio, lipschitz=0.0, epsilon=0.0, alpha=1.0):
    """The quantity ``lambda (1 + L epsilon / alpha)`` of Bertrand et al.'s stability condition.

    Their theorem asks it to be below one: ``lambda`` synthetic points per real
    point, ``epsilon`` the distance between the data distribution and the best
    model in the class, ``L`` a Lipschitz constant of the log-likelihood's
    Hessian in the data and ``alpha`` the strong concavity of the expected
    log-likelihood at its maximiser.

    Parameters
    ----------
    ratio : float >= 0
    lipschitz, epsilon : float >= 0
    alpha : float > 0

    Returns
    -------
    float

    Introduced in chapter 17, "Stability with the real data kept".
    """
    vals = {k: check_real(k, v) for k, v in (("ratio", ratio), ("lipschitz", lipschitz),
                                             ("epsilon", epsilon))}
    for k, v in vals.items():
        if v < 0:
            raise ValueError(f"{k} must be >= 0, got {v}")
    alpha = check_positive("alpha", alpha)
    return vals["ratio"] * (1.0 + vals["lipschitz"] * vals["epsilon"] / alpha)


def share_to_ratio(share):
    """Synthetic points per real point, ``s / (1 - s)``, for a synthetic share ``s`` in [0, 1).

    Introduced in chapter 17, "Stability with the real data kept".
    """
    share = check_fraction("share", share)
    if share == 1.0:
        raise ValueError("share must be < 1 (a share of 1 has no real data: ratio infinite)")
    return share / (1.0 - share)


def ratio_to_share(ratio):
    """Synthetic share ``lambda / (1 + lambda)`` for ``lambda >= 0`` synthetic points per real point.

    Introduced in chapter 17, "Stability with the real data kept".
    """
    ratio = check_real("ratio", ratio)
    if ratio < 0:
        raise ValueError(f"ratio must be >= 0, got {ratio}")
    return ratio / (1.0 + ratio)


def mixture_parameter_error(model, reference):
    """Euclidean distance between the parameters of two batches of 1-D normal mixtures.

    The parameters are the weights, means and standard deviations of the
    components, which :class:`collapse_lib.GaussianMixtureFit` sorts by mean.

    Parameters
    ----------
    model, reference : NormalMixture
        Batched alike (``reference`` may also be unbatched), same number of components.

    Returns
    -------
    ndarray, shape of the batch

    Introduced in chapter 17, "Stability with the real data kept".
    """
    for name, obj in (("model", model), ("reference", reference)):
        if not isinstance(obj, NormalMixture):
            raise TypeError(f"{name} must be a NormalMixture, got {type(obj).__name__}")
    parts = []
    for attr in ("weights", "means", "stds"):
        a, b = np.asarray(getattr(model, attr), float), np.asarray(getattr(reference, attr), float)
        if a.shape[-1] != b.shape[-1]:
            raise ValueError(f"model and reference need the same number of components, "
                             f"got {a.shape[-1]} and {b.shape[-1]}")
        parts.append(np.sum(np.square(a - b), axis=-1))
    return np.sqrt(sum(parts))
