"""Verifiers that err with a bias, and the accuracy at which filtering starts to help.

:func:`fallible_verifier` is a judge that checks a share ``accuracy`` of its
decisions against the world and otherwise prefers typical samples, built from
:class:`FilterBlend` (fixed shares of the samples drawn through different
filters). :func:`find_crossing` and :func:`bootstrap_crossing` locate where a
curve measured across accuracies crosses the no-filter baseline, with a
bootstrap interval.

Introduced in chapter 8, "Filtering, measured".
"""

from __future__ import annotations

import numpy as np

from .._validate import check_budget, check_finite_array, check_fraction, check_int
from ..filters import Filter, OracleVerifier, QualityFilter

__all__ = ["FilterBlend", "fallible_verifier", "find_crossing", "bootstrap_crossing"]


class FilterBlend(Filter):
    """Draw fixed shares of the synthetic samples through different filters.

    Parameters
    ----------
    parts : sequence of (Filter, float)
        Filters and their shares of the ``k`` samples asked for; shares are
        non-negative and sum to 1. Each replicate gets ``round(share * k)``
        samples from each filter (the last part takes the remainder).

    Notes
    -----
    A composition, not a new filter: each part keeps its own law. Use it to
    model a judge that is right some of the time and falls back on a bias
    otherwise (:func:`fallible_verifier`). Introduced in chapter 8,
    "Filtering, measured".
    """

    def __init__(self, parts):
        if isinstance(parts, (str, bytes)) or not hasattr(parts, "__iter__"):
            raise TypeError(f"parts must be a sequence of (filter, share) pairs, got {type(parts).__name__}")
        parts = list(parts)
        if not parts:
            raise ValueError("parts must contain at least one (filter, share) pair")
        filters, shares = [], []
        for item in parts:
            if not (isinstance(item, tuple) and len(item) == 2):
                raise TypeError("parts must be a sequence of (filter, share) pairs")
            f, share = item
            if not (isinstance(f, Filter) or callable(getattr(f, "draw", None))):
                raise TypeError("each part's filter must be a Filter (an object with draw(model, k, rng, world))")
            filters.append(f)
            shares.append(check_fraction("share", share))
        if abs(sum(shares) - 1.0) > 1e-9:
            raise ValueError(f"shares must sum to 1, got {sum(shares):g}")
        self.filters, self.shares = tuple(filters), tuple(shares)

    def counts(self, k):
        """Samples drawn through each part for ``k`` in all."""
        k = check_int("k", k, minimum=0)
        out = [int(np.floor(s * k + 0.5)) for s in self.shares[:-1]]
        out = [min(c, k - sum(out[:i])) for i, c in enumerate(out)]
        return out + [k - sum(out)]

    def draw(self, model, k, rng, world):
        pieces = [f.draw(model, c, rng, world) for f, c in zip(self.filters, self.counts(k)) if c]
        if not pieces:
            return model.sample(0, rng)
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces, axis=-1)

    def __repr__(self):
        inner = ", ".join(f"{f!r}: {s:g}" for f, s in zip(self.filters, self.shares))
        return f"FilterBlend({inner})"


def fallible_verifier(accuracy, keep=0.9, pool=4):
    """A verifier that is right with probability ``accuracy`` and otherwise judges by typicality.

    A share ``accuracy`` of the kept samples is chosen by the oracle
    :class:`collapse_lib.OracleVerifier` (the world's true density); the rest by a
    :class:`collapse_lib.QualityFilter` with ``keep``, the generator's own idea
    of a good sample. This is the failure mode of real judges (a reward model, a
    model grading its own output, a perplexity filter): when they cannot tell,
    they prefer what is typical, and typical is what the generator already
    over-produces.

    Parameters
    ----------
    accuracy : float in [0, 1]
        Share of decisions grounded in the world.
    keep : float in (0, 1]
        The fallback quality filter's kept share.
    pool : int >= 2
        Candidates per kept sample for the verifier part.

    Returns
    -------
    FilterBlend

    Notes
    -----
    :class:`collapse_lib.OracleVerifier` at a lower accuracy errs *at random*: at
    accuracy 0 it keeps a random subset, which is no filter at all. This one errs
    *with a bias*, so a weak one is worse than none. Where it turns from harmful to
    protective is set by the fallback: ``QualityFilter(0.9)`` removes a rare mode
    of the book's running world in one generation, so every fallback decision
    removes tail samples outright. Its right decisions are the oracle's, which no
    pipeline has: for verifiers learned from data see
    :class:`collapse_lib.DensityVerifier` and :class:`collapse_lib.ClassifierVerifier`.
    Introduced in chapter 8, "Filtering, measured".
    """
    accuracy = check_fraction("accuracy", accuracy)
    return FilterBlend([(OracleVerifier(1.0, pool=pool), accuracy), (QualityFilter(keep), 1.0 - accuracy)])


def find_crossing(x, y, level):
    """First ``x`` where the piecewise-linear curve ``y(x)`` crosses ``level``.

    Parameters
    ----------
    x : array_like (P,)
        Increasing grid.
    y : array_like (P,)
        Curve values on the grid.
    level : float or array_like (P,)
        The level (or a baseline curve) to cross.

    Returns
    -------
    float or None
        The interpolated crossing point, ``x[0]`` if the curve starts on the
        level, or None if the curve never reaches it.

    Notes
    -----
    Introduced in chapter 8, "Filtering, measured".
    """
    x = _check_1d("x", x)
    y = _check_1d("y", y)
    if x.shape != y.shape or x.size < 2:
        raise ValueError("x and y must have the same length, at least 2")
    level = check_finite_array("level", level, min_size=0, ndim=(0, 1))
    if level.shape not in ((), y.shape):
        raise ValueError(f"level must be a number or an array of the shape of y {y.shape}, got shape {level.shape}")
    d = y - np.broadcast_to(level, y.shape)
    if np.any(np.diff(x) <= 0):
        raise ValueError("x must be strictly increasing")
    if d[0] == 0:
        return float(x[0])
    for i in range(x.size - 1):
        if d[i] == 0 or np.sign(d[i]) != np.sign(d[i + 1]):
            if d[i + 1] == d[i]:
                return float(x[i])
            return float(x[i] + (x[i + 1] - x[i]) * d[i] / (d[i] - d[i + 1]))
    return None


def bootstrap_crossing(x, values, baseline, n_boot=2000, seed=0, ci=0.9):
    """Crossing of a mean curve with a baseline mean, with a bootstrap interval.

    Parameters
    ----------
    x : array_like (P,)
        Increasing grid (e.g. verifier accuracies).
    values : array_like (P, R)
        A metric per grid point and replicate.
    baseline : array_like (R,) or (R0,)
        The same metric under the baseline (e.g. no filter), per replicate.
    n_boot : int >= 1
        Bootstrap resamples (replicates resampled with replacement, independently
        for the curve and the baseline).
    seed : int
        Seed of the bootstrap's generator.
    ci : float in (0, 1)
        Coverage of the percentile interval.

    Returns
    -------
    dict
        ``crossing`` (float or None, from the means), ``lo`` and ``hi`` (the
        percentile interval over the resamples that cross), ``crossed`` (share
        of resamples with a crossing).

    Notes
    -----
    Introduced in chapter 8, "Filtering, measured".
    """
    values = check_finite_array("values", values, ndim=(2,))
    baseline = check_finite_array("baseline", baseline, ndim=(0, 1, 2)).ravel()
    n_boot = check_int("n_boot", n_boot, minimum=1)
    check_budget("n_boot * replicates", n_boot * (values.shape[1] + baseline.size))
    ci = check_fraction("ci", ci)
    rng = np.random.default_rng(check_int("seed", seed, minimum=0))
    point = find_crossing(x, values.mean(axis=1), baseline.mean())
    p, r = values.shape
    found = []
    for _ in range(n_boot):
        idx = rng.integers(0, r, r)
        b = baseline[rng.integers(0, baseline.size, baseline.size)].mean()
        c = find_crossing(x, values[:, idx].mean(axis=1), b)
        if c is not None:
            found.append(c)
    if found:
        lo, hi = np.quantile(found, [(1 - ci) / 2, (1 + ci) / 2])
    else:
        lo = hi = None
    return {"crossing": point, "lo": None if lo is None else float(lo), "hi": None if hi is None else float(hi),
            "crossed": len(found) / n_boot}


def _check_1d(name, values):
    return check_finite_array(name, values, min_size=0, ndim=(1,))
