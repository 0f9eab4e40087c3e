"""Measuring the rare tail: how long a rare mode survives, where a rare case sits, how much tail is left.

Chapter 3, "Why tails go first", introduces :func:`rare_mode_survival` (exact
survival of a rare mode under refitting) and :func:`conditional_mean_above`
(the typical rare case a model generates); the probability that an event is
absent from ``n`` draws is :func:`collapse_lib.theory.prob_absent`. Chapter 7,
"What the Nature work does and does not show", introduces the two tail metrics
the later chapters report, :func:`tail_ratio` and :func:`tail_lost`. The
labelled mixture of chapter 3 is a model family,
:class:`collapse_lib.models.labelled.LabelledMixtureFit`; ``tails.LabelledMixtureFit``
still reaches it.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from .._validate import check_fraction, check_int, check_real
from ..distributions import Normal, NormalMixture
from ..models.labelled import LabelledMixtureFit  # noqa: F401  (chapter 3 calls tails.LabelledMixtureFit)

__all__ = ["rare_mode_survival", "conditional_mean_above", "tail_ratio", "tail_lost"]


def rare_mode_survival(p, n, fits):
    """Exact probability that a rare mode is still present after each number of fits.

    The mode has probability ``p`` in the world; every fit keeps exactly the
    share of the ``n`` training points that fell in it (resampling the data,
    :class:`~collapse_lib.EmpiricalFit`, or counting categories,
    :class:`~collapse_lib.CategoricalFit`), and the next ``n`` points are drawn
    from the fit. The mode's count is then a Wright-Fisher chain with
    population ``n``; the mode is lost when the count hits 0, for good. The
    survival probability falls to ``p`` as ``fits`` grows: the mode is
    eventually lost with probability ``1 - p``
    (:func:`collapse_lib.theory.loss_probability`).

    Parameters
    ----------
    p : float in [0, 1]
        The mode's probability in the world.
    n : int >= 1
        Points per fit (at most 5000: the chain is a dense ``(n+1) x (n+1)`` matrix).
    fits : int >= 0
        Largest number of fits. ``run.models[t]`` of :func:`simulate` has had ``t + 1``.

    Returns
    -------
    ndarray of shape (fits + 1,)
        Entry ``k`` is P(mode present after ``k`` fits); entry 0 is 1 (the
        world) and entry 1 is ``1 - (1 - p)^n``.

    Notes
    -----
    Introduced in chapter 3, "Why tails go first".
    """
    p = check_fraction("p", p)
    n = check_int("n", n, minimum=1, maximum=5000)
    fits = check_int("fits", fits, minimum=0)
    counts = np.arange(n + 1)
    # transition[i, j] = P(j points in the mode next | i now) = Binom(n, i/n).pmf(j)
    transition = stats.binom.pmf(counts[None, :], n, counts[:, None] / n)
    state = stats.binom.pmf(counts, n, p)
    out = np.empty(fits + 1)
    out[0] = 1.0
    for k in range(1, fits + 1):
        out[k] = 1.0 - state[0]
        state = state @ transition
    return np.clip(out, 0.0, 1.0)


def conditional_mean_above(model, x):
    """``E[X | X > x]``: the typical value of a "rare case" the model generates.

    Exact for :class:`~collapse_lib.Normal` and :class:`~collapse_lib.NormalMixture`
    (batched or not); for any other model with ``sorted_points`` (the empirical
    distribution) it is the mean of the points above ``x``.

    Parameters
    ----------
    model : Normal, NormalMixture or Empirical
    x : float
        The threshold that defines the rare case.

    Returns
    -------
    float or ndarray of shape (R,)
        Where the model puts no mass above ``x`` the result is ``x`` itself
        (the limit of a vanishing normal tail), never NaN.

    Notes
    -----
    Introduced in chapter 3, "Why tails go first".
    """
    x = check_real("x", x)
    if isinstance(model, Normal):
        w, mu, sd = np.ones(model.batch_shape + (1,)), model._mean[..., None], model._std[..., None]
    elif isinstance(model, NormalMixture):
        w, mu, sd = model.weights, model.means, model.stds
    elif hasattr(model, "sorted_points"):
        pts = np.asarray(model.sorted_points, dtype=float)
        above = pts > x
        k = above.sum(axis=-1)
        total = np.where(above, pts, 0.0).sum(axis=-1)
        out = np.where(k > 0, total / np.maximum(k, 1), x)
        return float(out) if out.ndim == 0 else out
    else:
        raise TypeError(f"model must be a Normal, NormalMixture or Empirical, got {type(model).__name__}")
    positive = sd > 0
    safe = np.where(positive, sd, 1.0)
    with np.errstate(over="ignore"):  # a tiny std gives +-inf, clipped to the exact limit
        a = np.clip((x - mu) / safe, -1e6, 1e6)
    log_q = special.log_ndtr(-a)  # log P(component > x)
    mass = np.where(positive, np.exp(log_q), (mu > x).astype(float)) * w
    # E[X | X > x] per component: mu + sd phi(a)/Q(a); for large a the Mills-ratio series
    far = a > 30
    small_a = np.where(far, 0.0, a)
    mills = np.exp(-0.5 * small_a * small_a - 0.5 * np.log(2 * np.pi) - np.where(far, 0.0, log_q))
    big_a = np.where(far, a, 1.0)
    cond = np.where(far, x + sd * (1 / big_a - 2 / big_a**3), mu + sd * mills)
    first = np.where(mass > 0, np.where(positive, cond, mu) * mass, 0.0)  # E[X 1{X > x}]
    total_mass = mass.sum(axis=-1)
    out = np.where(total_mass > 0, first.sum(axis=-1) / np.where(total_mass > 0, total_mass, 1.0), x)
    return float(out) if out.ndim == 0 else out


# ----------------------------------------------------------------------------- tail metrics

def tail_ratio(world, threshold):
    """Metric: a model's tail mass above ``threshold`` as a share of the world's.

    Parameters
    ----------
    world : Distribution
        The real world; must have an exact ``tail_mass``.
    threshold : float
        Where the tail starts (the book's running world uses 5).

    Returns
    -------
    callable
        ``metric(model) -> ndarray (R,)``: 1 means the tail is intact, 0 that it is
        gone. Use it with :meth:`Run.trajectory`, :meth:`Run.summary` or
        :func:`~collapse_lib.studies.sweeps.sweep_fraction`.

    Notes
    -----
    Introduced in chapter 7, "What the Nature work does and does not show";
    used in chapters 8, 9 and 11.
    """
    threshold = check_real("threshold", threshold)
    if not callable(getattr(world, "tail_mass", None)):
        raise TypeError(f"world must be a distribution with an exact tail_mass, got {type(world).__name__}")
    true = float(world.tail_mass(threshold))
    if not true > 0:
        raise ValueError(f"world must have a positive tail mass above threshold={threshold}, got {true}")

    def metric(model):
        return np.asarray(model.tail_mass(threshold), dtype=float) / true

    metric.__name__ = f"tail_ratio_{threshold:g}"
    return metric


def tail_lost(world, threshold, below=0.1):
    """Metric: 1 where a model keeps less than ``below`` of the world's tail, else 0.

    The mean of this indicator over replicates is the share of runs whose rare
    tail is, for practical purposes, gone.

    Parameters
    ----------
    world : Distribution
        The real world (exact ``tail_mass``).
    threshold : float
        Where the tail starts.
    below : float in (0, 1]
        A run counts as having lost its tail when its tail ratio is below this.

    Notes
    -----
    Introduced in chapter 7, "What the Nature work does and does not show".
    """
    below = check_fraction("below", below)
    if below == 0:
        raise ValueError("below must be in (0, 1], got 0")
    ratio = tail_ratio(world, threshold)

    def metric(model):
        return (ratio(model) < below).astype(float)

    metric.__name__ = f"tail_lost_{threshold:g}_{below:g}"
    return metric
